package code

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzAnalyze feeds the analyzer the fixtures and truncated and corrupted variants of
// them. Whatever the input, Analyze must not panic, every list must stay within its
// cap, the facts must encode as JSON, and two runs must give the same facts.
func FuzzAnalyze(f *testing.F) {
	dir := fixtures(f)
	for _, name := range []string{"sshd-pie", "sshd-nopie", "sshd-noplt", "libgotself.so", "libgotpatch.so", "liblinkmap.so"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(b[:100])
		c := append([]byte(nil), b...)
		// Section headers past the end, and a huge e_shnum.
		binary.LittleEndian.PutUint64(c[40:], 0x7fffffffffff)
		c[60], c[61] = 0xff, 0xff
		f.Add(c)
		d := append([]byte(nil), b...)
		for i := 0x200; i < len(d); i += 89 {
			d[i] ^= 0x5a
		}
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		a, errA := analyzeBytes(t, in)
		b, errB := analyzeBytes(t, in)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Fatalf("two runs differ: %v / %v", errA, errB)
		}
		if a == nil {
			return
		}
		if len(a.LiteralComparisons) > maxLiterals || len(a.GOTWrites) > maxGOTWrites || len(a.LoadedObjectEvidence) > maxEvidence {
			t.Fatalf("a list passed its cap: %d %d %d", len(a.LiteralComparisons), len(a.GOTWrites), len(a.LoadedObjectEvidence))
		}
		if a.LiteralComparisonCount < len(a.LiteralComparisons) || a.GOTWriteCount < len(a.GOTWrites) {
			t.Fatalf("counts below the lists")
		}
		for _, c := range a.LiteralComparisons {
			if len(c.Literal) > 2*maxLiteralBytes+8 {
				t.Fatalf("literal of %d bytes", len(c.Literal))
			}
		}
		if _, err := json.Marshal(a); err != nil {
			t.Fatal(err)
		}
	})
}
