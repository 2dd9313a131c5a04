package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/internal/limits"
)

func init() { extra = append(extra, probe{}) }

// probe reports what a worker sees of a file: how it reaches the bytes, how many there
// are and their digest, and whether it could make its transfer area writable.
type probe struct{}

type probeFacts struct {
	Via, SHA256 string
	Length      int64
	Writable    string // the error of mprotect(PROT_WRITE) on the area
}

func (probe) Name() string                     { return "probe" }
func (probe) Schema() any                      { return (*probeFacts)(nil) }
func (probe) Wants(a *analyzers.Artifact) bool { return a.Format == "probe-test" }
func (probe) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(a.Content, 0, a.Size))
	if err != nil {
		return nil, err
	}
	f := &probeFacts{Via: fmt.Sprintf("%T", a.Content), SHA256: hex.EncodeToString(h.Sum(nil)), Length: n, Writable: "no area"}
	if mappedArea != nil {
		f.Writable = "made writable"
		if err := unix.Mprotect(mappedArea, unix.PROT_READ|unix.PROT_WRITE); err != nil {
			f.Writable = err.Error()
		}
	}
	return f, nil
}

// shortReader ends n bytes before the size the artifact declares.
type shortReader struct{ b []byte }

func (r shortReader) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(r.b).ReadAt(p, off)
}

// TestTransferArea: a file that fits a worker's transfer area reaches the worker through
// it, one that does not as a descriptor, and either way the worker reads exactly the
// file's bytes: a small file after a large one sees nothing of the large one, and
// content that ends before its declared size ends there in the worker too. The worker
// cannot make the area writable.
func TestTransferArea(t *testing.T) {
	lim := limits.Default()
	pool, err := New(Config{Size: 1, Limits: &lim}) // one worker: every file goes through the same area
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	big := bytes.Repeat([]byte("kensa-"), transferSize/6+1)[:transferSize]
	for _, c := range []struct {
		name   string
		b      []byte
		size   int64 // declared; len(b) unless the content ends early
		onDisk bool
		via    string
	}{
		{"area-full", big, transferSize, false, "*bytes.Reader"},
		{"area-small-after-full", []byte("small"), 5, false, "*bytes.Reader"},
		{"area-empty", nil, 0, false, "*bytes.Reader"},
		{"area-from-disk", big[:70_000], 70_000, true, "*bytes.Reader"},
		{"area-short", []byte("only sixty bytes"), 60, false, "*bytes.Reader"},
		{"descriptor-memory", append(big, 'x'), transferSize + 1, false, "*io.SectionReader"},
		{"descriptor-disk", append(big, 'y'), transferSize + 1, true, "*io.SectionReader"},
		{"area-after-descriptor", []byte("tiny"), 4, false, "*bytes.Reader"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := artifact(t, c.name, append([]byte{}, c.b...), c.onDisk, &lim)
			a.Format, a.Size = "probe-test", c.size
			if c.name == "area-short" {
				a.Content = shortReader{c.b}
			}
			outs := pool.Run(context.Background(), []analyzers.Analyzer{probe{}}, a)
			if len(outs) != 1 || outs[0].Err != nil {
				t.Fatalf("outcomes %+v", outs)
			}
			f := outs[0].Facts.(*probeFacts)
			sum := sha256.Sum256(c.b)
			if f.SHA256 != hex.EncodeToString(sum[:]) || f.Length != int64(len(c.b)) {
				t.Errorf("the worker read %d bytes with digest %s; the file has %d, %x", f.Length, f.SHA256, len(c.b), sum)
			}
			if f.Via != c.via {
				t.Errorf("the worker read the file through %s, want %s", f.Via, c.via)
			}
			if f.Writable != "permission denied" {
				t.Errorf("making the transfer area writable in the worker: %q, want permission denied", f.Writable)
			}
		})
	}
	if st := pool.Stats(); st.Started != 1 || st.Stopped+st.Died != 0 {
		t.Errorf("one worker should have served every file: %+v", st)
	}
}

// TestScannersRunInPlace: the pool takes the registry's parsers, and leaves scanners of
// bytes (the strings analyzer) to the process that holds the bytes.
func TestScannersRunInPlace(t *testing.T) {
	lim := limits.Default()
	pool := newPool(t, lim)
	var parsers, scanners []string
	for _, an := range registry.All() {
		if _, ok := an.(analyzers.Scanner); ok {
			scanners = append(scanners, an.Name())
			if pool.Handles(an) {
				t.Errorf("the pool would run the scanner %s in a worker", an.Name())
			}
		} else {
			parsers = append(parsers, an.Name())
			if !pool.Handles(an) {
				t.Errorf("the pool would leave the parser %s to the walk", an.Name())
			}
		}
	}
	if !slices.Contains(scanners, "strings") || !slices.Contains(parsers, "elf") || !slices.Contains(parsers, "script") {
		t.Errorf("scanners %v, parsers %v", scanners, parsers)
	}
}
