package entropy

import (
	"bytes"
	"crypto/rand"
	"testing"
)

func TestEntropy(t *testing.T) {
	if got := Of(nil); got != 0 {
		t.Errorf("empty: %v", got)
	}
	if got := Of(bytes.Repeat([]byte{'a'}, 1000)); got != 0 {
		t.Errorf("one symbol: %v", got)
	}
	if got := Of([]byte("abababab")); got != 1 {
		t.Errorf("two symbols: %v", got)
	}
	all := make([]byte, 256*16)
	for i := range all {
		all[i] = byte(i)
	}
	if got := Of(all); got != 8 {
		t.Errorf("uniform: %v", got)
	}
	random := make([]byte, 1<<20)
	rand.Read(random)
	if got := Of(random); got < 7.99 {
		t.Errorf("random: %v", got)
	}
}

func TestRegions(t *testing.T) {
	b := append(bytes.Repeat([]byte{0}, 4096), make([]byte, 4096)...)
	rand.Read(b[4096:])
	rs, err := Regions(bytes.NewReader(b), int64(len(b)), 4096, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Entropy != 0 || rs[1].Entropy < 7.9 || rs[1].Offset != 4096 {
		t.Fatalf("regions: %+v", rs)
	}
	// More windows than allowed: the window grows.
	rs, _ = Regions(bytes.NewReader(b), int64(len(b)), 16, 4)
	if len(rs) != 4 || rs[3].Offset+rs[3].Size != int64(len(b)) {
		t.Fatalf("capped regions: %+v", rs)
	}
	// A size larger than the reader stops at its end.
	if _, err := Section(bytes.NewReader(b), 0, 1<<30); err != nil {
		t.Fatal(err)
	}
}

func TestAdd(t *testing.T) {
	var a, b, whole Counter
	a.Write([]byte("aaaa"))
	b.Write([]byte("bbbb"))
	whole.Write([]byte("aaaabbbb"))
	a.Add(&b)
	if a.Len() != 8 || a.Entropy() != whole.Entropy() || a.Entropy() != 1 {
		t.Fatalf("%d bytes, entropy %v", a.Len(), a.Entropy())
	}
}

// TestWriteCountsEveryByte compares the counts of writes of every length around the
// eight-byte steps and the short-write cut with a byte-by-byte count.
func TestWriteCountsEveryByte(t *testing.T) {
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(i * i >> 3)
	}
	for _, n := range []int{0, 1, 7, 8, 511, 512, 513, 519, 520, 4096, 4999, 5000} {
		var c Counter
		c.Write(data[:n])
		c.Write(data[n:])
		var want [256]uint64
		for _, b := range data {
			want[b]++
		}
		if c.counts != want || c.n != uint64(len(data)) {
			t.Fatalf("split at %d: counts differ from a byte-by-byte count", n)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	data := make([]byte, 1<<20)
	for i := range data[:len(data)/2] {
		data[i] = byte(i * 7 >> 5) // a half of code-like bytes, a half of zeros
	}
	b.SetBytes(int64(len(data)))
	var c Counter
	for b.Loop() {
		c.Write(data)
	}
}

// Section reads in chunks: a section longer than a chunk, at an offset, and one that runs
// past the end of the reader must count exactly their bytes.
func TestSectionCountsExactlyItsBytes(t *testing.T) {
	b := make([]byte, 700<<10)
	for i := range b {
		b[i] = byte(i * i >> 7)
	}
	r := bytes.NewReader(b)
	for _, c := range []struct{ off, n, end int64 }{
		{0, int64(len(b)), int64(len(b))},
		{12345, 600 << 10, 12345 + 600<<10},
		{300 << 10, 1 << 30, int64(len(b))},
		{int64(len(b)), 10, int64(len(b))},
	} {
		got, err := Section(r, c.off, c.n)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if want := Of(b[c.off:c.end]); got != want {
			t.Errorf("%+v: entropy %v, want %v", c, got, want)
		}
	}
}
