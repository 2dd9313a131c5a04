package publish

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

const (
	testIdentity = "release@acme.example"
	testIssuer   = "https://issuer.acme.example"
)

// virtualSigstore stands in for Fulcio and a timestamp authority on 127.0.0.1, built
// from sigstore-go's virtual Sigstore CA (pkg/testing/ca). Its Fulcio certifies the key a
// request proves it holds for the token's subject; its TSA timestamps what it is sent.
type virtualSigstore struct {
	root.BaseTrustedMaterial
	fulcio    *root.FulcioCertificateAuthority
	fulcioKey *ecdsa.PrivateKey
	tsa       *root.SigstoreTimestampingAuthority
	tsaKey    *ecdsa.PrivateKey
	fulcioURL string
	tsaURL    string
}

func (v *virtualSigstore) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return []root.CertificateAuthority{v.fulcio}
}

func (v *virtualSigstore) TimestampingAuthorities() []root.TimestampingAuthority {
	return []root.TimestampingAuthority{v.tsa}
}

func newVirtualSigstore(t *testing.T) *virtualSigstore {
	t.Helper()
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	inter, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	tsaInter, tsaInterKey, err := ca.GenerateTSAIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	v := &virtualSigstore{
		fulcio: &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter},
			ValidityPeriodStart: time.Now().Add(-time.Hour), ValidityPeriodEnd: time.Now().Add(time.Hour)},
		fulcioKey: interKey,
	}
	v.tsaKey, err = ecdsa.GenerateKey(rootKey.Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.GenerateTSALeafCert(time.Now().Add(-5*time.Minute), v.tsaKey, tsaInter, tsaInterKey)
	if err != nil {
		t.Fatal(err)
	}
	v.tsa = &root.SigstoreTimestampingAuthority{Root: rootCert, Intermediates: []*x509.Certificate{tsaInter}, Leaf: leaf,
		ValidityPeriodStart: time.Now().Add(-time.Hour), ValidityPeriodEnd: time.Now().Add(time.Hour)}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/signingCert", v.signingCert)
	mux.HandleFunc("POST /api/v1/timestamp", v.timestamp)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	v.fulcioURL = srv.URL
	v.tsaURL = srv.URL + "/api/v1/timestamp"
	return v
}

