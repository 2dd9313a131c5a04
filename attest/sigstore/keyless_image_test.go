package sigstore

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"google.golang.org/protobuf/encoding/protojson"

	"kensa.dev/kensa/internal/result"
)

// dsseBundleJSON writes a virtual-Sigstore DSSE attestation as a v0.3 bundle, the form
// cosign v3 stores as an image's referrer.
func dsseBundleJSON(t *testing.T, vs *ca.VirtualSigstore, e *ca.TestEntity) []byte {
	t.Helper()
	vc, sc, tle, set, stamps := logged(t, vs, e)
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []*protodsse.Signature
	for _, s := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, &protodsse.Signature{Sig: raw, Keyid: s.KeyID})
	}
	kv := tle.KindVersion
	if kv == nil {
		kv = &protorekor.KindVersion{Kind: "intoto", Version: "0.0.2"}
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{{
				LogIndex: tle.LogIndex, LogId: tle.LogId, KindVersion: kv, IntegratedTime: tle.IntegratedTime,
				InclusionPromise: &protorekor.InclusionPromise{SignedEntryTimestamp: set}, InclusionProof: tle.InclusionProof,
				CanonicalizedBody: tle.CanonicalizedBody,
			}},
			TimestampVerificationData: &protobundle.TimestampVerificationData{
				Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: stamps[0]}},
			},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{Payload: payload, PayloadType: env.PayloadType, Signatures: sigs}},
	}
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestKeylessImage: a keyless cosign v3 image signature (a DSSE statement about the
// manifest digest, in a bundle stored as a referrer) passes for the pinned identity and
// issuer only, and only for the image it names.
func TestKeylessImage(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		san    = "https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1.0.0"
		issuer = "https://token.actions.githubusercontent.com"
	)
	manifest := sha256.Sum256([]byte("image manifest"))
	digest := "sha256:" + hex.EncodeToString(manifest[:])
	statement := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"%s"},"annotations":{}}],"predicateType":"%s","predicate":{}}`,
		hex.EncodeToString(manifest[:]), CosignSignPredicate)
	e, err := vs.AttestAtTime(san, issuer, []byte(statement), time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	referrer := []ImageAttachment{{Source: "referrer", Ref: "sha256:" + strings.Repeat("ab", 32), ArtifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		Layers: []ImageLayer{{MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Data: dsseBundleJSON(t, vs, e)}}}}
	other := sha256.Sum256([]byte("another image"))
	for _, tc := range []struct {
		name   string
		id     Identity
		digest string
		want   string
		detail string
	}{
		{"pinned identity", Identity{SAN: san, Issuer: issuer}, digest, result.Pass, san},
		{"pinned by regexp", Identity{SANRegexp: `^https://github\.com/example/app/`, Issuer: issuer}, digest, result.Pass, san},
		{"another workflow", Identity{SAN: strings.Replace(san, "release.yml", "nightly.yml", 1), Issuer: issuer}, digest, result.Fail, "not a trusted identity"},
		{"another issuer", Identity{SAN: san, Issuer: "https://gitlab.com"}, digest, result.Fail, "not a trusted identity"},
		{"another image", Identity{SAN: san, Issuer: issuer}, "sha256:" + hex.EncodeToString(other[:]), result.Fail, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks, _ := VerifyImage("registry.example/app:1.0", tc.digest, referrer, virtualTrust(t, vs, tc.id))
			if len(checks) != 1 || checks[0].Name != ImageCheckName || checks[0].Status != tc.want {
				t.Fatalf("checks %+v, want one %s %s", checks, ImageCheckName, tc.want)
			}
			if !strings.Contains(checks[0].Detail, tc.detail) {
				t.Errorf("detail %q lacks %q", checks[0].Detail, tc.detail)
			}
		})
	}
}
