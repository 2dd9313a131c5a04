package authenticode

import (
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/result"
)

// The bad-input series A (Authenticode) and X (X.509 / PKCS#7) of
// shared/reference/bad-inputs.md. A2, A3, A8, A9 and X4 are rows of
// TestAgainstOsslsigncode ("A2 appended", "A3 untrusted root", "A8 expired …", "A9 sha1",
// "A9 md5", "X4 intermediate expired at signing"), which also checks A1, A5, A10 and X5
// against osslsigncode; A4 is TestA4NoRoots.

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkBytes(t testing.TB, b []byte, o Options) map[string][]result.Check {
	t.Helper()
	return byName(Check("app.exe", bytes.NewReader(b), int64(len(b)), o))
}

// A1: bytes added inside the certificate table, with the directory and dwLength grown
// to match, fail the coverage check whatever they hold, zeros included.
func TestA1PaddingInsideTable(t *testing.T) {
	f := getFixtures(t)
	signed := readFile(t, f.signed)
	for name, extra := range map[string][]byte{"payload": []byte("KENSA-PAYLOAD!!!"), "zeros": make([]byte, 16)} {
		got := checkBytes(t, fixture.PEPadCertTable(signed, extra), f.opts(t))
		expect{result.Pass, "valid"}.assert(t, name+" "+CheckName, got[CheckName])
		expect{result.Fail, fmt.Sprintf("16 bytes at offset %d (0x%x): bytes after the signature and its padding", len(signed), len(signed))}.assert(t, name+" "+CheckCoverage, got[CheckCoverage])
	}
}

// A5: the identity is the primary signer; a nested signature by the expected publisher
// does not make another publisher's file pass, and nested signatures are reported apart.
func TestA5NestedIdentity(t *testing.T) {
	f := getFixtures(t)
	got := verifyFile(t, f.otherThenVendor, f.opts(t))
	expect{result.Fail, `signed by "CN=Kensa Other Publisher,O=Kensa Test"`}.assert(t, CheckName, got[CheckName])
	expect{result.Pass, `nested signature 1 by "CN=Kensa Vendor Code Signing,O=Kensa Test"`}.assert(t, CheckNested, got[CheckNested])
	if !osslVerify(t, f.otherThenVendor, f.root.pem, f.tsaRoot.pem, testNow) {
		t.Error("osslsigncode rejects the nested fixture")
	}
}

// A5 (osslsigncode -addUnauthenticatedBlob): data in an unauthenticated attribute is
// covered by nothing.
func TestA5UnauthenticatedBlob(t *testing.T) {
	f := getFixtures(t)
	got := verifyFile(t, f.blob, f.opts(t))
	expect{result.Pass, "valid"}.assert(t, CheckName, got[CheckName])
	expect{result.Fail, "in an unauthenticated attribute 1.3.6.1.4.1.42921.1.2.1 of signature 0"}.assert(t, CheckCoverage, got[CheckCoverage])
}

// A6: extra certificates in the bag (here an untrusted root's leaf) change nothing.
func TestA6ExtraCertificates(t *testing.T) {
	f := getFixtures(t)
	got := verifyFile(t, f.extraCerts, f.opts(t))
	expect{result.Pass, `by "CN=Kensa Vendor Code Signing,O=Kensa Test"`}.assert(t, CheckName, got[CheckName])
	expect{result.Pass, "covered"}.assert(t, CheckCoverage, got[CheckCoverage])
}

// A7: a WIN_CERTIFICATE length of 0, below 8, or other than the directory's size never
// passes.
func TestA7CertificateLength(t *testing.T) {
	f := getFixtures(t)
	signed := readFile(t, f.signed)
	d := fixture.PECertDir(signed)
	off := binary.LittleEndian.Uint32(signed[d:])
	size := binary.LittleEndian.Uint32(signed[d+4:])
	for _, l := range []uint32{0, 7, size + 8, size - 8, size - 200} {
		b := bytes.Clone(signed)
		binary.LittleEndian.PutUint32(b[off:], l)
		got := checkBytes(t, b, f.opts(t))
		for _, c := range append(got[CheckName], got[CheckCoverage]...) {
			if c.Status == result.Pass {
				t.Errorf("dwLength %d: %s passes: %s", l, c.Name, c.Detail)
			}
		}
		if len(got[CheckName]) == 0 {
			t.Errorf("dwLength %d: no %s check", l, CheckName)
		}
	}
}

