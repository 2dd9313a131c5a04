package authenticode

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ayoubfaouzi/pkcs7"
	"strings"
	"time"

	"kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/internal/result"
)

var (
	oidNested      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 4, 1}
	oidRFC3161     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}
	oidCountersign = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
)

// verifyImage judges the signatures and the coverage of a parsed PE file.
func verifyImage(data []byte, si *pe.SignedImage, opts Options) *Result {
	res := &Result{Signed: si.Authenticode.Present, Time: opts.Time, requireSignature: opts.RequireSignature}
	if res.Time.IsZero() {
		res.Time = time.Now()
	}
	if !res.Signed {
		return res
	}
	res.Uncovered = uncovered(data, si)
	facts := si.Authenticode.Signatures
	form := strictProblems(data, si)
	nested := 0
	for i := range facts {
		if i >= len(si.Signatures) {
			break
		}
		if facts[i].Nested {
			nested++
			if nested > maxNested {
				res.Signatures = append(res.Signatures, Signature{Nested: true,
					Problems: []string{fmt.Sprintf("more than %d nested signatures; the rest were not verified", maxNested)}})
				break
			}
		}
		primary := i == 0
		s := verifySignature(si, facts[i], si.Signatures[i], primary, res.Time, opts)
		s.Problems = append(s.Problems, form[i]...)
		res.Signatures = append(res.Signatures, s)
		res.Uncovered = append(res.Uncovered, unauthenticated(i, si.Signatures[i].PKCS7)...)
	}
	return res
}

// unauthenticated lists the unauthenticated attributes of signature i other than
// countersignatures and nested signatures: data that nothing signs, where a payload
// can ride along (osslsigncode -addUnauthenticatedBlob).
func unauthenticated(i int, p7 *pkcs7.PKCS7) []Region {
	if p7 == nil || len(p7.Signers) != 1 {
		return nil
	}
	var out []Region
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if a.Type.Equal(oidRFC3161) || a.Type.Equal(oidCountersign) || a.Type.Equal(oidNested) {
			continue
		}
		out = append(out, Region{Offset: -1, Size: int64(len(a.Value.FullBytes)),
			What: fmt.Sprintf("unauthenticated attribute %s of signature %d", a.Type, i)})
	}
	return out
}

// uncovered lists the bytes from the certificate table on that no signature covers.
func uncovered(data []byte, si *pe.SignedImage) []Region {
	var out []Region
	add := func(off, end int64, what string) {
		if end > off {
			out = append(out, Region{Offset: off, Size: end - off, What: what})
		}
	}
	if si.TableEnd <= si.TableStart {
		// The table could not be located: all of what the directory names is unverified.
		off, size := int64(si.Authenticode.TableOffset), int64(si.Authenticode.TableSize)
		add(off, min(off+size, si.Size), "certificate table outside the file's signed layout")
		return out
	}
	pos := si.TableStart
	for _, e := range si.Entries {
		end := min(e.Offset+align8(e.Length), si.TableEnd)
		if e.Type != 2 || e.SignatureLength == 0 {
			add(e.Offset+8, end, fmt.Sprintf("WIN_CERTIFICATE entry of type %d holding no signature", e.Type))
			pos = end
			continue
		}
		if e.Revision != 0x0200 {
			// wRevision is outside the authentihash: any other value is a change nothing
			// signs (Windows reads revision 1.0 only for legacy signatures).
			add(e.Offset+4, e.Offset+6, fmt.Sprintf("WIN_CERTIFICATE revision 0x%04x instead of 0x0200", e.Revision))
		}
		// dwLength is outside the authentihash too: within the padding to 8 bytes, it
		// must give the signature's length, with or without that padding.
		if e.Length < align8(8+e.SignatureLength) && e.Length != 8+e.SignatureLength {
			add(e.Offset, e.Offset+4, fmt.Sprintf("WIN_CERTIFICATE length %d for a %d-byte signature", e.Length, e.SignatureLength))
		}
		sigEnd := e.Offset + 8 + e.SignatureLength
		pad := min(e.Offset+align8(8+e.SignatureLength), end)
		if e.SignatureLength > 1 && data[e.Offset+9] == 0x80 {
			add(e.Offset+8, end, "signature in indefinite-length encoding, whose end cannot be told")
		} else if slices.ContainsFunc(data[sigEnd:pad], func(b byte) bool { return b != 0 }) {
			add(sigEnd, end, "non-zero bytes after the signature inside its WIN_CERTIFICATE")
		} else {
			add(pad, end, "bytes after the signature and its padding inside its WIN_CERTIFICATE")
		}
		pos = end
	}
	add(pos, si.TableEnd, "certificate table space after the last WIN_CERTIFICATE entry")
	add(si.TableEnd, si.Size, "data after the certificate table")
	return out
}

func align8(n int64) int64 { return (n + 7) &^ 7 }

