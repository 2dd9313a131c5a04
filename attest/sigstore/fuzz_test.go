package sigstore

import (
	"bytes"
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
	"strings"
	"testing"
	"unicode/utf8"

	"kensa.dev/kensa/attest/provenance"
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

// dssePAE is the DSSE pre-authentication encoding, written from the DSSE specification
// (lengths in bytes, as decimal ASCII).
func dssePAE(payloadType string, payload []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload)
}

// fuzzSigner signs DSSE envelopes into key-signed Sigstore bundles (v0.3, no
// transparency-log entry, as cosign attest-blob --tlog-upload=false writes) with a test
// ECDSA P-256 key, and holds a trust that names the key.
type fuzzSigner struct {
	key   *ecdsa.PrivateKey
	hint  string
	fp    string
	trust *Trust
}

func newFuzzSigner(tb testing.TB) *fuzzSigner {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(der)
	trust, err := NewTrust(TrustOptions{Keys: [][]byte{pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}})
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzSigner{key: key, hint: base64.StdEncoding.EncodeToString(sum[:]), fp: "sha256:" + hex.EncodeToString(sum[:]), trust: trust}
}

// sign signs msg (the bytes the signature is over: the PAE, or something else for the
// negative cases).
func (s *fuzzSigner) sign(tb testing.TB, msg []byte) []byte {
	tb.Helper()
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, h[:])
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// bundle returns the bundle JSON of a DSSE envelope.
func (s *fuzzSigner) bundle(tb testing.TB, payloadType string, payload, sig []byte) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{
		"mediaType":            "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{"publicKey": map[string]any{"hint": s.hint}},
		"dsseEnvelope": map[string]any{
			"payload":     base64.StdEncoding.EncodeToString(payload),
			"payloadType": payloadType,
			"signatures":  []any{map[string]any{"sig": base64.StdEncoding.EncodeToString(sig)}},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzDSSE drives DSSE envelope decoding, the PAE and the signature check of VerifyBundle
// (through sigstore-go and the package's key policy) with envelopes signed by a test key.
//
// Round trip: an in-toto statement about the artifact, built from the fuzzed subject
// name, predicate type and predicate text and signed over the PAE (written here from the
// specification), verifies; the verified statement is the signed payload byte for byte,
// the signer is the test key, and package provenance unpacks the same payload and type
// from the bundle. Every mutation then fails (status fail, not error): a bit of the
// payload flipped (at a fuzzed position), the payloadType changed to a fuzzed other
// type (S2 of bad-inputs.md), a signature over the raw payload (S1), over the PAE of the
// base64 text (S4) or over a PAE counting characters instead of bytes (S3, when the
// payload is not ASCII), and a flipped signature bit. An arbitrary payload and
// payloadType, signed over their PAE, verify only as an in-toto statement whose verified
// bytes are the payload. Every result is the same twice.
func FuzzDSSE(f *testing.F) {
	s := newFuzzSigner(f)
	artifact := []byte("the artifact the statement is about\n")
	sum := sha256.Sum256(artifact)
	digest := hex.EncodeToString(sum[:])
	ref := ArtifactRef{SHA256: digest}
	f.Add("app.tar.gz", "https://slsa.dev/provenance/v1", "built by CI", uint(7), "application/json",
		"application/vnd.in-toto+json", []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"`+digest+`"}}],"predicateType":"p","predicate":{}}`))
	f.Add("ünïcödé", "https://example.com/p", "π ≈ 3.14159 – ✓", uint(1000), "application/vnd.in-toto+json ",
		"text/plain", []byte("hello"))
	f.Add("", "x", "", uint(0), "APPLICATION/VND.IN-TOTO+JSON", "application/vnd.in-toto+json", []byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[],"predicateType":""}`))
	verifyOnce := func(t *testing.T, b []byte) (*Verified, error) {
		t.Helper()
		v, err := VerifyBundle(b, ref, s.trust)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		return v, err
	}
	verify := func(t *testing.T, b []byte) (*Verified, error) {
		t.Helper()
		v, err := verifyOnce(t, b)
		v2, err2 := verifyOnce(t, b)
		j1, _ := json.Marshal(v)
		j2, _ := json.Marshal(v2)
		if !bytes.Equal(j1, j2) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("two runs differ: %s (%v) and %s (%v)", j1, err, j2, err2)
		}
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		return v, err
	}
	mustFail := func(t *testing.T, what string, b []byte) {
		t.Helper()
		if v, err := verifyOnce(t, b); err == nil || Status(err) != result.Fail {
			t.Fatalf("%s: verified %+v, error %v (status %s)", what, v, err, Status(err))
		}
	}
	f.Fuzz(func(t *testing.T, name, predicateType, note string, pos uint, otherType, payloadType string, payload []byte) {
		// Round trip.
		st, err := json.Marshal(map[string]any{
			"_type":         "https://in-toto.io/Statement/v1",
			"subject":       []any{map[string]any{"name": name, "digest": map[string]any{"sha256": digest}}},
			"predicateType": "https://example.com/" + predicateType,
			"predicate":     map[string]any{"note": note},
		})
		if err != nil {
			t.Fatal(err)
		}
		const intoto = "application/vnd.in-toto+json"
		good := s.bundle(t, intoto, st, s.sign(t, dssePAE(intoto, st)))
		v, err := verify(t, good)
		if err != nil {
			t.Fatalf("a statement signed over its PAE does not verify: %v\n%s", err, st)
		}
		if v.Statement == nil || !bytes.Equal(v.Statement.Raw, st) || v.KeyFingerprint != s.fp || v.Keyless {
			t.Fatalf("verified %+v", v)
		}
		envs, err := provenance.ParseEnvelopes(bytes.NewReader(good))
		if err != nil || len(envs) != 1 || envs[0].PayloadType != intoto || !bytes.Equal(envs[0].Payload, st) || envs[0].Signatures != 1 {
			t.Fatalf("provenance unpacks %+v, %v", envs, err)
		}

		// Mutations.
		sig := s.sign(t, dssePAE(intoto, st))
		flipped := bytes.Clone(st)
		flipped[pos%uint(len(flipped))] ^= 1 << (pos / uint(len(flipped)) % 8)
		mustFail(t, "flipped payload bit", s.bundle(t, intoto, flipped, sig))
		if otherType == intoto {
			otherType += " "
		}
		mustFail(t, "payloadType "+otherType, s.bundle(t, otherType, st, sig))
		mustFail(t, "S1 signature over the raw payload", s.bundle(t, intoto, st, s.sign(t, st)))
		b64 := []byte(base64.StdEncoding.EncodeToString(st))
		mustFail(t, "S4 PAE over the base64 text", s.bundle(t, intoto, st, s.sign(t, dssePAE(intoto, b64))))
		if n := utf8.RuneCount(st); n != len(st) {
			runes := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(intoto), intoto, n, st)
			mustFail(t, "S3 PAE counting characters", s.bundle(t, intoto, st, s.sign(t, runes)))
		}
		badSig := bytes.Clone(sig)
		badSig[pos%uint(len(badSig))] ^= 0x80
		mustFail(t, "flipped signature bit", s.bundle(t, intoto, st, badSig))

		// An arbitrary payload and type.
		if !utf8.ValidString(payloadType) {
			return // JSON cannot carry it
		}
		v, err = verify(t, s.bundle(t, payloadType, payload, s.sign(t, dssePAE(payloadType, payload))))
		if err == nil && (payloadType != intoto || v.Statement == nil || !bytes.Equal(v.Statement.Raw, payload)) {
			t.Fatalf("payloadType %q verified as %+v", payloadType, v)
		}
	})
}
