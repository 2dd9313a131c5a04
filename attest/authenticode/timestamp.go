package authenticode

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	// Hash implementations time stamps use.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/ayoubfaouzi/pkcs7"

	"kensa.dev/kensa/analyzers/pe"
)

// timestamp is a countersignature that verified.
type timestamp struct {
	time   time.Time
	signer string
}

var (
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
)

// hashes are the digest algorithms accepted in countersignatures (MD5 is not).
var hashes = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, crypto.SHA512},
}

func hashFor(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	for _, h := range hashes {
		if h.oid.Equal(oid) {
			return h.hash, nil
		}
	}
	return 0, fmt.Errorf("digest algorithm %s is not accepted", oid)
}

func digest(h crypto.Hash, b []byte) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}

// tstInfo is the start of an RFC 3161 TSTInfo; later fields are ignored.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time `asn1:"generalized"`
}

// verifyP7 is pkcs7's Verify (message digest and signature, no chain) with its panics
// turned into errors.
func verifyP7(p7 *pkcs7.PKCS7) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("malformed PKCS#7 (verifier panic: %v)", v)
		}
	}()
	return p7.Verify()
}

// verifyRFC3161 verifies the RFC 3161 time-stamp token in the value set of a
// 1.3.6.1.4.1.311.3.3.1 attribute: its signature, that it stamps sigValue (the
// countersigned signature's value), and that its signer has the time-stamping usage and
// chains to roots at the time it states, which must not be after now.
func verifyRFC3161(set, sigValue []byte, roots *x509.CertPool, now time.Time) ([]timestamp, error) {
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(set, &rv); err != nil {
		return nil, fmt.Errorf("cannot read the token: %v", err)
	}
	p7, err := pe.ParsePKCS7(rv.FullBytes)
	if err != nil {
		// Microsoft's time-stamping service puts an attribute certificate among the
		// token's certificates, which the PKCS#7 parser rejects: drop what is not an
		// X.509 certificate (nothing signs the set) and parse again.
		if stripped, ok := x509Only(rv.FullBytes); ok {
			p7, err = pe.ParsePKCS7(stripped)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot parse the token: %v", err)
		}
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("the token has %d signers, not one", len(p7.Signers))
	}
	if len(p7.Certificates) > maxCerts {
		return nil, fmt.Errorf("the token embeds %d certificates, more than the %d accepted", len(p7.Certificates), maxCerts)
	}
	if err := verifyP7(p7); err != nil {
		return nil, fmt.Errorf("the token's signature does not verify: %v", err)
	}
	var info tstInfo
	if rest, err := asn1.Unmarshal(p7.Content, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("the token's content is not a TSTInfo")
	}
	h, err := hashFor(info.MessageImprint.HashAlgorithm.Algorithm)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(digest(h, sigValue), info.MessageImprint.HashedMessage) {
		return nil, errors.New("the token stamps another signature")
	}
	si := p7.Signers[0]
	tsa := findCert(p7.Certificates, si.IssuerAndSerialNumber.IssuerName.FullBytes, si.IssuerAndSerialNumber.SerialNumber)
	if tsa == nil {
		return nil, errors.New("the time-stamping certificate is not embedded in the token")
	}
	return stamped(tsa, p7.Certificates, roots, info.GenTime, now)
}

// stamped checks the time-stamping certificate's chain at t and that t is not after now.
func stamped(tsa *x509.Certificate, certs []*x509.Certificate, roots *x509.CertPool, t, now time.Time) ([]timestamp, error) {
	if t.After(now) {
		return nil, fmt.Errorf("the time stamp %s is after the verification time", t.UTC().Format(time.RFC3339))
	}
	if err := chainOK(tsa, certs, roots, x509.ExtKeyUsageTimeStamping, t); err != nil {
		return nil, fmt.Errorf("the time-stamping certificate is not trusted: %v (pass its root with --authenticode-tsa-root)", err)
	}
	return []timestamp{{time: t, signer: tsa.Subject.String()}}, nil
}

