package publish

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"kensa.dev/kensa/attest/signing"
	"kensa.dev/kensa/attest/sigstore"
)

// TestS1S3S4SignedOverPAE covers the signing side of rows S1, S3 and S4 of the bad-input
// catalogue: the DSSE signature of an attestation kensa makes is over the
// pre-authentication encoding of the payload type and the decoded payload, with lengths
// in bytes, and over nothing else: not the raw payload (S1, mareforma #28), not an
// encoding with lengths in characters (S3, dsse PR #7/#27), not the base64 text (S4,
// in-toto-java PR #24). The statement has a non-ASCII subject name so that byte and
// character lengths differ. The check recomputes the encoding here and verifies the
// signature with the public key alone; the real cosign CLI and kensa's verifier accept
// the bundle too.
func TestS1S3S4SignedOverPAE(t *testing.T) {
	dir := t.TempDir()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key, err := signing.ParseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte("配布物 release bytes\n")
	sum := sha256.Sum256(artifact)
	digest := hex.EncodeToString(sum[:])
	st, err := Statement(PredicateCycloneDX, []byte(cyclonedxPredicate), Subject{Name: "配布物-1.0.tar.gz", Digest: map[string]string{"sha256": digest}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := AttestBlob(context.Background(), Signer{Key: key}, st)
	if err != nil {
		t.Fatal(err)
	}

	var bundle struct {
		DSSEEnvelope struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Sig string `json:"sig"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	env := bundle.DSSEEnvelope
	if env.PayloadType != InTotoPayloadType || len(env.Signatures) != 1 {
		t.Fatalf("envelope: payloadType %q, %d signatures", env.PayloadType, len(env.Signatures))
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if utf8.RuneCount(payload) == len(payload) {
		t.Fatal("the payload is ASCII: byte and character lengths do not differ")
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	signedOver := func(msg []byte) bool {
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(&priv.PublicKey, h[:], sig)
	}
	encode := func(typeLen, bodyLen int, body []byte) []byte {
		return append([]byte(fmt.Sprintf("DSSEv1 %d %s %d ", typeLen, env.PayloadType, bodyLen)), body...)
	}
	if !signedOver(encode(len(env.PayloadType), len(payload), payload)) {
		t.Fatal("the signature is not over PAE(payloadType, payload) with byte lengths")
	}
	b64 := []byte(env.Payload)
	for what, msg := range map[string][]byte{
		"S1 the raw payload":              payload,
		"S3 PAE with character lengths":   encode(utf8.RuneCountInString(env.PayloadType), utf8.RuneCount(payload), payload),
		"S4 PAE over the base64 payload":  encode(len(env.PayloadType), len(b64), b64),
		"S1 the base64 payload as a text": b64,
	} {
		if signedOver(msg) {
			t.Errorf("the signature verifies over %s", what)
		}
	}

	// kensa's verifier and the real cosign CLI accept it.
	pubPEM, err := key.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	trust, err := sigstore.NewTrust(sigstore.TrustOptions{Keys: [][]byte{pubPEM}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := sigstore.VerifyBundle(b, sigstore.ArtifactRef{SHA256: digest}, trust)
	if err != nil || v.Statement == nil || v.Statement.Subjects[0].Name != "配布物-1.0.tar.gz" {
		t.Fatalf("kensa: %+v, %v", v, err)
	}
	for name, data := range map[string][]byte{"key.pub": pubPEM, "artifact": artifact, "artifact.sigstore.json": b} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := cosign(t, dir, "verify-blob-attestation", "--bundle", "artifact.sigstore.json", "--key", "key.pub",
		"--insecure-ignore-tlog", "--type", "cyclonedx", "artifact"); err != nil {
		t.Fatalf("cosign verify-blob-attestation: %v\n%s", err, out)
	}
}
