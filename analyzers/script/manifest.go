package script

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"kensa.dev/kensa/analyzers"
)

const (
	// maxManifest bounds the package.json, pyproject.toml and setup.cfg read.
	maxManifest = 4 << 20
	// maxSetupPy bounds the setup.py bytes read for the Python facts.
	maxSetupPy = 8 << 20
	// maxListed bounds the custom commands and build requirements listed.
	maxCommands = 32
	maxRequires = 64
)

// npmHooks are the npm lifecycle scripts that run when a package is installed, built or
// removed, in the order npm runs them, and when.
var npmHooks = []struct{ name, when string }{
	{"preinstall", "before-install"},
	{"install", "after-install"},
	{"postinstall", "after-install"},
	{"preprepare", "build"},
	{"prepare", "build"},
	{"postprepare", "build"},
	{"prepublish", "before-publish"},
	{"preuninstall", "before-remove"},
	{"uninstall", "before-remove"},
	{"postuninstall", "after-remove"},
}

// readManifest reads a whole manifest of at most maxManifest bytes.
func readManifest(a *analyzers.Artifact, what string) ([]byte, error) {
	if a.Size > maxManifest {
		return nil, fmt.Errorf("%s of %d bytes is larger than the %d bytes the script analyzer reads", what, a.Size, maxManifest)
	}
	b := make([]byte, a.Size)
	n, err := a.Content.ReadAt(b, 0)
	if err == io.EOF && n == len(b) {
		err = nil
	}
	if err != nil {
		return b[:n], fmt.Errorf("reading %s: %w", what, err)
	}
	return b, nil
}

func analyzePackageJSON(a *analyzers.Artifact, f *Facts) error {
	b, err := readManifest(a, "package.json")
	if err != nil {
		return err
	}
	hooks, err := packageJSONHooks(b)
	f.InstallHooks = hooks
	return err
}