// A10: every WIN_CERTIFICATE entry is read: a second one holding a signature is verified
// and reported; one holding anything else is a coverage fail (TestAgainstOsslsigncode).
func TestA10SecondEntry(t *testing.T) {
	f := getFixtures(t)
	o := f.opts(t)
	got := verifyFile(t, f.secondSig, o)
	expect{result.Pass, "valid"}.assert(t, CheckName, got[CheckName])
	expect{result.Pass, `additional signature 1 (a further certificate table entry, which Windows ignores) by "CN=Kensa Other Publisher,O=Kensa Test"`}.assert(t, CheckNested, got[CheckNested])
	expect{result.Pass, "covered"}.assert(t, CheckCoverage, got[CheckCoverage])
	// Untrusted, the second signature fails on its own.
	rogue, err := LoadRoots([]string{f.rogueRoot.pem}, false)
	if err != nil {
		t.Fatal(err)
	}
	o.Roots = rogue
	got = verifyFile(t, f.secondSig, o)
	expect{result.Fail, "unknown authority"}.assert(t, CheckNested, got[CheckNested])
}

// A11: a SignedData without certificates, or without signer infos, fails and does not
// panic.
func TestA11EmptySignedData(t *testing.T) {
	f := getFixtures(t)
	unsigned := readFile(t, f.unsigned)
	p7 := readFile(t, filepath.Join(f.dir, "other.p7"))
	for _, c := range []struct {
		name   string
		drop   int // index in SignedData: 3 certificates, last signer infos
		detail string
	}{
		// The PKCS#7 parser reads no signer info when the certificates are missing.
		{"no certificates", 3, "signer"},
		{"no signer infos", -1, "has 0 signer infos"},
	} {
		der := rebuildSignedData(t, p7, c.drop)
		got := checkBytes(t, withSignature(unsigned, der), f.opts(t))
		expect{result.Fail, c.detail}.assert(t, c.name, got[CheckName])
	}
}

// A12: page hashes are not verified (the file digest covers the same bytes); a file
// signed with them verifies like any other.
func TestA12PageHashes(t *testing.T) {
	f := getFixtures(t)
	got := verifyFile(t, f.pageHashes, f.opts(t))
	expect{result.Pass, "valid"}.assert(t, CheckName, got[CheckName])
	if !osslVerify(t, f.pageHashes, f.root.pem, f.tsaRoot.pem, testNow) {
		t.Error("osslsigncode rejects the page-hash fixture")
	}
}

// X1: a signature embedding more than 32 certificates fails before any chain building.
func TestX1ManyCertificates(t *testing.T) {
	f := getFixtures(t)
	got := verifyFile(t, f.manyCerts, f.opts(t))
	expect{result.Fail, "more than the 32 accepted"}.assert(t, CheckName, got[CheckName])
}

