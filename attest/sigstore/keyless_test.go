package sigstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"kensa.dev/kensa/internal/result"
)

// virtualTrust is a Trust whose root is sigstore-go's virtual Sigstore.
func virtualTrust(t *testing.T, vs *ca.VirtualSigstore, ids ...Identity) *Trust {
	t.Helper()
	trust, err := NewTrust(TrustOptions{Identities: ids})
	if err != nil {
		t.Fatal(err)
	}
	trust.material, trust.rootName, trust.noSCT = vs, "the virtual Sigstore", true
	return trust
}

// TestKeyless signs with sigstore-go's virtual Sigstore (Fulcio certificate with SCT,
// Rekor entry with signed entry timestamp, RFC 3161 timestamp) and checks the policy:
// only the pinned identity and issuer pass.
func TestKeyless(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		san    = "https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1.0.0"
		issuer = "https://token.actions.githubusercontent.com"
	)
	artifact := []byte("release tarball bytes")
	entity, err := vs.Sign(san, issuer, artifact)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(artifact)
	statement := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app.tar.gz","digest":{"sha256":"%s"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"x"}}}`, hex.EncodeToString(sum[:]))
	attestation, err := vs.Attest(san, issuer, []byte(statement))
	if err != nil {
		t.Fatal(err)
	}
	notJSON, err := vs.Attest(san, issuer, []byte("not a statement"))
	if err != nil {
		t.Fatal(err)
	}
	digest := ArtifactRef{SHA256: hex.EncodeToString(sum[:])}
	other := sha256.Sum256([]byte("other"))

	for _, tc := range []struct {
		name   string
		ids    []Identity
		entity any
		art    ArtifactRef
		want   string
		detail string
	}{
		{"right identity", []Identity{{SAN: san, Issuer: issuer}}, entity, ArtifactRef{Reader: bytes.NewReader(artifact)}, result.Pass, san},
		{"right identity by regexp", []Identity{{SANRegexp: `^https://github\.com/example/app/`, IssuerRegexp: `^https://token\.actions\.githubusercontent\.com$`}}, entity, digest, result.Pass, "release.yml"},
		{"second of two identities", []Identity{{SAN: "someone@example.com", Issuer: issuer}, {SAN: san, Issuer: issuer}}, entity, digest, result.Pass, san},
		{"B2 wrong identity", []Identity{{SAN: "https://github.com/example/app/.github/workflows/other.yml@refs/tags/v1.0.0", Issuer: issuer}}, entity, digest, result.Fail, "not a trusted identity"},
		{"B2 wrong issuer", []Identity{{SAN: san, Issuer: "https://accounts.google.com"}}, entity, digest, result.Fail, "not a trusted identity"},
		{"regexp not anchored to the signer", []Identity{{SANRegexp: `^https://github\.com/example/other/`, Issuer: issuer}}, entity, digest, result.Fail, "not a trusted identity"},
		{"B2 no identity", nil, entity, digest, result.Fail, "a policy must name whom it trusts"},
		{"payload swapped", []Identity{{SAN: san, Issuer: issuer}}, entity, ArtifactRef{SHA256: hex.EncodeToString(other[:])}, result.Fail, "does not verify"},
		{"DSSE statement", []Identity{{SAN: san, Issuer: issuer}}, attestation, digest, result.Pass, "https://slsa.dev/provenance/v1"},
		{"DSSE statement, wrong identity", []Identity{{SAN: "x@example.com", Issuer: issuer}}, attestation, digest, result.Fail, "not a trusted identity"},
		{"DSSE statement of another artifact", []Identity{{SAN: san, Issuer: issuer}}, attestation, ArtifactRef{SHA256: hex.EncodeToString(other[:])}, result.Fail, "does not verify"},
		// S10: a validly signed payload that is not an in-toto statement.
		{"S10 DSSE payload not JSON", []Identity{{SAN: san, Issuer: issuer}}, notJSON, digest, result.Fail, "does not verify"},
		{"bad digest", []Identity{{SAN: san, Issuer: issuer}}, entity, ArtifactRef{SHA256: "xyz"}, result.Erred, "not a hex SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trust := virtualTrust(t, vs, tc.ids...)
			e := tc.entity.(*ca.TestEntity)
			v, err := verifyEntity(e, tc.art, trust)
			c := Check("app.tar.gz", v, err)
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Fatalf("check %s %q, want %s with %q", c.Status, c.Detail, tc.want, tc.detail)
			}
			if c.Status == result.Pass {
				if !v.Keyless || v.SAN != san || v.Issuer != issuer || v.Identity == "" || len(v.Timestamps) < 2 || v.TlogEntries != 1 {
					t.Errorf("verified = %+v", v)
				}
			}
			if tc.name == "DSSE statement" {
				st := v.Statement
				if st == nil || st.Subjects[0].Name != "app.tar.gz" || st.PredicateType != "https://slsa.dev/provenance/v1" || string(st.Raw) != statement {
					t.Errorf("statement = %+v", st)
				}
			}
		})
	}
}

