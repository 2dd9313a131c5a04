// Package signing signs kensa's attestations: an in-toto statement in a DSSE envelope,
// delivered as a Sigstore bundle (v0.3) that cosign (verify-blob-attestation --bundle)
// and sigstore-go verify offline with the public key.
//
// Keys are cosign key pairs (`cosign generate-key-pair`: an encrypted private key, its
// password in COSIGN_PASSWORD) or unencrypted PKCS#8, SEC 1 or PKCS#1 PEM private keys,
// of ECDSA (P-256, P-384), Ed25519 or RSA. KMS URIs need the KMS online and are refused
// here with a message saying so.
//
//	kp, err := signing.LoadKey("cosign.key", []byte(os.Getenv("COSIGN_PASSWORD")))
//	bundleJSON, err := signing.SignStatement(statementJSON, kp)
package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms"
	"google.golang.org/protobuf/encoding/protojson"
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// maxKeySize bounds a key file.
const maxKeySize = 1 << 20

// Key is a loaded signing key; it implements sigstore-go's sign.Keypair.
type Key struct {
	priv crypto.Signer
	alg  signature.AlgorithmDetails
	hint []byte
}

var _ sign.Keypair = (*Key)(nil)

// kmsScheme matches a KMS key reference: NAME://KEY, as sigstore and cosign write them.
var kmsScheme = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*://`)

// IsKMS reports whether a key reference is a KMS URI (awskms://…, hashivault://…, or any
// NAME://… that a sigstore KMS plugin serves) rather than a key file.
func IsKMS(ref string) bool { return kmsScheme.MatchString(ref) }

// LoadKey reads a private key file; password decrypts a cosign key. A KMS URI signs
// through sigstore's KMS plugin protocol: NAME://KEY runs the program sigstore-kms-NAME
// found on PATH for every signature (the protocol cosign uses; kensa links no cloud
// provider's SDK, so awskms://, gcpkms://, azurekms:// and hashivault:// need their
// plugins too).
func LoadKey(name string, password []byte) (*Key, error) {
	if IsKMS(name) {
		return LoadKMS(context.Background(), name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, maxKeySize+1)
	n, _ := f.Read(b)
	if n > maxKeySize {
		return nil, fmt.Errorf("%s: larger than %d bytes; not a key", name, maxKeySize)
	}
	k, err := ParseKey(b[:n], password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

// ParseKey reads a private key in PEM.
func ParseKey(data, password []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	der := block.Bytes
	switch block.Type {
	case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY":
		plain, err := encrypted.Decrypt(block.Bytes, password)
		if err != nil {
			return nil, fmt.Errorf("decrypting the cosign key (is COSIGN_PASSWORD right?): %w", err)
		}
		der = plain
	case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
	case "PUBLIC KEY":
		return nil, errors.New("this is a public key; signing needs the private key")
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key kensa reads", block.Type)
	}
	var priv any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(der)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(der)
	default:
		priv, err = x509.ParsePKCS8PrivateKey(der)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the private key: %w", err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key type %T is not supported", priv)
	}
	details, err := keyDetails(signer.Public(), true)
	if err != nil {
		return nil, err
	}
	alg, err := signature.GetAlgorithmDetails(details)
	if err != nil {
		return nil, err
	}
	return newKey(signer, alg)
}

// keyDetails names the signature algorithm of a public key; direct is false for a key
// that signs digests only (a KMS), which rules out Ed25519 and P-384 (signed with SHA-384,
// which the KMS plugin interface is not asked for).
func keyDetails(pub crypto.PublicKey, direct bool) (protocommon.PublicKeyDetails, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch {
		case k.Curve == elliptic.P256():
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, nil
		case k.Curve == elliptic.P384() && direct:
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384, nil
		case k.Curve == elliptic.P384():
			return 0, errors.New("a P-384 KMS key signs SHA-384 digests, which the KMS plugin interface is not asked for; use a P-256 key")
		}
		return 0, fmt.Errorf("ECDSA curve %s is not supported; use P-256 or P-384", k.Curve.Params().Name)
	case ed25519.PublicKey:
		if !direct {
			return 0, errors.New("an Ed25519 KMS key cannot sign digests; use ECDSA P-256 or RSA")
		}
		return protocommon.PublicKeyDetails_PKIX_ED25519, nil
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); {
		case bits >= 4096:
			return protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256, nil
		case bits >= 3072:
			return protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256, nil
		case bits >= 2048:
			return protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256, nil
		default:
			return 0, fmt.Errorf("RSA key of %d bits is too weak; use 2048 bits or more", bits)
		}
	}
	return 0, fmt.Errorf("key type %T is not supported", pub)
}

