package sigstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kensa.dev/kensa/internal/result"
)

var (
	cosignOnce sync.Once
	cosignBin  string
	cosignErr  error
	cosignDir  string
)

// buildCosign builds the cosign CLI pinned by the module's go.mod tool directive.
func buildCosign(t *testing.T) string {
	t.Helper()
	cosignOnce.Do(func() {
		cosignDir, cosignErr = os.MkdirTemp("", "sigstore-cosign-")
		if cosignErr != nil {
			return
		}
		cosignBin = filepath.Join(cosignDir, "cosign")
		cmd := exec.Command("go", "build", "-o", cosignBin, "github.com/sigstore/cosign/v3/cmd/cosign")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			cosignErr = err
			cosignBin = string(out)
		}
	})
	if cosignErr != nil {
		t.Fatalf("building cosign: %v\n%s", cosignErr, cosignBin)
	}
	return cosignBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cosignDir != "" {
		os.RemoveAll(cosignDir)
	}
	os.Exit(code)
}

// cosign runs the cosign CLI offline in dir and returns its standard output.
func cosign(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(buildCosign(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=kensa-test", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// TestCosignInterop signs blobs with the real cosign CLI (keys, no transparency log) in
// every format it writes, verifies them, and checks that tampered variants fail.
func TestCosignInterop(t *testing.T) {
	dir := t.TempDir()
	cosign(t, dir, "generate-key-pair", "--output-key-prefix", "signer")
	cosign(t, dir, "generate-key-pair", "--output-key-prefix", "other")
	blob := []byte("kensa delivery payload\n")
	blob2 := []byte("another artifact\n")
	for name, data := range map[string][]byte{"blob": blob, "blob2": blob2, "pred.json": []byte(`{"buildDefinition":{"buildType":"https://kensa.dev/test"},"runDetails":{"builder":{"id":"https://kensa.dev/builder"}}}`)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	offline := []string{"--key", "signer.key", "--tlog-upload=false", "--use-signing-config=false", "-y"}
	cosign(t, dir, append([]string{"sign-blob", "--bundle", "blob.sigstore.json"}, append(offline, "blob")...)...)
	cosign(t, dir, append([]string{"sign-blob", "--bundle", "blob2.sigstore.json"}, append(offline, "blob2")...)...)
	sig := cosign(t, dir, append([]string{"sign-blob", "--new-bundle-format=false", "--bundle", "blob.bundle"}, append(offline, "blob")...)...)
	sig2 := cosign(t, dir, append([]string{"sign-blob", "--new-bundle-format=false", "--bundle", "blob2.bundle"}, append(offline, "blob2")...)...)
	cosign(t, dir, append([]string{"attest-blob", "--predicate", "pred.json", "--type", "slsaprovenance1", "--bundle", "blob.att.sigstore.json"}, append(offline, "blob")...)...)

	signerKey, otherKey := readFile(t, filepath.Join(dir, "signer.pub")), readFile(t, filepath.Join(dir, "other.pub"))
	trust, err := NewTrust(TrustOptions{Keys: [][]byte{otherKey, signerKey}})
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := NewTrust(TrustOptions{Keys: [][]byte{otherKey}})
	if err != nil {
		t.Fatal(err)
	}
	signerPK, err := ParsePublicKey(signerKey)
	if err != nil {
		t.Fatal(err)
	}
	bundle1 := readFile(t, filepath.Join(dir, "blob.sigstore.json"))
	bundle2 := readFile(t, filepath.Join(dir, "blob2.sigstore.json"))
	old1 := readFile(t, filepath.Join(dir, "blob.bundle"))
	old2 := readFile(t, filepath.Join(dir, "blob2.bundle"))
	att := readFile(t, filepath.Join(dir, "blob.att.sigstore.json"))
	if !IsLegacyBundle(old1) || IsLegacyBundle(bundle1) {
		t.Fatalf("IsLegacyBundle does not tell the formats apart")
	}
	byBytes := func(b []byte) ArtifactRef { return ArtifactRef{Reader: bytes.NewReader(b)} }
	byDigest := func(b []byte) ArtifactRef { return ArtifactRef{SHA256: "sha256:" + sha256Hex(b)} }

	for _, tc := range []struct {
		name   string
		verify func() (*Verified, error)
		want   string
	}{
		{"bundle", func() (*Verified, error) { return VerifyBundle(bundle1, byBytes(blob), trust) }, result.Pass},
		{"bundle by digest", func() (*Verified, error) { return VerifyBundle(bundle1, byDigest(blob), trust) }, result.Pass},
		{"legacy .sig", func() (*Verified, error) { return VerifyLegacy(Legacy{Signature: sig}, byBytes(blob), trust) }, result.Pass},
		{"legacy cosign bundle", func() (*Verified, error) { return VerifyLegacy(Legacy{Bundle: old1}, byDigest(blob), trust) }, result.Pass},
		{"DSSE attestation", func() (*Verified, error) { return VerifyBundle(att, byDigest(blob), trust) }, result.Pass},

		{"bundle, payload swapped", func() (*Verified, error) { return VerifyBundle(bundle1, byBytes(blob2), trust) }, result.Fail},
		{"bundle, wrong key", func() (*Verified, error) { return VerifyBundle(bundle1, byBytes(blob), wrongKey) }, result.Fail},
		{"bundle of another artifact", func() (*Verified, error) { return VerifyBundle(bundle2, byBytes(blob), trust) }, result.Fail},
		{"bundle truncated", func() (*Verified, error) { return VerifyBundle(bundle1[:len(bundle1)/2], byBytes(blob), trust) }, result.Fail},
		{"bundle, no key in the policy", func() (*Verified, error) {
			none, _ := NewTrust(TrustOptions{})
			return VerifyBundle(bundle1, byBytes(blob), none)
		}, result.Fail},
		{"bundle, only a KMS key", func() (*Verified, error) {
			kms, err := NewTrust(TrustOptions{KMSKeys: []string{"awskms:///alias/release"}})
			if err != nil {
				t.Fatal(err)
			}
			return VerifyBundle(bundle1, byBytes(blob), kms)
		}, result.Erred},
		{"legacy .sig, payload swapped", func() (*Verified, error) { return VerifyLegacy(Legacy{Signature: sig}, byBytes(blob2), trust) }, result.Fail},
		{"legacy .sig, wrong key", func() (*Verified, error) { return VerifyLegacy(Legacy{Signature: sig}, byBytes(blob), wrongKey) }, result.Fail},
		{"legacy .sig of another artifact", func() (*Verified, error) { return VerifyLegacy(Legacy{Signature: sig2}, byBytes(blob), trust) }, result.Fail},
		{"legacy .sig truncated", func() (*Verified, error) {
			return VerifyLegacy(Legacy{Signature: sig[:len(sig)/2]}, byBytes(blob), trust)
		}, result.Fail},
		{"legacy bundle of another artifact", func() (*Verified, error) { return VerifyLegacy(Legacy{Bundle: old2}, byDigest(blob), trust) }, result.Fail},
		{"legacy bundle truncated", func() (*Verified, error) {
			return VerifyLegacy(Legacy{Bundle: old1[:len(old1)/2]}, byDigest(blob), trust)
		}, result.Fail},
		{"DSSE attestation, payload swapped", func() (*Verified, error) { return VerifyBundle(att, byDigest(blob2), trust) }, result.Fail},
		{"DSSE attestation, wrong key", func() (*Verified, error) { return VerifyBundle(att, byDigest(blob), wrongKey) }, result.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.verify()
			c := Check("blob", v, err)
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want {
				t.Fatalf("status %s, want %s", c.Status, tc.want)
			}
			if c.Status == result.Pass && (v.KeyFingerprint != signerPK.Fingerprint || !strings.Contains(c.Detail, signerPK.Fingerprint)) {
				t.Errorf("signer %q, want %q", v.KeyFingerprint, signerPK.Fingerprint)
			}
		})
	}

	v, err := VerifyBundle(att, byDigest(blob), trust)
	if err != nil {
		t.Fatal(err)
	}
	if st := v.Statement; st == nil || st.PredicateType != "https://slsa.dev/provenance/v1" || len(st.Subjects) != 1 || st.Subjects[0].Digest["sha256"] != sha256Hex(blob) || !bytes.Contains(st.Predicate, []byte("https://kensa.dev/builder")) {
		t.Errorf("statement = %+v", v.Statement)
	}

	// The delivery as a whole: every signature file is found and checked.
	files := []string{"blob", "blob.sigstore.json", "blob.bundle", "blob.sig", "blob2", "blob2.sigstore.json", "orphan.sig", "pred.json"}
	if err := os.WriteFile(filepath.Join(dir, "blob.sig"), sig, 0o600); err != nil {
		t.Fatal(err)
	}
	read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, p)) }
	digests := map[string]string{"blob": sha256Hex(blob), "blob2": sha256Hex(blob2)}
	atts := Discover(files)
	if len(atts) != 4 {
		t.Fatalf("Discover found %+v, want 4 attachments", atts)
	}
	for _, a := range atts {
		checks, _ := VerifyAttachment(a, read, digests[a.Artifact], trust)
		for _, c := range checks {
			t.Logf("%s %s: %s", c.Subject, c.Status, c.Detail)
			// blob.sig with only the digest: cosign's ECDSA signature is checked over it.
			if c.Status != result.Pass {
				t.Errorf("%s: %s %s", a.Path, c.Status, c.Detail)
			}
		}
	}
}