// packageJSONHooks returns the install-time lifecycle scripts of a package.json. A
// document that is not a JSON object, or whose scripts is not an object, is an error; a
// script whose command is not a string is skipped, as npm skips it.
func packageJSONHooks(b []byte) ([]Hook, error) {
	var doc struct {
		Scripts json.RawMessage `json:"scripts"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("package.json is not a JSON object: %w", err)
	}
	if len(doc.Scripts) == 0 || string(doc.Scripts) == "null" {
		return nil, nil
	}
	var scripts map[string]json.RawMessage
	if err := json.Unmarshal(doc.Scripts, &scripts); err != nil {
		return nil, fmt.Errorf("package.json: scripts is not an object of commands: %w", err)
	}
	var hooks []Hook
	for _, h := range npmHooks {
		raw, ok := scripts[h.name]
		if !ok {
			continue
		}
		var cmd string
		if json.Unmarshal(raw, &cmd) != nil {
			continue
		}
		hk := Hook{System: "npm", Name: h.name, When: h.when, RunsCode: true, Language: "sh",
			Interpreter: []string{"sh", "-c"}, Size: int64(len(cmd))}
		hk.Body, hk.BodyTruncated = cutBody(cmd)
		if st, _ := scanText(context.Background(), strings.NewReader(cmd), "sh", maxHookObservations); st != nil {
			hk.Observations = st.obs
		}
		hooks = append(hooks, hk)
	}
	return hooks, nil
}

var (
	pyImport     = regexp.MustCompile(`^\s*import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)`)
	pyFromImport = regexp.MustCompile(`^\s*from\s+([\w.]+)\s+import\b`)
	pyDunder     = regexp.MustCompile(`(?:__import__|import_module)\s*\(\s*['"]([\w.]+)['"]`)
	pyCall       = regexp.MustCompile(`(?:^|[^.\w])(exec|eval|compile)\s*\(`)
	pyClass      = regexp.MustCompile(`^\s*class\s+(\w+)\s*\(([^)]*)\)`)
	pyCmdclass   = regexp.MustCompile(`\bcmdclass\b`)
)

// pyModules are the modules of interest a setup.py may import.
var pyModules = map[string]bool{
	"subprocess": true, "os": true, "urllib": true, "urllib2": true, "urllib.request": true,
	"requests": true, "http.client": true, "socket": true, "base64": true, "ctypes": true,
	"zlib": true, "marshal": true, "pickle": true, "tempfile": true, "shutil": true,
}

// setuptoolsCommands are the command classes a custom command derives from.
var setuptoolsCommands = map[string]bool{
	"install": true, "develop": true, "build": true, "build_py": true, "build_ext": true,
	"build_clib": true, "build_scripts": true, "egg_info": true, "sdist": true,
	"bdist_wheel": true, "bdist_egg": true, "install_lib": true, "install_scripts": true,
	"install_data": true, "install_egg_info": true, "easy_install": true, "command": true,
}

// analyzeSetupPy reads what a setup.py imports and calls.
func analyzeSetupPy(ctx context.Context, a *analyzers.Artifact) (*PythonBuild, error) {
	py := &PythonBuild{}
	imports := map[string]bool{}
	note := func(mod string) {
		if pyModules[mod] {
			imports[mod] = true
		} else if top, _, _ := strings.Cut(mod, "."); pyModules[top] {
			imports[top] = true
		}
	}
	sc := bufio.NewScanner(io.NewSectionReader(a.Content, 0, min(a.Size, maxSetupPy)))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 0; sc.Scan(); n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return py, ctx.Err()
		}
		line := sc.Text()
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			continue
		}
		if m := pyImport.FindStringSubmatch(line); m != nil {
			for _, part := range strings.Split(m[1], ",") {
				note(strings.Fields(part)[0])
			}
		}
		if m := pyFromImport.FindStringSubmatch(line); m != nil {
			note(m[1])
		}
		for _, m := range pyDunder.FindAllStringSubmatch(line, 4) {
			note(m[1])
		}
		for _, m := range pyCall.FindAllStringSubmatch(line, 4) {
			switch m[1] {
			case "exec":
				py.Exec = true
			case "eval":
				py.Eval = true
			case "compile":
				py.Compile = true
			}
		}
		if pyCmdclass.MatchString(line) {
			py.Cmdclass = true
		}
		if m := pyClass.FindStringSubmatch(line); m != nil && len(py.CustomCommands) < maxCommands {
			for _, b := range strings.Split(m[2], ",") {
				b = strings.TrimSpace(b)
				if i := strings.LastIndexByte(b, '.'); i >= 0 {
					b = b[i+1:]
				}
				b = strings.TrimLeft(b, "_")
				if setuptoolsCommands[strings.ToLower(b)] {
					py.CustomCommands = append(py.CustomCommands, m[1]+"("+b+")")
					break
				}
			}
		}
	}
	for m := range imports {
		py.Imports = append(py.Imports, m)
	}
	sort.Strings(py.Imports)
	if err := sc.Err(); err != nil {
		return py, fmt.Errorf("reading setup.py: %w", err)
	}
	return py, nil
}

// analyzeSetupCfg notes custom command classes in a setup.cfg.
func analyzeSetupCfg(a *analyzers.Artifact, f *Facts) error {
	b, err := readManifest(a, "setup.cfg")
	f.Python = &PythonBuild{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if k, _, ok := bytes.Cut(t, []byte("=")); ok && string(bytes.TrimSpace(k)) == "cmdclass" {
			f.Python.Cmdclass = true
		}
	}
	if f.Python.Cmdclass {
		f.InstallHooks = append(f.InstallHooks, Hook{System: "python", Name: "cmdclass", When: "build",
			RunsCode: true, Language: "python"})
	}
	return err
}