func newKey(signer crypto.Signer, alg signature.AlgorithmDetails) (*Key, error) {
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pub)
	return &Key{priv: signer, alg: alg, hint: []byte(base64.StdEncoding.EncodeToString(sum[:]))}, nil
}

// LoadKMS opens a key held in a KMS through sigstore's KMS plugin protocol (see LoadKey).
// The key must be ECDSA P-256 or P-384, RSA of 2048 bits or more, or Ed25519.
func LoadKMS(ctx context.Context, ref string) (*Key, error) {
	sv, err := kms.Get(ctx, ref, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (a KMS key needs its sigstore plugin, sigstore-kms-%s, on PATH)", ref, err, strings.SplitN(ref, "://", 2)[0])
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the public key from the KMS: %w", ref, err)
	}
	details, err := keyDetails(pub, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	alg, err := signature.GetAlgorithmDetails(details)
	if err != nil {
		return nil, err
	}
	var signErr error
	cs, _, err := sv.CryptoSigner(ctx, func(e error) { signErr = e })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if signErr != nil {
		return nil, fmt.Errorf("%s: %w", ref, signErr)
	}
	return newKey(cs, alg)
}

// GetHashAlgorithm is the digest algorithm the key signs.
func (k *Key) GetHashAlgorithm() protocommon.HashAlgorithm { return k.alg.GetProtoHashType() }

// GetSigningAlgorithm is the key's signature algorithm.
func (k *Key) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.alg.GetSignatureAlgorithm()
}

// GetHint is the base64 sha256 of the public key.
func (k *Key) GetHint() []byte { return k.hint }

// GetKeyAlgorithm names the key type.
func (k *Key) GetKeyAlgorithm() string {
	switch k.alg.GetKeyType() {
	case signature.ECDSA:
		return "ECDSA"
	case signature.RSA:
		return "RSA"
	case signature.ED25519:
		return "ED25519"
	}
	return ""
}

// GetPublicKey is the public key.
func (k *Key) GetPublicKey() crypto.PublicKey { return k.priv.Public() }

// GetPublicKeyPem is the public key in PEM.
func (k *Key) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.priv.Public())
	return string(b), err
}

// SignData signs data (its digest, but for Ed25519) and returns the signature and what
// was signed.
func (k *Key) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	hf := k.alg.GetHashType()
	toSign := data
	if hf != crypto.Hash(0) {
		h := hf.New()
		h.Write(data)
		toSign = h.Sum(nil)
	}
	sig, err := k.priv.Sign(rand.Reader, toSign, hf)
	if err != nil {
		return nil, nil, err
	}
	return sig, toSign, nil
}

// PublicKeyPEM is the key's public half, for whoever verifies.
func (k *Key) PublicKeyPEM() ([]byte, error) {
	return cryptoutils.MarshalPublicKeyToPEM(k.priv.Public())
}

// SignStatement signs an in-toto statement into a Sigstore bundle (JSON), without a
// transparency log entry: the bundle is verified with the public key alone.
func SignStatement(statement []byte, k *Key) ([]byte, error) {
	b, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType}, k, sign.BundleOptions{})
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(b)
}
