package checksums

import (
	"bytes"
	stderrors "errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"kensa.dev/kensa/internal/result"
)

// MaxKeyFileSize bounds one --pgp-key file; a project's KEYS file with dozens of keys is
// far smaller.
const MaxKeyFileSize = 16 << 20

// MaxSignatureSize bounds one signature file or clearsign signature block; a file that
// gathers the signatures of many builders (Bitcoin Core's SHA256SUMS.asc) is below 100 KiB.
const MaxSignatureSize = 1 << 20

const (
	armorPublic  = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	armorPrivate = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
	armorSig     = "-----BEGIN PGP SIGNATURE-----"
)

// Keys are the OpenPGP public keys a manifest's signature must be made by: a signature
// passes only when one of these keys (or one of its signing subkeys) made it.
type Keys struct {
	list openpgp.EntityList
}

// Len returns the number of keys (primary keys with their subkeys).
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.list)
}

// Fingerprints returns the primary-key fingerprints in upper-case hex.
func (k *Keys) Fingerprints() []string {
	if k == nil {
		return nil
	}
	var out []string
	for _, e := range k.list {
		out = append(out, fingerprint(e.PrimaryKey))
	}
	return out
}

// ReadKeyFiles reads OpenPGP public keys from files (as given with --pgp-key), each
// armored or binary, one key or a keyring. A file holding a secret key is refused.
func ReadKeyFiles(paths ...string) (*Keys, error) {
	all := &Keys{}
	for _, p := range paths {
		data, err := readBounded(p, MaxKeyFileSize)
		if err != nil {
			return nil, err
		}
		k, err := ParseKeys(p, data)
		if err != nil {
			return nil, err
		}
		all.list = append(all.list, k.list...)
	}
	if all.Len() == 0 {
		return nil, fmt.Errorf("no OpenPGP key file given")
	}
	return all, nil
}

func readBounded(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("OpenPGP key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("OpenPGP key file %s: %w", p, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("OpenPGP key file %s is larger than %d bytes; export only the keys that sign the delivery (gpg --export --armor KEYID)", p, limit)
	}
	return data, nil
}

// ParseKeys reads OpenPGP public keys from the bytes of a key file named name (used in
// errors): one or more armored "PGP PUBLIC KEY BLOCK"s, text around them allowed (as in
// a project's KEYS file), or binary packets (gpg --export). Secret keys are refused.
func ParseKeys(name string, data []byte) (k *Keys, err error) {
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, fmt.Errorf("OpenPGP key file %s: unreadable (%v)", name, r)
		}
	}()
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("OpenPGP key file %s is larger than %d bytes", name, MaxKeyFileSize)
	}
	secret := fmt.Errorf("OpenPGP key file %s holds a secret key; give kensa only the public key (gpg --export --armor KEYID), and keep the secret key off this machine", name)
	if bytes.Contains(data, []byte(armorPrivate)) {
		return nil, secret
	}
	k = &Keys{}
	if bytes.Contains(data, []byte(armorPublic)) {
		rest := data
		for {
			i := bytes.Index(rest, []byte(armorPublic))
			if i < 0 {
				break
			}
			rest = rest[i:]
			block, err := armor.Decode(bytes.NewReader(rest))
			if err != nil {
				return nil, fmt.Errorf("OpenPGP key file %s: malformed armored key block: %v", name, err)
			}
			list, err := openpgp.ReadKeyRing(block.Body)
			if err != nil {
				return nil, fmt.Errorf("OpenPGP key file %s: no usable public key in an armored block: %v", name, err)
			}
			k.list = append(k.list, list...)
			rest = rest[len(armorPublic):]
		}
	} else {
		list, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("OpenPGP key file %s: not an OpenPGP public key (armored or binary): %v", name, err)
		}
		k.list = list
	}
	for _, e := range k.list {
		if e.PrivateKey != nil {
			return nil, secret
		}
		for _, s := range e.Subkeys {
			if s.PrivateKey != nil {
				return nil, secret
			}
		}
	}
	if len(k.list) == 0 {
		return nil, fmt.Errorf("OpenPGP key file %s holds no public key", name)
	}
	return k, nil
}

// Signature is the outcome of checking one OpenPGP signature over a manifest.
type Signature struct {
	// Status is result.Pass, result.Fail or result.Skip.
	Status string
	// Detail says why, in one sentence.
	Detail string
	// Fingerprint is the signing key's fingerprint and UserID its primary user id, set
	// when the signature verified.
	Fingerprint string
	UserID      string
}

// VerifySignature checks an OpenPGP signature (armored or binary; one signature or
// several, as many builders sign one SHA256SUMS) over signed, the exact bytes of a
// manifest. It passes only when a signature is cryptographically good, made by one of
// keys (or a signing subkey of one) that is neither expired nor revoked now nor was at
// signing time, unexpired itself, and over a hash the library accepts (SHA-1 is not). With
// no keys it is a skip. now is the time of verification; zero means time.Now.
func VerifySignature(keys *Keys, signed, signature []byte, now time.Time) Signature {
	return verifySignature(keys, signed, signature, nil, now)
}