// logged is what a virtual-Sigstore entity carries into a bundle: its certificate, its
// signature, its Rekor entry with a signed entry timestamp, its RFC 3161 timestamps.
func logged(t *testing.T, vs *ca.VirtualSigstore, e *ca.TestEntity) (verify.VerificationContent, verify.SignatureContent, *protorekor.TransparencyLogEntry, []byte, [][]byte) {
	t.Helper()
	vc, err := e.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := e.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := e.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	stamps, err := e.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	tle := entries[0].TransparencyLogEntry()
	set, err := vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil {
		t.Fatal(err)
	}
	return vc, sc, tle, set, stamps
}

// bundleJSON writes a virtual-Sigstore message signature as a v0.1 bundle (certificate,
// Rekor entry with a signed entry timestamp, RFC 3161 timestamp), the JSON that
// VerifyBundle reads.
func bundleJSON(t *testing.T, vs *ca.VirtualSigstore, e *ca.TestEntity) []byte {
	t.Helper()
	vc, sc, tle, set, stamps := logged(t, vs, e)
	ms := sc.MessageSignatureContent()
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
				Certificates: []*protocommon.X509Certificate{{RawBytes: vc.Certificate().Raw}},
			}},
			TlogEntries: []*protorekor.TransparencyLogEntry{{
				LogIndex:          tle.LogIndex,
				LogId:             tle.LogId,
				KindVersion:       &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.1"},
				IntegratedTime:    tle.IntegratedTime,
				InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
				CanonicalizedBody: tle.CanonicalizedBody,
			}},
			TimestampVerificationData: &protobundle.TimestampVerificationData{
				Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: stamps[0]}},
			},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: ms.Digest()},
			Signature:     ms.Signature(),
		}},
	}
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestKeylessBundleJSON runs the virtual-Sigstore signature through VerifyBundle as bundle
// JSON: the pinned identity passes; another identity, another issuer, a corrupted signed
// entry timestamp or certificate fail.
func TestKeylessBundleJSON(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		san    = "release@example.com"
		issuer = "https://accounts.example.com"
	)
	artifact := []byte("firmware image")
	entity, err := vs.Sign(san, issuer, artifact)
	if err != nil {
		t.Fatal(err)
	}
	good := bundleJSON(t, vs, entity)
	replace := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("bundle has no %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	// Change one base64 character inside the signed entry timestamp and the certificate.
	corrupt := func(field string, offset int) []byte {
		t.Helper()
		at := bytes.Index(good, []byte(field))
		if at < 0 {
			t.Fatalf("bundle has no %s", field)
		}
		at += len(field) + offset
		bad := append([]byte{}, good...)
		if bad[at] == 'Q' {
			bad[at] = 'R'
		} else {
			bad[at] = 'Q'
		}
		return bad
	}
	badSET := corrupt(`"signedEntryTimestamp":"`, 20)
	badCert := corrupt(`"rawBytes":"`, 200)
	for _, tc := range []struct {
		name   string
		bundle []byte
		id     Identity
		want   string
	}{
		{"right identity", good, Identity{SAN: san, Issuer: issuer}, result.Pass},
		{"B2 wrong identity", good, Identity{SAN: "intern@example.com", Issuer: issuer}, result.Fail},
		{"B2 wrong issuer", good, Identity{SAN: san, Issuer: "https://token.actions.githubusercontent.com"}, result.Fail},
		{"B11 signed entry timestamp corrupted", badSET, Identity{SAN: san, Issuer: issuer}, result.Fail},
		{"certificate corrupted", badCert, Identity{SAN: san, Issuer: issuer}, result.Fail},
		{"B12 unknown bundle version", replace("version=0.1", "version=9.9"), Identity{SAN: san, Issuer: issuer}, result.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyBundle(tc.bundle, ArtifactRef{Reader: bytes.NewReader(artifact)}, virtualTrust(t, vs, tc.id))
			c := Check("firmware.img", v, err)
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want {
				t.Fatalf("status %s, want %s", c.Status, tc.want)
			}
			if c.Status == result.Pass && (v.SAN != san || v.TlogEntries != 1 || len(v.Timestamps) != 2 || !strings.Contains(c.Detail, "signed timestamp")) {
				t.Errorf("verified = %+v", v)
			}
		})
	}
}