// signingCert is Fulcio's v2 signingCert: the token's subject and issuer (the token is
// trusted as it is: this is the test's identity provider), the proof of possession
// checked, a short-lived certificate issued.
func (v *virtualSigstore) signingCert(w http.ResponseWriter, r *http.Request) {
	fail := func(err error) { http.Error(w, err.Error(), http.StatusBadRequest) }
	parts := strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), ".")
	if len(parts) != 3 {
		fail(errors.New("no token"))
		return
	}
	claimsJSON, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		fail(err)
		return
	}
	var claims struct {
		Sub string `json:"sub"`
		Iss string `json:"iss"`
	}
	var req struct {
		PublicKeyRequest struct {
			PublicKey struct {
				Content string `json:"content"`
			} `json:"publicKey"`
			ProofOfPossession []byte `json:"proofOfPossession"`
		} `json:"publicKeyRequest"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err := json.Unmarshal(claimsJSON, &claims); err != nil {
		fail(err)
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		fail(err)
		return
	}
	block, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
	if block == nil {
		fail(errors.New("no public key"))
		return
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		fail(err)
		return
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	sum := sha256.Sum256([]byte(claims.Sub))
	if !ok || !ecdsa.VerifyASN1(ec, sum[:], req.PublicKeyRequest.ProofOfPossession) {
		http.Error(w, "proof of possession", http.StatusUnauthorized)
		return
	}
	cert, err := ca.GenerateLeafCert(claims.Sub, claims.Iss, time.Now().Add(-time.Minute), publicOnly{pub}, v.fulcio.Intermediates[0], v.fulcioKey)
	if err != nil {
		fail(err)
		return
	}
	var resp struct {
		SignedCertificateEmbeddedSct struct {
			Chain struct {
				Certificates []string `json:"certificates"`
			} `json:"chain"`
		} `json:"signedCertificateEmbeddedSct"`
	}
	for _, c := range []*x509.Certificate{cert, v.fulcio.Intermediates[0], v.fulcio.Root} {
		resp.SignedCertificateEmbeddedSct.Chain.Certificates = append(resp.SignedCertificateEmbeddedSct.Chain.Certificates,
			string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// timestamp is an RFC 3161 timestamp authority.
func (v *virtualSigstore) timestamp(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(),
		Nonce: req.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}}
	resp, err := ts.CreateResponseWithOpts(v.tsa.Leaf, v.tsaKey, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}

// publicOnly is a public key where ca.GenerateLeafCert wants a signer: it only reads
// the public half.
type publicOnly struct{ pub crypto.PublicKey }

func (p publicOnly) Public() crypto.PublicKey { return p.pub }
func (p publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("public key only")
}

// idToken is an unsigned OIDC token for the virtual Fulcio.
func idToken(sub, iss string) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"sub": sub, "email": sub, "email_verified": true, "iss": iss, "aud": "sigstore"})
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(claims) + "." + enc([]byte("sig"))
}

// verifyKeyless checks a keyless bundle with sigstore-go against the virtual Sigstore's
// trusted material: the signed timestamp, the certificate chain, the identity.
func verifyKeyless(v *virtualSigstore, bundleJSON, artifact []byte, san, issuer string) error {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return err
	}
	verifier, err := verify.NewVerifier(v, verify.WithSignedTimestamps(1))
	if err != nil {
		return err
	}
	id, err := verify.NewShortCertificateIdentity(issuer, "", san, "")
	if err != nil {
		return err
	}
	_, err = verifier.Verify(&b, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithCertificateIdentity(id)))
	return err
}

// verifyKeylessDigest checks a keyless DSSE bundle about an image manifest digest.
func verifyKeylessDigest(v *virtualSigstore, bundleJSON []byte, digest, san string) error {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return err
	}
	verifier, err := verify.NewVerifier(v, verify.WithSignedTimestamps(1))
	if err != nil {
		return err
	}
	id, err := verify.NewShortCertificateIdentity(testIssuer, "", san, "")
	if err != nil {
		return err
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(digest, "sha256:"))
	if err != nil {
		return err
	}
	_, err = verifier.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", raw), verify.WithCertificateIdentity(id)))
	return err
}

// TestKeyless signs a blob and a statement keyless through the virtual Fulcio and TSA,
// and verifies them for the test identity, and not for another identity or issuer.
func TestKeyless(t *testing.T) {
	v := newVirtualSigstore(t)
	s := Signer{FulcioURL: v.fulcioURL, IDToken: idToken(testIdentity, testIssuer), TSAURL: v.tsaURL}
	artifact := []byte("casemgr-agent 3.2.0 linux/amd64\n")
	b, err := SignBlob(context.Background(), s, bytes.NewReader(artifact))
	if err != nil {
		t.Fatalf("SignBlob keyless: %v", err)
	}
	if !bytes.Contains(b, []byte(`"certificate"`)) || !bytes.Contains(b, []byte(`"rfc3161Timestamps"`)) {
		t.Fatalf("keyless bundle has no certificate or timestamp:\n%s", b)
	}
	if err := verifyKeyless(v, b, artifact, testIdentity, testIssuer); err != nil {
		t.Fatalf("verifying the keyless bundle: %v", err)
	}
	if err := verifyKeyless(v, b, artifact, "mallory@acme.example", testIssuer); err == nil {
		t.Fatal("the keyless bundle verified for another identity")
	}
	if err := verifyKeyless(v, b, artifact, testIdentity, "https://other-issuer.example"); err == nil {
		t.Fatal("the keyless bundle verified for another issuer")
	}
	if err := verifyKeyless(v, b, []byte("another artifact"), testIdentity, testIssuer); err == nil {
		t.Fatal("the keyless bundle verified another artifact")
	}
	// Another virtual Sigstore (another CA) does not trust it.
	if err := verifyKeyless(newVirtualSigstore(t), b, artifact, testIdentity, testIssuer); err == nil {
		t.Fatal("the keyless bundle verified under another CA")
	}

	// An attestation, keyless.
	sum := sha256.Sum256(artifact)
	st, err := Statement(PredicateVSA, []byte(`{"verifier":{"id":"https://kensa.dev"},"verificationResult":"PASSED"}`),
		Subject{Name: "casemgr-agent", Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}})
	if err != nil {
		t.Fatal(err)
	}
	ab, err := AttestBlob(context.Background(), s, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyKeyless(v, ab, artifact, testIdentity, testIssuer); err != nil {
		t.Fatalf("verifying the keyless attestation: %v", err)
	}

	// An image signed keyless: the stored bundle verifies for the identity and the
	// image manifest digest.
	host := startRegistry(t, true)
	digest := pushImage(t, host, "acme/app:1.0")
	att, err := SignImage(context.Background(), s, host+"/acme/app:1.0", RegistryOptions{})
	if err != nil {
		t.Fatalf("SignImage keyless: %v", err)
	}
	if err := verifyKeylessDigest(v, att.Bundle, digest, testIdentity); err != nil {
		t.Fatalf("verifying the keyless image signature: %v", err)
	}
	if err := verifyKeylessDigest(v, att.Bundle, digest, "mallory@acme.example"); err == nil {
		t.Fatal("the keyless image signature verified for another identity")
	}

	// The real cosign CLI and kensa's verifier, given the virtual Sigstore as trusted root.
	dir := t.TempDir()
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, v.FulcioCertificateAuthorities(), nil, v.TimestampingAuthorities(), nil)
	if err != nil {
		t.Fatal(err)
	}
	trJSON, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"trusted_root.json": trJSON, "agent": artifact, "agent.sigstore.json": b} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keyless := func(identity string) []string {
		return []string{"--trusted-root", "trusted_root.json", "--certificate-identity", identity, "--certificate-oidc-issuer", testIssuer,
			"--insecure-ignore-tlog", "--insecure-ignore-sct", "--use-signed-timestamps"}
	}
	if out, err := cosign(t, dir, append(append([]string{"verify-blob", "--bundle", "agent.sigstore.json"}, keyless(testIdentity)...), "agent")...); err != nil {
		t.Fatalf("cosign verify-blob keyless: %v\n%s", err, out)
	}
	if out, err := cosign(t, dir, append(append([]string{"verify-blob", "--bundle", "agent.sigstore.json"}, keyless("mallory@acme.example")...), "agent")...); err == nil {
		t.Fatalf("cosign verify-blob keyless passed for another identity:\n%s", out)
	}
	if out, err := cosign(t, dir, append(append([]string{"verify"}, keyless(testIdentity)...), "--allow-http-registry", att.Image)...); err != nil {
		t.Fatalf("cosign verify keyless: %v\n%s", err, out)
	}
	if out, err := cosign(t, dir, append(append([]string{"verify"}, keyless("mallory@acme.example")...), "--allow-http-registry", att.Image)...); err == nil {
		t.Fatalf("cosign verify keyless passed for another identity:\n%s", out)
	}
	// A Fulcio that refuses the token: an error, no bundle.
	bad := s
	bad.IDToken = "not-a-token"
	if _, err := SignBlob(context.Background(), bad, bytes.NewReader(artifact)); err == nil {
		t.Fatal("signed with a token Fulcio cannot read")
	}
	// Plain HTTP outside the loopback network is refused before anything is sent.
	bad = Signer{FulcioURL: "http://fulcio.example", IDToken: s.IDToken}
	if _, err := SignBlob(context.Background(), bad, bytes.NewReader(artifact)); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("plain-HTTP Fulcio: %v", err)
	}
}
