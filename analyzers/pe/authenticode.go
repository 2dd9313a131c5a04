package pe

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	// Hash implementations Authenticode digests use.
	_ "crypto/md5"
	_ "crypto/sha1"
	_ "crypto/sha512"

	"github.com/ayoubfaouzi/pkcs7"
	sw "github.com/saferwall/pe"
)

// maxNesting bounds how deeply nested signatures are followed.
const maxNesting = 4

var (
	oidNested          = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 4, 1}
	oidRFC3161         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}
	oidCountersign     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	oidSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSpcIndirectData = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
)

var digestAlgs = []struct {
	oid  asn1.ObjectIdentifier
	name string
	hash crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}, "md5", crypto.MD5},
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, "sha1", crypto.SHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, "sha256", crypto.SHA256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, "sha384", crypto.SHA384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, "sha512", crypto.SHA512},
}

// image is what the authentihash is computed over.
type image struct {
	data []byte
	// skips are the CheckSum field and the certificate table directory entry.
	skips [2][2]int64
	// end is where hashing stops: the certificate table's offset, or the end of the file.
	end    int64
	hashes map[crypto.Hash][]byte
}

func (im *image) digest(h crypto.Hash) []byte {
	if d, ok := im.hashes[h]; ok {
		return d
	}
	w := h.New()
	pos := int64(0)
	for _, s := range im.skips {
		if s[0] < pos || s[0] >= im.end {
			continue
		}
		w.Write(im.data[pos:s[0]])
		pos = min(s[0]+s[1], im.end)
	}
	w.Write(im.data[pos:im.end])
	d := w.Sum(nil)
	im.hashes[h] = d
	return d
}

// authenticode reads the certificate table and checks each signature against the image.
// It returns the table's extent in the file (empty when there is none, or it lies outside
// the file).
//
// When parsed is not nil it also receives the parsed signatures and the table's entries,
// for ReadAuthenticode.
func authenticode(data []byte, p *sw.File, parsed *parsedTable) (au Authenticode, certStart, certEnd int64) {
	o, ok := optional(p)
	if !ok {
		return au, 0, 0
	}
	size := int64(len(data))
	im := &image{data: data, end: size, hashes: map[crypto.Hash][]byte{},
		skips: [2][2]int64{{int64(o.checksumOff), 4}, {int64(o.certDirOff), 8}}}
	var dir sw.DataDirectory
	if o.numRvaAndSizes > 4 {
		dir = o.dirs[4]
	}
	if dir.Size != 0 {
		au.Present = true
		au.TableOffset = dir.VirtualAddress
		au.TableSize = dir.Size
		s, e := int64(dir.VirtualAddress), int64(dir.VirtualAddress)+int64(dir.Size)
		if s >= int64(o.sizeOfHeaders) && e <= size && s > 0 {
			certStart, certEnd = s, e
			im.end = s
		}
	}
	au.Authentihash = map[string]string{}
	if parsed != nil {
		parsed.im = im
	}
	if certEnd > certStart && certEnd < size {
		au.UnsignedRegions = append(au.UnsignedRegions, Region{Offset: certEnd, Size: size - certEnd})
	}
	if certEnd > certStart {
		ct := certTable(data[certStart:certEnd], im)
		au.TrailingBytes = ct.trailing
		for _, sd := range ct.sigs {
			au.Signatures = append(au.Signatures, sd.facts)
		}
		if parsed != nil {
			parsed.sigs = ct.sigs
			parsed.entries = ct.entries
			for i := range parsed.entries {
				parsed.entries[i].Offset += certStart
			}
		}
	}
	au.Authentihash["sha1"] = hex.EncodeToString(im.digest(crypto.SHA1))
	au.Authentihash["sha256"] = hex.EncodeToString(im.digest(crypto.SHA256))
	for _, a := range digestAlgs {
		if d, ok := im.hashes[a.hash]; ok {
			au.Authentihash[a.name] = hex.EncodeToString(d)
		}
	}
	if len(au.Signatures) > 0 {
		s := au.Signatures[0]
		au.Intact = s.DigestMatches && s.SignatureVerifies && len(au.UnsignedRegions) == 0
	}
	return au, certStart, certEnd
}

