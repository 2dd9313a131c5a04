package publish

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/attest/signing"
	"kensa.dev/kensa/attest/sigstore"
	"kensa.dev/kensa/internal/result"
)

// realBinary is a real executable to sign: this test binary.
func realBinary(t *testing.T) (path string, sha256Hex string) {
	t.Helper()
	path, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return path, hex.EncodeToString(sum[:])
}

// TestSignBlobCosign signs a real binary with a cosign key pair and checks the bundle with
// the real `cosign verify-blob`, with the right key and another.
func TestSignBlobCosign(t *testing.T) {
	dir, key := keyPair(t)
	otherDir, _ := keyPair(t)
	bin, binSHA := realBinary(t)
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	b, err := SignBlob(context.Background(), Signer{Key: key}, f)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err == nil {
		t.Logf("signed %d bytes in %v; bundle %d bytes", fi.Size(), time.Since(start).Round(time.Millisecond), len(b))
	}
	bundlePath := filepath.Join(dir, "app.sigstore.json")
	if err := os.WriteFile(bundlePath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cosign(t, dir, "verify-blob", "--bundle", bundlePath, "--key", "cosign.pub", "--insecure-ignore-tlog", bin); err != nil {
		t.Fatalf("cosign verify-blob: %v\n%s", err, out)
	}
	if out, err := cosign(t, dir, "verify-blob", "--bundle", bundlePath, "--key", filepath.Join(otherDir, "cosign.pub"), "--insecure-ignore-tlog", bin); err == nil {
		t.Fatalf("cosign verify-blob with another key passed:\n%s", out)
	}
	// Another file under the same bundle.
	other := filepath.Join(dir, "other.bin")
	if err := os.WriteFile(other, []byte("not the binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cosign(t, dir, "verify-blob", "--bundle", bundlePath, "--key", "cosign.pub", "--insecure-ignore-tlog", other); err == nil {
		t.Fatalf("cosign verify-blob of another file passed:\n%s", out)
	}
	// kensa's own verifier agrees.
	pub, _ := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	trust, err := sigstore.NewTrust(sigstore.TrustOptions{Keys: [][]byte{pub}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := sigstore.VerifyBundle(b, sigstore.ArtifactRef{SHA256: binSHA}, trust)
	if c := sigstore.Check(bin, v, err); c.Status != result.Pass {
		t.Fatalf("kensa: %+v", c)
	}
}

// TestSignBlobPEMKey signs with an unencrypted PKCS#8 PEM key; cosign verifies with its
// public half.
func TestSignBlobPEMKey(t *testing.T) {
	dir := t.TempDir()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // cosign verifies ECDSA key signatures with SHA-256 only
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key, err := signing.ParseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := key.PublicKeyPEM()
	if err := os.WriteFile(filepath.Join(dir, "key.pub"), pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	content := []byte("release notes v3.2.0\n")
	if err := os.WriteFile(filepath.Join(dir, "NOTES"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := SignBlob(context.Background(), Signer{Key: key}, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "NOTES.sigstore.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cosign(t, dir, "verify-blob", "--bundle", "NOTES.sigstore.json", "--key", "key.pub", "--insecure-ignore-tlog", "NOTES"); err != nil {
		t.Fatalf("cosign verify-blob: %v\n%s", err, out)
	}
}

// TestAttestBlobCosign attests a CycloneDX SBOM about a real binary and checks it with the
// real `cosign verify-blob-attestation`.
func TestAttestBlobCosign(t *testing.T) {
	dir, key := keyPair(t)
	otherDir, _ := keyPair(t)
	bin, binSHA := realBinary(t)
	st, err := Statement(PredicateCycloneDX, []byte(cyclonedxPredicate), Subject{Name: filepath.Base(bin), Digest: map[string]string{"sha256": binSHA}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := AttestBlob(context.Background(), Signer{Key: key}, st)
	if err != nil {
		t.Fatal(err)
	}
	bundlePath := filepath.Join(dir, "sbom.sigstore.json")
	if err := os.WriteFile(bundlePath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify-blob-attestation", "--bundle", bundlePath, "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "cyclonedx", bin}
	if out, err := cosign(t, dir, args...); err != nil {
		t.Fatalf("cosign verify-blob-attestation: %v\n%s", err, out)
	}
	args[4] = filepath.Join(otherDir, "cosign.pub")
	if out, err := cosign(t, dir, args...); err == nil {
		t.Fatalf("cosign verify-blob-attestation with another key passed:\n%s", out)
	}
	args[4] = "cosign.pub"
	args[7] = "spdxjson"
	if out, err := cosign(t, dir, args...); err == nil {
		t.Fatalf("cosign verify-blob-attestation --type spdxjson passed:\n%s", out)
	}
	// kensa's verifier returns the statement.
	pub, _ := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	trust, _ := sigstore.NewTrust(sigstore.TrustOptions{Keys: [][]byte{pub}})
	v, err := sigstore.VerifyBundle(b, sigstore.ArtifactRef{SHA256: binSHA}, trust)
	if err != nil || v.Statement == nil || v.Statement.PredicateType != PredicateCycloneDX {
		t.Fatalf("kensa: %+v, %v", v, err)
	}
}

// TestStatementChecks refuses statements that name nothing or are not in-toto.
func TestStatementChecks(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	if _, err := Statement(PredicateVSA, []byte(`{}`)); err == nil {
		t.Error("a statement without subjects was built")
	}
	if _, err := Statement("", []byte(`{}`), Subject{Digest: map[string]string{"sha256": sha}}); err == nil {
		t.Error("a statement without predicate type was built")
	}
	if _, err := Statement(PredicateVSA, []byte(`[1]`), Subject{Digest: map[string]string{"sha256": sha}}); err == nil {
		t.Error("a predicate that is not an object was accepted")
	}
	if _, err := Statement(PredicateVSA, []byte(`{}`), Subject{Digest: map[string]string{"sha256": "XYZ"}}); err == nil {
		t.Error("a digest that is not hex was accepted")
	}
	deep := strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1)
	if _, err := Statement(PredicateVSA, []byte(`{"a":`+deep+`}`), Subject{Digest: map[string]string{"sha256": sha}}); err == nil {
		t.Error("a predicate nested too deep was accepted")
	}
	key := testKey(t)
	for name, st := range map[string]string{
		"not JSON":   `{"_type":`,
		"wrong type": `{"_type":"https://example.com/x","subject":[{"digest":{"sha256":"` + sha + `"}}],"predicateType":"x","predicate":{}}`,
		"no subject": `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}`,
		"no digest":  `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"x","predicate":{}}`,
		"short hex":  `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"abcd"}}],"predicateType":"x","predicate":{}}`,
		"two values": `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + sha + `"}}],"predicateType":"x","predicate":{}} {}`,
	} {
		if _, err := AttestBlob(context.Background(), Signer{Key: key}, []byte(st)); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	for in, want := range map[string]string{"cyclonedx": PredicateCycloneDX, "spdxjson": PredicateSPDX, "vsa": PredicateVSA,
		"https://example.com/p/v1": "https://example.com/p/v1", "bogus": "", "": ""} {
		if got, err := PredicateType(in); got != want || (err == nil) != (want != "") {
			t.Errorf("PredicateType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := SignBlob(context.Background(), Signer{}, strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Errorf("no signer: %v", err)
	}
}

// testKey is a P-256 key for tests that do not need cosign.
func testKey(t *testing.T) *signing.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key, err := signing.ParseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
