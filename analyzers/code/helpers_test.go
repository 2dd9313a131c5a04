package code

import (
	"context"
	"io"
	"os"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

// analyzeBytes runs the analyzer on b as the inventory would.
func analyzeBytes(t testing.TB, b []byte) (*Facts, error) {
	t.Helper()
	a := &analyzers.Artifact{Path: "x", Format: sniff.Detect(b[:min(len(b), 512)], "x", int64(len(b))).Format, Size: int64(len(b)), Content: bytesReader(b)}
	if !New().Wants(a) {
		return nil, nil
	}
	f, err := New().Analyze(context.Background(), a)
	if f == nil {
		return nil, err
	}
	return f.(*Facts), err
}

// analyzeFile runs the analyzer on the file at path.
func analyzeFile(t testing.TB, path string) (*Facts, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return analyzeBytes(t, b)
}

type bytesReader []byte

func (b bytesReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, os.ErrInvalid
	}
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
