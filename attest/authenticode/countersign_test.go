package authenticode

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kensa.dev/kensa/internal/result"
)

// der marshals v or fails the test.
func der(t testing.TB, v any) []byte {
	t.Helper()
	return mustMarshal(t, v)
}

// constructed encodes children under one tag.
func constructed(t testing.TB, class, tag int, children ...[]byte) []byte {
	t.Helper()
	return der(t, asn1.RawValue{Class: class, Tag: tag, IsCompound: true, Bytes: bytes.Join(children, nil)})
}

// children returns the elements inside a constructed encoding.
func children(t testing.TB, b []byte) []asn1.RawValue {
	t.Helper()
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(b, &outer); err != nil {
		t.Fatal(err)
	}
	var out []asn1.RawValue
	for rest := outer.Bytes; len(rest) > 0; {
		var e asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// pkcs9Countersignature makes a legacy PKCS#9 countersignature SignerInfo by the test TSA
// over sigValue at time at; digestOf is what its message digest is computed over
// (sigValue for a true one). bare signs the digest without a DigestInfo, as legacy
// VeriSign and Symantec services did.
func pkcs9Countersignature(t testing.TB, f *fixtures, digestOf []byte, at time.Time, bare bool) []byte {
	t.Helper()
	md := sha256.Sum256(digestOf)
	attr := func(oid asn1.ObjectIdentifier, v []byte) []byte {
		return constructed(t, asn1.ClassUniversal, asn1.TagSequence, der(t, oid), constructed(t, asn1.ClassUniversal, asn1.TagSet, v))
	}
	attrs := [][]byte{attr(oidContentType, der(t, oidData)), attr(oidSigningTime, der(t, at.UTC())), attr(oidMessageDigest, der(t, md[:]))}
	// DER orders a SET OF by encoding; OpenSSL re-encodes before it checks the signature.
	slices.SortFunc(attrs, bytes.Compare)
	signed := constructed(t, asn1.ClassUniversal, asn1.TagSet, attrs...)
	h := sha256.Sum256(signed)
	hash := crypto.SHA256
	if bare {
		hash = 0
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.tsa.key, hash, h[:])
	if err != nil {
		t.Fatal(err)
	}
	algo := func(oid asn1.ObjectIdentifier) []byte {
		return der(t, pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue})
	}
	return constructed(t, asn1.ClassUniversal, asn1.TagSequence,
		der(t, 1),
		constructed(t, asn1.ClassUniversal, asn1.TagSequence, f.tsa.cert.RawIssuer, der(t, f.tsa.cert.SerialNumber)),
		algo(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}),
		constructed(t, asn1.ClassContextSpecific, 0, attrs...),
		algo(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}),
		der(t, sig))
}

// addPKCS9 adds a PKCS#9 countersignature attribute (whose SignerInfo mk makes from the
// signer's signature value) to the only SignerInfo of the ContentInfo p7, and the TSA's
// certificate to its certificate set.
func addPKCS9(t testing.TB, f *fixtures, p7 []byte, mk func(sigValue []byte) []byte) []byte {
	t.Helper()
	return addUnauthenticated(t, p7, f.tsa.cert.Raw, func(sigValue []byte) []byte {
		return constructed(t, asn1.ClassUniversal, asn1.TagSequence, der(t, oidCountersign),
			constructed(t, asn1.ClassUniversal, asn1.TagSet, mk(sigValue)))
	})
}

// addUnauthenticated adds the attribute mk makes from the signer's signature value to
// the unauthenticated attributes of the only SignerInfo of the ContentInfo p7 (replacing
// those it has), and cert (when not nil) to its certificate set.
func addUnauthenticated(t testing.TB, p7, cert []byte, mk func(sigValue []byte) []byte) []byte {
	t.Helper()
	return editSignedData(t, p7, func(e asn1.RawValue, last bool) []byte {
		switch {
		case e.Class == asn1.ClassContextSpecific && e.Tag == 0:
			return constructed(t, asn1.ClassContextSpecific, 0, e.Bytes, cert)
		case last:
			si := children(t, e.FullBytes)[0]
			var parts [][]byte
			var sigValue []byte
			for _, p := range children(t, si.FullBytes) {
				if p.Class == asn1.ClassUniversal && p.Tag == asn1.TagOctetString {
					sigValue = p.Bytes
				}
				if p.Class != asn1.ClassContextSpecific || p.Tag != 1 {
					parts = append(parts, p.FullBytes)
				}
			}
			parts = append(parts, constructed(t, asn1.ClassContextSpecific, 1, mk(sigValue)))
			return constructed(t, asn1.ClassUniversal, asn1.TagSet, constructed(t, asn1.ClassUniversal, asn1.TagSequence, parts...))
		}
		return e.FullBytes
	})
}

