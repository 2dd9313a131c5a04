package cli

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/diff"
	"kensa.dev/kensa/internal/result"
)

// TestKeepProfilesSameAtAnyParallelism draws the profiles of 500 artifacts on several
// cores and compares each with the one drawn alone.
func TestKeepProfilesSameAtAnyParallelism(t *testing.T) {
	inv := &inventory.Inventory{}
	for i := range 500 {
		a := result.Artifact{Path: fmt.Sprintf("usr/bin/tool%d", i), Format: "elf"}
		if i%7 == 0 {
			a.Format = "data" // not profiled
		}
		a.Facts = map[string]any{"elf": map[string]any{"needed": []string{"libc.so.6", fmt.Sprintf("libtool%d.so", i)}}}
		inv.Artifacts = append(inv.Artifacts, a)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	keepProfiles(inv)
	drawn := 0
	for _, a := range inv.Artifacts {
		want := diff.ProfileOf(a)
		if a.Format == "data" {
			want = nil
		}
		if !reflect.DeepEqual(a.Profile, want) {
			t.Fatalf("%s: profile %+v, drawn alone %+v", a.Path, a.Profile, want)
		}
		if a.Profile != nil {
			drawn++
		}
	}
	if drawn != 500-72 {
		t.Errorf("%d profiles drawn, want %d", drawn, 500-72)
	}
}
