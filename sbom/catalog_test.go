package sbom

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"testing"

	"kensa.dev/kensa/analyzers/inventory"
)

// varying are the lines of an SBOM that name its making rather than the delivery: a
// random serial number or document namespace, and the time.
var varying = regexp.MustCompile(`(?m)^.*("serialNumber"|"timestamp"|"created"|"documentNamespace"|<timestamp>|serialNumber=|Created:|DocumentNamespace:).*$`)

// TestCatalogJSONSameSBOM catalogs each target in this process, and again as a walk
// worker does (CatalogJSON, then Generate reading inventory.Catalog): every output
// format must be the same but for its serial number and time.
func TestCatalogJSONSameSBOM(t *testing.T) {
	dir := fixture(t)
	for _, target := range []string{dir, "oci-dir:" + ociLayout(t, dir, "catalog-oci")} {
		here, err := Generate(context.Background(), take(t, target), Options{ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		inv := take(t, target)
		b, err := CatalogJSON(context.Background(), inv, Options{ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		inv.Catalog = &inventory.Catalog{SyftJSON: b}
		there, err := Generate(context.Background(), inv, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if here.Syft.Artifacts.Packages.PackageCount() == 0 {
			t.Fatalf("%s: no packages: the fixture is broken", target)
		}
		for _, f := range Formats {
			var want, got bytes.Buffer
			if err := Encode(&want, here, f); err != nil {
				t.Fatal(err)
			}
			if err := Encode(&got, there, f); err != nil {
				t.Fatal(err)
			}
			w, g := varying.ReplaceAll(want.Bytes(), nil), varying.ReplaceAll(got.Bytes(), nil)
			if !bytes.Equal(w, g) {
				t.Errorf("%s of %s differs when cataloged as a walk worker does:\n%s", f, target, firstDifference(w, g))
			}
		}
	}
	// A cataloging error made there is the error here.
	inv := take(t, dir)
	inv.Catalog = &inventory.Catalog{Error: "cataloging the delivery: boom"}
	if _, err := Generate(context.Background(), inv, Options{}); err == nil || err.Error() != "cataloging the delivery: boom" {
		t.Errorf("Generate with a failed catalog: %v", err)
	}
}

// firstDifference shows the first line where a and b differ.
func firstDifference(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("one is longer: %d and %d lines", len(al), len(bl))
}