// editSignedData re-encodes the ContentInfo p7 holding SignedData with each element of
// the SignedData replaced by what edit returns for it (last: the signer infos).
func editSignedData(t testing.TB, p7 []byte, edit func(e asn1.RawValue, last bool) []byte) []byte {
	t.Helper()
	ci := children(t, p7)
	sd := children(t, ci[1].FullBytes)[0]
	elems := children(t, sd.FullBytes)
	var out [][]byte
	for i, e := range elems {
		out = append(out, edit(e, i == len(elems)-1))
	}
	return constructed(t, asn1.ClassUniversal, asn1.TagSequence, ci[0].FullBytes,
		constructed(t, asn1.ClassContextSpecific, 0, constructed(t, asn1.ClassUniversal, asn1.TagSequence, out...)))
}

// unauthenticatedOf returns the unauthenticated attributes (their encodings) of the
// only SignerInfo of the ContentInfo p7.
func unauthenticatedOf(t testing.TB, p7 []byte) []byte {
	t.Helper()
	sd := children(t, children(t, p7)[1].FullBytes)[0]
	elems := children(t, sd.FullBytes)
	si := children(t, elems[len(elems)-1].FullBytes)[0]
	for _, p := range children(t, si.FullBytes) {
		if p.Class == asn1.ClassContextSpecific && p.Tag == 1 {
			return p.Bytes
		}
	}
	t.Fatal("no unauthenticated attributes")
	return nil
}

// TestTransplantedTimeStamp: an RFC 3161 token taken from another signature (a valid
// token by the trusted TSA, stamping the vendor's other signature) does not rescue an
// expired leaf, in kensa or osslsigncode.
func TestTransplantedTimeStamp(t *testing.T) {
	f := getFixtures(t)
	for name, in := range map[string]string{"timestamped.p7": f.timestamped, "expired.p7": f.expiredNoTS, "expired-ts.p7": f.expiredTS} {
		if err := run(f.dir, nil, "osslsigncode", "extract-signature", "-in", in, "-out", f.path(name)); err != nil {
			t.Fatal(err)
		}
	}
	token := unauthenticatedOf(t, readFile(t, f.path("timestamped.p7")))
	b := withSignature(readFile(t, f.unsigned), addUnauthenticated(t, readFile(t, f.path("expired.p7")), nil,
		func([]byte) []byte { return token }))
	got := checkBytes(t, b, f.opts(t))
	expect{result.Fail, "the rfc3161 countersignature does not verify: the token stamps another signature"}.assert(t, CheckName, got[CheckName])
	path := filepath.Join(t.TempDir(), "transplanted.exe")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if osslVerify(t, path, f.root.pem, f.tsaRoot.pem, testNow) {
		t.Error("osslsigncode accepts the transplanted time stamp")
	}
}

