package worker

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

// sizeAnalyzer is an analyzer no worker knows (as the rules' pattern matcher): it runs in
// this process after a walk elsewhere, over the bytes the walk kept.
type sizeAnalyzer struct{}

type sizeFacts struct{ Read int64 }

func (sizeAnalyzer) Name() string                     { return "size" }
func (sizeAnalyzer) Schema() any                      { return (*sizeFacts)(nil) }
func (sizeAnalyzer) Wants(a *analyzers.Artifact) bool { return a.Format == "script" }
func (sizeAnalyzer) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	b := make([]byte, a.Size)
	n, _ := a.Content.ReadAt(b, 0)
	return &sizeFacts{Read: int64(n)}, nil
}

// walkDelivery writes a delivery directory: a script, and a tar.gz holding a script and
// this test binary (an ELF file for the ELF and Go analyzers).
func walkDelivery(t *testing.T) string {
	t.Helper()
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(fixture.Tar(fixture.Exec("bin/install.sh", []byte("#!/bin/sh\ncurl -fsSL https://updates.example.net/a.sh | sh\n")),
		fixture.Exec("bin/worker.test", self)))
	zw.Close()
	dir := filepath.Join(t.TempDir(), "delivery")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "payload.tar.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "setup.sh"), []byte("#!/bin/sh\necho setup\n"), 0o755)
	return dir
}

