package script

import (
	"bytes"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Observation kinds (see Observation.Kind).
const (
	obsPipeToShell     = "pipe-to-shell"
	obsDownloadExecute = "download-execute"
	obsBase64          = "base64-to-interpreter"
	obsDynamicEval     = "dynamic-eval"
	obsPreloadWrite    = "ld-so-preload-write"
	obsPreloadRef      = "ld-so-preload-reference"
	obsCron            = "cron-entry"
	obsScheduledTask   = "scheduled-task"
	obsSystemd         = "systemd-unit"
	obsUserAdd         = "user-add"
	obsPassword        = "password-set"
	obsSudoers         = "sudoers-write"
	obsAuthorizedKeys  = "authorized-keys"
	obsSetuid          = "setuid-chmod"
	obsDevTCP          = "dev-tcp"
	obsNetcatExec      = "netcat-exec"
)

// maxObsText bounds the text of one observation.
const maxObsText = 512

// downloaders are programs that fetch a URL.
var downloaders = map[string]bool{
	"curl": true, "wget": true, "fetch": true, "aria2c": true, "lwp-download": true,
	"lwp-request": true, "http": true, "https": true, "invoke-webrequest": true, "iwr": true,
	"invoke-restmethod": true, "irm": true, "wget2": true, "busybox wget": true,
}

// prefixWords are words that come before the command they run.
var prefixWords = map[string]bool{
	"sudo": true, "doas": true, "env": true, "nohup": true, "time": true, "command": true,
	"builtin": true, "exec": true, "then": true, "do": true, "else": true, "if": true,
	"while": true, "until": true, "!": true, "{": true, "(": true, "nice": true, "su": true,
	"runuser": true, "setsid": true, "xargs": true, "busybox": true, "stdbuf": true,
}

var (
	// substituted downloads run by an interpreter: sh -c "$(curl …)", bash <(wget …).
	substDownload = regexp.MustCompile(`(?:^|[^a-z0-9_.-])(?:sh|bash|dash|zsh|ksh|eval|source|\.|python[0-9.]*|perl|ruby|node|php)\s[^|;]*(?:\$\(|<\(|` + "`" + `)\s*(?:sudo\s+)?(?:\S*/)?(?:curl|wget|fetch)\b`)
	base64Decode  = regexp.MustCompile(`\bbase64\s+(?:-\w*d\w*|--decode)\b|\bopenssl\s+(?:base64|enc)\b[^|]*\s-d\b|\bb64decode\b|\bbase64_decode\b|\bfrombase64string\b|\bdecode64\b|\batob\s*\(|unpack\s*\(?\s*['"]m|\bdecode_base64\b|buffer\.from\([^)]*base64`)
	evalWords     = regexp.MustCompile(`\b(?:eval|exec|execfile|system|assert|iex|invoke-expression|function|runinthiscontext|loadstring|execute|executeglobal)\b`)
	psEncoded     = regexp.MustCompile(`\b(?:powershell|pwsh)(?:\.exe)?\b.*\s[-/](?:e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)\s+['"]?[a-z0-9+/]{16,}`)
	systemdDir    = regexp.MustCompile(`/(?:etc|lib|usr/lib|run|usr/local/lib)/systemd/(?:system|user)\b`)
	octalSetuid   = regexp.MustCompile(`^0?[2-7][0-7]{3}$`)
	symSetuid     = regexp.MustCompile(`^[ugoa]*[+=][rwxXt]*s`)
	chmodCall     = regexp.MustCompile(`\bchmod\s*\([^,]*,\s*(?:0o?)?([2-7][0-7]{3})\b`)
	cronPath      = regexp.MustCompile(`/etc/cron(?:tab|\.d|\.daily|\.hourly|\.weekly|\.monthly|\.allow)|/var/spool/cron`)
)

// evalFamilies are the eval-like words each language has; a word is looked for only in the
// languages it belongs to ("exec" replaces the process in a shell, it evaluates nothing).
var evalFamilies = map[string]map[string]bool{
	"shell":      {"eval": true},
	"python":     {"eval": true, "exec": true, "execfile": true},
	"perl":       {"eval": true},
	"ruby":       {"eval": true, "instance_eval": true, "class_eval": true, "module_eval": true},
	"node":       {"eval": true, "function": true, "runinthiscontext": true},
	"php":        {"eval": true, "assert": true},
	"powershell": {"iex": true, "invoke-expression": true},
	"lua":        {"loadstring": true},
	"vbscript":   {"execute": true, "executeglobal": true, "eval": true},
	"tcl":        {"eval": true},
}

func evalFamily(lang string) string {
	switch {
	case shellLike(lang), lang == "":
		return "shell"
	case lang == "other", lang == "awk", lang == "expect":
		return "shell"
	}
	return lang
}

// commentPrefix reports whether a trimmed, lower-cased line is a whole-line comment in lang.
func isComment(lang, t string) bool {
	switch lang {
	case "node", "php":
		return strings.HasPrefix(t, "//") || strings.HasPrefix(t, "/*") || strings.HasPrefix(t, "*")
	case "batch":
		return strings.HasPrefix(t, "rem ") || t == "rem" || strings.HasPrefix(t, "::")
	case "vbscript":
		return strings.HasPrefix(t, "'") || strings.HasPrefix(t, "rem ")
	case "lua":
		return strings.HasPrefix(t, "--")
	}
	return strings.HasPrefix(t, "#")
}

// observeLine returns the observation kinds of one logical line of a script in lang, each
// kind once, in a fixed order.
func observeLine(lang, line string) []string {
	t := strings.TrimSpace(line)
	if t == "" {
		return nil
	}
	low := strings.ToLower(t)
	if isComment(lang, low) || !mayObserve(low) {
		return nil
	}
	var kinds []string
	add := func(k string) {
		for _, have := range kinds {
			if have == k {
				return
			}
		}
		kinds = append(kinds, k)
	}
	pipelines := splitPipelines(low)
	words := make([][][]string, len(pipelines))
	for i, pl := range pipelines {
		words[i] = make([][]string, len(pl))
		for j, seg := range pl {
			words[i][j] = segmentWords(seg)
		}
	}

	// Downloads and decoded data piped into an interpreter.
	for pi, pl := range pipelines {
		download, decode := false, false
		for i, seg := range pl {
			words := words[pi][i]
			ci := commandIndex(words)
			cmd := ""
			if ci >= 0 {
				cmd = trimCall(words[ci])
			}
			if i > 0 && !download && !decode && (cmd == "iex" || cmd == "invoke-expression") {
				add(obsDynamicEval)
			}
			if i > 0 && (download || decode) {
				if cmd == "iex" || cmd == "invoke-expression" {
					if download {
						add(obsDownloadExecute)
					} else {
						add(obsBase64)
					}
				} else if isInterpreter(cmd) && readsStdin(cmd, words[ci+1:]) {
					if download {
						add(obsPipeToShell)
					}
					if decode {
						add(obsBase64)
					}
				}
			}
			for _, w := range words {
				if downloaders[trimCall(w)] {
					download = true
				}
			}
			if mayDecode(seg) && base64Decode.MatchString(seg) {
				decode = true
			}
		}
	}
	hasDownload := strings.Contains(low, "curl") || strings.Contains(low, "wget") || strings.Contains(low, "fetch")
	if hasDownload && strings.ContainsAny(low, "$<`") && substDownload.MatchString(low) {
		add(obsPipeToShell)
	}
	if (strings.Contains(low, "iex") || strings.Contains(low, "invoke-expression")) &&
		(strings.Contains(low, "downloadstring") || strings.Contains(low, "downloaddata") ||
			strings.Contains(low, "invoke-webrequest") || strings.Contains(low, "invoke-restmethod") ||
			strings.Contains(low, "net.webclient") || strings.Contains(low, "iwr ") || strings.Contains(low, "irm ")) &&
		hasWord(low, "iex", "invoke-expression") {
		add(obsDownloadExecute)
	}
	if mayDecode(low) && base64Decode.MatchString(low) {
		if m := evalWords.FindString(low); m != "" && m != "function" {
			add(obsBase64)
		} else if strings.Contains(low, "$(") && (hasWord(low, "sh", "bash", "dash", "zsh", "eval") || strings.Contains(low, "-c")) {
			add(obsBase64)
		}
	}
	if (strings.Contains(low, "powershell") || strings.Contains(low, "pwsh")) && psEncoded.MatchString(low) {
		add(obsBase64)
	}

	// eval of something that is not a plain literal.
	if dynamicEval(lang, low) {
		add(obsDynamicEval)
	}

	// Files whose writing changes how the system runs.
	if i := strings.Index(low, "/etc/ld.so.preload"); i >= 0 {
		if writes(low, i) {
			add(obsPreloadWrite)
		} else {
			add(obsPreloadRef)
		}
	}
	if !strings.Contains(low, "cron") {
	} else if loc := cronPath.FindStringIndex(low); loc != nil && writes(low, loc[0]) {
		add(obsCron)
	}
	if !strings.Contains(low, "/systemd/") {
	} else if loc := systemdDir.FindStringIndex(low); loc != nil && writes(low, loc[0]) {
		add(obsSystemd)
	}
	if i := strings.Index(low, "/etc/sudoers"); i >= 0 && writes(low, i) {
		add(obsSudoers)
	}
	if i := strings.Index(low, "/etc/passwd"); i >= 0 && writes(low, i) {
		add(obsUserAdd)
	}
	if i := strings.Index(low, "/etc/shadow"); i >= 0 && writes(low, i) {
		add(obsPassword)
	}
	if strings.Contains(low, "authorized_keys") {
		add(obsAuthorizedKeys)
	}
	if strings.Contains(low, "/dev/tcp/") || strings.Contains(low, "/dev/udp/") {
		add(obsDevTCP)
	}
	if strings.Contains(low, "register-scheduledtask") || strings.Contains(low, "new-scheduledtask") ||
		(strings.Contains(low, "schtasks") && strings.Contains(low, "/create")) {
		add(obsScheduledTask)
	}
	if !strings.Contains(low, "chmod") {
	} else if m := chmodCall.FindStringSubmatch(low); m != nil && octalSetuid.MatchString(m[1]) && setuidOctal(m[1]) {
		add(obsSetuid)
	}
	if strings.Contains(low, "new-localuser") || (strings.Contains(low, "net user") && strings.Contains(low, "/add")) {
		add(obsUserAdd)
	}

	// Commands, word by word.
	for _, pl := range words {
		for _, words := range pl {
			ci := commandIndex(words)
			if ci < 0 {
				continue
			}
			cmd := trimCall(words[ci])
			args := words[ci+1:]
			switch cmd {
			case "crontab":
				if !(len(args) == 1 && (args[0] == "-l" || args[0] == "-e")) {
					add(obsCron)
				}
			case "systemctl":
				for _, a := range args {
					if a == "enable" || a == "link" || a == "preset" || a == "reenable" {
						add(obsSystemd)
					}
				}
			case "useradd", "adduser", "usermod", "groupadd", "addgroup", "newusers", "luseradd":
				add(obsUserAdd)
				for _, a := range args {
					if a == "-p" || a == "--password" || strings.HasPrefix(a, "--password=") {
						add(obsPassword)
					}
				}
			case "chpasswd", "chgpasswd", "passwd":
				add(obsPassword)
			case "chmod", "install":
				for i, a := range args {
					if cmd == "install" && !(a == "-m" || a == "--mode") && !strings.HasPrefix(a, "--mode=") && !strings.HasPrefix(a, "-m") {
						continue
					}
					mode := a
					if cmd == "install" {
						switch {
						case strings.HasPrefix(a, "--mode="):
							mode = a[len("--mode="):]
						case len(a) > 2 && strings.HasPrefix(a, "-m"):
							mode = a[2:]
						case i+1 < len(args):
							mode = args[i+1]
						}
					}
					for _, m := range strings.Split(mode, ",") {
						if symSetuid.MatchString(m) || (octalSetuid.MatchString(m) && setuidOctal(m)) {
							add(obsSetuid)
						}
					}
				}
			case "nc", "ncat", "netcat", "nc.traditional", "nc.openbsd":
				for _, a := range args {
					if a == "--exec" || a == "--sh-exec" || a == "--lua-exec" ||
						(len(a) >= 2 && a[0] == '-' && a[1] != '-' && isFlagWord(a[1:]) && (strings.HasSuffix(a, "e") || strings.HasSuffix(a, "c"))) {
						add(obsNetcatExec)
					}
				}
			}
		}
	}
	return kinds
}

// needles are the substrings, one of which every observed line has: most lines have
// none and are passed over without tokenizing.
var needles = []string{
	"curl", "wget", "fetch", "aria2c", "lwp-", "http", "iwr", "irm", "invoke-", "webclient",
	"download", "base64", "b64", "decode", "atob", "frombase64", "unpack", "eval", "exec",
	"iex", "new function", "runin", "loadstring", "assert", "ld.so.preload", "cron",
	"systemd", "systemctl", "user", "group", "passwd", "shadow", "sudoers", "authorized_keys",
	"chmod", "install", "/dev/tcp", "/dev/udp", "nc", "schtasks", "scheduledtask",
	"powershell", "pwsh",
}

// mayDecode reports whether s may hold a base64 decoding.
func mayDecode(s string) bool {
	return strings.Contains(s, "base64") || strings.Contains(s, "b64") || strings.Contains(s, "decode64") ||
		strings.Contains(s, "atob") || strings.Contains(s, "unpack")
}

func mayObserveBytes(low []byte) bool {
	for _, n := range needleBytes {
		if bytes.Contains(low, n) {
			return true
		}
	}
	return false
}

var needleBytes = func() [][]byte {
	out := make([][]byte, len(needles))
	for i, n := range needles {
		out[i] = []byte(n)
	}
	return out
}()

func mayObserve(low string) bool {
	for _, n := range needles {
		if strings.Contains(low, n) {
			return true
		}
	}
	return false
}

// setuidOctal reports whether an octal mode of four digits sets setuid or setgid.
func setuidOctal(m string) bool {
	m = strings.TrimPrefix(m, "0")
	if len(m) != 4 {
		return false
	}
	d := m[0] - '0'
	return d&6 != 0
}

func isFlagWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

// writes reports whether a line that mentions a path at i looks like it writes to it: a
// redirection before the path, or a command or call that writes files.
func writes(low string, i int) bool {
	if strings.Contains(low[:i], ">") {
		return true
	}
	for _, s := range writeCalls {
		if strings.Contains(low, s) {
			return true
		}
	}
	return hasWord(low, "tee", "cp", "mv", "install", "ln", "dd", "rsync") || (hasWord(low, "sed") && strings.Contains(low, " -i"))
}

// writeCalls are calls and cmdlets that write files.
var writeCalls = []string{
	"open(", "open (", "set-content", "add-content", "out-file", "writefile", "write_text",
	"copy-item", "move-item", "file_put_contents", "<<", "fopen(", "writealltext",
}

// hasWord reports whether one of words stands as a word in s.
func hasWord(s string, words ...string) bool {
	for _, w := range words {
		for off := 0; off < len(s); {
			j := strings.Index(s[off:], w)
			if j < 0 {
				break
			}
			j += off
			before := j == 0 || !isWordByte(s[j-1])
			after := j+len(w) >= len(s) || !isWordByte(s[j+len(w)])
			if before && after {
				return true
			}
			off = j + 1
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// dynamicEval reports whether low calls one of lang's eval-like words on something other
// than a plain string literal (or, in Perl, a block).
func dynamicEval(lang, low string) bool {
	family := evalFamilies[evalFamily(lang)]
	if family == nil {
		return false
	}
	found := false
	for w := range family {
		if strings.Contains(low, w) {
			found = true
			break
		}
	}
	if !found {
		return false
	}
	for _, loc := range evalWords.FindAllStringIndex(low, 8) {
		w := low[loc[0]:loc[1]]
		if !family[w] {
			continue
		}
		if loc[0] > 0 {
			switch low[loc[0]-1] {
			case '.':
				if w != "runinthiscontext" {
					continue // a method of that name (obj.eval), not the builtin
				}
			case '-', '$', '\'', '"', '_':
				continue // part of a name, a variable, or words inside a string
			}
		}
		if w == "function" {
			if !strings.HasSuffix(strings.TrimSpace(low[:loc[0]]), "new") {
				continue
			}
		}
		rest := strings.TrimLeft(low[loc[1]:], " \t")
		paren := strings.HasPrefix(rest, "(")
		rest = strings.TrimLeft(strings.TrimPrefix(rest, "("), " \t")
		if rest == "" || (evalFamily(lang) == "shell" && paren) {
			continue
		}
		if lang == "python" && !paren {
			continue // exec as a name, not a call
		}
		switch rest[0] {
		case '{':
			if lang == "perl" {
				continue // block eval: exception handling
			}
		case ')', ';', '=', ',', ':', '#', '|', '&', '.':
			continue // not a call
		case '\'', '"':
			q := quoted(rest)
			// A single-quoted string is fixed code; a double-quoted one is fixed unless the
			// language interpolates into it.
			interpolates := false
			if rest[0] == '"' {
				switch lang {
				case "python", "node", "lua", "vbscript":
				case "powershell":
					interpolates = strings.Contains(q, "$")
				default:
					interpolates = strings.ContainsAny(q, "$`") || strings.Contains(q, "#{")
				}
			}
			if literalOnly(rest) && !interpolates {
				continue
			}
		}
		return true
	}
	return false
}

// quoted returns the text inside the quoted string rest starts with.
func quoted(rest string) string {
	q := rest[0]
	if end := strings.IndexByte(rest[1:], q); end >= 0 {
		return rest[1 : 1+end]
	}
	return rest[1:]
}

// literalOnly reports whether rest is one quoted literal followed by nothing that adds to
// it (no concatenation, formatting or interpolation).
func literalOnly(rest string) bool {
	q := rest[0]
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return false
	}
	after := strings.TrimSpace(rest[end+2:])
	return after == "" || strings.ContainsRune(");,#", rune(after[0])) || strings.HasPrefix(after, "//")
}

// splitPipelines splits a line into pipelines at ;, &&, || and &, and each pipeline into
// its commands at |. Quotes are not honoured: a pipe inside a string that a program passes
// to a shell (os.system("curl … | sh")) is a pipe all the same.
func splitPipelines(s string) [][]string {
	var out [][]string
	var cur []string
	start := 0
	flush := func(end int) {
		cur = append(cur, s[start:end])
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ';', '&', '|':
			if s[i] == '|' && (i+1 >= len(s) || s[i+1] != '|') && (i == 0 || s[i-1] != '|') {
				flush(i)
				start = i + 1
				continue
			}
			if s[i] == '&' && i > 0 && s[i-1] == '>' || s[i] == '&' && i+1 < len(s) && s[i+1] == '>' {
				continue // redirection such as 2>&1 or &>
			}
			flush(i)
			out = append(out, cur)
			cur = nil
			if i+1 < len(s) && s[i+1] == s[i] {
				i++
			}
			start = i + 1
		}
		if len(out) > 64 {
			break
		}
	}
	if start <= len(s) {
		flush(len(s))
	}
	return append(out, cur)
}

// segmentWords splits a command into words, each stripped of the quotes and brackets
// around it.
func segmentWords(seg string) []string {
	f := strings.Fields(seg)
	out := f[:0]
	for _, w := range f {
		if strings.HasPrefix(w, "#") || strings.HasPrefix(w, "//") {
			break // a comment
		}
		if w == "[" || w == "[[" {
			out = append(out, w) // a test expression, whose words are not a command
			continue
		}
		w = strings.Trim(w, "\"'`(){}[]$;,")
		if w != "" {
			out = append(out, w)
		}
		if len(out) >= 64 {
			break
		}
	}
	return out
}

// commandIndex is the index of the word naming the command that words run, after
// assignments, sudo, env and similar prefixes; -1 when there is none.
func commandIndex(words []string) int {
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "[" || w == "[[" || w == "test":
			return -1
		case isAssignment(w):
		case prefixWords[path.Base(w)]:
		case strings.HasPrefix(w, "-") && i > 0 && prefixWords[path.Base(words[i-1])]:
			// an option of the prefix (sudo -u root: skip the option, not its value)
			if (w == "-u" || w == "-g") && i+1 < len(words) {
				i++
			}
		default:
			return i
		}
	}
	return -1
}

