package authenticode

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"kensa.dev/kensa/analyzers/pe"
)

// Strict form. The PKCS#7 parser behind the PE analyzer reads BER leniently and ignores
// fields Authenticode fixes, so bytes of a signature blob that nothing signs (versions,
// the digestAlgorithms set, content type OIDs, algorithm parameters, length octets
// outside the signed attributes) could change while the signature still verifies: one
// signed file would exist in many byte forms, and lenient length parsing is the parser
// differential that lets data hide in signed files. Every signature blob verified (the
// PKCS#7 of each WIN_CERTIFICATE entry and every nested signature) must therefore be:
//
//   - strict DER: definite lengths in the fewest octets, every element inside its
//     parent, nothing after the ContentInfo, low tag numbers in the short form,
//     primitive encodings of the primitive universal types and constructed SEQUENCE and
//     SET, canonical BOOLEAN, INTEGER, NULL, OBJECT IDENTIFIER and BIT STRING contents,
//     at most maxDERDepth levels and maxDERElements elements;
//   - in the form Microsoft's Authenticode PE specification gives: ContentInfo of type
//     signedData; SignedData version 1 with exactly one digestAlgorithm, equal to the
//     SignerInfo's, content of type SPC_INDIRECT_DATA_OBJID holding one
//     SpcIndirectDataContent, certificates that are X.509 certificates (whose outer
//     signatureAlgorithm equals the one in their signed part, RFC 5280 4.1.1.2), no
//     CRLs, and exactly one SignerInfo; SignerInfo version 1 with authenticated
//     attributes; digest algorithms MD5, SHA-1 or SHA-2 with parameters absent or NULL;
//     a signature algorithm of RSA (rsaEncryption or shaNNNWithRSAEncryption, parameters
//     NULL or absent) or ECDSA (ecdsa-with-SHANNN, parameters absent) whose hash, when it
//     names one, is the SignerInfo's digest algorithm.
//
// Countersignatures (RFC 3161 tokens, PKCS#9 countersignatures) inside a signature are
// held to strict DER with the rest of its blob; what they hold is judged where they are
// verified (timestamp.go). The certificates are not required in DER's SET OF order:
// PuTTY's signatures (Sectigo) list theirs unsorted.
//
// One byte stays free: the last octet of the signature algorithm OID may spell RSA
// PKCS#1 v1.5 as rsaEncryption (…1.1.1, what every signature checked uses) or as the
// shaNNNWithRSAEncryption of the digest algorithm (…1.1.11 for SHA-256), which RFC 3370
// and RFC 4056 both allow; the two mean the same signature.

// Limits of the strict walk.
const (
	// maxDERDepth is the deepest nesting of constructed elements accepted, as the PE
	// analyzer bounds what it hands the PKCS#7 parser. Real signatures nest 10 to 33
	// levels (33 with a nested signature and time stamps).
	maxDERDepth = 64
	// maxDERElements is the most elements one signature blob may hold. Real ones hold
	// 100 to 1,200.
	maxDERElements = 1 << 18
)

var (
	oidSignedData  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidSpcIndirect = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
)

// algorithms Authenticode signatures use, and how each takes parameters.
const (
	paramsAbsentOrNull = iota
	paramsAbsent
)

type algorithm struct {
	oid    asn1.ObjectIdentifier
	name   string
	digest bool   // a digest algorithm; otherwise a signature algorithm
	hash   string // the hash a signature algorithm names; "" for rsaEncryption
	params int
}

var algorithms = []algorithm{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}, "md5", true, "md5", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, "sha1", true, "sha1", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, "sha256", true, "sha256", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, "sha384", true, "sha384", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, "sha512", true, "sha512", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, "rsaEncryption", false, "", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, "md5WithRSAEncryption", false, "md5", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, "sha1WithRSAEncryption", false, "sha1", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, "sha256WithRSAEncryption", false, "sha256", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, "sha384WithRSAEncryption", false, "sha384", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, "sha512WithRSAEncryption", false, "sha512", paramsAbsentOrNull},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, "ecdsa-with-SHA1", false, "sha1", paramsAbsent},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, "ecdsa-with-SHA256", false, "sha256", paramsAbsent},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, "ecdsa-with-SHA384", false, "sha384", paramsAbsent},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, "ecdsa-with-SHA512", false, "sha512", paramsAbsent},
}