// X2: trust files that are huge, garbage or of the wrong kind are errors; a signature
// nested 100000 ASN.1 levels deep fails without exhausting the stack.
func TestX2HostileEncodings(t *testing.T) {
	f := getFixtures(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := write("huge.pem", bytes.Repeat([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n"), (maxRootFile/32)+1))
	garbage := write("garbage.pem", bytes.Repeat([]byte("-----BEGIN"), 10000))
	key := write("key.pem", readFile(t, f.vendor.keyFile))
	der := write("huge-length.der", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01})
	for _, p := range []string{huge, garbage, key, der, filepath.Join(dir, "missing.pem")} {
		if _, err := LoadRoots([]string{p}, false); err == nil {
			t.Errorf("LoadRoots(%s) accepted", filepath.Base(p))
		}
	}
	if pool, err := LoadRoots([]string{f.root.pem, write("root.der", f.root.cert.Raw)}, false); err != nil || pool == nil {
		t.Errorf("LoadRoots of PEM and DER: %v", err)
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, 100000)
	got := checkBytes(t, withSignature(readFile(t, f.unsigned), deep), f.opts(t))
	expect{result.Fail, "nests ASN.1 deeper"}.assert(t, CheckName, got[CheckName])
}

// X5: a leaf without the code-signing usage itself (anyExtendedKeyUsage only is a row of
// TestAgainstOsslsigncode) fails, also when it has no extended key usage at all.
func TestX5NoCodeSigningUsage(t *testing.T) {
	f := getFixtures(t)
	o := f.opts(t)
	o.Signers = nil
	got := verifyFile(t, f.noEKUSigned, o)
	expect{result.Fail, "lacks the code-signing extended key usage"}.assert(t, CheckName, got[CheckName])
}

func TestParseSigner(t *testing.T) {
	f := getFixtures(t)
	c := f.vendor.cert
	for s, want := range map[string]bool{
		"cn:Kensa Vendor Code Signing": true,
		"CN:Kensa Vendor Code Signing": true,
		"cn:kensa vendor code signing": false,
		"o:Kensa Test":                 true,
		"o:Kensa":                      false,
		"subject:CN=Kensa Vendor Code Signing,O=Kensa Test": true,
		"subject:CN=Kensa Vendor Code Signing":              false,
		"sha256:" + fingerprint(c):                          true,
		"sha256:" + strings.ToUpper(fingerprint(c)):         true,
		"sha256:" + fingerprint(f.other.cert):               false,
	} {
		m, err := ParseSigner(s)
		if err != nil {
			t.Errorf("ParseSigner(%q): %v", s, err)
			continue
		}
		if m.Match(c) != want {
			t.Errorf("%q matches = %v, want %v", s, !want, want)
		}
	}
	for _, s := range []string{"", "Kensa", "cn:", "email:a@b", "sha256:abcd", "sha256:" + strings.Repeat("zz", 32)} {
		if _, err := ParseSigner(s); err == nil {
			t.Errorf("ParseSigner(%q) accepted", s)
		}
	}
}

// withSignature puts der as the only WIN_CERTIFICATE entry of an unsigned PE32+ file.
func withSignature(unsigned, der []byte) []byte {
	b := bytes.Clone(unsigned)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	d := fixture.PECertDir(b)
	binary.LittleEndian.PutUint32(b[d:], uint32(len(b)))
	b = addCertEntryAt(b, der)
	binary.LittleEndian.PutUint32(b[d+4:], uint32(len(b))-binary.LittleEndian.Uint32(b[d:]))
	return b
}

func addCertEntryAt(b, der []byte) []byte {
	entry := make([]byte, 8, 16+len(der))
	binary.LittleEndian.PutUint32(entry, uint32(8+len(der)))
	binary.LittleEndian.PutUint16(entry[4:], 0x0200)
	binary.LittleEndian.PutUint16(entry[6:], 2)
	entry = append(entry, der...)
	for len(entry)%8 != 0 {
		entry = append(entry, 0)
	}
	return append(b, entry...)
}

// rebuildSignedData re-encodes a ContentInfo holding SignedData without its element
// drop (3: the certificates; -1: the signer infos, which are emptied).
func rebuildSignedData(t testing.TB, der []byte, drop int) []byte {
	t.Helper()
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	var sd asn1.RawValue
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	var elems []asn1.RawValue
	for rest := sd.Bytes; len(rest) > 0; {
		var e asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &e); err != nil {
			t.Fatal(err)
		}
		elems = append(elems, e)
	}
	var body []byte
	for i, e := range elems {
		switch {
		case i == drop:
		case drop < 0 && i == len(elems)-1:
			body = append(body, 0x31, 0x00)
		default:
			body = append(body, e.FullBytes...)
		}
	}
	out, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}{ci.Type, asn1.RawValue{FullBytes: mustMarshal(t, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
