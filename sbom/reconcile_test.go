package sbom

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	cyclonedx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spdx/tools-golang/convert"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdx/v2/v2_2"
	"github.com/spdx/tools-golang/tagvalue"

	"kensa.dev/kensa/internal/result"
)

// vendorComponents is what a vendor declares for the fixture, with four lies: lodash is
// left out, requests is declared as 2.28.0, openssl is declared but not shipped, and
// casemgr-report is declared with another file's digest.
func vendorComponents(t *testing.T, s *SBOM) (comps []Component, files []Component) {
	t.Helper()
	for _, c := range s.Components() {
		switch c.Name {
		case "lodash":
			continue
		case "debian":
			c.CPEs = []string{"cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*"}
		case "requests":
			c.Version = "2.28.0"
			c.PURL = "pkg:pypi/requests@2.28.0"
		}
		comps = append(comps, c)
	}
	comps = append(comps, Component{Name: "openssl", Version: "3.0.2", Type: "library", PURL: "pkg:deb/debian/openssl@3.0.2"})
	files = []Component{
		{Name: "/usr/local/bin/casemgr-report", Hashes: map[string]string{"sha256": strings.Repeat("ab", 32)}},
		{Name: "usr/bin/casemgr-probe", Hashes: map[string]string{"sha256": digestOf(t, s, "usr/bin/casemgr-probe")}},
	}
	return comps, files
}

func digestOf(t *testing.T, s *SBOM, p string) string {
	for _, e := range s.Executables {
		if e.Path == p {
			return strings.TrimPrefix(e.Digest, "sha256:")
		}
	}
	t.Fatalf("no executable %s", p)
	return ""
}

func cycloneDX(comps, files []Component) *cyclonedx.BOM {
	bom := cyclonedx.NewBOM()
	bom.Metadata = &cyclonedx.Metadata{
		Timestamp: "2026-11-01T09:00:00Z",
		Authors:   &[]cyclonedx.OrganizationalContact{{Name: "Hoshizora Systems release team"}},
		Component: &cyclonedx.Component{Type: cyclonedx.ComponentTypeApplication, Name: "casemgr", Version: "3.2.0", BOMRef: "root"},
	}
	var cs []cyclonedx.Component
	var refs []string
	for i, c := range append(slices.Clone(comps), files...) {
		typ := cyclonedx.ComponentTypeLibrary
		if c.Type == "operating-system" {
			typ = cyclonedx.ComponentTypeOS
		}
		cc := cyclonedx.Component{BOMRef: fmt.Sprintf("c%d", i), Type: typ, Name: c.Name, Version: c.Version, PackageURL: c.PURL,
			Supplier: &cyclonedx.OrganizationalEntity{Name: "upstream"}}
		if len(c.CPEs) > 0 {
			cc.CPE = c.CPEs[0]
		}
		if len(c.Hashes) > 0 {
			cc.Type = cyclonedx.ComponentTypeFile
			cc.Hashes = &[]cyclonedx.Hash{{Algorithm: cyclonedx.HashAlgoSHA256, Value: c.Hashes["sha256"]}}
		}
		cs = append(cs, cc)
		refs = append(refs, cc.BOMRef)
	}
	bom.Components = &cs
	bom.Dependencies = &[]cyclonedx.Dependency{{Ref: "root", Dependencies: &refs}}
	return bom
}

func spdxDoc(comps, files []Component) *spdx.Document {
	doc := &spdx.Document{
		SPDXVersion: spdx.Version, DataLicense: spdx.DataLicense, SPDXIdentifier: "DOCUMENT",
		DocumentName: "casemgr-3.2.0", DocumentNamespace: "https://hoshizora.example/spdx/casemgr-3.2.0",
		CreationInfo: &spdx.CreationInfo{Created: "2026-11-01T09:00:00Z",
			Creators: []common.Creator{{CreatorType: "Organization", Creator: "Hoshizora Systems"}, {CreatorType: "Tool", Creator: "build-1.0"}}},
	}
	root := &spdx.Package{PackageName: "casemgr", PackageSPDXIdentifier: "root", PackageVersion: "3.2.0",
		PackageDownloadLocation: "https://hoshizora.example/casemgr", PackageSupplier: &common.Supplier{Supplier: "Hoshizora Systems", SupplierType: "Organization"},
		PackageLicenseConcluded: "Apache-2.0", PackageLicenseDeclared: "Apache-2.0", PackageCopyrightText: "Hoshizora"}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", "root"), Relationship: "DESCRIBES"})
	for i, c := range comps {
		id := common.ElementID(fmt.Sprintf("p%d", i))
		p := &spdx.Package{PackageName: c.Name, PackageSPDXIdentifier: id, PackageVersion: c.Version,
			PackageDownloadLocation: "https://example.org", PackageSupplier: &common.Supplier{Supplier: "upstream", SupplierType: "Organization"},
			PackageLicenseConcluded: "MIT", PackageLicenseDeclared: "MIT", PackageCopyrightText: "NOASSERTION"}
		if c.PURL != "" {
			p.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: c.PURL}}
		}
		for _, cpe := range c.CPEs {
			p.PackageExternalReferences = append(p.PackageExternalReferences, &spdx.PackageExternalReference{Category: "SECURITY", RefType: "cpe23Type", Locator: cpe})
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{RefA: common.MakeDocElementID("", "root"), RefB: common.MakeDocElementID("", string(id)), Relationship: "DEPENDS_ON"})
	}
	for i, f := range files {
		doc.Files = append(doc.Files, &spdx.File{FileName: f.Name, FileSPDXIdentifier: common.ElementID(fmt.Sprintf("f%d", i)),
			Checksums:        []common.Checksum{{Algorithm: common.SHA256, Value: f.Hashes["sha256"]}, {Algorithm: common.SHA1, Value: strings.Repeat("0", 40)}},
			LicenseConcluded: "NOASSERTION", FileCopyrightText: "NOASSERTION"})
	}
	return doc
}