// pkcs9SignerInfo is a PKCS#7 SignerInfo (RFC 2315 9.2) as a PKCS#9 countersignature
// holds it; the authenticated attributes are kept raw, as they are signed.
type pkcs9SignerInfo struct {
	Version         int
	IssuerAndSerial struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	DigestAlgorithm           pkix.AlgorithmIdentifier
	AuthenticatedAttributes   asn1.RawValue
	DigestEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedDigest           []byte
}

type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// verifyPKCS9 verifies the SignerInfos in the value set of a PKCS#9 countersignature
// attribute (1.2.840.113549.1.9.6): each must carry the digest of sigValue and a signing
// time, be signed by a certificate among certs with the time-stamping usage, and chain
// to roots at that time.
func verifyPKCS9(set, sigValue []byte, certs []*x509.Certificate, roots *x509.CertPool, now time.Time) ([]timestamp, error) {
	var out []timestamp
	for len(set) > 0 {
		if len(out) >= maxCountersignatures {
			return nil, fmt.Errorf("more than %d signer infos", maxCountersignatures)
		}
		var si pkcs9SignerInfo
		var err error
		if set, err = asn1.Unmarshal(set, &si); err != nil {
			return nil, fmt.Errorf("cannot read the signer info: %v", err)
		}
		aa := si.AuthenticatedAttributes
		if aa.Class != asn1.ClassContextSpecific || aa.Tag != 0 || !aa.IsCompound {
			return nil, errors.New("the signer info has no authenticated attributes")
		}
		var md []byte
		var signingTime time.Time
		for rest := aa.Bytes; len(rest) > 0; {
			var a attribute
			if rest, err = asn1.Unmarshal(rest, &a); err != nil {
				return nil, fmt.Errorf("cannot read an authenticated attribute: %v", err)
			}
			switch {
			case a.Type.Equal(oidMessageDigest):
				if _, err := asn1.Unmarshal(a.Value.Bytes, &md); err != nil {
					return nil, errors.New("malformed message digest attribute")
				}
			case a.Type.Equal(oidSigningTime):
				if _, err := asn1.Unmarshal(a.Value.Bytes, &signingTime); err != nil {
					return nil, errors.New("malformed signing time attribute")
				}
			case a.Type.Equal(oidContentType):
				var ct asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(a.Value.Bytes, &ct); err != nil || !ct.Equal(oidData) {
					return nil, errors.New("the content type attribute is not id-data")
				}
			}
		}
		if md == nil || signingTime.IsZero() {
			return nil, errors.New("the message digest or signing time attribute is missing")
		}
		h, err := hashFor(si.DigestAlgorithm.Algorithm)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(digest(h, sigValue), md) {
			return nil, errors.New("it countersigns another signature")
		}
		cert := findCert(certs, si.IssuerAndSerial.Issuer.FullBytes, si.IssuerAndSerial.Serial)
		if cert == nil {
			return nil, errors.New("the countersigner's certificate is not embedded in the signature")
		}
		alg, err := signatureAlgorithm(cert, h, si.DigestEncryptionAlgorithm.Algorithm)
		if err != nil {
			return nil, err
		}
		// The attributes are signed as a SET OF, not with their [0] IMPLICIT tag.
		signed := append([]byte{0x31}, aa.FullBytes[1:]...)
		if err := cert.CheckSignature(alg, signed, si.EncryptedDigest); err != nil {
			// Legacy Authenticode time-stamping services (VeriSign, Symantec) sign the
			// bare digest with PKCS#1 v1.5, without the DigestInfo around it; Windows
			// accepts it.
			pub, ok := cert.PublicKey.(*rsa.PublicKey)
			if !ok || rsa.VerifyPKCS1v15(pub, 0, digest(h, signed), si.EncryptedDigest) != nil {
				return nil, fmt.Errorf("its signature does not verify: %v", err)
			}
		}
		ts, err := stamped(cert, certs, roots, signingTime, now)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if len(out) == 0 {
		return nil, errors.New("the attribute holds no signer info")
	}
	return out, nil
}

// signatureAlgorithm picks the x509 signature algorithm for a key, a digest and the
// SignerInfo's digestEncryptionAlgorithm.
func signatureAlgorithm(cert *x509.Certificate, h crypto.Hash, enc asn1.ObjectIdentifier) (x509.SignatureAlgorithm, error) {
	rsaOIDs := []asn1.ObjectIdentifier{{1, 2, 840, 113549, 1, 1, 1}, {1, 2, 840, 113549, 1, 1, 5},
		{1, 2, 840, 113549, 1, 1, 11}, {1, 2, 840, 113549, 1, 1, 12}, {1, 2, 840, 113549, 1, 1, 13}}
	ecOIDs := []asn1.ObjectIdentifier{{1, 2, 840, 10045, 2, 1}, {1, 2, 840, 10045, 4, 1},
		{1, 2, 840, 10045, 4, 3, 2}, {1, 2, 840, 10045, 4, 3, 3}, {1, 2, 840, 10045, 4, 3, 4}}
	in := func(list []asn1.ObjectIdentifier) bool {
		for _, o := range list {
			if o.Equal(enc) {
				return true
			}
		}
		return false
	}
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if in(rsaOIDs) {
			switch h {
			case crypto.SHA1:
				return x509.SHA1WithRSA, nil
			case crypto.SHA256:
				return x509.SHA256WithRSA, nil
			case crypto.SHA384:
				return x509.SHA384WithRSA, nil
			case crypto.SHA512:
				return x509.SHA512WithRSA, nil
			}
		}
	case *ecdsa.PublicKey:
		if in(ecOIDs) {
			switch h {
			case crypto.SHA1:
				return x509.ECDSAWithSHA1, nil
			case crypto.SHA256:
				return x509.ECDSAWithSHA256, nil
			case crypto.SHA384:
				return x509.ECDSAWithSHA384, nil
			case crypto.SHA512:
				return x509.ECDSAWithSHA512, nil
			}
		}
	}
	return 0, fmt.Errorf("signature algorithm %s with %v is not supported", enc, h)
}

