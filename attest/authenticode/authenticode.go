// Package authenticode decides whether the Authenticode signatures of a PE file (Windows
// executable, DLL or driver) are to be trusted, for `kensa verify`.
//
// The PE analyzer (kensa.dev/kensa/analyzers/pe) parses the certificate table, computes
// the authentihash and reads the PKCS#7 structures; this package judges them. A signed
// PE passes only when, for its primary signature:
//
//   - the digest in SpcIndirectDataContent equals the authentihash of the file computed
//     with that algorithm, and the PKCS#7 signature over it verifies;
//   - the digest algorithm is not MD5 (always a fail) nor SHA-1 (a fail unless
//     Options.AllowSHA1, then a pass that names the weak digest);
//   - the signer certificate carries the code-signing extended key usage itself (not
//     anyExtendedKeyUsage, not an absent extension) and chains, through the certificates
//     embedded in the signature (at most 32, chains of at most 10), to one of
//     Options.Roots. The host's store is used only when the caller puts it there
//     (LoadRoots with system set);
//   - the chain is valid at Options.Time (default: now), or, when it has expired, at the
//     time of a countersignature that verifies: an RFC 3161 time-stamp token or a legacy
//     PKCS#9 countersignature over this signature's value, by a certificate with the
//     time-stamping extended key usage that chains to Options.TSARoots (Options.Roots
//     when nil) at the time it states, which must not be after Options.Time. A
//     countersignature that does not verify is named in the detail; it fails the
//     signature only when the chain needs it, as in osslsigncode;
//   - the signer matches one of Options.Signers when any are given: a valid signature
//     by anyone else is a fail, never a pass (see ParseSigner for the syntax);
//   - the signature blob is strict DER (definite, shortest lengths; canonical
//     primitives; nothing outside its elements; bounded depth and count) in the form
//     Microsoft's Authenticode PE specification gives: a signedData ContentInfo,
//     SignedData and SignerInfo version 1, exactly one digest algorithm, the same as the
//     SignerInfo's, content of type SPC_INDIRECT_DATA_OBJID, exactly one SignerInfo,
//     no CRLs, and algorithm parameters absent or NULL as each algorithm defines. The
//     PKCS#7 parser would accept changes to all of these, which no signature covers:
//     the same signed file would exist in many byte forms (strict.go lists the rules).
//
// Nested signatures (attribute 1.3.6.1.4.1.311.2.4.1) are verified the same way, strict
// form included, and reported one check each; the expected-signer pinning applies to
// the primary signature, which is the file's identity.
//
// Every byte of the file that neither the authentihash nor a signature covers is a
// fail with its offset and size: data after the certificate table, bytes after a
// PKCS#7 inside its WIN_CERTIFICATE beyond the zero padding to 8 bytes, entries that
// hold no PKCS#7, and table space after the last entry (CVE-2013-3900; the 3CX
// d3dcompiler_47.dll payload sat there). Windows accepts such files unless
// EnableCertPaddingCheck is set; kensa does not. Unauthenticated attributes of a
// signature other than countersignatures and nested signatures are reported the same
// way: nothing signs them.
//
// A PE without a certificate table is a fail when Options.RequireSignature is set and a
// skip otherwise. Page hashes (SpcPeImageData page-hash attributes) are not checked:
// the file digest already covers every hashed byte. Revocation is not checked (the
// verification is offline).
//
// Real-world leniencies, each as Windows has it: a legacy PKCS#9 countersignature whose
// RSA signature holds the bare digest without a DigestInfo (VeriSign and Symantec
// time-stamping services) is accepted, and attribute certificates among an RFC 3161
// token's certificates (Microsoft's time-stamping service) are ignored. Chains with a
// certificate signed with SHA-1 (old time-stamping and code-signing CAs) do not verify:
// crypto/x509 refuses them, so such a signature passes only while a chain without
// SHA-1 is valid.
//
// Example:
//
//	roots, err := authenticode.LoadRoots([]string{"vendor-ca.pem"}, false)
//	if err != nil { … }
//	pin, err := authenticode.ParseSigner("cn:Example Corp Code Signing")
//	if err != nil { … }
//	opts := authenticode.Options{Roots: roots, Signers: []authenticode.Signer{pin}, RequireSignature: true}
//	checks := authenticode.Check("bin/app.exe", file, size, opts)
package authenticode

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/internal/result"
)

// Check names this package reports.
const (
	// CheckName is the check on the primary (or only) signature; for an unsigned PE, it
	// says so.
	CheckName = "signature/authenticode"
	// CheckNested is the check on each nested signature, and on each signature of a
	// further WIN_CERTIFICATE entry.
	CheckNested = "signature/authenticode-nested"
	// CheckCoverage is the check that every byte of the file is covered by the
	// authentihash or a signature.
	CheckCoverage = "signature/authenticode-coverage"
)

