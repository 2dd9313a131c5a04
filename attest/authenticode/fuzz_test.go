package authenticode

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/result"
)

// FuzzVerify feeds mutated signed PE files to Verify, seeded with the fixtures. Besides
// no panic and well-formed, deterministic checks, it holds the mutation oracle of
// bad-inputs.md: a primary signature may pass only when the file's authentihash is one
// the test keys signed, so any change to a hashed byte fails.
//
// Each input costs a few PKCS#7 parses and RSA verifications, so the fuzzer spends much
// of a short run minimizing what it finds; -fuzzminimizetime 5s keeps it mutating.
func FuzzVerify(f *testing.F) {
	fx := getFixtures(f)
	opts := fx.opts(f)
	signedDigests := map[string]bool{}
	for _, p := range []string{fx.signed, fx.timestamped, fx.expiredTS, fx.nested, fx.padded, fx.secondSig, fx.unsigned, fx.blob} {
		b := readFile(f, p)
		f.Add(b)
		si, err := pe.ReadAuthenticode(b)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range si.Authenticode.Signatures {
			signedDigests[s.DigestAlgorithm+":"+s.SignedDigest] = true
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Verify(bytes.NewReader(b), int64(len(b)), opts)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		checks := res.Checks("x.exe")
		primary := 0
		for _, c := range checks {
			if c.Status != result.Pass && c.Status != result.Fail && c.Status != result.Skip || c.Detail == "" {
				t.Fatalf("check %+v", c)
			}
			if c.Name == CheckName {
				primary++
			}
		}
		if primary != 1 || res.Signed && checks[len(checks)-1].Name != CheckCoverage {
			t.Fatalf("%d %s checks", primary, CheckName)
		}
		if checks[0].Status != result.Pass {
			return
		}
		si, err := pe.ReadAuthenticode(b)
		if err != nil {
			t.Fatal(err)
		}
		alg := res.Signatures[0].DigestAlgorithm
		if h := si.Authenticode.Authentihash[alg]; !signedDigests[alg+":"+h] {
			t.Fatalf("a file with the unsigned authentihash %s:%s passed", alg, h)
		}
	})
}

// fuzzSignedWith returns the signed PE32+ file signed with its certificate table replaced
// by one WIN_CERTIFICATE entry holding p7, and the certificate table directory entry
// resized to match. The authentihash does not cover the table, so the file's is
// unchanged.
func fuzzSignedWith(tb testing.TB, signed []byte, si *pe.SignedImage, p7 []byte) []byte {
	tb.Helper()
	le := binary.LittleEndian
	entry := make([]byte, 8, 8+len(p7)+7)
	le.PutUint32(entry, uint32(8+len(p7)))
	le.PutUint16(entry[4:], 0x200) // WIN_CERT_REVISION_2_0
	le.PutUint16(entry[6:], 2)     // WIN_CERT_TYPE_PKCS_SIGNED_DATA
	entry = append(entry, p7...)
	for len(entry)%8 != 0 {
		entry = append(entry, 0)
	}
	out := slices.Concat(signed[:si.TableStart], entry, signed[si.TableEnd:])
	d := fixture.PECertDir(out)
	le.PutUint32(out[d+4:], uint32(len(entry)))
	return out
}