// x509Only re-encodes a DER ContentInfo holding SignedData with only the X.509
// certificates (SEQUENCEs) of its CertificateSet, dropping the other CertificateChoices
// (RFC 5652 10.2.2: attribute certificates, [1] to [3]). ok is false when der is not such
// a DER structure or has nothing to drop.
func x509Only(der []byte) (out []byte, ok bool) {
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) > 0 ||
		ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		return nil, false
	}
	var sd asn1.RawValue
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) > 0 || sd.Tag != asn1.TagSequence {
		return nil, false
	}
	var body []byte
	dropped := false
	for rest := sd.Bytes; len(rest) > 0; {
		var e asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &e); err != nil {
			return nil, false
		}
		if e.Class != asn1.ClassContextSpecific || e.Tag != 0 || !e.IsCompound {
			body = append(body, e.FullBytes...)
			continue
		}
		var certs []byte
		for crest := e.Bytes; len(crest) > 0; {
			var c asn1.RawValue
			if crest, err = asn1.Unmarshal(crest, &c); err != nil {
				return nil, false
			}
			if c.Class == asn1.ClassUniversal && c.Tag == asn1.TagSequence {
				certs = append(certs, c.FullBytes...)
			} else {
				dropped = true
			}
		}
		body = append(body, encode(asn1.ClassContextSpecific, 0, certs)...)
	}
	if !dropped {
		return nil, false
	}
	oid, err := asn1.Marshal(ci.Type)
	if err != nil {
		return nil, false
	}
	sdEnc := encode(asn1.ClassUniversal, asn1.TagSequence, body)
	return encode(asn1.ClassUniversal, asn1.TagSequence, append(oid, encode(asn1.ClassContextSpecific, 0, sdEnc)...)), true
}

// encode is the DER of a constructed element holding content.
func encode(class, tag int, content []byte) []byte {
	b, err := asn1.Marshal(asn1.RawValue{Class: class, Tag: tag, IsCompound: true, Bytes: content})
	if err != nil {
		// Only a length beyond what encoding/asn1 writes fails, which content read
		// from a bounded file cannot reach.
		return nil
	}
	return b
}