// parsedTable is what certTable and authenticode found beyond the facts.
type parsedTable struct {
	sigs    []sigData
	entries []CertEntry
	im      *image
}

// sigData is one signature with its facts and the parsed PKCS#7 behind them.
type sigData struct {
	facts Signature
	p7    *pkcs7.PKCS7
	hash  crypto.Hash
}

// certTableInfo is what certTable read.
type certTableInfo struct {
	sigs     []sigData
	trailing int64
	entries  []CertEntry
}

// certTable walks the WIN_CERTIFICATE entries of the table and returns the signatures,
// the entries (offsets relative to the table) and the number of non-zero bytes that
// belong to no PKCS#7 structure.
func certTable(t []byte, im *image) certTableInfo {
	var ct certTableInfo
	pos := 0
	for pos+8 <= len(t) && len(ct.entries) < maxCertEntries {
		length := int(binary.LittleEndian.Uint32(t[pos:]))
		revision := binary.LittleEndian.Uint16(t[pos+4:])
		ctype := binary.LittleEndian.Uint16(t[pos+6:])
		if length < 8 || length > len(t)-pos {
			break
		}
		content := t[pos+8 : pos+length]
		n := derLength(content)
		if ctype == 2 && len(ct.sigs) < maxSignatures {
			ct.sigs = append(ct.sigs, signatures(content[:n], false, im, 0, maxSignatures-len(ct.sigs))...)
		} else {
			n = 0
		}
		ct.entries = append(ct.entries, CertEntry{Offset: int64(pos), Length: int64(length),
			Revision: revision, Type: ctype, SignatureLength: int64(n)})
		ct.trailing += nonZero(content[n:])
		pos += (length + 7) &^ 7
	}
	if pos < len(t) {
		ct.trailing += nonZero(t[pos:])
	}
	return ct
}

// derLength is the length of the DER or BER element at the start of b (its header and
// content), or len(b) when that cannot be told (indefinite length) or exceeds b.
func derLength(b []byte) int {
	if len(b) < 2 {
		return len(b)
	}
	l := int(b[1])
	hdr := 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return len(b)
		}
		l = 0
		for _, c := range b[2 : 2+k] {
			l = l<<8 | int(c)
		}
		hdr += k
	}
	if l < 0 || l > len(b)-hdr {
		return len(b)
	}
	return hdr + l
}

func nonZero(b []byte) int64 {
	var n int64
	for _, c := range b {
		if c != 0 {
			n++
		}
	}
	return n
}

// spcAttributeTypeAndOptionalValue and digestInfo are the two halves of
// SpcIndirectDataContent.
type spcAttributeTypeAndOptionalValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"optional"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

// maxBERDepth bounds the nesting of the ASN.1 handed to pkcs7.Parse, whose BER reader
// recurses once per level: a few megabytes of nested headers would exhaust the stack,
// which no recover catches. Real signatures nest about a dozen levels.
const maxBERDepth = 64

