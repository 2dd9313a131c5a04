package drift

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// isBuildFile reports the files a build runs or expands: configure and its inputs, m4
// macros, automake, make, CMake and meson files, and shell scripts.
func isBuildFile(p string) bool {
	base := path.Base(p)
	switch base {
	case "configure", "configure.ac", "configure.in", "Makefile.am", "Makefile.in", "Makefile",
		"GNUmakefile", "makefile", "CMakeLists.txt", "meson.build", "meson_options.txt", "meson.options",
		"ltmain.sh", "libtool", "config.status", "bootstrap", "autogen.sh":
		return true
	}
	switch path.Ext(base) {
	case ".m4", ".ac", ".am", ".mk", ".cmake", ".sh", ".bash":
		return true
	}
	return false
}

// The build-command detector. A logical line (backslash continuations joined) is split
// into pipelines at ";", "&&" and "||", and the pipelines into stages at "|" (quotes are
// not parsed: a pipeline inside a quoted string counts too, as it does when the string is
// evaluated later). A line is flagged when:
//
//   - a stage decodes or cuts data and a later stage of the same pipeline is a shell
//     (sh, bash, $SHELL, eval, . /dev/stdin): "tail -c +N f | xz -d | sh";
//   - eval, sh -c or "." runs a command substitution that decodes: eval "$(base64 -d f)";
//   - a pipeline both evaluates something and decompresses with a program named by a
//     variable, the way the xz backdoor hid both: "sed … f | eval $map | $prefix -d".
var (
	decodeRx = []*regexp.Regexp{
		// decompressors told to decompress, and the ones that only decompress
		regexp.MustCompile(`(?:^|[\s(` + "`" + `'"])(?:xz|lzma|gzip|bzip2|zstd|lz4|lzip|brotli|compress)\s+(?:-[-\w=]+\s+)*(?:-[A-Za-z0-9]*d[A-Za-z0-9]*|--decompress|--uncompress)\b`),
		regexp.MustCompile(`(?:^|[\s(` + "`" + `'"])(?:unxz|unlzma|xzcat|lzcat|gunzip|zcat|gzcat|bunzip2|bzcat|unzstd|zstdcat|lz4cat|uncompress)\b`),
		// base64, base32, uudecode, xxd -r, openssl enc -d
		regexp.MustCompile(`\bbase(?:64|32)\s+(?:-[A-Za-z]*[dD][A-Za-z]*|--decode)\b`),
		regexp.MustCompile(`\buudecode\b`),
		regexp.MustCompile(`\bxxd\s+(?:-\w+\s+)*-r\b`),
		regexp.MustCompile(`\bopenssl\s+(?:enc|base64|aes[\w-]*|des[\w-]*|chacha20)\b.*\s-d\b`),
		// tr translating one quoted character set to another
		regexp.MustCompile(`\btr\s+(?:-[A-Za-z]+\s+)*(?:"[^"]+"|'[^']+')\s+(?:"[^"]+"|'[^']+')`),
		// byte cuts
		regexp.MustCompile(`\b(?:head|tail)\s+(?:-[A-Za-z]*\s+)*-c\s*[+-]?[\d$]`),
		regexp.MustCompile(`\bdd\b.*\b(?:skip|count|bs|ibs|iseek)=`),
	}
	// a decompressor named by a variable, told to decompress: "$prefix -d"
	varDecodeRx = regexp.MustCompile(`^\$[\w{}\[\]$]+\s+(?:-[A-Za-z]*d[A-Za-z]*|--decompress)\b`)
	// a stage that runs its input as shell code
	shellStageRx = regexp.MustCompile(`^(?:exec\s+)?(?:(?:/usr)?/bin/|/usr/bin/env\s+|env\s+)?(?:(?:ba|da|z|k|c|tc|fi)?sh\b|\$\{?(?:SHELL|CONFIG_SHELL|BASH|SH)\b\}?|eval\b|(?:source|\.)\s+/dev/(?:stdin|fd/0)\b)`)
	evalStageRx  = regexp.MustCompile(`^eval\b`)
	// eval, sh -c or "." of a command substitution
	substRunRx = regexp.MustCompile(`(?:\beval|\b(?:ba|da|z|k)?sh\s+-c|(?:^|[\s;&|])(?:source|\.))\s+["']?(?:\$\(|` + "`" + `|<\()`)
)