// FuzzPKCS7 fuzzes the PKCS#7 SignedData of a signed PE file alone: the input is the
// signature blob, put into the certificate table of a fixture whose image the test keys
// signed, and verified as a whole (PKCS#7 parse, signer info, certificates, nested
// signatures, RFC 3161 and PKCS#9 countersignatures, chain building, with the package's
// caps). Seeds are the signatures of the fixtures. Nothing panics, the checks are the
// same twice, the signatures reported stay within the caps, and the primary signature
// passes only when its signer info carries a signature value the test keys made (one
// of the seeds'): no blob the fuzzer makes up verifies.
func FuzzPKCS7(f *testing.F) {
	fx := getFixtures(f)
	opts := fx.opts(f)
	base, err := os.ReadFile(fx.signed)
	if err != nil {
		f.Fatal(err)
	}
	baseSI, err := pe.ReadAuthenticode(base)
	if err != nil || baseSI.TableEnd <= baseSI.TableStart {
		f.Fatalf("the signed fixture has no certificate table: %v", err)
	}
	made := map[string]bool{}
	for _, p := range []string{fx.signed, fx.timestamped, fx.expiredTS, fx.nested, fx.nestedSHA1, fx.sha1,
		fx.extraCerts, fx.anyEKUSigned, fx.rogueSigned, fx.shortInterTS, fx.otherSigned} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		si, err := pe.ReadAuthenticode(b)
		if err != nil || len(si.Entries) == 0 || si.Entries[0].SignatureLength == 0 {
			f.Fatalf("%s: no signature (%v)", p, err)
		}
		for _, sd := range si.Signatures {
			if sd.PKCS7 != nil && len(sd.PKCS7.Signers) == 1 {
				made[string(sd.PKCS7.Signers[0].EncryptedDigest)] = true
			}
		}
		e := si.Entries[0]
		p7 := bytes.Clone(b[e.Offset+8 : e.Offset+8+e.SignatureLength])
		if p == fx.signed || p == fx.timestamped {
			// The fixtures sign one image: their signatures pass on the base file.
			file := fuzzSignedWith(f, base, baseSI, p7)
			if c := Check("x.exe", bytes.NewReader(file), int64(len(file)), opts); c[0].Status != result.Pass {
				f.Fatalf("%s: the signature on the base file gives %+v", p, c[0])
			}
		}
		f.Add(p7)
	}
	f.Fuzz(func(t *testing.T, p7 []byte) {
		file := fuzzSignedWith(t, base, baseSI, p7)
		res, err := Verify(bytes.NewReader(file), int64(len(file)), opts)
		res2, err2 := Verify(bytes.NewReader(file), int64(len(file)), opts)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("two runs differ: %v and %v", err, err2)
		}
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		checks := res.Checks("x.exe")
		if !reflect.DeepEqual(checks, res2.Checks("x.exe")) {
			t.Fatalf("two runs differ: %+v and %+v", checks, res2.Checks("x.exe"))
		}
		if len(res.Signatures) > maxNested+2 {
			t.Fatalf("%d signatures reported", len(res.Signatures))
		}
		for _, s := range res.Signatures {
			if len(s.Problems) > maxCountersignatures+8 {
				t.Fatalf("%d problems: %v", len(s.Problems), s.Problems)
			}
		}
		if checks[0].Name != CheckName || checks[0].Status != result.Pass {
			return
		}
		si, err := pe.ReadAuthenticode(file)
		if err != nil || len(si.Signatures) == 0 || si.Signatures[0].PKCS7 == nil || len(si.Signatures[0].PKCS7.Signers) != 1 {
			t.Fatalf("passed, but the signature does not read back: %v", err)
		}
		if !made[string(si.Signatures[0].PKCS7.Signers[0].EncryptedDigest)] {
			t.Fatalf("a signature value the test keys did not make passed: %s", checks[0].Detail)
		}
		if !strings.Contains(res.Signatures[0].Subject, "Kensa Vendor Code Signing") {
			t.Fatalf("passed for signer %q, not the pinned one", res.Signatures[0].Subject)
		}
	})
}

// FuzzCertChain fuzzes certificate input and chain building: the input is read by
// ParseCertificates (PEM or DER, as trusted root files are), and its first certificate
// is checked by chainOK, with the others as the embedded intermediates, against the
// fixtures' code-signing root (code-signing usage) and TSA root (time-stamping usage).
// Seeds are the fixtures' certificate chains. Nothing panics, the count stays within
// the cap, results are the same twice, and a chain accepted for a usage has a leaf that
// names that usage itself and a chain, no longer than maxChainLen, to the root.
func FuzzCertChain(f *testing.F) {
	fx := getFixtures(f)
	opts := fx.opts(f)
	for _, name := range []string{"vendor-chain.pem", "other-chain.pem", "expired-chain.pem", "anyeku-chain.pem",
		"noeku-chain.pem", "rogue-chain.pem", "undershort-chain.pem", "tsa-chain.pem", "inter.pem", "root.pem"} {
		b, err := os.ReadFile(fx.path(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if b, err := os.ReadFile(fx.path("vendor.pem")); err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			f.Add(blk.Bytes)
		}
	}
	at := opts.Time
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := ParseCertificates(b)
		certs2, err2 := ParseCertificates(b)
		if (err == nil) != (err2 == nil) || len(certs) != len(certs2) {
			t.Fatalf("two parses differ: %d certificates (%v) and %d (%v)", len(certs), err, len(certs2), err2)
		}
		if err != nil {
			return
		}
		if len(certs) == 0 || len(certs) > maxRootCerts {
			t.Fatalf("%d certificates", len(certs))
		}
		leaf := certs[0]
		for _, c := range []struct {
			roots *x509.CertPool
			eku   x509.ExtKeyUsage
		}{{opts.Roots, x509.ExtKeyUsageCodeSigning}, {opts.TSARoots, x509.ExtKeyUsageTimeStamping}} {
			err := chainOK(leaf, certs, c.roots, c.eku, at)
			if again := chainOK(leaf, certs, c.roots, c.eku, at); (err == nil) != (again == nil) {
				t.Fatalf("two chain checks differ: %v and %v", err, again)
			}
			if err != nil {
				continue
			}
			if !slices.Contains(leaf.ExtKeyUsage, c.eku) {
				t.Fatalf("accepted %q for %s without that extended key usage", leaf.Subject, ekuName(c.eku))
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			chains, verr := leaf.Verify(x509.VerifyOptions{Roots: c.roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{c.eku}})
			if verr != nil || !slices.ContainsFunc(chains, func(ch []*x509.Certificate) bool { return len(ch) <= maxChainLen }) {
				t.Fatalf("accepted %q for %s, but crypto/x509 finds no short chain: %v", leaf.Subject, ekuName(c.eku), verr)
			}
		}
	})
}