// Limits on what one file may make the verifier do.
const (
	// MaxFileSize is the largest PE file verified (it is read in memory, as the PE
	// analyzer does).
	MaxFileSize = 256 << 20
	// maxCerts is the most certificates one PKCS#7 may embed.
	maxCerts = 32
	// maxChainLen is the longest chain accepted, root included.
	maxChainLen = 10
	// maxNested is the most nested signatures verified.
	maxNested = 8
	// maxCountersignatures is the most countersignatures verified on one signature.
	maxCountersignatures = 8
)

// Options are the trust settings of a verification.
type Options struct {
	// Roots are the trusted roots for code-signing chains (see LoadRoots). Nothing is
	// trusted when it is nil: every signature fails.
	Roots *x509.CertPool
	// TSARoots are the trusted roots for countersignature (time-stamp) chains; Roots
	// when nil.
	TSARoots *x509.CertPool
	// Signers are the expected signers of the primary signature; any one must match.
	// None means any signer that chains to Roots.
	Signers []Signer
	// Time is when certificates must be valid (unless a trusted countersignature says
	// the signature was made while they were); the zero value means now.
	Time time.Time
	// RequireSignature makes an unsigned PE a fail instead of a skip.
	RequireSignature bool
	// AllowSHA1 accepts signatures whose file digest is SHA-1 (the detail still names
	// it as weak). MD5 is never accepted.
	AllowSHA1 bool
}

// Result is what Verify found.
type Result struct {
	// Signed is true when the file has a certificate table.
	Signed bool
	// Signatures are the signatures in the order the PE analyzer reports them: the
	// first one of the certificate table, then nested ones and those of further
	// WIN_CERTIFICATE entries.
	Signatures []Signature
	// Uncovered are the stretches of the file that neither the authentihash nor a
	// signature covers.
	Uncovered []Region
	// Time is the verification time used.
	Time time.Time

	requireSignature bool
}

// Region is a stretch of the file.
type Region struct {
	// Offset is where it starts; -1 for data inside a signature (an unauthenticated
	// attribute).
	Offset int64
	// Size is its length in bytes.
	Size int64
	// What says what it is ("data after the certificate table", …).
	What string
}

// Signature is the verdict on one Authenticode signature.
type Signature struct {
	// Nested is true for a signature nested in another one.
	Nested bool
	// Subject, Issuer and SHA256 describe the signer certificate (RFC 2253 names,
	// lower-case hex fingerprint); empty when it could not be found.
	Subject, Issuer, SHA256 string
	// DigestAlgorithm is the file digest algorithm ("sha256", …).
	DigestAlgorithm string
	// Timestamp is the time of the first countersignature that verified; zero when none
	// did.
	Timestamp time.Time
	// TimestampKind is "rfc3161" or "pkcs9" for Timestamp.
	TimestampKind string
	// TimestampSigner is the subject of the time-stamping certificate.
	TimestampSigner string
	// UsedTimestamp is true when the chain was valid only at Timestamp, not at the
	// verification time.
	UsedTimestamp bool
	// Problems say why the signature is not trusted; empty when it is.
	Problems []string
	// Notes are remarks that do not fail it: a weak digest that was allowed, a
	// countersignature that did not verify and was not needed.
	Notes []string
}

// Valid reports whether the signature is trusted.
func (s *Signature) Valid() bool { return len(s.Problems) == 0 }

// Verify reads the PE file content (size bytes) and verifies its Authenticode
// signatures under opts. It returns an error when the file cannot be read, is larger
// than MaxFileSize or is not a readable PE file; anything wrong with a signature is in
// the Result. It never panics.
func Verify(content io.ReaderAt, size int64, opts Options) (res *Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = nil, fmt.Errorf("authenticode: internal error on this file (panic: %v); please report it with the file", v)
		}
	}()
	if content == nil || size < 0 {
		return nil, errors.New("authenticode: no content")
	}
	if size > MaxFileSize {
		return nil, fmt.Errorf("authenticode: PE file of %d bytes is larger than the %d bytes verified", size, int64(MaxFileSize))
	}
	data := make([]byte, size)
	if n, rerr := content.ReadAt(data, 0); int64(n) != size {
		return nil, fmt.Errorf("authenticode: reading %d bytes: %w", size, rerr)
	}
	si, err := pe.ReadAuthenticode(data)
	if err != nil {
		return nil, fmt.Errorf("authenticode: %w", err)
	}
	return verifyImage(data, si, opts), nil
}

// Check runs Verify and returns its checks; an error becomes one check with status
// "error" naming it.
func Check(subject string, content io.ReaderAt, size int64, opts Options) []result.Check {
	res, err := Verify(content, size, opts)
	if err != nil {
		return []result.Check{{Name: CheckName, Subject: subject, Status: result.Erred,
			Detail: err.Error() + "; the file cannot be verified"}}
	}
	return res.Checks(subject)
}
