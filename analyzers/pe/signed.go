package pe

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/ayoubfaouzi/pkcs7"
)

// SignedImage is the Authenticode material of a PE file as parsed, for a verifier that
// decides trust (kensa.dev/kensa/attest/authenticode): the facts this analyzer reports,
// the layout of the certificate table and the parsed PKCS#7 structures behind each
// signature. It decides nothing itself.
type SignedImage struct {
	// Authenticode holds the facts, as the analyzer reports them.
	Authenticode Authenticode
	// Size is the file's size.
	Size int64
	// TableStart and TableEnd delimit the certificate table in the file ([TableStart,
	// TableEnd)); both are 0 when there is none or the data directory points outside the
	// file or into the headers, in which case no signature was read.
	TableStart, TableEnd int64
	// Entries are the WIN_CERTIFICATE entries of the table in file order (at most 64).
	Entries []CertEntry
	// Signatures are the parsed signatures, in the order of Authenticode.Signatures.
	Signatures []SignedData

	im *image
}

// CertEntry is one WIN_CERTIFICATE entry of the certificate table.
type CertEntry struct {
	// Offset is the file offset of the entry's header.
	Offset int64
	// Length is dwLength, the entry's length with its 8-byte header.
	Length int64
	// Revision is wRevision (0x0200 for WIN_CERT_REVISION_2_0).
	Revision uint16
	// Type is wCertificateType (2 for WIN_CERT_TYPE_PKCS_SIGNED_DATA).
	Type uint16
	// SignatureLength is the length of the DER PKCS#7 SignedData at the start of
	// bCertificate, or 0 when the entry holds no PKCS#7 that was read. Bytes of the entry
	// past it are not covered by any signature.
	SignatureLength int64
}

// SignedData is one parsed Authenticode signature.
type SignedData struct {
	// PKCS7 is the parsed SignedData; nil when it could not be parsed (the facts'
	// VerifyError says why).
	PKCS7 *pkcs7.PKCS7
	// Hash is the image digest algorithm of its SpcIndirectDataContent; 0 when the
	// content could not be read or names an algorithm not supported here.
	Hash crypto.Hash
}

// Digest returns the authentihash of the image with algorithm h (which must be linked
// in: MD5, SHA-1 or the SHA-2 family).
func (s *SignedImage) Digest(h crypto.Hash) []byte {
	if s.im == nil || !h.Available() {
		return nil
	}
	return s.im.digest(h)
}

// ReadAuthenticode parses the PE file in data and returns its Authenticode material. It
// returns an error when data is not a readable PE file; a file without a signature is no
// error (Authenticode.Present is false). It never panics.
func ReadAuthenticode(data []byte) (si *SignedImage, err error) {
	defer func() {
		if v := recover(); v != nil {
			si, err = nil, fmt.Errorf("pe: internal error on this file (panic: %v); please report it with the file", v)
		}
	}()
	if len(data) > maxImageSize {
		return nil, fmt.Errorf("pe: file of %d bytes is larger than the %d bytes read in memory", len(data), maxImageSize)
	}
	p, perr := parse(data)
	if p == nil || !p.HasNTHdr {
		if perr == nil {
			perr = errors.New("no NT header")
		}
		return nil, fmt.Errorf("pe: not a readable PE file: %w", perr)
	}
	if _, ok := optional(p); !ok {
		return nil, errors.New("pe: not a readable PE file: no optional header")
	}
	pt := &parsedTable{}
	au, start, end := authenticode(data, p, pt)
	si = &SignedImage{Authenticode: au, Size: int64(len(data)), TableStart: start, TableEnd: end,
		Entries: pt.entries, im: pt.im}
	for _, s := range pt.sigs {
		si.Signatures = append(si.Signatures, SignedData{PKCS7: s.p7, Hash: s.hash})
	}
	return si, nil
}

// ParsePKCS7 parses a DER or BER PKCS#7 ContentInfo with the bounds this package uses
// (ASN.1 nesting depth), turning the parser's panics into errors.
func ParsePKCS7(der []byte) (*pkcs7.PKCS7, error) {
	return parsePKCS7(der)
}