// berDepthOK reports whether the first BER element of b nests constructed elements no
// deeper than limit. Malformed encodings pass: the parser rejects them by itself.
func berDepthOK(b []byte, limit int) bool {
	type frame struct {
		end        int
		indefinite bool
	}
	var stack []frame
	pos := 0
	for pos < len(b) {
		for len(stack) > 0 && !stack[len(stack)-1].indefinite && pos >= stack[len(stack)-1].end {
			stack = stack[:len(stack)-1]
		}
		if n := len(stack); n > 0 && stack[n-1].indefinite && pos+1 < len(b) && b[pos] == 0 && b[pos+1] == 0 {
			stack = stack[:n-1]
			pos += 2
			continue
		}
		if len(stack) == 0 && pos > 0 {
			return true
		}
		tag := b[pos]
		pos++
		if tag&0x1f == 0x1f {
			for pos < len(b) && b[pos]&0x80 != 0 {
				pos++
			}
			pos++
		}
		if pos >= len(b) {
			return true
		}
		l := int(b[pos])
		pos++
		constructed := tag&0x20 != 0
		if l == 0x80 {
			if !constructed {
				return true
			}
			stack = append(stack, frame{indefinite: true})
		} else {
			if l&0x80 != 0 {
				k := l & 0x7f
				if k > 4 || pos+k > len(b) {
					return true
				}
				l = 0
				for _, c := range b[pos : pos+k] {
					l = l<<8 | int(c)
				}
				pos += k
			}
			if !constructed {
				pos += l
				continue
			}
			stack = append(stack, frame{end: pos + l})
		}
		if len(stack) > limit {
			return false
		}
	}
	return true
}

// parsePKCS7 is pkcs7.Parse with its panics turned into errors.
func parsePKCS7(der []byte) (p7 *pkcs7.PKCS7, err error) {
	defer func() {
		if v := recover(); v != nil {
			p7, err = nil, fmt.Errorf("malformed PKCS#7 (parser panic: %v)", v)
		}
	}()
	if !berDepthOK(der, maxBERDepth) {
		return nil, fmt.Errorf("PKCS#7 nests ASN.1 deeper than %d levels", maxBERDepth)
	}
	p7, err = pkcs7.Parse(der)
	if err == nil && p7 == nil {
		err = fmt.Errorf("empty PKCS#7")
	}
	return p7, err
}

func verifyPKCS7(p7 *pkcs7.PKCS7) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("malformed PKCS#7 (verifier panic: %v)", v)
		}
	}()
	if len(p7.Signers) == 0 {
		return fmt.Errorf("no signer")
	}
	return p7.Verify()
}

// signatures reads one Authenticode SignedData and the signatures nested in it, at most
// room of them.
func signatures(der []byte, nested bool, im *image, depth, room int) []sigData {
	if room <= 0 {
		return nil
	}
	s := Signature{Nested: nested}
	p7, err := parsePKCS7(der)
	if err != nil {
		s.VerifyError = "cannot parse PKCS#7 SignedData: " + err.Error()
		return []sigData{{facts: s}}
	}
	var hash crypto.Hash
	var spc spcAttributeTypeAndOptionalValue
	var di digestInfo
	rest, err := asn1.Unmarshal(p7.Content, &spc)
	if err == nil {
		_, err = asn1.Unmarshal(rest, &di)
	}
	if err != nil || !spc.Type.Equal(oidSpcIndirectData) && !spc.Type.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 15}) {
		s.VerifyError = "content is not an SpcIndirectDataContent"
	} else {
		s.DigestAlgorithm = di.Algorithm.Algorithm.String()
		s.SignedDigest = hex.EncodeToString(di.Digest)
		for _, a := range digestAlgs {
			if a.oid.Equal(di.Algorithm.Algorithm) {
				s.DigestAlgorithm = a.name
				s.DigestMatches = bytes.Equal(im.digest(a.hash), di.Digest)
				hash = a.hash
			}
		}
	}
	if err := verifyPKCS7(p7); err != nil {
		if s.VerifyError == "" {
			s.VerifyError = err.Error()
		}
	} else {
		s.SignatureVerifies = true
	}
	for i, c := range p7.Certificates {
		if i == maxCertificates {
			break
		}
		s.Certificates = append(s.Certificates, certificate(c))
	}
	var nestedDER [][]byte
	if len(p7.Signers) > 0 {
		si := p7.Signers[0]
		if c := findCert(p7.Certificates, si.IssuerAndSerialNumber.IssuerName.FullBytes, si.IssuerAndSerialNumber.SerialNumber); c != nil {
			cc := certificate(c)
			s.Signer = &cc
		}
		for _, attr := range si.UnauthenticatedAttributes {
			switch {
			case len(s.Countersignatures) >= maxSignatures:
			case attr.Type.Equal(oidCountersign):
				s.Countersignatures = append(s.Countersignatures, pkcs9Countersignatures(attr.Value.Bytes, p7.Certificates)...)
			case attr.Type.Equal(oidRFC3161):
				s.Countersignatures = append(s.Countersignatures, rfc3161(attr.Value.Bytes))
			case attr.Type.Equal(oidNested):
				rest := attr.Value.Bytes
				for len(rest) > 0 && len(nestedDER) < maxSignatures {
					var rv asn1.RawValue
					var err error
					if rest, err = asn1.Unmarshal(rest, &rv); err != nil {
						break
					}
					nestedDER = append(nestedDER, rv.FullBytes)
				}
			}
		}
	}
	out := []sigData{{facts: s, p7: p7, hash: hash}}
	if depth < maxNesting {
		for _, d := range nestedDER {
			out = append(out, signatures(d, true, im, depth+1, room-len(out))...)
		}
	}
	return out
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