// TestReconcile gives a vendor SBOM with four lies in every format kensa reads, and
// expects each lie reported exactly once, and nothing else reported but the executable
// no package or declaration accounts for.
func TestReconcile(t *testing.T) {
	inv := take(t, fixture(t))
	s, err := Generate(context.Background(), inv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	comps, files := vendorComponents(t, s)
	docs := map[string]func() []byte{}
	for _, v := range []cyclonedx.SpecVersion{cyclonedx.SpecVersion1_4, cyclonedx.SpecVersion1_5, cyclonedx.SpecVersion1_6} {
		for _, f := range []cyclonedx.BOMFileFormat{cyclonedx.BOMFileFormatJSON, cyclonedx.BOMFileFormatXML} {
			name := fmt.Sprintf("CycloneDX %s %d", v, f)
			docs[name] = func() []byte {
				var buf bytes.Buffer
				if err := cyclonedx.NewBOMEncoder(&buf, f).EncodeVersion(cycloneDX(comps, files), v); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			}
		}
	}
	docs["SPDX-2.3 JSON"] = func() []byte {
		var buf bytes.Buffer
		if err := spdxjson.Write(spdxDoc(comps, files), &buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	docs["SPDX-2.3 tag-value"] = func() []byte {
		var buf bytes.Buffer
		if err := tagvalue.Write(spdxDoc(comps, files), &buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	docs["SPDX-2.2 JSON"] = func() []byte {
		var old v2_2.Document
		if err := convert.Document(spdxDoc(comps, files), &old); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := spdxjson.Write(&old, &buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf.Bytes(), []byte(`"SPDX-2.2"`)) {
			t.Fatal("not SPDX 2.2")
		}
		return buf.Bytes()
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			d, err := ReadDeclared(bytes.NewReader(doc()), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, f := range Reconcile(s, inv, d) {
				got[f.Rule] = append(got[f.Rule], f.Path+": "+f.Message)
			}
			want := map[string]string{
				"sbom/undeclared-component":   "lodash 4.17.21",
				"sbom/version-mismatch":       "requests is version 2.31.0 in the delivery; the vendor's SBOM declares 2.28.0",
				"sbom/absent-component":       "openssl 3.0.2",
				"sbom/hash-mismatch":          "usr/local/bin/casemgr-report has sha256",
				"sbom/unaccounted-executable": "opt/casemgr/bin/helper.sh",
			}
			for rule, text := range want {
				if len(got[rule]) != 1 || !strings.Contains(got[rule][0], text) {
					t.Errorf("%s: got %q, want one finding mentioning %q", rule, got[rule], text)
				}
				delete(got, rule)
			}
			for rule, fs := range got {
				t.Errorf("unexpected %s: %q", rule, fs)
			}
		})
	}
}

// TestQuality expects the NTIA gaps of a bare vendor SBOM.
func TestQuality(t *testing.T) {
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
{"type":"library","name":"a","version":"1.0"},{"type":"library","name":"b","purl":"pkg:npm/b@2"}]}`
	d, err := ReadDeclared(strings.NewReader(doc), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range Quality(d) {
		rules = append(rules, f.Rule)
		if f.Severity != result.Low {
			t.Errorf("%s is %s", f.Rule, f.Severity)
		}
	}
	want := []string{"sbom/vendor-no-timestamp", "sbom/vendor-no-author", "sbom/vendor-no-dependencies",
		"sbom/vendor-missing-supplier", "sbom/vendor-missing-version", "sbom/vendor-missing-identifier"}
	if !slices.Equal(rules, want) {
		t.Errorf("got %v, want %v", rules, want)
	}

	tv := "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nDocumentNamespace: https://x.example/x\nCreator: Tool: x\nCreated: 2026-01-01T00:00:00Z\n\n" +
		"PackageName: a\nSPDXID: SPDXRef-a\nPackageVersion: 1\nPackageSupplier: NOASSERTION\nPackageDownloadLocation: NOASSERTION\nFilesAnalyzed: false\nPackageLicenseConcluded: NOASSERTION\nPackageLicenseDeclared: NOASSERTION\nPackageCopyrightText: NOASSERTION\n"
	d, err = ReadDeclared(strings.NewReader(tv), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	rules = nil
	for _, f := range Quality(d) {
		rules = append(rules, f.Rule)
	}
	want = []string{"sbom/vendor-no-author", "sbom/vendor-missing-supplier", "sbom/vendor-missing-identifier", "sbom/vendor-noassertion"}
	if !slices.Equal(rules, want) {
		t.Errorf("SPDX: got %v, want %v", rules, want)
	}
}

func TestJ4J5ReadDeclaredRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not an sbom": `{"hello":"world"}`,
		"truncated":   `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":`,
		"too large":   `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}` + strings.Repeat(" ", 2000),
		"empty":       ``,
	} {
		if _, err := ReadDeclared(strings.NewReader(doc), 1000); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