// TestPKCS9Countersignature: an expired leaf with a legacy PKCS#9 countersignature from
// a trusted TSA passes in kensa and osslsigncode; countersigning something else, or by
// an untrusted TSA, fails in both; a bare-digest RSA signature passes in kensa only.
func TestPKCS9Countersignature(t *testing.T) {
	f := getFixtures(t)
	if err := run(f.dir, nil, "osslsigncode", "extract-signature", "-in", f.expiredNoTS, "-out", f.path("expired-pkcs9.p7")); err != nil {
		t.Fatal(err)
	}
	p7 := readFile(t, f.path("expired-pkcs9.p7"))
	unsigned := readFile(t, f.unsigned)
	at := time.Unix(tsaTime, 0)
	good := withSignature(unsigned, addPKCS9(t, f, p7, func(v []byte) []byte { return pkcs9Countersignature(t, f, v, at, false) }))
	bare := withSignature(unsigned, addPKCS9(t, f, p7, func(v []byte) []byte { return pkcs9Countersignature(t, f, v, at, true) }))
	other := withSignature(unsigned, addPKCS9(t, f, p7, func(v []byte) []byte { return pkcs9Countersignature(t, f, []byte("another signature"), at, false) }))
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		file    []byte
		tsaFile string
		detail  string
		status  string
		ossl    bool
	}{
		{"trusted", good, f.tsaRoot.pem, `pkcs9 time stamp 2023-11-14T22:13:20Z by "CN=Kensa Test TSA,O=Kensa Test" (certificate validity checked at that time): valid`, result.Pass, true},
		// Windows accepts the bare-digest form (putty.exe 0.73's Symantec time stamp has
		// it); osslsigncode 2.9 does not.
		{"bare digest signature", bare, f.tsaRoot.pem, `pkcs9 time stamp 2023-11-14T22:13:20Z by "CN=Kensa Test TSA,O=Kensa Test" (certificate validity checked at that time): valid`, result.Pass, false},
		{"countersigns something else", other, f.tsaRoot.pem, "the pkcs9 countersignature does not verify: it countersigns another signature", result.Fail, false},
		{"untrusted TSA", good, f.root.pem, "the pkcs9 countersignature does not verify: the time-stamping certificate is not trusted", result.Fail, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := f.opts(t)
			tsaRoots, err := LoadRoots([]string{c.tsaFile}, false)
			if err != nil {
				t.Fatal(err)
			}
			o.TSARoots = tsaRoots
			got := checkBytes(t, c.file, o)
			expect{c.status, c.detail}.assert(t, CheckName, got[CheckName])
			expect{result.Pass, "covered"}.assert(t, CheckCoverage, got[CheckCoverage])
			path := filepath.Join(dir, "pkcs9.exe")
			if err := os.WriteFile(path, c.file, 0o600); err != nil {
				t.Fatal(err)
			}
			if ok := osslVerify(t, path, f.root.pem, c.tsaFile, o.Time); ok != c.ossl {
				t.Errorf("osslsigncode verify accepted = %v", ok)
			}
		})
	}
}

// TestAttributeCertificateInToken: an RFC 3161 token whose certificate set also holds an
// attribute certificate (as Microsoft's time-stamping service writes them) still dates
// an expired leaf.
func TestAttributeCertificateInToken(t *testing.T) {
	f := getFixtures(t)
	if err := run(f.dir, nil, "osslsigncode", "extract-signature", "-in", f.expiredTS, "-out", f.path("expired-ts-attr.p7")); err != nil {
		t.Fatal(err)
	}
	p7 := readFile(t, f.path("expired-ts-attr.p7"))
	var attr struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue
	}
	if _, err := asn1.Unmarshal(unauthenticatedOf(t, p7), &attr); err != nil || !attr.Type.Equal(oidRFC3161) {
		t.Fatalf("no RFC 3161 attribute first: %v", err)
	}
	token := children(t, attr.Value.FullBytes)[0].FullBytes
	// A [1] v1AttrCert choice, which the PKCS#7 parser refuses.
	token = editSignedData(t, token, func(e asn1.RawValue, last bool) []byte {
		if e.Class == asn1.ClassContextSpecific && e.Tag == 0 {
			return constructed(t, asn1.ClassContextSpecific, 0, e.Bytes, constructed(t, asn1.ClassContextSpecific, 1, der(t, 1)))
		}
		return e.FullBytes
	})
	b := withSignature(readFile(t, f.unsigned), addUnauthenticated(t, p7, nil, func([]byte) []byte {
		return constructed(t, asn1.ClassUniversal, asn1.TagSequence, der(t, oidRFC3161), constructed(t, asn1.ClassUniversal, asn1.TagSet, token))
	}))
	got := checkBytes(t, b, f.opts(t))
	expect{result.Pass, "rfc3161 time stamp 2023-11-14T22:13:20Z by \"CN=Kensa Test TSA,O=Kensa Test\" (certificate validity checked at that time): valid"}.assert(t, CheckName, got[CheckName])
}