// element is one DER TLV.
type element struct {
	class       byte // 0 universal, 1 application, 2 context-specific, 3 private
	tag         int
	constructed bool
	full, body  []byte
}

func (e element) is(class byte, tag int, constructed bool) bool {
	return e.class == class && e.tag == tag && e.constructed == constructed
}

// name says what the element's tag is, for messages.
func (e element) name() string {
	if e.class == 2 {
		return fmt.Sprintf("[%d]", e.tag)
	}
	if e.class == 0 {
		switch e.tag {
		case 2:
			return "INTEGER"
		case 3:
			return "BIT STRING"
		case 4:
			return "OCTET STRING"
		case 5:
			return "NULL"
		case 6:
			return "OBJECT IDENTIFIER"
		case 16:
			return "SEQUENCE"
		case 17:
			return "SET"
		}
	}
	return fmt.Sprintf("tag %d of class %d", e.tag, e.class)
}

// aName is name with its indefinite article.
func (e element) aName() string {
	n := e.name()
	if strings.ContainsRune("AEIOU", rune(n[0])) {
		return "an " + n
	}
	return "a " + n
}

// readElement reads the DER element at the start of b and returns it and what follows.
// It checks the header only: short-form low tag numbers, minimal long-form high ones, a
// definite length in the fewest octets, and the content inside b.
func readElement(b []byte) (element, []byte, error) {
	var e element
	if len(b) < 2 {
		return e, nil, errors.New("truncated element header")
	}
	e.class, e.constructed, e.tag = b[0]>>6, b[0]&0x20 != 0, int(b[0]&0x1f)
	pos := 1
	if e.tag == 0x1f {
		e.tag = 0
		for i := 0; ; i++ {
			if pos >= len(b) || i == 3 {
				return e, nil, errors.New("tag number too long or truncated")
			}
			c := b[pos]
			pos++
			if i == 0 && c == 0x80 {
				return e, nil, errors.New("tag number with a leading zero group")
			}
			e.tag = e.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if e.tag < 0x1f {
			return e, nil, fmt.Errorf("tag number %d in the long form", e.tag)
		}
	}
	if pos >= len(b) {
		return e, nil, errors.New("truncated element header")
	}
	l := int(b[pos])
	pos++
	switch {
	case l == 0x80:
		return e, nil, errors.New("indefinite length (BER, not DER)")
	case l > 0x80:
		k := l & 0x7f
		if k > 4 || pos+k > len(b) {
			return e, nil, fmt.Errorf("length of %d octets", k)
		}
		if b[pos] == 0 {
			return e, nil, errors.New("length with a leading zero octet (not the shortest form)")
		}
		l = 0
		for _, c := range b[pos : pos+k] {
			l = l<<8 | int(c)
		}
		pos += k
		if l < 0x80 {
			return e, nil, fmt.Errorf("length %d in the long form (not the shortest form)", l)
		}
	}
	if l > len(b)-pos {
		return e, nil, fmt.Errorf("length %d runs past its parent by %d bytes", l, l-(len(b)-pos))
	}
	e.full, e.body = b[:pos+l], b[pos:pos+l]
	return e, b[pos+l:], nil
}

// derWalker checks that a whole blob is strict DER.
type derWalker struct {
	count int
}

// walk checks the elements of b, which lie at depth, and everything inside them.
func (w *derWalker) walk(b []byte, depth int) error {
	if depth > maxDERDepth {
		return fmt.Errorf("elements nested deeper than %d levels", maxDERDepth)
	}
	for len(b) > 0 {
		w.count++
		if w.count > maxDERElements {
			return fmt.Errorf("more than %d elements", maxDERElements)
		}
		e, rest, err := readElement(b)
		if err != nil {
			return err
		}
		if err := primitiveOK(e); err != nil {
			return err
		}
		if e.constructed {
			if err := w.walk(e.body, depth+1); err != nil {
				return err
			}
		}
		b = rest
	}
	return nil
}

// primitiveOK applies DER's rules on the encoding of universal types.
func primitiveOK(e element) error {
	if e.class != 0 {
		return nil
	}
	switch e.tag {
	case 0:
		return errors.New("end-of-contents marker (BER, not DER)")
	case 16, 17:
		if !e.constructed {
			return fmt.Errorf("primitive %s", e.name())
		}
		return nil
	case 1, 2, 3, 4, 5, 6, 9, 10, 12, 13, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30:
		if e.constructed {
			return fmt.Errorf("constructed encoding of universal type %d (BER, not DER)", e.tag)
		}
	}
	b := e.body
	switch e.tag {
	case 1:
		if len(b) != 1 || b[0] != 0 && b[0] != 0xff {
			return errors.New("BOOLEAN not encoded as 00 or FF")
		}
	case 2, 10:
		if len(b) == 0 {
			return errors.New("empty INTEGER")
		}
		if len(b) > 1 && (b[0] == 0 && b[1] < 0x80 || b[0] == 0xff && b[1] >= 0x80) {
			return errors.New("INTEGER not in the fewest octets")
		}
	case 3:
		if len(b) == 0 || b[0] > 7 || len(b) == 1 && b[0] != 0 {
			return errors.New("malformed BIT STRING")
		}
		if b[len(b)-1]&(1<<b[0]-1) != 0 {
			return errors.New("BIT STRING with non-zero unused bits")
		}
	case 5:
		if len(b) != 0 {
			return errors.New("NULL with content")
		}
	case 6:
		if len(b) == 0 || b[len(b)-1]&0x80 != 0 {
			return errors.New("malformed OBJECT IDENTIFIER")
		}
		for i, c := range b {
			if c == 0x80 && (i == 0 || b[i-1]&0x80 == 0) {
				return errors.New("OBJECT IDENTIFIER with a padded subidentifier")
			}
		}
	}
	return nil
}

// elems reads the elements inside a constructed element (already walked).
func elems(e element) []element {
	var out []element
	for b := e.body; len(b) > 0; {
		c, rest, err := readElement(b)
		if err != nil {
			return out
		}
		out = append(out, c)
		b = rest
	}
	return out
}

// formError is a departure from the Authenticode form.
type formError struct{ msg string }

func (e *formError) Error() string { return e.msg }

func formErr(format string, a ...any) error { return &formError{fmt.Sprintf(format, a...)} }

// oidOf returns the OBJECT IDENTIFIER e holds, or nil.
func oidOf(e element) asn1.ObjectIdentifier {
	if !e.is(0, 6, false) {
		return nil
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(e.full, &oid); err != nil {
		return nil
	}
	return oid
}

// isOne reports whether e is INTEGER 1.
func isOne(e element) bool { return e.is(0, 2, false) && bytes.Equal(e.body, []byte{1}) }

// intString prints a (strict DER) INTEGER for a message.
func intString(e element) string {
	if !e.is(0, 2, false) {
		return e.aName()
	}
	if len(e.body) <= 4 {
		v := 0
		if e.body[0] >= 0x80 {
			v = -1
		}
		for _, c := range e.body {
			v = v<<8 | int(c)
		}
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("a %d-byte integer", len(e.body))
}

// checkAlgorithm checks an AlgorithmIdentifier where a digest (digest true) or a
// signature algorithm is expected, and returns its entry.
func checkAlgorithm(e element, where string, digest bool) (algorithm, error) {
	if !e.is(0, 16, true) {
		return algorithm{}, formErr("%s is %s, not an AlgorithmIdentifier", where, e.aName())
	}
	c := elems(e)
	if len(c) < 1 || len(c) > 2 {
		return algorithm{}, formErr("%s has %d fields, not an algorithm and its parameters", where, len(c))
	}
	oid := oidOf(c[0])
	if oid == nil {
		return algorithm{}, formErr("%s names its algorithm with %s", where, c[0].aName())
	}
	for _, a := range algorithms {
		if !a.oid.Equal(oid) {
			continue
		}
		if a.digest != digest {
			break
		}
		switch {
		case len(c) == 2 && a.params == paramsAbsent:
			return a, formErr("%s %s has parameters (%s); it takes none", where, a.name, c[1].aName())
		case len(c) == 2 && !c[1].is(0, 5, false):
			return a, formErr("%s %s has %s as parameters; it takes NULL or none", where, a.name, c[1].aName())
		}
		return a, nil
	}
	kind := "signature"
	if digest {
		kind = "digest"
	}
	return algorithm{}, formErr("%s %s is not a %s algorithm Authenticode signatures use", where, oid, kind)
}

// authenticodeForm checks that der, a signature blob, is strict DER in Authenticode
// form.
func authenticodeForm(der []byte) error {
	if err := strictDER(der); err != nil {
		return err
	}
	ci, _, _ := readElement(der)
	return contentInfoForm(ci)
}

// strictDER checks that der is one strict DER element.
func strictDER(der []byte) error {
	if len(der) == 0 {
		return formErr("the signature is empty")
	}
	e, rest, err := readElement(der)
	if err == nil && len(rest) > 0 {
		return formErr("%d bytes follow the signature's ContentInfo", len(rest))
	}
	w := &derWalker{}
	if err := w.walk(der, 0); err != nil {
		return formErr("the signature is not strict DER: %v", err)
	}
	if !e.constructed {
		return formErr("the signature is %s, not a ContentInfo", e.aName())
	}
	return nil
}

// contentInfoForm checks a ContentInfo holding an Authenticode SignedData (already
// walked as strict DER).
func contentInfoForm(ci element) error {
	if !ci.is(0, 16, true) {
		return formErr("the ContentInfo is %s, not a SEQUENCE", ci.aName())
	}
	c := elems(ci)
	if len(c) != 2 || !c[1].is(2, 0, true) {
		return formErr("the ContentInfo is not a content type and its [0] content")
	}
	if oid := oidOf(c[0]); !oid.Equal(oidSignedData) {
		return formErr("the ContentInfo's content type is %s, not signedData (%s)", oidString(c[0]), oidSignedData)
	}
	in := elems(c[1])
	if len(in) != 1 || !in[0].is(0, 16, true) {
		return formErr("the ContentInfo's [0] does not hold one SignedData SEQUENCE")
	}
	return signedDataForm(in[0])
}

func oidString(e element) string {
	if oid := oidOf(e); oid != nil {
		return oid.String()
	}
	return e.aName()
}

// signedDataForm checks a SignedData (RFC 2315 9.1) against the Authenticode form.
func signedDataForm(sd element) error {
	c := elems(sd)
	if len(c) < 4 {
		return formErr("the SignedData has %d fields; it needs at least 4", len(c))
	}
	if !isOne(c[0]) {
		return formErr("the SignedData version is %s, not 1", intString(c[0]))
	}
	if !c[1].is(0, 17, true) {
		return formErr("the SignedData's digestAlgorithms is %s, not a SET", c[1].aName())
	}
	algs := elems(c[1])
	if len(algs) != 1 {
		return formErr("the SignedData names %d digest algorithms; Authenticode requires exactly one", len(algs))
	}
	if _, err := checkAlgorithm(algs[0], "the SignedData's digest algorithm", true); err != nil {
		return err
	}
	if err := encapForm(c[2]); err != nil {
		return err
	}
	i := 3
	if c[i].is(2, 0, true) {
		for _, cert := range elems(c[i]) {
			if err := certificateForm(cert); err != nil {
				return err
			}
		}
		i++
	}
	if i < len(c) && c[i].is(2, 1, true) {
		return formErr("the SignedData carries CRLs, which Authenticode does not use")
	}
	if i != len(c)-1 || !c[i].is(0, 17, true) {
		return formErr("the SignedData's fields after its content are not certificates and one SET of signer infos")
	}
	signers := elems(c[i])
	if len(signers) != 1 {
		return formErr("the SignedData has %d signer infos; Authenticode requires exactly one", len(signers))
	}
	return signerInfoForm(signers[0], algs[0])
}

// encapForm checks the content: SPC_INDIRECT_DATA_OBJID with one SpcIndirectDataContent
// (a SEQUENCE of SpcAttributeTypeAndOptionalValue and DigestInfo).
func encapForm(e element) error {
	if !e.is(0, 16, true) {
		return formErr("the SignedData's contentInfo is %s, not a SEQUENCE", e.aName())
	}
	c := elems(e)
	if len(c) != 2 || !c[1].is(2, 0, true) {
		return formErr("the SignedData's contentInfo is not a content type and its [0] content")
	}
	if oid := oidOf(c[0]); !oid.Equal(oidSpcIndirect) {
		return formErr("the signed content type is %s, not SPC_INDIRECT_DATA_OBJID (%s)", oidString(c[0]), oidSpcIndirect)
	}
	in := elems(c[1])
	if len(in) != 1 || !in[0].is(0, 16, true) {
		return formErr("the signed content is not one SpcIndirectDataContent SEQUENCE")
	}
	spc := elems(in[0])
	if len(spc) != 2 || !spc[0].is(0, 16, true) || !spc[1].is(0, 16, true) {
		return formErr("the SpcIndirectDataContent is not a SEQUENCE of its data and a DigestInfo")
	}
	di := elems(spc[1])
	if len(di) != 2 || !di[1].is(0, 4, false) {
		return formErr("the SpcIndirectDataContent's DigestInfo is not an algorithm and an OCTET STRING")
	}
	_, err := checkAlgorithm(di[0], "the file digest algorithm", true)
	return err
}

// certificateForm checks that an embedded certificate is an X.509 Certificate whose
// outer signatureAlgorithm is the one its signed part names (RFC 5280 4.1.1.2): the
// outer one is covered by no signature.
func certificateForm(cert element) error {
	if !cert.is(0, 16, true) {
		return formErr("the SignedData's certificates hold %s, not an X.509 certificate", cert.aName())
	}
	c := elems(cert)
	if len(c) != 3 || !c[0].is(0, 16, true) || !c[2].is(0, 3, false) {
		return formErr("an embedded certificate is not a signed part, an algorithm and a signature")
	}
	tbs := elems(c[0])
	i := 0
	if len(tbs) > 0 && tbs[0].is(2, 0, true) {
		i++ // version
	}
	if i+1 >= len(tbs) || !bytes.Equal(tbs[i+1].full, c[1].full) {
		return formErr("an embedded certificate's signatureAlgorithm differs from the one its signed part names")
	}
	return nil
}

// signerInfoForm checks the SignerInfo (RFC 2315 9.2).
func signerInfoForm(si element, digestAlg element) error {
	if !si.is(0, 16, true) {
		return formErr("the signer info is %s, not a SEQUENCE", si.aName())
	}
	c := elems(si)
	if len(c) < 6 || len(c) > 7 {
		return formErr("the SignerInfo has %d fields, not 6 or 7", len(c))
	}
	if !isOne(c[0]) {
		return formErr("the SignerInfo version is %s, not 1", intString(c[0]))
	}
	if !c[1].is(0, 16, true) || len(elems(c[1])) != 2 {
		return formErr("the SignerInfo's issuerAndSerialNumber is not a name and a serial number")
	}
	dig, err := checkAlgorithm(c[2], "the SignerInfo's digest algorithm", true)
	if err != nil {
		return err
	}
	if !bytes.Equal(c[2].full, digestAlg.full) {
		return formErr("the SignerInfo's digest algorithm differs from the SignedData's digestAlgorithms")
	}
	if !c[3].is(2, 0, true) {
		return formErr("the SignerInfo has no authenticated attributes; Authenticode requires them")
	}
	if err := attributesForm(c[3], "authenticated"); err != nil {
		return err
	}
	sig, err := checkAlgorithm(c[4], "the SignerInfo's signature algorithm", false)
	if err != nil {
		return err
	}
	if sig.hash != "" && sig.hash != dig.hash {
		return formErr("the SignerInfo's signature algorithm %s names another hash than its digest algorithm %s", sig.name, dig.name)
	}
	if !c[5].is(0, 4, false) {
		return formErr("the SignerInfo's signature value is %s, not an OCTET STRING", c[5].aName())
	}
	if len(c) == 6 {
		return nil
	}
	if !c[6].is(2, 1, true) {
		return formErr("the SignerInfo's last field is %s, not [1] unauthenticated attributes", c[6].aName())
	}
	return attributesForm(c[6], "unauthenticated")
}

// nestedOf returns the DER of the signatures nested in the signature blob der (already
// found strict DER), in the order the PE analyzer reads them.
func nestedOf(der []byte) [][]byte {
	ci, _, err := readElement(der)
	if err != nil {
		return nil
	}
	path := elems(ci) // contentType, [0]
	if len(path) != 2 {
		return nil
	}
	if path = elems(path[1]); len(path) != 1 { // SignedData
		return nil
	}
	if path = elems(path[0]); len(path) == 0 { // its fields; signerInfos last
		return nil
	}
	if path = elems(path[len(path)-1]); len(path) == 0 { // signer infos
		return nil
	}
	if path = elems(path[0]); len(path) == 0 || !path[len(path)-1].is(2, 1, true) { // SignerInfo
		return nil
	}
	var nested [][]byte
	for _, a := range elems(path[len(path)-1]) {
		if f := elems(a); len(f) == 2 && oidOf(f[0]).Equal(oidNested) {
			for _, n := range elems(f[1]) {
				nested = append(nested, n.full)
			}
		}
	}
	return nested
}

// attributesForm checks that every attribute is a type and a SET of values.
func attributesForm(e element, kind string) error {
	for _, a := range elems(e) {
		f := elems(a)
		if !a.is(0, 16, true) || len(f) != 2 || oidOf(f[0]) == nil || !f[1].is(0, 17, true) {
			return formErr("an %s attribute is not a type and a SET of values", kind)
		}
	}
	return nil
}

// peNesting is how deep the PE analyzer follows nested signatures (a signature in
// an entry is at depth 0): the blobs checked here must line up with its list.
const peNesting = 4

// strictProblems checks the form of every signature blob in the file's certificate
// table and returns, for each signature of si.Signatures (by index), what is wrong with
// its form; nil when nothing is.
func strictProblems(data []byte, si *pe.SignedImage) [][]string {
	facts := si.Authenticode.Signatures
	out := make([][]string, len(facts))
	add := func(i int, err error) {
		out[i] = append(out[i], "not a strict Authenticode signature: "+err.Error()+
			"; bytes that no signature covers were changed, or the signing tool is not standard: ask the vendor for the file as signed")
	}
	// Each WIN_CERTIFICATE entry of type 2 starts a group of signatures: the one in its
	// blob (Nested false), then those nested in it, depth first.
	next := 0
	for _, e := range si.Entries {
		if e.Type != 2 || next >= len(facts) {
			continue
		}
		start, end := next, next+1
		for end < len(facts) && facts[end].Nested {
			end++
		}
		next = end
		lo, hi := e.Offset+8, e.Offset+8+e.SignatureLength
		var blob []byte
		if e.SignatureLength > 0 && hi <= int64(len(data)) {
			blob = data[lo:hi]
		}
		if err := strictDER(blob); err != nil {
			// The nested signatures lie inside the blob: none of them can be told apart.
			for i := start; i < end; i++ {
				add(i, err)
			}
			continue
		}
		var blobs [][]byte
		var flatten func(der []byte, depth int)
		flatten = func(der []byte, depth int) {
			if len(blobs) >= end-start {
				return
			}
			blobs = append(blobs, der)
			if depth < peNesting {
				for _, n := range nestedOf(der) {
					flatten(n, depth+1)
				}
			}
		}
		flatten(blob, 0)
		for k := start; k < end; k++ {
			if k-start >= len(blobs) {
				add(k, formErr("it is not where the signature holding it should nest it"))
				continue
			}
			if err := authenticodeForm(blobs[k-start]); err != nil {
				add(k, err)
			}
		}
	}
	return out
}
