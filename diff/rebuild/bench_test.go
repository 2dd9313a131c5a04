package rebuild

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func benchPair(b *testing.B, d, r string) {
	db, err := os.ReadFile(d)
	if err != nil {
		b.Fatal(err)
	}
	rb, err := os.ReadFile(r)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(db) + len(rb)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := CompareBinary(bytes.NewReader(db), bytes.NewReader(rb), int64(len(db)), int64(len(rb))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompareBinaryC compares the injected C handler with its clean rebuild.
func BenchmarkCompareBinaryC(b *testing.B) {
	benchPair(b, buildC(b, vendorBuild("gcc", "-g", "-DINJECT")), buildC(b, buyerBuild("gcc", "-g")))
}

// BenchmarkCompareBinaryGo compares a changed Go program (about 2 MB) with its rebuild.
func BenchmarkCompareBinaryGo(b *testing.B) {
	changed := goBuild(b, "go-vendor-changed", "linux", "amd64", func(s string) string {
		return strings.Replace(s, `return 201, "201 Created"`, `if os.Getenv("HANDLER_KEY") == "7f3a" {
			os.Remove("/var/log/handler.log")
		}
		return 201, "201 Created"`, 1)
	})
	benchPair(b, changed, goBuild(b, "go-buyer-copy", "linux", "amd64", nil))
}
