package authenticode

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Signer is an expected signer (as given with --authenticode-signer), matched against
// the signing (leaf) certificate of the primary signature.
type Signer struct {
	kind, value string
}

// ParseSigner reads an expected signer. The syntax is KIND:VALUE, matched exactly
// (case and spaces count):
//
//	sha256:HEX     SHA-256 fingerprint of the leaf certificate's DER (64 hex digits,
//	               upper or lower case; colons between bytes allowed)
//	cn:NAME        the subject common name is NAME
//	o:NAME         one of the subject organization values is NAME
//	subject:DN     the whole subject, RFC 2253 as Go prints it, most specific first:
//	               "CN=Example Code Signing,O=Example Corp,C=JP"
//
// The fingerprint pins one certificate (it changes when the vendor renews it); the
// names pin whatever certificate a trusted root issues under them.
func ParseSigner(s string) (Signer, error) {
	kind, value, ok := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	if !ok || value == "" || !slices.Contains([]string{"sha256", "cn", "o", "subject"}, kind) {
		return Signer{}, fmt.Errorf("authenticode: expected signer %q: write sha256:FINGERPRINT, cn:NAME, o:NAME or subject:DN", s)
	}
	if kind == "sha256" {
		h := strings.ToLower(strings.ReplaceAll(value, ":", ""))
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			return Signer{}, fmt.Errorf("authenticode: expected signer %q: a SHA-256 fingerprint is 64 hex digits", s)
		}
		value = h
	}
	return Signer{kind: kind, value: value}, nil
}

// Match reports whether c is the expected signer.
func (m Signer) Match(c *x509.Certificate) bool {
	if c == nil {
		return false
	}
	switch m.kind {
	case "sha256":
		sum := sha256.Sum256(c.Raw)
		return hex.EncodeToString(sum[:]) == m.value
	case "cn":
		return c.Subject.CommonName == m.value
	case "o":
		return slices.Contains(c.Subject.Organization, m.value)
	case "subject":
		return c.Subject.String() == m.value
	}
	return false
}

// String is the signer in the syntax ParseSigner reads.
func (m Signer) String() string { return m.kind + ":" + m.value }
