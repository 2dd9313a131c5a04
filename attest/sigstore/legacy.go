package sigstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// Legacy holds cosign's older blob-signature formats, as found beside an artifact.
type Legacy struct {
	// Signature is a detached signature file (X.sig): the base64 signature that
	// `cosign sign-blob` prints or writes with --output-signature.
	Signature []byte
	// Certificate is the signing certificate (X.pem, X.crt, X.cert: PEM, or base64 of PEM
	// as cosign sign-blob --output-certificate writes it).
	Certificate []byte
	// Bundle is cosign's old bundle file (cosign sign-blob --bundle with
	// --new-bundle-format=false): {"base64Signature", "cert", "rekorBundle"}.
	Bundle []byte
}

// localSignedPayload is cosign's old bundle format.
type localSignedPayload struct {
	Base64Signature string       `json:"base64Signature"`
	Cert            string       `json:"cert,omitempty"`
	RekorBundle     *rekorBundle `json:"rekorBundle,omitempty"`
}

type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           any    `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// VerifyLegacy verifies cosign's older formats offline: a detached .sig with a trusted key;
// an old cosign bundle (its Rekor signed entry timestamp is checked against the trusted
// root and the log entry must record this signature, certificate or key and artifact);
// and a detached .sig with a certificate, whose signer and signature are checked but which
// carries no trusted time, so at best it reports "error": ask for a Sigstore bundle.
// Legacy signatures are checked over the artifact's SHA-256, so Ed25519 key signatures,
// which sign the whole message, cannot be checked here.
func VerifyLegacy(l Legacy, artifact ArtifactRef, trust *Trust) (_ *Verified, err error) {
	defer recoverTo(&err)
	if trust == nil || trust.material == nil {
		return nil, errorf("no trust material given; build one with NewTrust")
	}
	digest, err := artifactDigest(artifact)
	if err != nil {
		return nil, err
	}
	sigText, certData := l.Signature, l.Certificate
	var rb *rekorBundle
	format := "signature"
	if len(l.Bundle) > 0 {
		p, err := parseLegacyBundle(l.Bundle)
		if err != nil {
			return nil, err
		}
		sigText, rb = []byte(p.Base64Signature), p.RekorBundle
		if p.Cert != "" {
			certData = []byte(p.Cert)
		}
		format = "legacy-bundle"
	}
	if len(sigText) > 64<<10 {
		return nil, failf("signature larger than 64 KiB")
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	if err != nil || len(sig) == 0 {
		return nil, failf("signature is not base64 (expected the output of cosign sign-blob)")
	}
	var certDER []byte
	if len(certData) > 0 {
		if certDER, err = decodeCert(certData); err != nil {
			return nil, failf("certificate: %v", err)
		}
	}
	if certDER != nil && rb == nil {
		return verifyDetachedCert(sig, certDER, digest, trust)
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest},
			Signature:     sig,
		}},
	}
	if certDER != nil {
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{{RawBytes: certDER}}},
		}
		pb.MediaType = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	}
	if rb != nil {
		entry, err := legacyTlogEntry(rb)
		if err != nil {
			return nil, err
		}
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, failf("legacy signature: %v", err)
	}
	v, err := verifyEntity(b, ArtifactRef{SHA256: hex.EncodeToString(digest)}, trust)
	if err != nil {
		return nil, err
	}
	v.Format = format
	return v, nil
}

// IsLegacyBundle reports whether a .bundle file is cosign's old format rather than a
// Sigstore bundle.
func IsLegacyBundle(data []byte) bool {
	var probe map[string]json.RawMessage
	if len(data) > MaxBundleSize || checkJSONDepth(data) != nil || json.Unmarshal(data, &probe) != nil {
		return false
	}
	_, sig := probe["base64Signature"]
	_, mt := probe["mediaType"]
	return sig && !mt
}

func parseLegacyBundle(data []byte) (*localSignedPayload, error) {
	if len(data) > MaxBundleSize {
		return nil, errorf("bundle larger than %d bytes; not read", MaxBundleSize)
	}
	if err := checkJSONDepth(data); err != nil {
		return nil, failf("cosign bundle: %v", err)
	}
	var p localSignedPayload
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, failf("not a cosign bundle: %v", err)
	}
	if dec.More() {
		return nil, failf("cosign bundle has data after the JSON value")
	}
	return &p, nil
}

// legacyTlogEntry turns cosign's rekorBundle into a transparency-log entry with its
// signed entry timestamp, so that sigstore-go checks the promise and that the entry
// records this signature.
func legacyTlogEntry(rb *rekorBundle) (*protorekor.TransparencyLogEntry, error) {
	bodyText, ok := rb.Payload.Body.(string)
	if !ok {
		return nil, failf("cosign bundle: rekorBundle body is not a string")
	}
	body, err := base64.StdEncoding.DecodeString(bodyText)
	if err != nil {
		return nil, failf("cosign bundle: rekorBundle body is not base64")
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := checkJSONDepth(body); err != nil {
		return nil, failf("cosign bundle: rekor entry: %v", err)
	}
	if err := json.Unmarshal(body, &kv); err != nil || kv.Kind == "" || kv.APIVersion == "" {
		return nil, failf("cosign bundle: rekor entry is not a Rekor entry")
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil || len(logID) != sha256.Size {
		return nil, failf("cosign bundle: logID is not a hex SHA-256")
	}
	if len(rb.SignedEntryTimestamp) == 0 {
		return nil, failf("cosign bundle: no signed entry timestamp")
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// verifyDetachedCert checks a .sig made with a certificate and no bundle. Without a log
// entry or timestamp nothing proves the short-lived certificate was valid when it signed,
// so the best outcome is "error".
func verifyDetachedCert(sig, certDER, digest []byte, trust *Trust) (*Verified, error) {
	cert, err := parseCert(certDER)
	if err != nil {
		return nil, failf("certificate: %v", err)
	}
	summary, err := summarize(certDER)
	if err != nil {
		return nil, failf("certificate: %v", err)
	}
	signer := fmt.Sprintf("%s (issuer %s)", summary.SubjectAlternativeName, summary.Issuer)
	if len(trust.identities) == 0 {
		return nil, failf("signed by certificate for %s, but a policy must name whom it trusts: give --certificate-identity (or -regexp) and --certificate-oidc-issuer (or -regexp)", signer)
	}
	if _, err := trust.identities.Verify(summary); err != nil {
		return nil, failf("signed by %s, which is not a trusted identity (trusted: %s)", signer, strings.Join(trust.idText, "; "))
	}
	verifier, err := signature.LoadDefaultVerifier(cert.PublicKey)
	if err != nil {
		return nil, failf("certificate key: %v", err)
	}
	if err := verifier.VerifySignature(bytes.NewReader(sig), nil, options.WithDigest(digest)); err != nil {
		return nil, failf("signature by %s does not verify over the artifact: %v", signer, err)
	}
	return nil, errorf("signature by %s verifies, but a detached signature with a certificate carries no transparency-log entry or timestamp proving the certificate was valid when it signed; not checked offline: ask for the Sigstore bundle (cosign sign-blob --bundle)", signer)
}

// decodeCert reads a certificate given as PEM, base64 of PEM, or DER.
func decodeCert(data []byte) ([]byte, error) {
	if len(data) > 64<<10 {
		return nil, errors.New("larger than 64 KiB")
	}
	text := bytes.TrimSpace(data)
	if !bytes.HasPrefix(text, []byte("-----")) {
		if dec, err := base64.StdEncoding.DecodeString(string(text)); err == nil {
			text = bytes.TrimSpace(dec)
		}
	}
	if bytes.HasPrefix(text, []byte("-----")) {
		block, rest := pem.Decode(text)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, errors.New("not a PEM CERTIFICATE")
		}
		if n := bytes.Count(rest, []byte("-----BEGIN")); n+1 > MaxChain {
			return nil, fmt.Errorf("more than %d certificates", MaxChain)
		}
		return block.Bytes, nil
	}
	return text, nil
}

// artifactDigest gives the artifact's SHA-256, hashing the reader if there is one.
func artifactDigest(a ArtifactRef) ([]byte, error) {
	if a.Reader == nil {
		return parseSHA256(a.SHA256)
	}
	h := sha256.New()
	if _, err := io.Copy(h, a.Reader); err != nil {
		return nil, errorf("reading the artifact: %v", err)
	}
	return h.Sum(nil), nil
}