// verifySignature judges one signature.
func verifySignature(si *pe.SignedImage, f pe.Signature, sd pe.SignedData, primary bool, now time.Time, opts Options) Signature {
	s := Signature{Nested: f.Nested, DigestAlgorithm: f.DigestAlgorithm}
	problem := func(format string, a ...any) { s.Problems = append(s.Problems, fmt.Sprintf(format, a...)) }
	p7 := sd.PKCS7
	if p7 == nil {
		problem("%s", orDefault(f.VerifyError, "the PKCS#7 SignedData cannot be parsed"))
		return s
	}
	if len(p7.Signers) != 1 {
		problem("the SignedData has %d signer infos; Authenticode requires exactly one", len(p7.Signers))
		return s
	}
	if len(p7.Certificates) > maxCerts {
		problem("the SignedData embeds %d certificates, more than the %d accepted", len(p7.Certificates), maxCerts)
		return s
	}
	si0 := p7.Signers[0]
	leaf := findCert(p7.Certificates, si0.IssuerAndSerialNumber.IssuerName.FullBytes, si0.IssuerAndSerialNumber.SerialNumber)
	if leaf == nil {
		problem("the signer's certificate is not embedded in the signature")
		return s
	}
	s.Subject, s.Issuer = leaf.Subject.String(), leaf.Issuer.String()
	sum := sha256.Sum256(leaf.Raw)
	s.SHA256 = hex.EncodeToString(sum[:])

	// Integrity: the signed digest is the file's, and the signature is over it.
	switch {
	case sd.Hash == 0:
		problem("%s", orDefault(f.VerifyError, "file digest algorithm "+f.DigestAlgorithm+" is not supported"))
	case !f.DigestMatches:
		problem("the signed %s file digest %s does not match the file's authentihash %s: the file was modified after signing",
			f.DigestAlgorithm, f.SignedDigest, hex.EncodeToString(si.Digest(sd.Hash)))
	}
	if !f.SignatureVerifies {
		problem("the PKCS#7 signature does not verify: %s", orDefault(f.VerifyError, "unknown reason"))
	}
	switch sd.Hash {
	case crypto.MD5:
		problem("the file digest is MD5, which is broken; ask the vendor to sign with SHA-256")
	case crypto.SHA1:
		if opts.AllowSHA1 {
			s.Notes = append(s.Notes, "weak SHA-1 file digest (allowed)")
		} else {
			problem("the file digest is SHA-1, which is weak; ask the vendor to sign with SHA-256 (or allow SHA-1 explicitly)")
		}
	}

	// Time stamps: the first that verifies gives a time. One that does not verify fails
	// the signature only when the signer's chain needs it (it is not valid now).
	tsRoots := opts.TSARoots
	if tsRoots == nil {
		tsRoots = opts.Roots
	}
	n := 0
	var tsErrs []string
	for _, attr := range si0.UnauthenticatedAttributes {
		var kind string
		switch {
		case attr.Type.Equal(oidRFC3161):
			kind = "rfc3161"
		case attr.Type.Equal(oidCountersign):
			kind = "pkcs9"
		default:
			continue
		}
		n++
		if n > maxCountersignatures {
			problem("more than %d countersignatures", maxCountersignatures)
			break
		}
		var ts []timestamp
		var err error
		if kind == "rfc3161" {
			ts, err = verifyRFC3161(attr.Value.Bytes, si0.EncryptedDigest, tsRoots, now)
		} else {
			ts, err = verifyPKCS9(attr.Value.Bytes, si0.EncryptedDigest, p7.Certificates, tsRoots, now)
		}
		if err != nil {
			tsErrs = append(tsErrs, fmt.Sprintf("the %s countersignature does not verify: %v", kind, err))
			continue
		}
		if s.Timestamp.IsZero() && len(ts) > 0 {
			s.Timestamp, s.TimestampKind, s.TimestampSigner = ts[0].time, kind, ts[0].signer
		}
	}

	// Trust: the signer chains to a given root with the code-signing usage.
	tsNote := func() {
		for _, e := range tsErrs {
			s.Notes = append(s.Notes, e+" (not needed: the chain is valid without it)")
		}
	}
	if err := chainOK(leaf, p7.Certificates, opts.Roots, x509.ExtKeyUsageCodeSigning, now); err != nil {
		var inv x509.CertificateInvalidError
		expired := errors.As(err, &inv) && inv.Reason == x509.Expired
		switch {
		case expired && !s.Timestamp.IsZero():
			if terr := chainOK(leaf, p7.Certificates, opts.Roots, x509.ExtKeyUsageCodeSigning, s.Timestamp); terr != nil {
				problem("the signer's chain is not valid now (%v) nor at the time stamp %s (%v)", err, s.Timestamp.UTC().Format(time.RFC3339), terr)
			} else {
				s.UsedTimestamp = true
				tsNote()
			}
		case expired:
			problem("the signer's chain is not valid at %s (%v) and no trusted time stamp shows it was signed while it was",
				now.UTC().Format(time.RFC3339), err)
			s.Problems = append(s.Problems, tsErrs...)
		default:
			problem("the signer's chain does not verify: %v", err)
			tsNote()
		}
	} else {
		tsNote()
	}

	if primary && len(opts.Signers) > 0 && !slices.ContainsFunc(opts.Signers, func(m Signer) bool { return m.Match(leaf) }) {
		names := make([]string, len(opts.Signers))
		for i, m := range opts.Signers {
			names[i] = m.String()
		}
		problem("signed by %q (sha256:%s), not by the expected signer %s", s.Subject, s.SHA256, strings.Join(names, " or "))
	}
	return s
}

