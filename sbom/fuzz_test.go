package sbom

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzReadDeclared feeds hostile vendor SBOMs to the reader and the quality checks, in
// every form the reader takes: CycloneDX JSON and XML, SPDX JSON and tag-value (SPDX
// XML and RDF are not read). Any input ends in a document or an error, never a panic or
// a hang; reading and judging are deterministic (the same document, findings and
// error twice); and the diff of a document's components against themselves is empty,
// against nothing only removals, and from nothing only additions.
func FuzzReadDeclared(f *testing.F) {
	for _, seed := range []string{
		`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"timestamp":"2026-01-01T00:00:00Z"},"components":[{"type":"library","name":"a","version":"1","purl":"pkg:npm/a@1","components":[{"type":"file","name":"x","hashes":[{"alg":"SHA-256","content":"00"}]}]}],"dependencies":[{"ref":"a","dependsOn":["b"]}]}`,
		`<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="library"><name>a</name><version>1</version></component></components></bom>`,
		`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Organization: x"]},"packages":[{"name":"a","SPDXID":"SPDXRef-a","versionInfo":"1","downloadLocation":"NOASSERTION","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/a@1"}]}],"relationships":[{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-a"}]}`,
		"SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nCreator: Tool: x\nCreated: 2026-01-01T00:00:00Z\nPackageName: a\nSPDXID: SPDXRef-a\nPackageVersion: 1\n",
		// Versions on both sides of one purl, nested components, authors, suppliers.
		`{"bomFormat":"CycloneDX","specVersion":"1.4","metadata":{"authors":[{"name":"Acme"}],"component":{"type":"application","name":"app","bom-ref":"app"}},"components":[{"type":"library","name":"b","version":"2","purl":"pkg:golang/example.com/b@v2","supplier":{"name":"B Inc"},"cpe":"cpe:2.3:a:b:b:2:*:*:*:*:*:*:*"},{"type":"library","name":"b","version":"1","purl":"pkg:golang/example.com/b@v1"}]}`,
		"\xef\xbb\xbf" + `<bom xmlns="http://cyclonedx.org/schema/bom/1.2" version="1"><metadata><timestamp>2026-01-01T00:00:00Z</timestamp></metadata><components><component type="library" bom-ref="x"><name>x</name><version>1</version><hashes><hash alg="SHA-512">ab</hash></hashes><components><component type="file"><name>f</name></component></components></component></components><dependencies><dependency ref="x"><dependency ref="y"/></dependency></dependencies></bom>`,
		"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: y\nCreator: Person: Jane\nCreated: 2026-01-01T00:00:00Z\n\nPackageName: p\nSPDXID: SPDXRef-p\nPackageVersion: NOASSERTION\nPackageSupplier: Organization: P\nPackageDownloadLocation: NOASSERTION\nExternalRef: PACKAGE-MANAGER purl pkg:deb/debian/p@1\n\nFileName: ./bin/p\nSPDXID: SPDXRef-f\nFileChecksum: SHA256: 00\n\nRelationship: SPDXRef-p DEPENDS_ON SPDXRef-q\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ReadDeclared(bytes.NewReader(b), 1<<20)
		d2, err2 := ReadDeclared(bytes.NewReader(b), 1<<20)
		if !reflect.DeepEqual(d, d2) || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("two reads differ: %v and %v", err, err2)
		}
		if err != nil {
			return
		}
		if q := Quality(d); !reflect.DeepEqual(q, Quality(d)) {
			t.Fatalf("two quality judgements differ")
		}
		if c := Diff(d.Components, d.Components); len(c) != 0 {
			t.Fatalf("the components differ from themselves: %+v", c)
		}
		for _, c := range Diff(d.Components, nil) {
			if c.Kind != Removed {
				t.Fatalf("against nothing: %+v", c)
			}
		}
		for _, c := range Diff(nil, d.Components) {
			if c.Kind != Added {
				t.Fatalf("from nothing: %+v", c)
			}
		}
	})
}