// FuzzAuthenticodeFlip is the mutation oracle of bad-inputs.md aimed directly: it
// changes one byte (at a fuzzed offset, by a fuzzed non-zero XOR) of a PE file that
// verifies cleanly (the vendor's signature, no countersignature) and verifies it again.
// A changed byte inside the hashed ranges must fail the signature. One in the
// WIN_CERTIFICATE header or the padding after the signature must fail the signature or
// be flagged by the coverage check. Only the PE checksum, which Authenticode leaves out
// on purpose and nothing verifies, may change freely, and dwLength may switch between
// the signature's length with and without its padding.
//
// A changed byte inside the PKCS#7 SignedData must fail the signature too, now that its
// form is checked (strict.go): versions, the digestAlgorithms set, content type OIDs,
// algorithm parameters and every length octet are fixed. One byte remains free, and the
// oracle names it: the last octet of the SignerInfo's signature algorithm OID may turn
// rsaEncryption (1.2.840.113549.1.1.1) into shaNNNWithRSAEncryption for the SignerInfo's
// own digest algorithm (…1.1.11 for SHA-256), two spellings of the same RSA PKCS#1 v1.5
// signature that RFC 3370 and RFC 4056 both allow in a SignerInfo. Beside it, the
// oracle still checks that no pass changes the signer, the signature value or the
// signed file digest.
func FuzzAuthenticodeFlip(f *testing.F) {
	fx := getFixtures(f)
	opts := fx.opts(f)
	base, err := os.ReadFile(fx.signed)
	if err != nil {
		f.Fatal(err)
	}
	si, err := pe.ReadAuthenticode(base)
	if err != nil || len(si.Entries) != 1 {
		f.Fatalf("the signed fixture: %v", err)
	}
	res, err := Verify(bytes.NewReader(base), int64(len(base)), opts)
	if err != nil || len(res.Signatures) != 1 || si.Signatures[0].PKCS7 == nil {
		f.Fatalf("the signed fixture: %v", err)
	}
	for _, c := range res.Checks("x.exe") {
		if c.Status != result.Pass {
			f.Fatalf("the signed fixture does not verify cleanly: %+v", c)
		}
	}
	baseSigner := res.Signatures[0].SHA256
	checksum := int64(binary.LittleEndian.Uint32(base[0x3c:])) + 24 + 64
	e := si.Entries[0]
	for _, off := range []int64{0, 0x3c, checksum, checksum - 1, int64(fixture.PECertDir(base)), int64(fixture.PETextOffset(base)),
		e.Offset, e.Offset + 1, e.Offset + 5, e.Offset + 8, e.Offset + 8 + e.SignatureLength/2, e.Offset + 8 + e.SignatureLength - 1, si.TableEnd - 1} {
		f.Add(uint64(off), byte(1))
		f.Add(uint64(off), byte(0x80))
	}
	// Bytes of the PKCS#7 that passed before its form was checked: the SignedData and
	// SignerInfo versions, the digestAlgorithms OID, the content type OID, the NULL
	// parameters of the signature algorithm; and the one free byte.
	p7 := base[e.Offset+8 : e.Offset+8+e.SignatureLength]
	for _, s := range []struct {
		path []int
		x    byte
	}{{pSDVersion, 2}, {pSIVersion, 2}, {path(pDigestAlgs, 0, 0), 2}, {path(pEncap, 0), 1}, {path(pSigAlg, 1), 1}, {path(pSigAlg, 0), 0x0a}} {
		at := -1
		editDER(f, p7, s.path, func(e []byte) []byte {
			at = cap(p7) - cap(e) + len(e) - 1
			if len(e) == 2 {
				at -= 1 // NULL: its tag
			}
			return e
		})
		f.Add(uint64(e.Offset+8+int64(at)), s.x)
	}
	// dwLength one past the signature's length, and past the end of the table.
	dwLength := int64(binary.LittleEndian.Uint32(base[e.Offset:]))
	for _, l := range []int64{8 + e.SignatureLength + 1, si.TableEnd - e.Offset + 4} {
		if d := dwLength ^ l; d > 0 && d < 256 {
			f.Add(uint64(e.Offset), byte(d))
		}
	}
	f.Fuzz(func(t *testing.T, pos uint64, x byte) {
		if x == 0 {
			return
		}
		off := int64(pos % uint64(len(base)))
		if off >= checksum && off < checksum+4 {
			return
		}
		b := bytes.Clone(base)
		b[off] ^= x
		res, err := Verify(bytes.NewReader(b), int64(len(b)), opts)
		if err != nil {
			return
		}
		for _, c := range res.Checks("x.exe") {
			if c.Status != result.Pass {
				return
			}
		}
		if off >= e.Offset && off < e.Offset+4 {
			// dwLength may give the signature's length with or without the padding to 8
			// bytes: both forms are in use.
			if l := int64(binary.LittleEndian.Uint32(b[e.Offset:])); l == 8+e.SignatureLength || l == (8+e.SignatureLength+7)&^7 {
				return
			}
		}
		if p7 := off >= e.Offset+8 && off < e.Offset+8+e.SignatureLength; p7 {
			got, err := pe.ReadAuthenticode(b)
			if err != nil || len(got.Signatures) != 1 || got.Signatures[0].PKCS7 == nil || len(res.Signatures) != 1 {
				t.Fatalf("byte %#x changed by %#x: every check passes, but the signature does not read back (%v)", off, x, err)
			}
			s0, g0 := si.Signatures[0].PKCS7.Signers[0], got.Signatures[0].PKCS7.Signers[0]
			if !bytes.Equal(s0.EncryptedDigest, g0.EncryptedDigest) || res.Signatures[0].SHA256 != baseSigner ||
				got.Authenticode.Signatures[0].SignedDigest != si.Authenticode.Signatures[0].SignedDigest {
				t.Fatalf("byte %#x changed by %#x: every check passes for another signer, signature value or file digest", off, x)
			}
			blob := base[e.Offset+8 : e.Offset+8+e.SignatureLength]
			if rel := int(off - e.Offset - 8); rsaSpelling(t, blob, rel, x) {
				return
			}
			t.Fatalf("byte %#x (offset %d of the PKCS#7) changed by %#x and every check passes: the signature is malleable",
				off, off-e.Offset-8, x)
		}
		t.Fatalf("byte %#x changed by %#x (certificate table at %#x-%#x) and every check passes", off, x, si.TableStart, si.TableEnd)
	})
}

// rsaSpelling reports whether changing byte rel of the signature blob by x only respells
// its SignerInfo's RSA signature algorithm: rsaEncryption into the shaNNNWithRSAEncryption
// of its digest algorithm, or back.
func rsaSpelling(t *testing.T, blob []byte, rel int, x byte) bool {
	t.Helper()
	ci, _, err := readElement(blob)
	if err != nil {
		t.Fatal(err)
	}
	sd := elems(elems(elems(ci)[1])[0])
	si := elems(elems(sd[len(sd)-1])[0])
	digest, sig := elems(si[2]), elems(si[4])
	oid := sig[0].body
	if at := cap(blob) - cap(oid) + len(oid) - 1; at != rel {
		return false
	}
	withRSA := map[string]byte{"sha1": 5, "sha256": 11, "sha384": 12, "sha512": 13}
	var hash string
	for _, a := range algorithms {
		if a.oid.Equal(oidOf(digest[0])) {
			hash = a.name
		}
	}
	last, spelled := oid[len(oid)-1], withRSA[hash]
	return spelled != 0 && (last == 1 && last^x == spelled || last == spelled && last^x == 1)
}
