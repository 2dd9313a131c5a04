package sigstore

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"kensa.dev/kensa/internal/result"
)

// FuzzVerifyBundle drives every parser of the package (Sigstore bundle, cosign's old
// bundle, detached signature and certificate, .intoto.jsonl) with mutated real bundles:
// nothing may panic out of the API, and a pass always names the pinned signer.
func FuzzVerifyBundle(f *testing.F) {
	base := filepath.Join(testdata, "sigstore-conformance", "bundle-verify")
	dirs, err := os.ReadDir(base)
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range dirs {
		if data, err := os.ReadFile(filepath.Join(base, d.Name(), "bundle.sigstore.json")); err == nil {
			f.Add(data)
		}
	}
	if data, err := os.ReadFile(filepath.Join(testdata, "github-attestations", "MODULE.bazel.intoto.jsonl")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"base64Signature":"MEQCIA==","cert":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t","rekorBundle":{"SignedEntryTimestamp":"AA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"00"}}}`))
	artifact, err := os.ReadFile(filepath.Join(testdata, "sigstore-conformance", "a.txt"))
	if err != nil {
		f.Fatal(err)
	}
	sum := sha256.Sum256(artifact)
	digest := ArtifactRef{SHA256: hex.EncodeToString(sum[:])}
	trust, err := NewTrust(TrustOptions{Identities: []Identity{{SAN: conformanceIdentity, Issuer: conformanceIssuer}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(v *Verified, err error) {
			c := Check("a.txt", v, err)
			if c.Status == result.Pass && (v == nil || v.Identity == "") {
				t.Fatalf("pass without a pinned signer: %+v", v)
			}
		}
		check(VerifyBundle(data, digest, trust))
		check(VerifyLegacy(Legacy{Bundle: data}, digest, trust))
		check(VerifyLegacy(Legacy{Signature: data, Certificate: data}, digest, trust))
		if lines, err := SplitJSONL(data); err == nil {
			for _, l := range lines {
				check(VerifyBundle(l, digest, trust))
			}
		}
		IsLegacyBundle(data)
	})
}
