package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// The tools the autotools tests run (Debian packages autoconf, automake, pkgconf, git,
// make, gcc, xz-utils).
var tools = []string{"autoreconf", "autoconf", "aclocal", "automake", "make", "cc", "git", "xz"}

// fixture is built once: a git repository with the tags v1.0 (the project of
// testdata/project) and v1.0-xz (the same with a high-entropy test file), and a release
// tarball made from each with autoreconf -fi, configure and make dist.
type fixture struct {
	repo        string
	checkout    string // a clone of v1.0
	clean, evil string // hello-1.0.tar.gz of v1.0, and the xz-shaped one of v1.0-xz
	built       time.Duration
}

var (
	fix    *fixture
	fixErr error
	base   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if base != "" {
		os.RemoveAll(base)
	}
	os.Exit(code)
}

// baseDir makes, on first use, the directory the autotools tests work in (removed by
// TestMain), with an empty git configuration.
func baseDir() (string, error) {
	if base != "" {
		return base, nil
	}
	b, err := os.MkdirTemp("", "drift-test-")
	if err != nil {
		return "", err
	}
	base = b
	return base, os.WriteFile(filepath.Join(base, "gitconfig"), nil, 0o644)
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	if fix == nil && fixErr == nil {
		start := time.Now()
		b, err := baseDir()
		if err != nil {
			t.Fatal(err)
		}
		fix, fixErr = buildFixture(filepath.Join(b, "fixture"))
		if fix != nil {
			fix.built = time.Since(start)
		}
	}
	if fixErr != nil {
		t.Fatalf("building the autotools fixture (needs the Debian packages autoconf, automake, pkgconf, make, gcc, git, xz-utils): %v", fixErr)
	}
	return fix
}

func run(dir string, name string, args ...string) error {
	if _, err := baseDir(); err != nil {
		return err
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL="+filepath.Join(base, "gitconfig"), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=kensa", "GIT_AUTHOR_EMAIL=kensa@example.org",
		"GIT_COMMITTER_NAME=kensa", "GIT_COMMITTER_EMAIL=kensa@example.org",
		"GIT_AUTHOR_DATE=2024-03-09T12:00:00Z", "GIT_COMMITTER_DATE=2024-03-09T12:00:00Z",
		"LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return nil
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		return os.WriteFile(target, b, mode)
	})
}

// payloadFixture is an xz-shaped "corrupt test file": 4 KiB of random bytes, then an xz
// stream holding a harmless script.
func payloadFixture() ([]byte, error) {
	r := rand.New(rand.NewChaCha8([32]byte{'k', 'e', 'n', 's', 'a'}))
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	var z bytes.Buffer
	w, err := xz.NewWriter(&z)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte("true\n")); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return append(b, z.Bytes()...), nil
}

// The line the modified macro gains: it finds the fixture without naming it, cuts the
// random bytes off, decompresses the rest and runs it.
const payloadLine = `kensa_f=` + "`" + `find "$srcdir/tests/files" -name 'bad-3-*' 2>/dev/null` + "`" + `; test -n "$kensa_f" && tail -c +4097 "$kensa_f" | xz -d 2>/dev/null | sh`

