package inventory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// digestAnalyzer reads every byte of Content through ReadAt, so a test can compare what
// the analyzers saw with the digest the walk computed while streaming.
type digestAnalyzer struct{ calls atomic.Int64 }

type digestFacts struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

func (d *digestAnalyzer) Name() string { return "digest" }
func (d *digestAnalyzer) Schema() any  { return (*digestFacts)(nil) }
func (d *digestAnalyzer) Wants(a *analyzers.Artifact) bool {
	return !strings.HasSuffix(a.Path, ".skip")
}
func (d *digestAnalyzer) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	d.calls.Add(1)
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(a.Content, 0, a.Size))
	if err != nil {
		return nil, err
	}
	// Reading past the end must not yield more bytes.
	if m, _ := a.Content.ReadAt(make([]byte, 1), a.Size); m != 0 {
		return nil, fmt.Errorf("read past the end")
	}
	return &digestFacts{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// panicAnalyzer fails the way a parser bug on hostile input does.
type panicAnalyzer struct{}

func (panicAnalyzer) Name() string                     { return "panics" }
func (panicAnalyzer) Schema() any                      { return nil }
func (panicAnalyzer) Wants(a *analyzers.Artifact) bool { return strings.HasSuffix(a.Path, "boom") }
func (panicAnalyzer) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	header := make([]byte, 4)
	return header[a.Size], nil // an offset the file claims, used unchecked
}

// limitAnalyzer reports a limit, as an analyzer does when a file claims too much.
type limitAnalyzer struct{}

func (limitAnalyzer) Name() string                     { return "limited" }
func (limitAnalyzer) Schema() any                      { return nil }
func (limitAnalyzer) Wants(a *analyzers.Artifact) bool { return strings.HasSuffix(a.Path, "big") }
func (limitAnalyzer) Analyze(context.Context, *analyzers.Artifact) (any, error) {
	return &digestFacts{}, &limits.Error{Limit: "file-size", Value: 1, What: "this test"}
}

