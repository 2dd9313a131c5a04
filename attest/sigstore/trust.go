package sigstore

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// publicGoodRoot is the Sigstore public-good trusted root (see README.md for its origin).
//
//go:embed trusted_root_public_good.json
var publicGoodRoot []byte

// Limits on the trust material and on what is read from a delivery.
const (
	// MaxBundleSize bounds one bundle, legacy bundle or .intoto.jsonl file.
	MaxBundleSize = 16 << 20
	// MaxTrustedRootSize bounds a trusted_root.json.
	MaxTrustedRootSize = 16 << 20
	// MaxJSONDepth bounds the nesting of every JSON document read.
	MaxJSONDepth = 64
	// MaxKeys bounds the public keys and identities of one Trust.
	MaxKeys = 64
	// MaxChain bounds the certificates of a bundle's or legacy signature's chain.
	MaxChain = 10
	// MaxEntries bounds the transparency-log entries and the signed timestamps of a bundle.
	MaxEntries = 32
	// MaxBundlesPerFile bounds the bundles of one .intoto.jsonl file.
	MaxBundlesPerFile = 100
)

// Identity is one keyless signer the policy trusts: the certificate's subject alternative
// name (SAN: a workflow URI, an e-mail, …) and the OIDC issuer that vouched for it, each
// given exactly or as a Go regular expression (anchor it with ^…$). At least one of SAN and
// SANRegexp and one of Issuer and IssuerRegexp must be set.
type Identity struct {
	SAN          string `json:"san,omitempty"`
	SANRegexp    string `json:"sanRegexp,omitempty"`
	Issuer       string `json:"issuer,omitempty"`
	IssuerRegexp string `json:"issuerRegexp,omitempty"`
}

// String describes the identity for messages.
func (id Identity) String() string {
	san, iss := id.SAN, id.Issuer
	if san == "" {
		san = "~" + id.SANRegexp
	}
	if iss == "" {
		iss = "~" + id.IssuerRegexp
	}
	return fmt.Sprintf("%s (issuer %s)", san, iss)
}

// PublicKey is one trusted signing key.
type PublicKey struct {
	key crypto.PublicKey
	// Fingerprint is "sha256:" and the hex SHA-256 of the key's DER (PKIX) encoding.
	Fingerprint string
}

// Trust is what a policy trusts: the trusted root (Fulcio CAs, transparency logs, CT logs,
// timestamp authorities), signing keys and keyless identities. Build it with NewTrust; the
// zero value trusts nothing. A Trust is not changed by verification and may be shared by
// concurrent verifications.
type Trust struct {
	material   root.TrustedMaterial
	rootName   string
	keys       []PublicKey
	kms        []string
	identities verify.CertificateIdentities
	idText     []string
	// noSCT drops the embedded-SCT requirement for keyless signatures; only tests set it,
	// for sigstore-go's virtual Sigstore, whose certificates carry no SCT.
	noSCT bool
}

// TrustOptions are the inputs of NewTrust, as a command line or policy file gives them.
type TrustOptions struct {
	// TrustedRootJSON is a trusted_root.json (--trusted-root). Empty: the Sigstore
	// public-good root embedded in kensa.
	TrustedRootJSON []byte
	// Keys are public keys in PEM (--key FILE): cosign public keys and PKIX keys of
	// ECDSA, Ed25519 or RSA.
	Keys [][]byte
	// KMSKeys are KMS key URIs (--key awskms://…, see IsKMSURI). They cannot be checked
	// offline: a bundle that only such a key could verify gets the status "error".
	KMSKeys []string
	// Identities are the trusted keyless signers (--certificate-identity[-regexp] with
	// --certificate-oidc-issuer[-regexp]).
	Identities []Identity
}

