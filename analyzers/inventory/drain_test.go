package inventory

import (
	"errors"
	"io"
	"testing"
)

// pieceReader yields n bytes and records the size of every buffer it is asked to fill.
type pieceReader struct {
	n      int
	asked  []int
	failAt int // fail once this many bytes were read (0: never)
}

func (r *pieceReader) Read(p []byte) (int, error) {
	r.asked = append(r.asked, len(p))
	if r.failAt > 0 && r.n <= r.failAt {
		return 0, errors.New("disk gone")
	}
	if r.n == 0 {
		return 0, io.EOF
	}
	m := min(len(p), r.n)
	r.n -= m
	return m, nil
}

// TestDrainReadsInLargePieces: drain reads every byte, asking for 256 KiB at a time (the
// size in which a stream's digests and kept copy are then written), and reports a read
// error with the count so far.
func TestDrainReadsInLargePieces(t *testing.T) {
	r := &pieceReader{n: 3<<20 + 5}
	n, err := drain(r)
	if err != nil || n != 3<<20+5 {
		t.Fatalf("drain: %d bytes, %v", n, err)
	}
	for _, a := range r.asked {
		if a != 256<<10 {
			t.Fatalf("asked for %d bytes at a time, want %d", a, 256<<10)
		}
	}
	r = &pieceReader{n: 1 << 20, failAt: 512 << 10}
	if n, err := drain(r); err == nil || n != 512<<10 {
		t.Errorf("failing reader: %d bytes, %v", n, err)
	}
}