// analyzePyproject reads the [build-system] table of a pyproject.toml.
func analyzePyproject(a *analyzers.Artifact, f *Facts) error {
	b, err := readManifest(a, "pyproject.toml")
	f.Python = parseBuildSystem(b)
	if f.Python.BuildBackend != "" {
		hk := Hook{System: "python", Name: "build-backend", When: "build", RunsCode: true,
			Language: "python", Size: int64(len(f.Python.BuildBackend))}
		hk.Body, hk.BodyTruncated = cutBody(f.Python.BuildBackend)
		f.InstallHooks = append(f.InstallHooks, hk)
	}
	return err
}

// parseBuildSystem reads build-backend, requires and backend-path from the [build-system]
// table of a TOML document (or from build-system.* dotted keys at the top level). It
// understands basic and literal strings and arrays of them, which is all these keys hold;
// anything else in the document is skipped.
func parseBuildSystem(b []byte) *PythonBuild {
	py := &PythonBuild{}
	lines := strings.Split(strings.ToValidUTF8(string(b), "\uFFFD"), "\n")
	table := ""
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		if strings.HasPrefix(t, "[") {
			h := strings.TrimSpace(stripComment(t))
			if strings.HasPrefix(h, "[[") {
				table = "[array]"
			} else {
				table = strings.ReplaceAll(strings.Trim(h, "[] \t"), " ", "")
			}
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		key := strings.Trim(strings.ReplaceAll(strings.TrimSpace(k), " ", ""), `"'`)
		switch {
		case table == "build-system":
		case table == "" && strings.HasPrefix(key, "build-system."):
			key = strings.TrimPrefix(key, "build-system.")
		default:
			continue
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "[") {
			// An array may span lines: gather them up to its closing bracket.
			for j := 0; !arrayClosed(v) && i+1 < len(lines) && j < 1024 && len(v) < maxBody; j++ {
				i++
				v += "\n" + lines[i]
			}
		}
		switch key {
		case "build-backend":
			if s := tomlStrings(v, 1); len(s) > 0 {
				py.BuildBackend = s[0]
			}
		case "requires":
			py.BuildRequires = tomlStrings(v, maxRequires)
		case "backend-path":
			py.BackendPath = tomlStrings(v, maxRequires)
		}
	}
	return py
}

// stripComment cuts a # comment that is outside strings.
func stripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0 && c == '\\' && q == '"':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == 0 && c == '#':
			return s[:i]
		}
	}
	return s
}

// arrayClosed reports whether an array value's brackets balance outside strings and
// comments.
func arrayClosed(v string) bool {
	depth := 0
	var q byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case q != 0 && c == '\\' && q == '"':
			i++
		case q != 0 && c == q:
			q = 0
		case q != 0:
		case c == '"' || c == '\'':
			q = c
		case c == '#':
			for i < len(v) && v[i] != '\n' {
				i++
			}
		case c == '[':
			depth++
		case c == ']':
			depth--
			if depth == 0 {
				return true
			}
		}
	}
	return false
}

// tomlStrings returns up to max basic ("…") and literal ('…') strings of a value, in order,
// skipping comments.
func tomlStrings(v string, max int) []string {
	var out []string
	for i := 0; i < len(v) && len(out) < max; i++ {
		c := v[i]
		switch c {
		case '#':
			for i < len(v) && v[i] != '\n' {
				i++
			}
		case '\'':
			end := strings.IndexByte(v[i+1:], '\'')
			if end < 0 {
				return out
			}
			out = append(out, v[i+1:i+1+end])
			i += end + 1
		case '"':
			var sb strings.Builder
			j := i + 1
			for ; j < len(v) && v[j] != '"'; j++ {
				if v[j] == '\\' && j+1 < len(v) {
					j++
					switch v[j] {
					case 'n':
						sb.WriteByte('\n')
					case 't':
						sb.WriteByte('\t')
					default:
						sb.WriteByte(v[j])
					}
					continue
				}
				sb.WriteByte(v[j])
			}
			if j >= len(v) {
				return out
			}
			out = append(out, sb.String())
			i = j
		}
	}
	return out
}
