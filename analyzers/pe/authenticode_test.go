package pe

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kensa.dev/kensa/internal/fixture"
)

// pemSHA256 is the SHA-256 fingerprint of the certificate in a PEM file.
func pemSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	sum := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(sum[:])
}

// checkSignature asserts the facts every fixture signed with the test leaf has.
func checkSignature(t *testing.T, fx *fixtures, s Signature, alg string) {
	t.Helper()
	if s.DigestAlgorithm != alg || !s.SignatureVerifies || s.VerifyError != "" {
		t.Errorf("signature: alg %s verifies %v (%s)", s.DigestAlgorithm, s.SignatureVerifies, s.VerifyError)
	}
	leafFP := pemSHA256(t, filepath.Join(fx.dir, "leaf.pem"))
	caFP := pemSHA256(t, fx.ca)
	if s.Signer == nil || s.Signer.Subject != "CN=Kensa Test Code Signing,O=Kensa" || s.Signer.Issuer != "CN=Kensa Test CA,O=Kensa" ||
		s.Signer.Serial != fx.leafSerial.Text(16) || s.Signer.SHA256 != leafFP ||
		s.Signer.NotBefore != "2020-01-01T00:00:00Z" || s.Signer.NotAfter != "2045-01-01T00:00:00Z" {
		t.Errorf("signer = %+v", s.Signer)
	}
	// The chain as embedded: a DER SET, so in encoding order rather than chain order.
	fps := map[string]Certificate{}
	for _, c := range s.Certificates {
		fps[c.SHA256] = c
	}
	if ca := fps[caFP]; len(s.Certificates) != 2 || s.Signer == nil || fps[leafFP] != *s.Signer || ca.Subject != "CN=Kensa Test CA,O=Kensa" || ca.Serial != "1" || ca.Issuer != ca.Subject {
		t.Errorf("certificates = %+v", s.Certificates)
	}
}

func TestSigned(t *testing.T) {
	fx := getFixtures(t)
	plain, err := analyzeFile(t, fx.exe)
	if err != nil {
		t.Fatal(err)
	}
	f, err := analyzeFile(t, fx.signed)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(fx.exe)
	a := f.Authenticode
	if !a.Present || a.TableOffset != uint32(st.Size()) || a.TableSize == 0 || !a.Intact || a.TrailingBytes != 0 || len(a.UnsignedRegions) != 0 {
		t.Fatalf("authenticode = %+v", a)
	}
	// Signing changes neither the image digest nor the facts about the image.
	if a.Authentihash["sha256"] != plain.Authenticode.Authentihash["sha256"] || a.Authentihash["sha1"] != plain.Authenticode.Authentihash["sha1"] {
		t.Errorf("authentihash changed by signing: %v vs %v", a.Authentihash, plain.Authenticode.Authentihash)
	}
	if len(a.Signatures) != 1 {
		t.Fatalf("signatures = %+v", a.Signatures)
	}
	s := a.Signatures[0]
	checkSignature(t, fx, s, "sha256")
	if s.Nested || !s.DigestMatches || s.SignedDigest != a.Authentihash["sha256"] || len(s.Countersignatures) != 0 {
		t.Errorf("signature = %+v", s)
	}
	if f.Overlay != nil || len(f.Anomalies) != 0 || !f.Checksum.Valid {
		t.Errorf("overlay %+v anomalies %q checksum %+v", f.Overlay, f.Anomalies, f.Checksum)
	}
	if !slices.Equal(plain.Imports, f.Imports) || plain.ImpHash != f.ImpHash {
		t.Error("imports differ between signed and unsigned")
	}
}

func TestTimestamped(t *testing.T) {
	fx := getFixtures(t)
	f, err := analyzeFile(t, fx.timestamped)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Authenticode
	if !a.Intact || len(a.Signatures) != 1 {
		t.Fatalf("authenticode = %+v", a)
	}
	s := a.Signatures[0]
	checkSignature(t, fx, s, "sha256")
	want := []Countersignature{{Kind: "rfc3161", Time: time.Unix(tsaTime, 0).UTC().Format(time.RFC3339), Signer: "CN=Kensa Test TSA,O=Kensa"}}
	if !slices.Equal(s.Countersignatures, want) {
		t.Fatalf("countersignatures = %+v, want %+v", s.Countersignatures, want)
	}
}

func TestNested(t *testing.T) {
	fx := getFixtures(t)
	f, err := analyzeFile(t, fx.nested)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Authenticode
	if !a.Intact || len(a.Signatures) != 2 {
		t.Fatalf("authenticode = %+v", a)
	}
	checkSignature(t, fx, a.Signatures[0], "sha256")
	checkSignature(t, fx, a.Signatures[1], "sha1")
	n := a.Signatures[1]
	if a.Signatures[0].Nested || !n.Nested || !n.DigestMatches || n.SignedDigest != a.Authentihash["sha1"] {
		t.Fatalf("nested = %+v", n)
	}
}

