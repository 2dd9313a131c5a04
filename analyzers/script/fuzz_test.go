package script

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"kensa.dev/kensa/analyzers/sniff"
)

// fuzzPaths are the places a fuzzed file is put, so that every reader is reached.
var fuzzPaths = []string{
	"x/install.sh", "x/run.ps1", "x/tool", "p.deb!control.tar.xz!postinst", "p.deb!control.tar.xz!conffiles",
	"a.pkg.tar.zst!.INSTALL", "src/setup.py", "src/pyproject.toml", "src/setup.cfg", "x/p.rpm",
	"node_modules/x/package.json", "x/run.bat",
}

// FuzzAnalyze runs the analyzer on arbitrary bytes at every kind of place: it must not
// panic, and what it reports must stay within its bounds.
func FuzzAnalyze(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("testdata", "samples", "*"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	for i, p := range append(samples, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint8(i))
		}
	}
	for _, p := range []string{"deb/DEBIAN/postinst", "deb/DEBIAN/prerm", "deb/DEBIAN/conffiles"} {
		if b, err := os.ReadFile(filepath.Join("testdata", p)); err == nil {
			f.Add(b, uint8(3))
		}
	}
	if b, err := os.ReadFile(BuildRPM(f, f.TempDir())); err == nil {
		f.Add(b, uint8(9))
	}
	f.Add([]byte("\xff\xfe#\x00!\x00/\x00b\x00i\x00n\x00/\x00s\x00h\x00\n\x00"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		p := fuzzPaths[int(sel)%len(fuzzPaths)]
		a := artifact(p, data)
		an := New()
		if !an.Wants(a) {
			if len(data) == 0 {
				return
			}
			a.Format = sniff.Script
		}
		v, err := an.Analyze(context.Background(), a)
		facts, ok := v.(*Facts)
		if !ok || facts == nil {
			t.Fatalf("%s: facts %T, error %v", p, v, err)
		}
		if facts.ScannedBytes > facts.Size || facts.Lines > facts.ScannedBytes+1 {
			t.Fatalf("scanned %d of %d bytes, %d lines", facts.ScannedBytes, facts.Size, facts.Lines)
		}
		if len(facts.Observations) > maxObservations || len(facts.InstallHooks) > maxHooks {
			t.Fatalf("%d observations, %d hooks", len(facts.Observations), len(facts.InstallHooks))
		}
		checkObs := func(obs []Observation, lines int64) {
			for _, o := range obs {
				if o.Line < 1 || (lines > 0 && o.Line > lines) || len(o.Text) > maxObsText || !utf8.ValidString(o.Text) || o.Kind == "" {
					t.Fatalf("observation %+v (of %d lines)", o, lines)
				}
			}
		}
		checkObs(facts.Observations, facts.Lines)
		for _, h := range facts.InstallHooks {
			if len(h.Body) > maxBody || !utf8.ValidString(h.Body) || len(h.Observations) > maxHookObservations || h.System == "" || h.Name == "" {
				t.Fatalf("hook %+v", h)
			}
			checkObs(h.Observations, 0)
		}
		if facts.Entropy < 0 || facts.Entropy > 8 {
			t.Fatalf("entropy %v", facts.Entropy)
		}
	})
}

// FuzzPackageJSON parses arbitrary package.json documents.
func FuzzPackageJSON(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "npm", "package.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"scripts": {"postinstall": "curl x | sh", "install": null}}`))
	f.Add([]byte(`{"scripts": {"preinstall": "\u0000\ud800"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		hooks, err := packageJSONHooks(data)
		if err != nil && hooks != nil {
			t.Fatalf("error %v with %d hooks", err, len(hooks))
		}
		if len(hooks) > len(npmHooks) {
			t.Fatalf("%d hooks", len(hooks))
		}
		for _, h := range hooks {
			if h.System != "npm" || len(h.Body) > maxBody || !utf8.ValidString(h.Body) || h.Size < int64(len(h.Body))-3*int64(len(h.Body)) {
				t.Fatalf("hook %+v", h)
			}
		}
	})
}