// chainOK verifies that leaf carries the extended key usage eku itself and chains to
// roots at time at through the embedded certificates.
func chainOK(leaf *x509.Certificate, certs []*x509.Certificate, roots *x509.CertPool, eku x509.ExtKeyUsage, at time.Time) error {
	if roots == nil {
		return errors.New("no trusted roots were given (pass the vendor's root certificate with --authenticode-root)")
	}
	if !slices.Contains(leaf.ExtKeyUsage, eku) {
		return fmt.Errorf("certificate %q lacks the %s extended key usage", leaf.Subject.String(), ekuName(eku))
	}
	inter := x509.NewCertPool()
	for _, c := range certs {
		if c != leaf {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{eku}})
	if err != nil {
		return err
	}
	for _, c := range chains {
		if len(c) <= maxChainLen {
			return nil
		}
	}
	return fmt.Errorf("every chain is longer than %d certificates", maxChainLen)
}

func ekuName(eku x509.ExtKeyUsage) string {
	switch eku {
	case x509.ExtKeyUsageCodeSigning:
		return "code-signing"
	case x509.ExtKeyUsageTimeStamping:
		return "time-stamping"
	}
	return fmt.Sprint(eku)
}

func findCert(certs []*x509.Certificate, issuer []byte, serial *big.Int) *x509.Certificate {
	if serial == nil {
		return nil
	}
	for _, c := range certs {
		if c.SerialNumber.Cmp(serial) == 0 && bytes.Equal(c.RawIssuer, issuer) {
			return c
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Checks returns the checks on the file named subject: CheckName for the primary
// signature (or the absence of any), CheckNested for each nested signature and
// CheckCoverage for the bytes no signature covers.
func (r *Result) Checks(subject string) []result.Check {
	if !r.Signed {
		if r.requireSignature {
			return []result.Check{{Name: CheckName, Subject: subject, Status: result.Fail,
				Detail: "the PE file is not signed (no Authenticode certificate table); a signature is required"}}
		}
		return []result.Check{{Name: CheckName, Subject: subject, Status: result.Skip,
			Detail: "the PE file is not signed (no Authenticode certificate table)"}}
	}
	var out []result.Check
	if len(r.Signatures) == 0 {
		out = append(out, result.Check{Name: CheckName, Subject: subject, Status: result.Fail,
			Detail: "the certificate table holds no readable Authenticode signature"})
	}
	for i := range r.Signatures {
		s := &r.Signatures[i]
		c := result.Check{Name: CheckName, Subject: subject, Status: result.Pass}
		if i > 0 {
			c.Name = CheckNested
		}
		if !s.Valid() {
			c.Status = result.Fail
		}
		c.Detail = describe(i, s)
		out = append(out, c)
	}
	cov := result.Check{Name: CheckCoverage, Subject: subject, Status: result.Pass,
		Detail: "every byte outside the signatures is covered by the authentihash"}
	if len(r.Uncovered) > 0 {
		var parts []string
		var total int64
		for _, u := range r.Uncovered {
			total += u.Size
			if u.Offset < 0 {
				parts = append(parts, fmt.Sprintf("%d bytes in an %s", u.Size, u.What))
			} else {
				parts = append(parts, fmt.Sprintf("%d bytes at offset %d (0x%x): %s", u.Size, u.Offset, u.Offset, u.What))
			}
		}
		cov.Status = result.Fail
		cov.Detail = fmt.Sprintf("%d bytes are covered by no signature and can carry a payload (CVE-2013-3900): %s; ask the vendor for an unmodified file",
			total, strings.Join(parts, "; "))
	}
	return append(out, cov)
}

// describe says in one sentence what signature i is and what is wrong with it.
func describe(i int, s *Signature) string {
	var b strings.Builder
	switch {
	case i == 0:
		b.WriteString("signature")
	case s.Nested:
		fmt.Fprintf(&b, "nested signature %d", i)
	default:
		fmt.Fprintf(&b, "additional signature %d (a further certificate table entry, which Windows ignores)", i)
	}
	if s.Subject != "" {
		fmt.Fprintf(&b, " by %q (issuer %q, sha256:%s)", s.Subject, s.Issuer, s.SHA256)
	}
	if s.DigestAlgorithm != "" {
		fmt.Fprintf(&b, ", %s file digest", s.DigestAlgorithm)
	}
	if !s.Timestamp.IsZero() {
		fmt.Fprintf(&b, ", %s time stamp %s by %q", s.TimestampKind, s.Timestamp.UTC().Format(time.RFC3339), s.TimestampSigner)
		if s.UsedTimestamp {
			b.WriteString(" (certificate validity checked at that time)")
		}
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "; %s", n)
	}
	if s.Valid() {
		b.WriteString(": valid")
	} else {
		fmt.Fprintf(&b, ": %s", strings.Join(s.Problems, "; "))
	}
	return b.String()
}
