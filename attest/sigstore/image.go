package sigstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"kensa.dev/kensa/internal/result"
)

// ImageAttachment is an artifact attached to an image in its registry, as read by
// kensa's image package: an OCI 1.1 referrer (Source "referrer") or one of cosign's
// sha256-HEX.sig and .att tags (Source "tag").
type ImageAttachment struct {
	Source       string
	Ref          string
	ArtifactType string
	Layers       []ImageLayer
}

// ImageLayer is one layer of an attached manifest.
type ImageLayer struct {
	MediaType   string
	Annotations map[string]string
	Data        []byte
}

// Media types and annotations cosign writes.
const (
	mediaSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	mediaDSSE          = "application/vnd.dsse.envelope.v1+json"
	annSignature       = "dev.cosignproject.cosign/signature"
	annCertificate     = "dev.sigstore.cosign/certificate"
	annRekorBundle     = "dev.sigstore.cosign/bundle"
	// CosignSignPredicate is the predicate type of cosign v3's image signatures, which
	// are in-toto statements about the image manifest in a Sigstore bundle.
	CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
)

// ImageChecks is the check name of image signatures; attestations share CheckName.
const ImageCheckName = "signature/cosign-image"

// VerifyImage checks every signature and attestation attached to the image manifest with
// the given digest ("sha256:HEX"): Sigstore bundles (cosign v3 signatures and
// attestations, stored as referrers) and cosign's older signature tag, whose
// simple-signing payload must name this very manifest. It returns one check per
// signature and the verified attestations (Statement set), for the provenance checks.
// An image with nothing attached gets one failing check: it is not signed.
func VerifyImage(subject, digest string, attached []ImageAttachment, trust *Trust) ([]result.Check, []*Verified) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return []result.Check{{Name: ImageCheckName, Subject: subject, Status: result.Erred, Detail: fmt.Sprintf("image digest %q is not sha256", digest)}}, nil
	}
	var checks []result.Check
	var attestations []*Verified
	signatures := 0
	for _, a := range attached {
		for i, l := range a.Layers {
			where := fmt.Sprintf("%s %s layer %d", a.Source, a.Ref, i)
			switch {
			case strings.HasPrefix(l.MediaType, "application/vnd.dev.sigstore.bundle"):
				v, err := VerifyBundle(l.Data, ArtifactRef{SHA256: hexDigest}, trust)
				c := Check(subject, v, err)
				c.Detail = where + ": " + c.Detail
				if v != nil && v.Statement != nil && v.Statement.PredicateType != CosignSignPredicate {
					// An attestation about the image: its signature, then its claims.
					attestations = append(attestations, v)
				} else {
					c.Name = ImageCheckName
					signatures++
				}
				checks = append(checks, c)
			case l.MediaType == mediaSimpleSigning:
				signatures++
				c := verifySimpleSigning(subject, where, hexDigest, l, trust)
				checks = append(checks, c)
			case l.MediaType == mediaDSSE:
				v, err := verifyTagAttestation(l, hexDigest, trust)
				c := Check(subject, v, err)
				c.Detail = where + ": " + c.Detail
				checks = append(checks, c)
				if err == nil && v != nil && v.Statement != nil {
					attestations = append(attestations, v)
				}
			}
		}
	}
	if signatures == 0 {
		checks = append(checks, result.Check{Name: ImageCheckName, Subject: subject, Status: result.Fail,
			Detail: "no cosign signature is attached to this image (no Sigstore bundle referrer, no " + "sha256-" + hexDigest[:12] + "….sig tag)"})
	}
	return checks, attestations
}