// MaxBuildLine bounds a logical line the detector reads; longer ones are cut.
const MaxBuildLine = 16 << 10

// BuildCommand is a logical line that decodes data and runs a shell.
type BuildCommand struct {
	Line   int    // 1-based number of the first physical line
	Text   string // the logical line, whitespace collapsed
	Decode string // what decodes
	Run    string // what runs it
}

// FindDecodeAndRun returns the logical lines of a build file that decode or cut data and
// feed a shell or eval.
func FindDecodeAndRun(content []byte) []BuildCommand {
	var out []BuildCommand
	line := 0
	for len(content) > 0 {
		start := line + 1
		var logical []byte
		for len(content) > 0 {
			line++
			l, rest, _ := cutLine(content)
			content = rest
			l = bytes.TrimRight(l, "\r")
			cont := bytes.HasSuffix(l, []byte("\\"))
			if cont {
				l = l[:len(l)-1]
			}
			if len(logical) < MaxBuildLine {
				logical = append(logical, l...)
				logical = append(logical, ' ')
			}
			if !cont {
				break
			}
		}
		if len(logical) > MaxBuildLine {
			logical = logical[:MaxBuildLine]
		}
		if c, ok := decodeAndRun(logical); ok {
			c.Line = start
			out = append(out, c)
		}
	}
	return out
}

func decodeAndRun(l []byte) (BuildCommand, bool) {
	found := func(dec, run string) (BuildCommand, bool) {
		return BuildCommand{Text: clip(strings.Join(strings.Fields(string(l)), " ")), Decode: dec, Run: run}, true
	}
	for _, pipeline := range splitPipelines(l) {
		dec, varDec, eval := "", "", false
		for _, st := range pipeline {
			if dec != "" {
				if m := shellStageRx.FindString(st); m != "" {
					return found(dec, "| "+m)
				}
			}
			if d := decoder(st); d != "" && dec == "" {
				dec = d
			}
			if m := varDecodeRx.FindString(st); m != "" {
				varDec = m
			}
			eval = eval || evalStageRx.MatchString(st)
		}
		if varDec != "" && eval {
			return found(varDec, "eval")
		}
	}
	if loc := substRunRx.FindIndex(l); loc != nil {
		if d := decoder(string(l[loc[1]:])); d != "" {
			return found(d, strings.TrimSpace(string(l[loc[0]:loc[1]])))
		}
	}
	return BuildCommand{}, false
}

// decoder returns the decoding or cutting command in s, or "".
func decoder(s string) string {
	for _, rx := range decodeRx {
		if m := rx.FindString(s); m != "" {
			return strings.Trim(strings.TrimSpace(m), "(`'\"")
		}
	}
	if m := varDecodeRx.FindString(s); m != "" {
		return m
	}
	return ""
}

// splitPipelines splits a logical line at ";", "&&" and "||" into pipelines, and each
// pipeline at "|" into trimmed stages.
func splitPipelines(l []byte) [][]string {
	var out [][]string
	var cur []string
	start := 0
	stage := func(end int) {
		st := strings.TrimSpace(string(l[start:end]))
		st = strings.TrimLeft(st, "({ \t")
		cur = append(cur, strings.TrimSpace(st))
	}
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case c == '|' && i+1 < len(l) && l[i+1] == '|', c == '&' && i+1 < len(l) && l[i+1] == '&':
			stage(i)
			out = append(out, cur)
			cur, start = nil, i+2
			i++
		case c == ';':
			stage(i)
			out = append(out, cur)
			cur, start = nil, i+1
		case c == '|':
			stage(i)
			start = i + 1
		}
	}
	stage(len(l))
	return append(out, cur)
}
