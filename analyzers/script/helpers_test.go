package script

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

// artifact builds the artifact the inventory would hand over for content at path p.
func artifact(p string, content []byte) *analyzers.Artifact {
	lim := limits.Default()
	det := sniff.Detect(content[:min(len(content), sniff.HeadSize)], baseName(p), int64(len(content)))
	return &analyzers.Artifact{Path: p, Format: det.Format, Interpreter: det.Interpreter, Mode: "0755",
		Size: int64(len(content)), Content: bytes.NewReader(content), Limits: &lim}
}

// analyze runs the analyzer on content at p, which it must want, and returns its facts.
func analyze(t testing.TB, p string, content []byte) (*Facts, error) {
	t.Helper()
	a := artifact(p, content)
	an := New()
	if !an.Wants(a) {
		t.Fatalf("%s (format %s): Wants is false", p, a.Format)
	}
	v, err := an.Analyze(context.Background(), a)
	f, ok := v.(*Facts)
	if !ok || f == nil {
		t.Fatalf("%s: Analyze returned %T (%v), want *Facts", p, v, err)
	}
	return f, err
}

// expected reads the "expect:" markers of a sample: line (the first line of a line
// continued with backslashes) → sorted kinds.
func expected(content []byte) map[int64][]string {
	want := map[int64][]string{}
	lines := strings.Split(string(content), "\n")
	start := int64(0)
	for i, l := range lines {
		n := int64(i + 1)
		if start == 0 {
			start = n
		}
		if _, m, ok := strings.Cut(l, "expect: "); ok {
			kinds := strings.Split(strings.TrimSpace(m), ",")
			want[start] = append(want[start], kinds...)
			sort.Strings(want[start])
		}
		if !strings.HasSuffix(strings.TrimRight(l, "\r"), "\\") {
			start = 0
		}
	}
	return want
}

// observed groups observations by line, kinds sorted.
func observed(obs []Observation) map[int64][]string {
	got := map[int64][]string{}
	for _, o := range obs {
		got[o.Line] = append(got[o.Line], o.Kind)
		sort.Strings(got[o.Line])
	}
	return got
}

func checkObservations(t *testing.T, name string, content []byte, obs []Observation) {
	t.Helper()
	want, got := expected(content), observed(obs)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: observations by line\n got %v\nwant %v", name, got, want)
		for _, o := range obs {
			t.Logf("  %d %s: %s", o.Line, o.Kind, o.Text)
		}
	}
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BuildDeb builds testdata/deb into a .deb in dir with dpkg-deb and returns its path.
func BuildDeb(t testing.TB, dir string) string {
	t.Helper()
	fixture.Need(t, "dpkg-deb", "dpkg")
	root := filepath.Join(dir, "root")
	err := filepath.WalkDir(filepath.Join("testdata", "deb"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join("testdata", "deb"), p)
		dst := filepath.Join(root, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") || (filepath.Base(filepath.Dir(p)) == "DEBIAN" && debHooks[filepath.Base(p)].code) {
			mode = 0o755
		}
		return os.WriteFile(dst, b, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "kensa-agent_1.0-1_all.deb")
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, b)
	}
	return out
}

// BigScriptlet is the size of the %postun body BuildRPM writes: past the 64 KiB body cap.
const BigScriptlet = 70 << 10

// BuildRPM builds testdata/rpm/agent.spec into an .rpm in dir with rpmbuild and returns its
// path. The %postun body is BigScriptlet bytes of echo lines.
func BuildRPM(t testing.TB, dir string) string {
	t.Helper()
	fixture.Need(t, "rpmbuild", "rpm")
	spec, err := os.ReadFile(filepath.Join("testdata", "rpm", "agent.spec"))
	if err != nil {
		t.Fatal(err)
	}
	var big strings.Builder
	for i := 0; big.Len() < BigScriptlet; i++ {
		fmt.Fprintf(&big, "echo line %06d\n", i)
	}
	body := big.String()[:BigScriptlet-1] // the last line ends without a newline
	body = strings.TrimRight(body, "\n")
	spec = bytes.Replace(spec, []byte("@BIG@"), []byte(body), 1)
	specPath := filepath.Join(dir, "agent.spec")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(dir, "top")
	cmd := exec.Command("rpmbuild", "--define", "_topdir "+top, "--define", "_build_id_links none", "-bb", specPath)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild: %v\n%s", err, b)
	}
	return filepath.Join(top, "RPMS", "noarch", "kensa-agent-1.0-1.noarch.rpm")
}