func verifySignature(keys *Keys, signed, signature []byte, hashHeaders []string, now time.Time) (s Signature) {
	defer func() {
		if r := recover(); r != nil {
			s = Signature{Status: result.Fail, Detail: fmt.Sprintf("the signature could not be read (internal error %v); treat the manifest as unsigned and report the file", r)}
		}
	}()
	if now.IsZero() {
		now = time.Now()
	}
	if len(signature) > MaxSignatureSize {
		return Signature{Status: result.Fail, Detail: fmt.Sprintf("the signature is larger than %d bytes", MaxSignatureSize)}
	}
	packets, err := signaturePackets(signature)
	if err != nil {
		if keys.Len() == 0 {
			return Signature{Status: result.Skip, Detail: "the signature is unreadable (" + err.Error() + ") and no --pgp-key was given"}
		}
		return Signature{Status: result.Fail, Detail: "the signature is unreadable: " + err.Error()}
	}
	issuers := issuerIDs(packets)
	if keys.Len() == 0 {
		return Signature{Status: result.Skip, Detail: fmt.Sprintf("signed by %s, but no --pgp-key was given, so the signature was not checked; pass the vendor's public key with --pgp-key", keyList(issuers))}
	}
	config := &packet.Config{Time: func() time.Time { return now }}
	md, err := openpgp.VerifyDetachedSignatureReader(keys.list, bytes.NewReader(signed), bytes.NewReader(packets), config)
	if err != nil {
		return Signature{Status: result.Fail, Detail: classify(err, issuers)}
	}
	if _, err := io.Copy(io.Discard, md.UnverifiedBody); err != nil {
		return Signature{Status: result.Fail, Detail: "the signature could not be checked: " + err.Error()}
	}
	if md.SignatureError != nil || md.SignedBy == nil || md.Signature == nil {
		e := md.SignatureError
		if e == nil {
			e = pgperrors.ErrUnknownIssuer
		}
		if c := md.SelectedCandidate; c != nil && c.CorrespondingSig != nil && c.CorrespondingSig.CreationTime.After(now) {
			return Signature{Status: result.Fail, Detail: fmt.Sprintf("the signature claims to be made in the future (%s); check this machine's clock, otherwise the signature is not to be trusted",
				c.CorrespondingSig.CreationTime.UTC().Format(time.RFC3339))}
		}
		return Signature{Status: result.Fail, Detail: classify(e, issuers)}
	}
	key, sig := md.SignedBy, md.Signature
	primary := key.Entity.PrimaryKey
	fpr := fingerprint(primary)
	uid := ""
	if _, id := key.Entity.PrimaryIdentity(now, config); id != nil {
		uid, _ = result.EscapeName(id.Name)
	} else if _, id := key.Entity.PrimaryIdentity(sig.CreationTime, config); id != nil {
		uid, _ = result.EscapeName(id.Name)
	}
	by := fmt.Sprintf("key %s", fpr)
	if uid != "" {
		by += fmt.Sprintf(" (%s)", uid)
	}
	if key.PublicKey != primary {
		by += fmt.Sprintf(" through signing subkey %s", fingerprint(key.PublicKey))
	}
	// The library checks the key at signing time; a key that has since expired or been
	// revoked no longer vouches for anything.
	if _, err := key.Entity.VerifyPrimaryKey(now, config); err != nil {
		return Signature{Status: result.Fail, Detail: fmt.Sprintf("made by %s, which is no longer valid: %s", by, keyProblem(err))}
	}
	if key.PublicKey != primary {
		for i := range key.Entity.Subkeys {
			sk := &key.Entity.Subkeys[i]
			if sk.PublicKey.KeyId != key.PublicKey.KeyId {
				continue
			}
			if _, err := sk.Verify(now, config); err != nil {
				return Signature{Status: result.Fail, Detail: fmt.Sprintf("made by %s, whose subkey is no longer valid: %s", by, keyProblem(err))}
			}
		}
	}
	if len(hashHeaders) > 0 {
		name := hashName(sig)
		ok := false
		for _, h := range hashHeaders {
			ok = ok || strings.EqualFold(h, name)
		}
		if !ok {
			return Signature{Status: result.Fail, Detail: fmt.Sprintf("the clearsigned message announces hash %s but is signed with %s", strings.Join(hashHeaders, ","), name)}
		}
	}
	detail := fmt.Sprintf("good signature by %s, made %s", by, sig.CreationTime.UTC().Format(time.RFC3339))
	if others := len(issuers) - 1; others > 0 {
		detail += fmt.Sprintf("; %d other signature(s) in the file were not counted", others)
	}
	return Signature{Status: result.Pass, Detail: detail, Fingerprint: fpr, UserID: uid}
}