// NewTrust checks and loads the trust options. A trust with neither keys nor identities is
// valid but every signature verified with it fails: a policy must name whom it trusts.
func NewTrust(opts TrustOptions) (*Trust, error) {
	t := &Trust{rootName: "the Sigstore public-good trusted root (embedded)"}
	data := opts.TrustedRootJSON
	if len(data) == 0 {
		data = publicGoodRoot
	} else {
		t.rootName = "the given trusted root"
	}
	tr, err := ParseTrustedRoot(data)
	if err != nil {
		return nil, err
	}
	t.material = tr
	if len(opts.Keys)+len(opts.KMSKeys) > MaxKeys || len(opts.Identities) > MaxKeys {
		return nil, fmt.Errorf("sigstore: more than %d keys or identities; split the policy", MaxKeys)
	}
	for i, k := range opts.Keys {
		pk, err := ParsePublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("sigstore: key %d: %w", i+1, err)
		}
		t.keys = append(t.keys, pk)
	}
	for _, u := range opts.KMSKeys {
		if !IsKMSURI(u) {
			return nil, fmt.Errorf("sigstore: %q is not a KMS key URI (awskms://, gcpkms://, azurekms://, hashivault://, k8s://, pkcs11:, gitlab://)", u)
		}
		t.kms = append(t.kms, u)
	}
	for _, id := range opts.Identities {
		if (id.SAN == "") == (id.SANRegexp == "") || (id.Issuer == "") == (id.IssuerRegexp == "") {
			return nil, fmt.Errorf("sigstore: identity %s: give exactly one of the SAN and SAN regexp and exactly one of the issuer and issuer regexp", id)
		}
		ci, err := verify.NewShortCertificateIdentity(id.Issuer, id.IssuerRegexp, id.SAN, id.SANRegexp)
		if err != nil {
			return nil, fmt.Errorf("sigstore: identity %s: %w", id, err)
		}
		t.identities = append(t.identities, ci)
		t.idText = append(t.idText, id.String())
	}
	return t, nil
}

// ParseTrustedRoot reads a Sigstore trusted_root.json (media type
// application/vnd.dev.sigstore.trustedroot+json), bounded in size and depth.
func ParseTrustedRoot(data []byte) (_ *root.TrustedRoot, err error) {
	defer recoverTo(&err)
	if len(data) > MaxTrustedRootSize {
		return nil, fmt.Errorf("sigstore: trusted root larger than %d bytes", MaxTrustedRootSize)
	}
	if err := checkJSONDepth(data); err != nil {
		return nil, fmt.Errorf("sigstore: trusted root: %w", err)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("sigstore: trusted root is not a valid trusted_root.json: %w", err)
	}
	return tr, nil
}

// PublicGoodTrustedRoot returns the embedded Sigstore public-good trusted_root.json.
func PublicGoodTrustedRoot() []byte { return append([]byte(nil), publicGoodRoot...) }

// ParsePublicKey reads one PEM public key: a cosign public key or a PKIX "PUBLIC KEY" of
// ECDSA, Ed25519 or RSA. Private keys and certificates are refused.
func ParsePublicKey(pemData []byte) (_ PublicKey, err error) {
	defer recoverTo(&err)
	if len(pemData) > 64<<10 {
		return PublicKey{}, errors.New("public key file larger than 64 KiB")
	}
	block, _ := pem.Decode(pemData)
	if block == nil {
		return PublicKey{}, errors.New("not a PEM public key (expected -----BEGIN PUBLIC KEY-----)")
	}
	if block.Type != "PUBLIC KEY" {
		return PublicKey{}, fmt.Errorf("PEM block %q is not a public key (expected PUBLIC KEY)", block.Type)
	}
	key, err := cryptoutils.UnmarshalPEMToPublicKey(pemData)
	if err != nil {
		return PublicKey{}, fmt.Errorf("public key: %w", err)
	}
	if _, err := signature.LoadDefaultVerifier(key); err != nil {
		return PublicKey{}, fmt.Errorf("public key type not supported: %w", err)
	}
	return newPublicKey(key)
}

func newPublicKey(key crypto.PublicKey) (PublicKey, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return PublicKey{}, fmt.Errorf("public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return PublicKey{key: key, Fingerprint: "sha256:" + hex.EncodeToString(sum[:])}, nil
}

// IsKMSURI reports whether a --key value names a key in a KMS or token rather than a file.
func IsKMSURI(s string) bool {
	for _, p := range []string{"awskms://", "gcpkms://", "azurekms://", "hashivault://", "k8s://", "pkcs11:", "gitlab://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// keyMaterial is trusted material that offers one public key for every key hint.
func keyMaterial(pk PublicKey) (root.TrustedMaterial, error) {
	v, err := signature.LoadDefaultVerifier(pk.key)
	if err != nil {
		return nil, err
	}
	ek := root.NewExpiringKey(v, time.Time{}, time.Time{})
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return ek, nil
	}), nil
}