func buildFixture(dir string) (*fixture, error) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found", tool)
		}
	}
	f := &fixture{repo: filepath.Join(dir, "repo")}
	if err := copyDir("testdata/project", f.repo); err != nil {
		return nil, err
	}
	steps := [][]string{
		{"git", "-c", "init.defaultBranch=main", "init", "-q"},
		{"git", "add", "-A"},
		{"git", "commit", "-q", "-m", "hello 1.0"},
		{"git", "tag", "v1.0"},
	}
	for _, s := range steps {
		if err := run(f.repo, s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	// The xz-shaped variant: a binary test file committed to git, listed for make dist.
	payload, err := payloadFixture()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(f.repo, "tests/files"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(f.repo, "tests/files/bad-3-corrupt.xz"), payload, 0o644); err != nil {
		return nil, err
	}
	am, err := os.ReadFile(filepath.Join(f.repo, "Makefile.am"))
	if err != nil {
		return nil, err
	}
	am = append(am, "EXTRA_DIST += tests/files/bad-3-corrupt.xz\n"...)
	if err := os.WriteFile(filepath.Join(f.repo, "Makefile.am"), am, 0o644); err != nil {
		return nil, err
	}
	for _, s := range [][]string{{"git", "add", "-A"}, {"git", "commit", "-q", "-m", "add a corrupt test file"}, {"git", "tag", "v1.0-xz"}} {
		if err := run(f.repo, s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	f.checkout = filepath.Join(dir, "checkout")
	if err := run(dir, "git", "clone", "-q", "--branch", "v1.0", f.repo, f.checkout); err != nil {
		return nil, err
	}
	if f.clean, err = release(dir, f.repo, "v1.0", nil); err != nil {
		return nil, err
	}
	f.evil, err = release(dir, f.repo, "v1.0-xz", func(work string) error {
		// (1) the third-party macro modified, its serial kept, (3) with a build step
		// that decodes the test file and runs it.
		p := filepath.Join(work, "m4/pkg.m4")
		m4, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		anchor := "if test -n \"$PKG_CONFIG\"; then\n\t_pkg_min_version"
		if !bytes.Contains(m4, []byte(anchor)) {
			return fmt.Errorf("m4/pkg.m4 has no %q to insert the payload before", anchor)
		}
		m4 = bytes.Replace(m4, []byte(anchor), []byte(payloadLine+"\n"+anchor), 1)
		if err := os.WriteFile(p, m4, 0o644); err != nil {
			return err
		}
		// A changed C source the git tag does not have.
		c := filepath.Join(work, "src/hello.c")
		src, err := os.ReadFile(c)
		if err != nil {
			return err
		}
		src = bytes.Replace(src, []byte(`puts("hello, world");`), []byte(`puts("hello, world");
	system("id");`), 1)
		if err := os.WriteFile(c, src, 0o644); err != nil {
			return err
		}
		return run(work, "autoconf", "-f")
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// release makes the release tarball of tag: a clone, autoreconf -fi, then modify, then
// configure and make dist.
func release(dir, repo, tag string, modify func(work string) error) (string, error) {
	work := filepath.Join(dir, "build-"+tag)
	if err := run(dir, "git", "clone", "-q", "--branch", tag, repo, work); err != nil {
		return "", err
	}
	if err := run(work, "autoreconf", "-fi"); err != nil {
		return "", err
	}
	if modify != nil {
		if err := modify(work); err != nil {
			return "", err
		}
	}
	if err := run(work, "./configure", "-q"); err != nil {
		return "", err
	}
	if err := run(work, "make", "-s", "dist"); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "hello-1.0-"+tag+".tar.gz")
	return out, os.Rename(filepath.Join(work, "hello-1.0.tar.gz"), out)
}

func releaseTree(t *testing.T, tarball string) *Tree {
	t.Helper()
	rel, err := ReleaseTree(context.Background(), tarball, inventory.Options{Limits: limits.Default()}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func gitTree(t *testing.T, repo, ref string) *Tree {
	t.Helper()
	src, err := GitTree(repo, ref, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func count(rep *Report, rule string) int {
	n := 0
	for _, f := range rep.Findings {
		if f.Rule == rule {
			n++
		}
	}
	return n
}

func logReport(t *testing.T, rep *Report) {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
}

func TestCleanRelease(t *testing.T) {
	f := getFixture(t)
	t.Logf("fixture built in %v", f.built.Round(time.Millisecond))
	start := time.Now()
	src := gitTree(t, f.repo, "v1.0")
	rel := releaseTree(t, f.clean)
	rep, err := Compare(src, rel, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compared %d source and %d release files in %v", src.Len(), rel.Len(), time.Since(start).Round(time.Millisecond))
	logReport(t, rep)
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %v", rep.Errors)
	}
	for _, x := range rep.Findings {
		if x.Severity.Rank() >= result.Medium.Rank() {
			t.Errorf("clean release: finding %s %s %s %v", x.Rule, x.Path, x.Message, x.Evidence)
		}
	}
	if rep.Summary.Classes[ClassSource] != 0 {
		t.Errorf("clean release: %d source-class drift files, want 0", rep.Summary.Classes[ClassSource])
	}
	if rep.Summary.Statuses[StatusDiffers] != 0 {
		t.Errorf("clean release: %d differing files", rep.Summary.Statuses[StatusDiffers])
	}
	// What autoreconf -fi and make dist add, each classified as generated.
	want := []string{"configure", "Makefile.in", "aclocal.m4", "m4/pkg.m4", "build-aux/install-sh", "build-aux/missing",
		"build-aux/compile", "build-aux/depcomp", "build-aux/test-driver"}
	got := map[string]File{}
	for _, x := range rep.Files {
		got[x.Path] = x
	}
	for _, p := range want {
		if x := got[p]; x.Status != StatusOnlyRelease || x.Class != ClassGenerated {
			t.Errorf("%s: %+v, want only-release generated", p, x)
		}
	}
	if rep.Summary.Statuses[StatusOnlyRelease] != len(want) {
		t.Errorf("%d release-only files, want %d", rep.Summary.Statuses[StatusOnlyRelease], len(want))
	}
	for _, p := range []string{"configure.ac", "Makefile.am", "src/hello.c", "tests/check.sh", "tests/expected.txt"} {
		if got[p].Status != StatusSame {
			t.Errorf("%s: %+v, want same", p, got[p])
		}
	}
	// The source's own files make dist leaves out are listed, not findings.
	if got["m4/README"].Status != StatusOnlySource || got[".gitignore"].Status != StatusOnlySource {
		t.Errorf("m4/README %+v, .gitignore %+v: want only-source", got["m4/README"], got[".gitignore"])
	}
	// The copied macro is the system's, which the embedded table knows.
	for _, x := range rep.Findings {
		if x.Path == "m4/pkg.m4" {
			t.Errorf("m4/pkg.m4: %s %v", x.Rule, x.Evidence)
		}
	}
	t.Logf("clean: files %d, statuses %v, classes %v, findings %d", rep.Summary.Files, rep.Summary.Statuses, rep.Summary.Classes, len(rep.Findings))
}

func TestXZShapedRelease(t *testing.T) {
	f := getFixture(t)
	start := time.Now()
	src := gitTree(t, f.repo, "v1.0-xz")
	rel := releaseTree(t, f.evil)
	rep, err := Compare(src, rel, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compared %d source and %d release files in %v", src.Len(), rel.Len(), time.Since(start).Round(time.Millisecond))
	logReport(t, rep)
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %v", rep.Errors)
	}
	want := map[string]string{
		RuleM4SerialMismatch:    "m4/pkg.m4",
		RuleOpaqueTestFixture:   "tests/files/bad-3-corrupt.xz",
		RuleBuildDecodesAndRuns: "m4/pkg.m4",
		RuleModifiedSourceFile:  "src/hello.c",
	}
	for rule, p := range want {
		if n := count(rep, rule); n != 1 {
			t.Errorf("%s: %d findings, want 1", rule, n)
		}
		for _, x := range rep.Findings {
			if x.Rule == rule && x.Path != p {
				t.Errorf("%s on %s, want %s", rule, x.Path, p)
			}
		}
	}
	medium := 0
	for _, x := range rep.Findings {
		if x.Severity.Rank() >= result.Medium.Rank() {
			medium++
		}
	}
	if medium != len(want) {
		t.Errorf("%d findings at medium or above, want %d", medium, len(want))
	}
	if rep.Findings[0].Rule != RuleBuildDecodesAndRuns || rep.Findings[0].Severity != result.Critical {
		t.Errorf("first finding %s %s, want the critical %s", rep.Findings[0].Severity, rep.Findings[0].Rule, RuleBuildDecodesAndRuns)
	}
	ev := func(rule string) string {
		for _, x := range rep.Findings {
			if x.Rule == rule {
				return strings.Join(x.Evidence, "\n")
			}
		}
		return ""
	}
	// The evidence says where the macro first departs from upstream, and that configure
	// carries the same command.
	if e := ev(RuleM4SerialMismatch); !strings.Contains(e, "serial 12") || !strings.Contains(e, "first differing line") || !strings.Contains(e, "kensa_f=") {
		t.Errorf("m4-serial-mismatch evidence:\n%s", e)
	}
	if e := ev(RuleBuildDecodesAndRuns); !strings.Contains(e, "release configure:") || !strings.Contains(e, "xz -d") {
		t.Errorf("build-decodes-and-runs evidence:\n%s", e)
	}
	if e := ev(RuleModifiedSourceFile); !strings.Contains(e, `system(\"id\");`) {
		t.Errorf("modified-source-file evidence:\n%s", e)
	}
	for _, x := range rep.Files {
		if x.Path == "m4/pkg.m4" && x.Class != ClassGenerated {
			t.Errorf("m4/pkg.m4 class %q: a copied macro is an expected generated file, inspected all the same", x.Class)
		}
	}
	t.Logf("xz-shaped: files %d, statuses %v, classes %v, findings %d", rep.Summary.Files, rep.Summary.Statuses, rep.Summary.Classes, len(rep.Findings))

	// The fixture is also in git: checked on the source side too.
	gitOnly, err := Compare(src, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if count(gitOnly, RuleOpaqueTestFixture) != 1 {
		t.Errorf("git tag against itself: %d opaque-test-fixture findings, want 1", count(gitOnly, RuleOpaqueTestFixture))
	}

	// The reports.
	var js, md bytes.Buffer
	if err := json.NewEncoder(&js).Encode(rep); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["schemaVersion"] != SchemaVersion {
		t.Fatalf("JSON: %v %v", err, back["schemaVersion"])
	}
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "tests/expected.txt") || !strings.Contains(md.String(), "| critical | `drift/build-decodes-and-runs`") {
		t.Errorf("markdown:\n%s", md.String())
	}
}

func TestDirAndGitAgree(t *testing.T) {
	f := getFixture(t)
	dir, err := DirTree(f.checkout, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	git := gitTree(t, f.repo, "v1.0")
	rep, err := Compare(dir, git, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 || len(rep.Findings) != 0 {
		t.Fatalf("errors %v findings %v", rep.Errors, rep.Findings)
	}
	if rep.Summary.Statuses[StatusSame] != git.Len() || rep.Summary.Files != git.Len() || git.Len() == 0 {
		t.Fatalf("statuses %v of %d files, want all %d same", rep.Summary.Statuses, rep.Summary.Files, git.Len())
	}
	// An annotated tag names the same tree.
	if err := run(f.repo, "git", "tag", "-a", "-m", "annotated", "v1.0-annotated", "v1.0"); err != nil {
		t.Fatal(err)
	}
	ann := gitTree(t, f.repo, "v1.0-annotated")
	if rep, err := Compare(ann, git, Options{}); err != nil || rep.Summary.Statuses[StatusSame] != git.Len() {
		t.Fatalf("annotated tag: %v %v", err, rep.Summary.Statuses)
	}
	// A tag that does not exist is an error that says what to give.
	if _, err := GitTree(f.repo, "v9", DefaultLimits()); err == nil || !strings.Contains(err.Error(), "name a tag") {
		t.Fatalf("missing tag: %v", err)
	}
}
