package rebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/result"
)

// writeTree makes a directory of files; a value starting with "@" copies that file.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, mode := []byte(content), os.FileMode(0o644)
		if strings.HasPrefix(content, "@") {
			var err error
			if data, err = os.ReadFile(content[1:]); err != nil {
				t.Fatal(err)
			}
			mode = 0o755
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// tarGz packs dir into a gzip-compressed tar file at out.
func tarGz(t *testing.T, dir, out string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: int64(info.Mode().Perm()), Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// deliveryPair makes a delivered and a rebuilt directory: an executable with an injected
// call, two equivalent executables (ELF and PE), an identical file, a changed
// configuration file, a delivered executable and a delivered document the rebuild lacks,
// and a file only the rebuild has.
func deliveryPair(t *testing.T) (string, string) {
	t.Helper()
	base := t.TempDir()
	dd, rd := filepath.Join(base, "delivered"), filepath.Join(base, "rebuilt")
	const mingw = "x86_64-w64-mingw32-gcc"
	writeTree(t, dd, map[string]string{
		"bin/handler":      "@" + buildC(t, vendorBuild("gcc", "-g", "-DINJECT")),
		"bin/handler-ok":   "@" + buildC(t, vendorBuild("gcc", "-g")),
		"bin/handler.exe":  "@" + buildC(t, vendorBuild(mingw)),
		"bin/extra-tool":   "@" + buildC(t, vendorBuild("gcc")),
		"share/README":     "handler: answers requests\n",
		"share/NOTES":      "release notes\n",
		"etc/handler.conf": "listen 8080\n",
	})
	writeTree(t, rd, map[string]string{
		"bin/handler":          "@" + buildC(t, buyerBuild("gcc", "-g")),
		"bin/handler-ok":       "@" + buildC(t, buyerBuild("gcc", "-g")),
		"bin/handler.exe":      "@" + buildC(t, buyerBuild(mingw)),
		"share/README":         "handler: answers requests\n",
		"etc/handler.conf":     "listen 8081\n",
		"lib/only-rebuilt.txt": "made by the rebuild\n",
	})
	return dd, rd
}

func wantCounts(t *testing.T, rep *Report) {
	t.Helper()
	want := Counts{Pairs: 8, Identical: 1, Equivalent: 2, Differs: 2, DeliveredOnly: 2, RebuiltOnly: 1}
	if rep.Counts != want {
		for _, p := range rep.Pairs {
			t.Logf("%s %s", p.Verdict, p.Path)
		}
		t.Fatalf("counts %+v, want %+v (errors %v)", rep.Counts, want, rep.Errors)
	}
	if rep.Verdict != Differs || len(rep.Errors) != 0 {
		t.Fatalf("verdict %s, errors %v", rep.Verdict, rep.Errors)
	}
	verdicts := map[string]string{}
	for _, p := range rep.Pairs {
		verdicts[p.Path[strings.LastIndexByte(p.Path, '!')+1:]] = p.Verdict
	}
	for path, v := range map[string]string{
		"bin/handler": Differs, "bin/handler-ok": Equivalent, "bin/handler.exe": Equivalent, "bin/extra-tool": DeliveredOnly,
		"share/README": Identical, "share/NOTES": DeliveredOnly, "etc/handler.conf": Differs, "lib/only-rebuilt.txt": RebuiltOnly,
	} {
		if verdicts[path] != v {
			t.Errorf("%s: %s, want %s", path, verdicts[path], v)
		}
	}
}

// CompareTargets pairs the files of two directories by path and counts each verdict;
// Findings raises the documented rules.
func TestCompareTargetsDirectories(t *testing.T) {
	dd, rd := deliveryPair(t)
	rep, err := CompareTargets(context.Background(), dd, rd, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, rep)
	got := map[string]result.Severity{}
	for _, f := range rep.Findings() {
		got[f.Rule+" "+f.Path] = f.Severity
		if f.Rule == "diff/rebuild-differs" && f.Path == "bin/handler" && !strings.Contains(strings.Join(f.Evidence, "\n"), "function handle_request is ") {
			t.Errorf("evidence lacks the function: %q", f.Evidence)
		}
	}
	want := map[string]result.Severity{
		"diff/rebuild-differs bin/handler":              result.High,
		"diff/rebuild-differs etc/handler.conf":         result.Medium,
		"diff/rebuild-missing bin/extra-tool":           result.High,
		"diff/rebuild-extra share/NOTES":                result.Medium,
		"diff/rebuild-undelivered lib/only-rebuilt.txt": result.Low,
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("finding %s: %q, want %q", k, got[k], v)
		}
	}
	// JSON is stable and the text says what differs.
	a, _ := json.Marshal(rep)
	rep2, err := CompareTargets(context.Background(), dd, rd, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep2)
	if !bytes.Equal(a, b) {
		t.Error("two runs gave different JSON")
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"differs        bin/handler\n", "function handle_request is ", "equivalent     bin/handler-ok", "8 files: 1 identical, 2 equivalent, 2 differ", "\ndiffers: "} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
}

// Archives given as files are compared by their contents, below their own names.
func TestCompareTargetsArchives(t *testing.T) {
	dd, rd := deliveryPair(t)
	dir := t.TempDir()
	da, ra := filepath.Join(dir, "vendor-1.0.tar.gz"), filepath.Join(dir, "rebuild.tar.gz")
	tarGz(t, dd, da)
	tarGz(t, rd, ra)
	rep, err := CompareTargets(context.Background(), da, ra, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, rep)
}

// Two single files are paired whatever their names; a delivery whose files are all
// identical or equivalent to the rebuild is "identical".
func TestCompareTargetsSingleFiles(t *testing.T) {
	d := buildC(t, vendorBuild("gcc", "-g"))
	r := buildC(t, buyerBuild("gcc", "-g"))
	rep, err := CompareTargets(context.Background(), d, r, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Pairs) != 1 || rep.Pairs[0].Verdict != Equivalent || rep.Pairs[0].RebuiltPath == "" || rep.Verdict != Identical {
		t.Fatalf("pairs %+v verdict %s", rep.Pairs, rep.Verdict)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "\nidentical: ") {
		t.Errorf("text does not say identical:\n%s", text.String())
	}
	if len(rep.Findings()) != 0 {
		t.Errorf("findings for an equivalent rebuild: %v", rep.Findings())
	}
}

// A compiler change recorded in .comment alone is reported as low and leaves the pair
// equivalent, with a diff/rebuild-toolchain finding.
func TestCompilerChange(t *testing.T) {
	r := buildC(t, buyerBuild("gcc", "-g"))
	dir := t.TempDir()
	comment := filepath.Join(dir, "comment")
	if err := os.WriteFile(comment, []byte("GCC: (Vendor) 99.1.0\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, "handler")
	if msg, err := exec.Command("objcopy", "--update-section", ".comment="+comment, buildC(t, vendorBuild("gcc", "-g")), d).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, msg)
	}
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Verdict != Equivalent || !has(bd.Differences, "toolchain", "compiler changed", "GCC: (Vendor) 99.1.0") || bd.Differences[0].Severity != result.Low {
		t.Fatalf("verdict %s; want equivalent with a low compiler change", bd.Verdict)
	}
	rep, err := CompareTargets(context.Background(), d, r, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Findings(); len(f) != 1 || f[0].Rule != "diff/rebuild-toolchain" || f[0].Severity != result.Low {
		t.Fatalf("findings %+v", f)
	}
}

// A Go rebuild from another commit differs in vcs.revision and vcs.time even when the
// code is the same: it was not built from the delivered source.
func TestGoRebuildOtherCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "goprog", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join("testdata", "goprog", "go.mod.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir, out := t.TempDir(), t.TempDir()
	env := append(os.Environ(), "GIT_AUTHOR_NAME=v", "GIT_AUTHOR_EMAIL=v@example.com", "GIT_COMMITTER_NAME=v",
		"GIT_COMMITTER_EMAIL=v@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	run := func(extra []string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(append([]string{}, env...), extra...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, msg)
		}
	}
	writeTree(t, dir, map[string]string{"main.go": string(src), "go.mod": string(mod), "README": "one\n"})
	goEnv := []string{"CGO_ENABLED=0", "GOFLAGS=-buildvcs=true", "GOTOOLCHAIN=local", "GOPROXY=off", "GOWORK=off"}
	run(nil, "git", "init", "-q")
	run(nil, "git", "add", ".")
	run([]string{"GIT_AUTHOR_DATE=2025-11-01T00:00:00Z", "GIT_COMMITTER_DATE=2025-11-01T00:00:00Z"}, "git", "commit", "-q", "-m", "one")
	d := filepath.Join(out, "handler-delivered")
	run(goEnv, "go", "build", "-trimpath", "-o", d, ".")
	writeTree(t, dir, map[string]string{"README": "two\n"})
	run(nil, "git", "add", "README")
	run([]string{"GIT_AUTHOR_DATE=2025-11-02T00:00:00Z", "GIT_COMMITTER_DATE=2025-11-02T00:00:00Z"}, "git", "commit", "-q", "-m", "two")
	r := filepath.Join(out, "handler-rebuilt")
	run(goEnv, "go", "build", "-trimpath", "-o", r, ".")
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Verdict != Differs || !has(bd.Differences, "go-build", "vcs.revision") || !has(bd.Differences, "go-build", "vcs.time") {
		t.Fatalf("verdict %s; want differs naming vcs.revision and vcs.time", bd.Verdict)
	}
}
