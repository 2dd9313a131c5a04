package rebuild

import (
	"bytes"
	"os"
	"testing"
)

// FuzzCompareBinary compares two arbitrary files, seeded with the built ELF and PE
// fixtures (clean against injected) and the hostile inputs: it must never panic, and a
// file compared with itself must be identical.
func FuzzCompareBinary(f *testing.F) {
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	// A fuzzing worker runs no test and no TestMain cleanup: its fixtures go in the
	// fuzz target's own temporary directory.
	fixtureOnce.Do(func() { fixtureRoot = f.TempDir() })
	const mingw = "x86_64-w64-mingw32-gcc"
	f.Add(read(buildC(f, vendorBuild("gcc", "-DINJECT"))), read(buildC(f, buyerBuild("gcc"))))
	strip := func(b cBuild) cBuild { b.strip = true; return b }
	f.Add(read(buildC(f, strip(vendorBuild(mingw, "-DINJECT")))), read(buildC(f, strip(buyerBuild(mingw)))))
	f.Add(read(buildC(f, strip(vendorBuild("gcc")))), read(buildC(f, strip(buyerBuild("gcc")))))
	for name, data := range hostileInputs(f) {
		if len(data) < 32<<10 {
			f.Add(data, read(buildC(f, buyerBuild("gcc"))))
		} else {
			f.Log("seed left out for its size: ", name)
		}
	}
	f.Fuzz(func(t *testing.T, d, r []byte) {
		bd, err := CompareBinary(bytes.NewReader(d), bytes.NewReader(r), int64(len(d)), int64(len(r)))
		if err == nil && bd == nil {
			t.Fatal("no result and no error")
		}
		if bytes.Equal(d, r) && err == nil && bd.Verdict != Identical {
			t.Fatalf("a file against itself: %s", bd.Verdict)
		}
	})
}