func TestA1PaddedCertificateTable(t *testing.T) {
	fx := getFixtures(t)
	f, err := analyzeFile(t, fx.padded)
	if err != nil {
		t.Fatal(err)
	}
	signed, _ := analyzeFile(t, fx.signed)
	a := f.Authenticode
	// The signature still covers the image: Windows without EnableCertPaddingCheck accepts
	// it, and the smuggled bytes are reported.
	if !a.Intact || a.TrailingBytes != 16 || a.TableSize != signed.Authenticode.TableSize+16 || len(a.UnsignedRegions) != 0 {
		t.Fatalf("authenticode = %+v", a)
	}
	if !slices.Contains(f.Anomalies, "certificate table holds 16 non-zero bytes outside any signature") {
		t.Errorf("anomalies = %q", f.Anomalies)
	}
}

func TestA2TrailingData(t *testing.T) {
	fx := getFixtures(t)
	f, err := analyzeFile(t, fx.trailing)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(fx.signed)
	a := f.Authenticode
	s := a.Signatures[0]
	if a.Intact || !s.DigestMatches || !s.SignatureVerifies {
		t.Fatalf("authenticode = %+v", a)
	}
	want := []Region{{Offset: st.Size(), Size: 29}}
	if !slices.Equal(a.UnsignedRegions, want) {
		t.Errorf("unsigned regions = %+v, want %+v", a.UnsignedRegions, want)
	}
	if f.Overlay == nil || f.Overlay.Offset != st.Size() || f.Overlay.Size != 29 || f.Overlay.Entropy <= 0 {
		t.Errorf("overlay = %+v", f.Overlay)
	}
	if !slices.Contains(f.Anomalies, "29 bytes follow the certificate table") {
		t.Errorf("anomalies = %q", f.Anomalies)
	}
}

func TestTampered(t *testing.T) {
	fx := getFixtures(t)
	f, err := analyzeFile(t, fx.tampered)
	if err != nil {
		t.Fatal(err)
	}
	signed, _ := analyzeFile(t, fx.signed)
	a := f.Authenticode
	s := a.Signatures[0]
	if a.Intact || s.DigestMatches || !s.SignatureVerifies || s.SignedDigest != signed.Authenticode.Authentihash["sha256"] || a.Authentihash["sha256"] == s.SignedDigest {
		t.Fatalf("authenticode = %+v", a)
	}
}

func TestBadSignatureValue(t *testing.T) {
	b := badSignature(t, getFixtures(t))
	f, err := analyzeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	s := f.Authenticode.Signatures[0]
	if f.Authenticode.Intact || !s.DigestMatches || s.SignatureVerifies || s.VerifyError == "" {
		t.Fatalf("signature = %+v", s)
	}
}

// badSignature flips the last byte of the PKCS#7 of the signed fixture: the signer's
// encrypted digest, the last field of a SignerInfo without unsigned attributes.
func badSignature(t testing.TB, fx *fixtures) []byte {
	b, err := os.ReadFile(fx.signed)
	if err != nil {
		t.Fatal(err)
	}
	d := fixture.PECertDir(b)
	off := int(binary.LittleEndian.Uint32(b[d:]))
	content := b[off+8:]
	n := derLength(content)
	c := bytes.Clone(b)
	c[off+8+n-1] ^= 0x01
	return c
}

func TestPKCS9Countersignature(t *testing.T) {
	when := time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC)
	tm, _ := asn1.Marshal(when)
	var si signerInfo
	si.Version = 1
	si.IssuerAndSerial.Issuer = asn1.RawValue{FullBytes: []byte{0x30, 0}}
	si.IssuerAndSerial.Serial = big.NewInt(7)
	si.DigestAlgorithm = pkix.AlgorithmIdentifier{Algorithm: digestAlgs[1].oid}
	si.DigestEncryptionAlgorithm = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}}
	si.EncryptedDigest = []byte{1, 2, 3}
	si.AuthenticatedAttributes = []attribute{{Type: oidSigningTime, Value: asn1.RawValue{Class: 0, Tag: 17, IsCompound: true, Bytes: tm}}}
	der, err := asn1.Marshal(si)
	if err != nil {
		t.Fatal(err)
	}
	got := pkcs9Countersignatures(der, nil)
	if len(got) != 1 || got[0] != (Countersignature{Kind: "pkcs9", Time: "2021-05-06T07:08:09Z"}) {
		t.Fatalf("countersignatures = %+v", got)
	}
	if got := pkcs9Countersignatures([]byte{0x30, 0x03, 1}, nil); len(got) != 1 || got[0].Time != "" {
		t.Fatalf("malformed countersignature = %+v", got)
	}
}

func TestG4X2DeepBER(t *testing.T) {
	// 100 000 nested indefinite-length SEQUENCEs, then definite ones.
	deep := bytes.Repeat([]byte{0x30, 0x80}, 100000)
	if berDepthOK(deep, maxBERDepth) {
		t.Fatal("deep indefinite nesting accepted")
	}
	if _, err := parsePKCS7(deep); err == nil {
		t.Fatal("parsePKCS7 accepted deep nesting")
	}
	var def []byte
	for i := 0; i < 100; i++ {
		def = append([]byte{0x30, 0x82, byte(len(def) >> 8), byte(len(def))}, def...)
	}
	if berDepthOK(def, maxBERDepth) {
		t.Fatal("deep definite nesting accepted")
	}
	b, err := os.ReadFile(getFixtures(t).timestamped)
	if err != nil {
		t.Fatal(err)
	}
	off := int(binary.LittleEndian.Uint32(b[fixture.PECertDir(b):]))
	if !berDepthOK(b[off+8:], maxBERDepth) {
		t.Fatal("a real signature was refused")
	}
}