func certificate(c *x509.Certificate) Certificate {
	sum := sha256.Sum256(c.Raw)
	return Certificate{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		Serial:    c.SerialNumber.Text(16),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:  c.NotAfter.UTC().Format(time.RFC3339),
		SHA256:    hex.EncodeToString(sum[:]),
	}
}

// attribute and signerInfo are PKCS#7 structures (RFC 2315 9.2) for countersignatures.
type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type signerInfo struct {
	Version         int
	IssuerAndSerial struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	DigestAlgorithm           pkix.AlgorithmIdentifier
	AuthenticatedAttributes   []attribute `asn1:"optional,omitempty,tag:0"`
	DigestEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedDigest           []byte
	UnauthenticatedAttributes []attribute `asn1:"optional,omitempty,tag:1"`
}

// pkcs9Countersignatures reads the SignerInfos of a PKCS#9 countersignature attribute.
func pkcs9Countersignatures(set []byte, certs []*x509.Certificate) []Countersignature {
	var out []Countersignature
	for len(set) > 0 && len(out) < maxSignatures {
		var si signerInfo
		var err error
		if set, err = asn1.Unmarshal(set, &si); err != nil {
			out = append(out, Countersignature{Kind: "pkcs9"})
			break
		}
		cs := Countersignature{Kind: "pkcs9"}
		for _, a := range si.AuthenticatedAttributes {
			if a.Type.Equal(oidSigningTime) {
				var t time.Time
				if _, err := asn1.Unmarshal(a.Value.Bytes, &t); err == nil {
					cs.Time = t.UTC().Format(time.RFC3339)
				}
			}
		}
		if c := findCert(certs, si.IssuerAndSerial.Issuer.FullBytes, si.IssuerAndSerial.Serial); c != nil {
			cs.Signer = c.Subject.String()
		}
		out = append(out, cs)
	}
	return out
}

// tstInfo is the start of an RFC 3161 TSTInfo.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint asn1.RawValue
	SerialNumber   *big.Int
	GenTime        time.Time `asn1:"generalized"`
}

// rfc3161 reads the time-stamp token of an RFC 3161 countersignature attribute.
func rfc3161(set []byte) Countersignature {
	cs := Countersignature{Kind: "rfc3161"}
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(set, &rv); err != nil {
		return cs
	}
	p7, err := parsePKCS7(rv.FullBytes)
	if err != nil {
		return cs
	}
	var info tstInfo
	if _, err := asn1.Unmarshal(p7.Content, &info); err == nil {
		cs.Time = info.GenTime.UTC().Format(time.RFC3339)
	}
	if len(p7.Signers) > 0 {
		si := p7.Signers[0]
		if c := findCert(p7.Certificates, si.IssuerAndSerialNumber.IssuerName.FullBytes, si.IssuerAndSerialNumber.SerialNumber); c != nil {
			cs.Signer = c.Subject.String()
		}
	}
	return cs
}
