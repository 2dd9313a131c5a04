package sbom

import (
	"context"
	"os"
	"testing"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
)

// take inventories a target keeping its bytes, as Generate needs.
func take(t testing.TB, target string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Take(context.Background(), []string{target}, inventory.Options{Limits: limits.Default(), Keep: true, Analyzers: Analyzers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inv.Close() })
	return inv
}

func BenchmarkGenerateExample(b *testing.B) {
	dir := "../build/example"
	if _, err := os.Stat(dir); err != nil {
		b.Skip("run make fixtures first")
	}
	for b.Loop() {
		inv := take(b, dir)
		if _, err := Generate(context.Background(), inv, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