func TestAnalyzersSeeEveryByte(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB: spooled to disk below
	inner := fixture.Zip(fixture.ZipEntry{Name: "in-zip.txt", Body: []byte("zipped")}, fixture.ZipEntry{Name: "big", Body: big})
	tarball := fixture.Gzip(fixture.Tar(
		fixture.File("a.txt", []byte("hello")),
		fixture.File("big", big),
		fixture.File("nested.zip", inner),
		fixture.File("x.skip", []byte("not analyzed")),
		fixture.File("boom", []byte("panics")),
		fixture.File("empty", nil),
	))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "delivery.tar.gz"), tarball, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.gz"), fixture.Gzip([]byte("compressed note")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	da := &digestAnalyzer{}
	opts := Options{Limits: limits.Default(), Analyzers: []analyzers.Analyzer{da, panicAnalyzer{}, limitAnalyzer{}}, Scratch: t.TempDir()}
	opts.Limits.SpoolMemory = 1 << 10 // everything over 1 KiB goes through the scratch directory
	inv, err := Take(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	analyzed := 0
	for _, a := range inv.Artifacts {
		if a.Type != "file" {
			continue
		}
		f, ok := a.Facts["digest"].(*digestFacts)
		if strings.HasSuffix(a.Path, ".skip") {
			if ok {
				t.Errorf("%s: analyzed although no analyzer wants it", a.Path)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: no facts (%v)", a.Path, a.Facts)
			continue
		}
		analyzed++
		if f.Digest != a.Digest || f.Size != a.Size {
			t.Errorf("%s: analyzers saw %s (%d bytes), the walk %s (%d bytes)", a.Path, f.Digest, f.Size, a.Digest, a.Size)
		}
	}
	// delivery.tar.gz, its 5 wanted files, nested.zip's 2, notes.gz, its inner file, plain.
	if analyzed != 11 || da.calls.Load() != 11 {
		t.Errorf("analyzed %d artifacts in %d calls, want 11", analyzed, da.calls.Load())
	}
	kinds := map[string]string{}
	for _, e := range inv.Errors {
		kinds[e.Path] += e.Kind + ":" + e.Error + ";"
	}
	if k := kinds["delivery.tar.gz!boom"]; !strings.HasPrefix(k, result.KindInternal+":panics: the analyzer failed on this file") {
		t.Errorf("panic: %q", k)
	}
	for _, p := range []string{"delivery.tar.gz!big", "delivery.tar.gz!nested.zip!big"} {
		if k := kinds[p]; !strings.HasPrefix(k, result.KindLimit+":limited: ") {
			t.Errorf("%s: limit error: %q", p, k)
		}
	}
	if len(inv.Errors) != 3 {
		t.Errorf("errors: %+v", inv.Errors)
	}
	// The scratch directory is gone.
	if left, _ := os.ReadDir(opts.Scratch); len(left) != 0 {
		t.Errorf("scratch left behind: %v", left)
	}
}

func TestAnalyzersSelect(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.so", "b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	da := &digestAnalyzer{}
	opts := Options{Limits: limits.Default(), Analyzers: []analyzers.Analyzer{da}, Select: func(p string) bool { return strings.HasSuffix(p, ".so") }}
	inv, err := Take(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range inv.Artifacts {
		if _, ok := a.Facts["digest"]; ok != (a.Path == "a.so") {
			t.Errorf("%s: facts %v", a.Path, a.Facts)
		}
	}
	if da.calls.Load() != 1 {
		t.Errorf("%d calls", da.calls.Load())
	}
}

// An entry that declares more than spool-memory is spooled to disk from its first
// byte; one that declares less, falsely, still leaves memory at spool-memory.
func TestSpoolDeclaredSize(t *testing.T) {
	lim := limits.Default()
	lim.SpoolMemory = 8
	s := scratch{parent: t.TempDir()}
	defer s.remove()
	for _, c := range []struct {
		declared   int64
		write      string
		wantOnDisk bool
	}{
		{declared: 9, write: "ab", wantOnDisk: true},
		{declared: 2, write: "ab", wantOnDisk: false},
		{declared: -1, write: "ab", wantOnDisk: false},
		{declared: 2, write: "abcdefghijk", wantOnDisk: true},
		{declared: 8, write: "abcdefgh", wantOnDisk: false},
		{declared: 7, write: "xyz", wantOnDisk: false}, // a reused buffer shows none of the last entry
	} {
		sw := s.newSpool(&lim, c.declared)
		sw.Write([]byte(c.write))
		if onDisk := sw.f != nil; onDisk != c.wantOnDisk || onDisk && len(sw.mem) > 0 {
			t.Errorf("declared %d, wrote %d bytes: on disk %v (want %v), %d bytes in memory", c.declared, len(c.write), onDisk, c.wantOnDisk, len(sw.mem))
		}
		ra, n, err := sw.reader()
		if err != nil || n != int64(len(c.write)) {
			t.Fatalf("declared %d: reader: %d bytes, %v", c.declared, n, err)
		}
		got := make([]byte, n)
		if _, err := ra.ReadAt(got, 0); err != nil && err != io.EOF || string(got) != c.write {
			t.Errorf("declared %d: read back %q, %v", c.declared, got, err)
		}
		sw.free()
	}
}

// A spool that passes the file-size limit reports it instead of growing.
func TestSpoolLimit(t *testing.T) {
	lim := limits.Default()
	lim.SpoolMemory, lim.FileSize = 4, 10
	s := scratch{parent: t.TempDir()}
	defer s.remove()
	sw := s.newSpool(&lim, -1)
	defer sw.free()
	for range 3 {
		if n, err := sw.Write([]byte("abcd")); n != 4 || err != nil {
			t.Fatal(n, err)
		}
	}
	if _, _, err := sw.reader(); !limits.IsLimit(err) {
		t.Fatalf("want a limit error, got %v", err)
	}
}

// meetAnalyzer waits, on each file, for the analysis of another to begin: it sees two
// at once only when analyses run beside the walk.
type meetAnalyzer struct {
	arrived chan struct{}
	met     atomic.Int64
}

func (m *meetAnalyzer) Name() string                   { return "meet" }
func (m *meetAnalyzer) Schema() any                    { return nil }
func (m *meetAnalyzer) Wants(*analyzers.Artifact) bool { return true }
func (m *meetAnalyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	select {
	case m.arrived <- struct{}{}: // the other is waiting
		m.met.Add(1)
	case <-m.arrived:
		m.met.Add(1)
	case <-time.After(20 * time.Second):
	}
	return nil, nil
}

// TestSpooledFilesAnalysedBesideTheWalk: the members of one tar stream, spooled for the
// analyzers (no kept copies, as in kensa scan), are analysed while the walk reads on, so
// that a stream read by one goroutine (one image layer) uses every core.
func TestSpooledFilesAnalysedBesideTheWalk(t *testing.T) {
	dir := t.TempDir()
	tarball := fixture.Tar(fixture.File("one", []byte("first")), fixture.File("two", []byte("second")))
	if err := os.WriteFile(filepath.Join(dir, "delivery.tar"), tarball, 0o644); err != nil {
		t.Fatal(err)
	}
	m := &meetAnalyzer{arrived: make(chan struct{})}
	opts := Options{Limits: limits.Default(), Analyzers: []analyzers.Analyzer{m}, Jobs: 2, Select: func(p string) bool { return strings.Contains(p, "!") }}
	if _, err := Take(context.Background(), []string{filepath.Join(dir, "delivery.tar")}, opts); err != nil {
		t.Fatal(err)
	}
	if got := m.met.Load(); got != 2 {
		t.Errorf("%d of the 2 members were analysed while the other was", got)
	}
}