// TestWalkSameAsInProcess: an inventory taken in a walk worker (which runs the analyzers
// in analysis workers of its own) is the inventory taken in this process, facts and
// errors included, and the analyzer no worker knows runs here over the kept bytes. The
// kept bytes are readable until Close, which removes everything the walk wrote.
func TestWalkSameAsInProcess(t *testing.T) {
	dir := walkDelivery(t)
	lim := limits.Default()
	walker, err := NewWalker(Config{Size: 2, Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	pool := newPool(t, lim)
	scratch := t.TempDir()
	opts := inventory.Options{Limits: lim, Jobs: 2, Keep: true, Scratch: scratch,
		Analyzers: append(registry.All(), sizeAnalyzer{})}
	here, err := inventory.Take(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer here.Close()
	opts.Isolate = pool
	away, err := walker.Take(context.Background(), []string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range []*inventory.Inventory{here, away} {
		for i := range inv.Artifacts {
			inv.Artifacts[i].Facts = roundTrip(t, inv.Artifacts[i].Facts)
		}
	}
	hj, _ := json.MarshalIndent(struct{ T, A, E any }{here.Targets, here.Artifacts, here.Errors}, "", " ")
	aj, _ := json.MarshalIndent(struct{ T, A, E any }{away.Targets, away.Artifacts, away.Errors}, "", " ")
	if !bytes.Equal(hj, aj) {
		t.Errorf("the walk worker's inventory differs from this process's:\n%s\n---\n%.3000s", aj, hj)
	}
	facts := 0
	for i, a := range away.Artifacts {
		if _, ok := a.Facts["size"]; ok {
			facts++
		}
		if a.Path == "payload.tar.gz!bin/install.sh" {
			r, err := away.Stored[i].Open()
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 9)
			r.ReadAt(b, 0)
			r.Close()
			if string(b) != "#!/bin/sh" {
				t.Errorf("the kept bytes of %s read %q", a.Path, b)
			}
		}
	}
	if facts != 2 {
		t.Errorf("the analyzer of this process saw %d scripts, want 2", facts)
	}
	if here.Close(); true {
		away.Close()
	}
	if entries, _ := os.ReadDir(scratch); len(entries) != 0 {
		t.Errorf("the scratch directory holds %v after Close", entries)
	}
	if st, walks := walker.Stats(); walks.Started != 1 || walks.Stopped+walks.Died != 0 || st.Started == 0 {
		t.Errorf("stats: analysis %+v, walks %+v", st, walks)
	}
}

// roundTrip makes facts comparable: the same JSON whatever their Go types.
func roundTrip(t *testing.T, facts map[string]any) map[string]any {
	if facts == nil {
		return nil
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// TestWalkRehash: kensa hashes the delivery's own files again and holds the walk's
// digests to them; a digest the walk worker misreported is replaced and is an error.
func TestWalkRehash(t *testing.T) {
	dir := walkDelivery(t)
	lim := limits.Default()
	walker, err := NewWalker(Config{Size: 2, Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := walker.Take(context.Background(), []string{dir}, inventory.Options{Limits: lim, Keep: true, Scratch: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	if len(inv.Errors) != 0 {
		t.Fatalf("errors: %+v", inv.Errors)
	}
	var forged, member int
	for i, a := range inv.Artifacts {
		switch a.Path {
		case "setup.sh":
			forged = i
		case "payload.tar.gz!bin/install.sh":
			member = i
		}
	}
	honest := inv.Artifacts[forged].Digest
	inv.Artifacts[forged].Digest = "sha256:" + strings.Repeat("0", 64)
	memberDigest := inv.Artifacts[member].Digest
	rehash(inv, 2)
	if inv.Artifacts[forged].Digest != honest || len(inv.Errors) != 1 || inv.Errors[0].Path != "setup.sh" ||
		!strings.Contains(inv.Errors[0].Error, "the walk worker reported sha256:000") {
		t.Errorf("after rehash: %s, errors %+v", inv.Artifacts[forged].Digest, inv.Errors)
	}
	if inv.Artifacts[member].Digest != memberDigest {
		t.Errorf("a file inside an archive was hashed again: it has no bytes of its own on disk")
	}
}

// TestWalkStoppedAtWalkMemory: a zip of 200 MiB inside a tar.gz, held in memory for random
// access (spool-memory loosened), stops the walk worker at walk-memory: the target gets a
// limit error, this process goes on, and nothing is left in the scratch directory.
func TestWalkStoppedAtWalkMemory(t *testing.T) {
	c := fixture.Hostile["walk-bomb"]
	path := filepath.Join(t.TempDir(), c.File)
	if err := os.WriteFile(path, c.Make(), 0o644); err != nil {
		t.Fatal(err)
	}
	lim := limits.Default()
	lim.Ratio, lim.SpoolMemory, lim.WalkMemory = 5000, 1<<30, 96<<20
	walker, err := NewWalker(Config{Size: 2, Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	scratch := t.TempDir()
	inv, err := walker.Take(context.Background(), []string{path}, inventory.Options{Limits: lim, Scratch: scratch})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Errors) != 1 || inv.Errors[0].Path != path || inv.Errors[0].Kind != "limit" ||
		!strings.Contains(inv.Errors[0].Error, "exceeds the walk-memory limit of 96M") || len(inv.Artifacts) != 0 {
		t.Errorf("inventory: %+v", inv)
	}
	if _, walks := walker.Stats(); walks.Stopped != 1 {
		t.Errorf("walks: %+v", walks)
	}
	if entries, _ := os.ReadDir(scratch); len(entries) != 0 {
		t.Errorf("the scratch directory holds %v", entries)
	}
}

// pidAnalyzer says which process ran it; a walk worker can make it (RegisterAnalyzer).
type pidAnalyzer struct{}

type pidFacts struct{ PID int }

func (pidAnalyzer) Name() string                     { return "pid" }
func (pidAnalyzer) Schema() any                      { return (*pidFacts)(nil) }
func (pidAnalyzer) Wants(a *analyzers.Artifact) bool { return a.Format == "script" }
func (pidAnalyzer) Spec() (json.RawMessage, error)   { return json.RawMessage(`{}`), nil }
func (pidAnalyzer) Analyze(context.Context, *analyzers.Artifact) (any, error) {
	return &pidFacts{PID: os.Getpid()}, nil
}

func init() {
	RegisterAnalyzer("pid", func(json.RawMessage) (analyzers.Analyzer, error) { return pidAnalyzer{}, nil })
}

// TestWalkMadeAnalyzer: an analyzer a walk worker can make from its description (as the
// rules' pattern matcher) runs in the walk worker, beside the walk, and its facts reach
// kensa.
func TestWalkMadeAnalyzer(t *testing.T) {
	dir := walkDelivery(t)
	lim := limits.Default()
	walker, err := NewWalker(Config{Size: 2, Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := walker.Take(context.Background(), []string{dir}, inventory.Options{Limits: lim, Scratch: t.TempDir(), Analyzers: []analyzers.Analyzer{pidAnalyzer{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	seen := 0
	for _, a := range inv.Artifacts {
		if f, ok := a.Facts["pid"].(*pidFacts); ok {
			seen++
			if f.PID == os.Getpid() || f.PID == 0 {
				t.Errorf("%s: analysed by process %d, this is %d", a.Path, f.PID, os.Getpid())
			}
		}
	}
	if seen != 2 {
		t.Errorf("facts of %d scripts, want 2", seen)
	}
}

// The test binary's cataloger, as a walk worker runs it: it names the process that
// prepared it and the one that catalogs, and every kept file with the digest of the bytes
// it read there; it fails on a file named fail-catalog, and pads what it returns past
// three frames.
func init() {
	RegisterCataloger(func(context.Context) func(context.Context, *inventory.Inventory) ([]byte, error) {
		prepared := os.Getpid()
		return func(_ context.Context, inv *inventory.Inventory) ([]byte, error) {
			var b bytes.Buffer
			fmt.Fprintf(&b, "pid %d %d\n", prepared, os.Getpid())
			for i, a := range inv.Artifacts {
				if a.Type != "file" {
					continue
				}
				if path.Base(a.Path) == "fail-catalog" {
					return nil, errors.New("cataloging failed on " + a.Path)
				}
				d, err := digestOf(inv.Stored[i])
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(&b, "%s %s\n", a.Path, d)
			}
			b.Write(bytes.Repeat([]byte{'.'}, 3*catalogPiece))
			return b.Bytes(), nil
		}
	})
}

// TestWalkCatalog: with Options.Catalog the walk worker runs the registered cataloger,
// prepared before the walk and run after it over the bytes the walk kept, and its output
// reaches kensa whole, across frames; a cataloger's failure is the catalog's error, not
// the walk's; without Catalog nothing is cataloged.
func TestWalkCatalog(t *testing.T) {
	dir := walkDelivery(t)
	lim := limits.Default()
	walker, err := NewWalker(Config{Size: 2, Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	take := func(catalog bool) *inventory.Inventory {
		t.Helper()
		inv, err := walker.Take(context.Background(), []string{dir}, inventory.Options{Limits: lim, Scratch: t.TempDir(), Catalog: catalog})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inv.Close() })
		return inv
	}
	inv := take(true)
	if inv.Catalog == nil || inv.Catalog.Error != "" {
		t.Fatalf("catalog: %+v", inv.Catalog)
	}
	out := string(inv.Catalog.SyftJSON)
	if !strings.HasSuffix(out, strings.Repeat(".", 3*catalogPiece)) {
		t.Errorf("the catalog arrived with %d bytes, not whole", len(out))
	}
	var prepared, cataloged int
	if _, err := fmt.Sscanf(out, "pid %d %d\n", &prepared, &cataloged); err != nil || prepared != cataloged || cataloged == os.Getpid() {
		t.Errorf("cataloged by process %d, prepared by %d; this is %d (%v)", cataloged, prepared, os.Getpid(), err)
	}
	files := 0
	for _, a := range inv.Artifacts {
		if a.Type == "file" {
			files++
			if !strings.Contains(out, "\n"+a.Path+" "+a.Digest+"\n") {
				t.Errorf("the cataloger did not read %s as the walk did (%s):\n%.400s", a.Path, a.Digest, out)
			}
		}
	}
	if files < 4 {
		t.Errorf("%d files in the inventory", files)
	}
	if inv := take(false); inv.Catalog != nil {
		t.Errorf("cataloged without being asked: %+v", inv.Catalog)
	}
	os.WriteFile(filepath.Join(dir, "fail-catalog"), []byte("x"), 0o644)
	inv = take(true)
	if inv.Catalog == nil || inv.Catalog.Error != "cataloging failed on fail-catalog" || len(inv.Catalog.SyftJSON) != 0 || len(inv.Errors) != 0 {
		t.Errorf("a failed catalog: %+v, errors %v", inv.Catalog, inv.Errors)
	}
}

// FuzzFactsFrame: kensa reads the frames of facts a walk worker sends, which a hostile
// delivery may have shaped; a malformed frame is an error, never a panic, and a frame that
// decodes encodes back to the same facts.
func FuzzFactsFrame(f *testing.F) {
	f.Add(encodeFactsFrame(&walkFacts{ID: 7, Facts: map[string]json.RawMessage{"elf": json.RawMessage(`{"pie":true}`)}})[1:])
	f.Add(encodeFactsFrame(&walkFacts{ID: 1, Facts: map[string]json.RawMessage{}})[1:])
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 'e', 'l', 'f', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		wf, err := decodeFactsFrame(b)
		if err != nil {
			return
		}
		again, err := decodeFactsFrame(encodeFactsFrame(wf)[1:])
		if err != nil || again.ID != wf.ID || len(again.Facts) != len(wf.Facts) {
			t.Fatalf("a decoded frame does not survive encoding: %v", err)
		}
		for name, raw := range wf.Facts {
			if string(again.Facts[name]) != string(raw) {
				t.Fatalf("facts of %q changed", name)
			}
		}
	})
}

// countingWriter counts the writes that reach it.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

// TestFactsFramesGoOutTogether: the walk worker buffers files' facts frames and sends
// them in one write when flushed (or when the buffer fills), and they read back one by
// one.
func TestFactsFramesGoOutTogether(t *testing.T) {
	cw := &countingWriter{}
	out := bufio.NewWriterSize(cw, 64<<10)
	for i := range 100 {
		if err := bufferFrame(out, encodeFactsFrame(&walkFacts{ID: int64(i), Facts: map[string]json.RawMessage{"size": json.RawMessage(`{"n":1}`)}})); err != nil {
			t.Fatal(err)
		}
	}
	if cw.writes != 0 {
		t.Fatalf("%d writes before the flush", cw.writes)
	}
	if err := out.Flush(); err != nil || cw.writes != 1 {
		t.Fatalf("flush: %d writes, %v", cw.writes, err)
	}
	rd := bufio.NewReader(&cw.Buffer)
	for i := range 100 {
		var rep walkReply
		err := readWalkFrame(rd, &rep)
		if f := rep.Facts; err != nil || f == nil || f.ID != int64(i) || string(f.Facts["size"]) != `{"n":1}` {
			t.Fatalf("frame %d: %+v, %v", i, f, err)
		}
	}
}
