package sbom

import (
	"bytes"
	"testing"
)

// FuzzReadDeclared feeds hostile vendor SBOMs to the reader and the quality checks: any
// input ends in a document or an error, never a panic or a hang.
func FuzzReadDeclared(f *testing.F) {
	for _, seed := range []string{
		`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"timestamp":"2026-01-01T00:00:00Z"},"components":[{"type":"library","name":"a","version":"1","purl":"pkg:npm/a@1","components":[{"type":"file","name":"x","hashes":[{"alg":"SHA-256","content":"00"}]}]}],"dependencies":[{"ref":"a","dependsOn":["b"]}]}`,
		`<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components><component type="library"><name>a</name><version>1</version></component></components></bom>`,
		`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Organization: x"]},"packages":[{"name":"a","SPDXID":"SPDXRef-a","versionInfo":"1","downloadLocation":"NOASSERTION","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/a@1"}]}],"relationships":[{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-a"}]}`,
		"SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: x\nCreator: Tool: x\nCreated: 2026-01-01T00:00:00Z\nPackageName: a\nSPDXID: SPDXRef-a\nPackageVersion: 1\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ReadDeclared(bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		_ = Quality(d)
		_ = Diff(d.Components, d.Components)
	})
}