// signaturePackets returns the binary packets of an armored or binary signature.
func signaturePackets(sig []byte) ([]byte, error) {
	trimmed := bytes.TrimLeft(sig, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		if len(trimmed) == 0 {
			return nil, fmt.Errorf("empty signature file")
		}
		return sig, nil
	}
	if !bytes.HasPrefix(trimmed, []byte(armorSig)) {
		return nil, fmt.Errorf("armored block is not a PGP SIGNATURE")
	}
	block, err := armor.Decode(bytes.NewReader(trimmed))
	if err != nil {
		return nil, fmt.Errorf("malformed armor: %v", err)
	}
	body, err := io.ReadAll(io.LimitReader(block.Body, MaxSignatureSize+1))
	if err != nil {
		return nil, fmt.Errorf("malformed armor: %v", err)
	}
	if len(body) > MaxSignatureSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxSignatureSize)
	}
	return body, nil
}

// issuerIDs lists the issuers of the signature packets (fingerprints where the packet
// carries one, key ids otherwise), for messages. It reads at most 64 packets.
func issuerIDs(packets []byte) []string {
	var out []string
	r := packet.NewReader(bytes.NewReader(packets))
	for i := 0; i < 64; i++ {
		p, err := r.Next()
		if err != nil {
			break
		}
		sig, ok := p.(*packet.Signature)
		if !ok {
			continue
		}
		switch {
		case len(sig.IssuerFingerprint) > 0:
			out = append(out, fmt.Sprintf("%X", sig.IssuerFingerprint))
		case sig.IssuerKeyId != nil:
			out = append(out, fmt.Sprintf("%016X", *sig.IssuerKeyId))
		}
	}
	return out
}

// classify turns a verification error into a sentence.
func classify(err error, issuers []string) string {
	switch {
	case stderrors.Is(err, pgperrors.ErrUnknownIssuer):
		return fmt.Sprintf("signed by %s, which is not among the --pgp-key keys; a good signature by another key does not count", keyList(issuers))
	case stderrors.Is(err, pgperrors.ErrKeyRevoked), stderrors.Is(err, pgperrors.ErrKeyExpired):
		return "the signing key " + keyProblem(err)
	case stderrors.Is(err, pgperrors.ErrSignatureExpired):
		return "the signature has expired; ask the vendor for a fresh signature"
	case stderrors.Is(err, pgperrors.ErrSignatureOlderThanKey):
		return "the signature claims to be older than its key, so it is forged or the clock was wrong"
	}
	msg := err.Error()
	if strings.Contains(msg, "insecure") || strings.Contains(msg, "weak") || strings.Contains(msg, "hash") {
		return "the signature uses an algorithm kensa does not accept (" + msg + "); ask the vendor to sign with SHA-256 or stronger"
	}
	return fmt.Sprintf("bad signature (%s): the manifest is not what %s signed", msg, keyList(issuers))
}

// keyProblem says what is wrong with a key in words.
func keyProblem(err error) string {
	switch {
	case stderrors.Is(err, pgperrors.ErrKeyRevoked):
		return "has been revoked by its owner; do not trust what it signed, and ask the vendor how they replaced it"
	case stderrors.Is(err, pgperrors.ErrKeyExpired):
		return "has expired; ask the vendor for a key with extended validity (gpg --quick-set-expire) and pass it with --pgp-key"
	}
	return err.Error()
}

func fingerprint(k *packet.PublicKey) string {
	return fmt.Sprintf("%X", k.Fingerprint)
}

func hashName(sig *packet.Signature) string {
	if name, ok := openpgp.HashIdToString(hashID(sig)); ok {
		return name
	}
	return sig.Hash.String()
}

func hashID(sig *packet.Signature) byte {
	id, _ := openpgp.HashToHashId(sig.Hash)
	return id
}

// keyList names the issuers of a signature for a message.
func keyList(ids []string) string {
	switch len(ids) {
	case 0:
		return "an unnamed key"
	case 1:
		return "key " + ids[0]
	}
	return "keys " + strings.Join(ids, ", ")
}

// ParseDocument parses a manifest or a signature file the way Verify does before it
// checks a signature: the manifest's lines and clearsigned armor, and the OpenPGP packets
// of its signature, clearsigned or detached. It needs no keys, and what it finds wrong is
// not its concern: kensa runs it in an analysis worker first (Options.Screen), so that a
// document built to exhaust memory or hang ends a worker, not the verifier.
func ParseDocument(data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error while parsing (%v)", r)
		}
	}()
	sig := data
	if m, err := Parse("document", data); err == nil {
		if !m.Clearsigned {
			return nil // a manifest without a signature of its own
		}
		sig = m.signature
	}
	packets, err := signaturePackets(sig)
	if err != nil {
		return err
	}
	r := packet.NewReader(bytes.NewReader(packets))
	for {
		if _, err := r.Next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