// simpleSigning is cosign's signature payload for images.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// verifySimpleSigning checks one layer of cosign's .sig tag: the signature over the
// payload (with its certificate and transparency-log bundle when there are), and that
// the payload names this image.
func verifySimpleSigning(subject, where, hexDigest string, l ImageLayer, trust *Trust) result.Check {
	c := result.Check{Name: ImageCheckName, Subject: subject}
	var p simpleSigning
	if err := json.Unmarshal(l.Data, &p); err != nil || p.Critical.Type != "cosign container image signature" {
		c.Status, c.Detail = result.Fail, where+": the payload is not a cosign image signature"
		return c
	}
	lg := Legacy{Signature: []byte(l.Annotations[annSignature]), Certificate: []byte(l.Annotations[annCertificate])}
	if rb := l.Annotations[annRekorBundle]; rb != "" {
		b, err := json.Marshal(map[string]any{
			"base64Signature": l.Annotations[annSignature],
			"cert":            base64.StdEncoding.EncodeToString([]byte(l.Annotations[annCertificate])),
			"rekorBundle":     json.RawMessage(rb),
		})
		if err != nil {
			c.Status, c.Detail = result.Fail, where+": "+err.Error()
			return c
		}
		if l.Annotations[annCertificate] == "" {
			b, _ = json.Marshal(map[string]any{"base64Signature": l.Annotations[annSignature], "rekorBundle": json.RawMessage(rb)})
		}
		lg = Legacy{Bundle: b}
	}
	v, err := VerifyLegacy(lg, ArtifactRef{Reader: bytes.NewReader(l.Data)}, trust)
	c = Check(subject, v, err)
	c.Name = ImageCheckName
	c.Detail = where + ": " + c.Detail
	if c.Status == result.Pass && p.Critical.Image.DockerManifestDigest != "sha256:"+hexDigest {
		c.Status = result.Fail
		c.Detail = fmt.Sprintf("%s: a valid signature, but of another image: its payload names %q, this image is sha256:%s",
			where, p.Critical.Image.DockerManifestDigest, hexDigest)
	}
	return c
}

// dsseJSON is a DSSE envelope as cosign stores it in an attestation layer.
type dsseJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// verifyTagAttestation checks one layer of cosign's older .att tag: a DSSE envelope
// (with its certificate and transparency-log bundle in annotations when there are),
// rebuilt as a Sigstore bundle so that the same verifier checks the signature, the
// signer and that the statement is about this image.
func verifyTagAttestation(l ImageLayer, hexDigest string, trust *Trust) (_ *Verified, err error) {
	defer recoverTo(&err)
	if trust == nil || trust.material == nil {
		return nil, errorf("no trust material given; build one with NewTrust")
	}
	if len(l.Data) > MaxBundleSize {
		return nil, errorf("attestation larger than %d bytes; not read", MaxBundleSize)
	}
	if err := checkJSONDepth(l.Data); err != nil {
		return nil, failf("attestation: %v", err)
	}
	var env dsseJSON
	if err := json.Unmarshal(l.Data, &env); err != nil {
		return nil, failf("attestation is not a DSSE envelope: %v", err)
	}
	if len(env.Signatures) != 1 {
		return nil, failf("attestation envelope has %d signatures, want 1", len(env.Signatures))
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, failf("attestation payload is not base64")
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil || len(sig) == 0 {
		return nil, failf("attestation signature is not base64")
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sig, Keyid: env.Signatures[0].KeyID}},
		}},
	}
	if c := l.Annotations[annCertificate]; c != "" {
		der, err := decodeCert([]byte(c))
		if err != nil {
			return nil, failf("certificate: %v", err)
		}
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{{RawBytes: der}}},
		}
		pb.MediaType = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	}
	if rb := l.Annotations[annRekorBundle]; rb != "" {
		var r rekorBundle
		if err := json.Unmarshal([]byte(rb), &r); err != nil {
			return nil, failf("transparency-log bundle: %v", err)
		}
		entry, err := legacyTlogEntry(&r)
		if err != nil {
			return nil, err
		}
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, failf("attestation: %v", err)
	}
	v, err := verifyEntity(b, ArtifactRef{SHA256: hexDigest}, trust)
	if err != nil {
		return nil, err
	}
	v.Format = "legacy-attestation"
	return v, nil
}
