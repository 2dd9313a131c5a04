package signing

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"kensa.dev/kensa/attest/sigstore"
)

const statement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"install.sh","digest":{"sha256":"%s"}}],"predicateType":"https://slsa.dev/verification_summary/v1","predicate":{"verificationResult":"PASSED"}}`

// TestSignAndVerify signs with each kind of PEM key and verifies the bundle with the
// public key through the verifier kensa uses for everyone else's bundles.
func TestSignAndVerify(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(ec256)
	digest := sha256.Sum256([]byte("install"))
	st := []byte(strings.Replace(statement, "%s", hex.EncodeToString(digest[:]), 1))
	for name, pemKey := range map[string][]byte{
		"ecdsa-p256-pkcs8": pkcs8(t, ec256),
		"ecdsa-p384-pkcs8": pkcs8(t, ec384),
		"ed25519-pkcs8":    pkcs8(t, ed),
		"rsa-pkcs8":        pkcs8(t, rk),
		"ecdsa-sec1":       pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"rsa-pkcs1":        pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}),
	} {
		k, err := ParseKey(pemKey, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bundle, err := SignStatement(st, k)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !json.Valid(bundle) || !strings.Contains(string(bundle), `"dsseEnvelope"`) {
			t.Fatalf("%s: not a DSSE bundle: %s", name, bundle)
		}
		pub, _ := k.PublicKeyPEM()
		trust, err := sigstore.NewTrust(sigstore.TrustOptions{Keys: [][]byte{pub}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sigstore.VerifyBundle(bundle, sigstore.ArtifactRef{SHA256: hex.EncodeToString(digest[:])}, trust); err != nil {
			t.Errorf("%s: the bundle does not verify: %v", name, err)
		}
		other := sha256.Sum256([]byte("other"))
		if _, err := sigstore.VerifyBundle(bundle, sigstore.ArtifactRef{SHA256: hex.EncodeToString(other[:])}, trust); err == nil {
			t.Errorf("%s: the bundle verifies for bytes it is not about", name)
		}
	}
}

func pkcs8(t *testing.T, k any) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
}

func TestParseKeyRefuses(t *testing.T) {
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	ec224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(weak.Public())
	for name, tc := range map[string]struct {
		pem  []byte
		want string
	}{
		"public key":   {pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), "this is a public key"},
		"weak rsa":     {pkcs8(t, weak), "too weak"},
		"p224":         {pkcs8(t, ec224), "not supported"},
		"not pem":      {[]byte("hello"), "not a PEM private key"},
		"garbage":      {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("x")}), "parsing the private key"},
		"cosign wrong": {pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: []byte(`{"kdf":{}}`)}), "decrypting the cosign key"},
	} {
		if _, err := ParseKey(tc.pem, []byte("pw")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

func TestIsKMS(t *testing.T) {
	for ref, want := range map[string]bool{
		"awskms:///alias/kensa": true, "hashivault://transit-key": true, "my-hsm://slot0": true,
		"cosign.key": false, "./keys/a.pem": false, "C:\\keys\\a.pem": false, "/abs/path.pem": false,
	} {
		if IsKMS(ref) != want {
			t.Errorf("IsKMS(%q) = %v", ref, !want)
		}
	}
	if _, err := LoadKey("nosuch-plugin://k", nil); err == nil || !strings.Contains(err.Error(), "sigstore-kms-nosuch-plugin") {
		t.Errorf("a KMS URI without its plugin: %v", err)
	}
}