// isAssignment reports whether w is a shell variable assignment (NAME=value).
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// trimCall cuts a word down to the program it names: os.system("curl → curl.
func trimCall(w string) string {
	if i := strings.LastIndexAny(w, "(\"'`"); i >= 0 {
		w = w[i+1:]
	}
	return path.Base(w)
}

// readsStdin reports whether interpreter cmd, run with args, takes its program from
// standard input: not when it is given the code as an argument (sh -c, python -c,
// perl -e, node -e) or a script file, and always with sh -s or "-".
func readsStdin(cmd string, args []string) bool {
	lang := languageOf(cmd)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-" || a == "-s":
			return true
		case a == "--":
			return shellLike(lang) || i+1 >= len(args)
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-"):
			flags := a[1:]
			switch {
			case shellLike(lang) && strings.Contains(flags, "c"):
				return false
			case lang == "python" && (strings.Contains(flags, "c") || strings.Contains(flags, "m")):
				return false
			case (lang == "perl" || lang == "ruby" || lang == "node" || lang == "php" || lang == "lua") &&
				(strings.ContainsAny(flags, "eE") || flags == "r"):
				return false
			case shellLike(lang) && (strings.Contains(flags, "s")):
				return true
			}
		default:
			return false // a script file; what is piped in is its data
		}
	}
	return true
}

// isInterpreter reports whether a command word runs the script it reads.
func isInterpreter(cmd string) bool {
	if cmd == "source" || cmd == "." {
		return true
	}
	switch languageOf(cmd) {
	case "", "other", "batch", "vbscript", "awk":
		return false
	}
	return true
}

// cutText trims a line and cuts it to maxObsText bytes on a rune boundary.
func cutText(s string) string {
	return cutValid(strings.TrimSpace(s), maxObsText)
}

// cutValid makes s valid UTF-8 and cuts it to at most n bytes on a rune boundary.
func cutValid(s string, n int) string {
	if len(s) > 4*n {
		s = s[:4*n] // U+FFFD replaces one byte with three: 4n bytes give at least n
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.RuneStart(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		if len(s) > 0 {
			if r, size := utf8.DecodeLastRuneInString(s); r == utf8.RuneError && size <= 1 {
				s = s[:len(s)-1]
			}
		}
	}
	return s
}
