package sbom

import (
	"context"
	"slices"
	"testing"
)

func kensaPackages(t *testing.T, target string) []pkgKey {
	t.Helper()
	s, err := Generate(context.Background(), take(t, target), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []pkgKey
	for _, p := range s.Syft.Artifacts.Packages.Sorted() {
		keys = append(keys, pkgKey{p.Name, p.Version, string(p.Type), p.PURL})
	}
	slices.SortFunc(keys, cmpKey)
	return slices.Compact(keys)
}

// TestParityWithSyftCLI catalogs the same directory and the same OCI image with kensa
// and with the syft CLI pinned in go.mod: the sets of (name, version, type, purl) must
// be identical.
func TestParityWithSyftCLI(t *testing.T) {
	dir := fixture(t)
	oci := ociLayout(t, dir, "parity-oci")
	for _, tc := range []struct{ name, kensa, syft string }{
		{"directory", dir, "dir:" + dir},
		{"oci-layout", "oci-dir:" + oci, "oci-dir:" + oci},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := syftPackages(t, tc.syft)
			got := kensaPackages(t, tc.kensa)
			if len(want) == 0 {
				t.Fatal("syft found nothing: the fixture is broken")
			}
			for _, k := range want {
				if _, ok := slices.BinarySearchFunc(got, k, cmpKey); !ok {
					t.Errorf("syft found %+v, kensa did not", k)
				}
			}
			for _, k := range got {
				if _, ok := slices.BinarySearchFunc(want, k, cmpKey); !ok {
					t.Errorf("kensa found %+v, syft did not", k)
				}
			}
			t.Logf("%d packages in both", len(want))
		})
	}
}
