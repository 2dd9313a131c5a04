package sigstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"kensa.dev/kensa/internal/result"
)

// ArtifactRef names the signed artifact: its bytes (Reader) or its SHA-256 digest (the
// inventory has it for every file). With both, Reader is used. Key signatures made with
// Ed25519 and legacy .sig files need the bytes; everything else works with the digest.
type ArtifactRef struct {
	Reader io.Reader
	// SHA256 is the hex SHA-256 of the artifact, with or without a "sha256:" prefix.
	SHA256 string
}

// Timestamp is one verified time the signature is known to have existed at.
type Timestamp struct {
	// Kind is "tlog" (a transparency log's integrated time, from a signed entry timestamp)
	// or "tsa" (an RFC 3161 signed timestamp).
	Kind string    `json:"kind"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}

// Subject is one artifact an in-toto statement speaks about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is the in-toto statement of a verified DSSE bundle, for the provenance checks.
type Statement struct {
	Type          string          `json:"_type"`
	Subjects      []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"`
	// Raw is the signed payload exactly as it was signed.
	Raw []byte `json:"-"`
}

// Verified is what a successful verification established.
type Verified struct {
	// Keyless is true for a certificate (Fulcio) signature, false for a key signature.
	Keyless bool `json:"keyless"`
	// SAN and Issuer are the certificate's subject alternative name and OIDC issuer.
	SAN    string `json:"san,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	// Identity is the trusted identity that matched (keyless).
	Identity string `json:"identity,omitempty"`
	// KeyFingerprint is the fingerprint of the trusted key that verified (key signatures).
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	// MediaType is the bundle's media type (it carries the bundle version).
	MediaType string `json:"mediaType,omitempty"`
	// TlogEntries is the number of transparency-log entries verified (inclusion proof or
	// signed entry timestamp, and that the entry is the one of this signature).
	TlogEntries int `json:"tlogEntries"`
	// InclusionProof is true when a Merkle inclusion proof with a signed checkpoint was checked.
	InclusionProof bool `json:"inclusionProof"`
	// Timestamps are the verified times the signature existed at.
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// Statement is the in-toto statement of a DSSE bundle; nil for a message signature.
	Statement *Statement `json:"statement,omitempty"`
	// Format is "bundle", "legacy-bundle" or "signature".
	Format string `json:"format"`
}

// Signer names who signed, for people.
func (v *Verified) Signer() string {
	if v.Keyless {
		return fmt.Sprintf("%s (issuer %s)", v.SAN, v.Issuer)
	}
	return "key " + v.KeyFingerprint
}

// Error is a verification that did not pass. Status is result.Fail (the signature, its
// signer or its binding to the artifact is wrong) or result.Erred (it could not be
// checked: a limit, an unreadable input, a key only an online KMS holds).
type Error struct {
	Status string
	Err    error
}

// Error returns the reason, a sentence that says what to do next.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func failf(format string, a ...any) error {
	return &Error{Status: result.Fail, Err: fmt.Errorf(format, a...)}
}

func errorf(format string, a ...any) error {
	return &Error{Status: result.Erred, Err: fmt.Errorf(format, a...)}
}

// VerifyBundle verifies a Sigstore bundle (v0.1 to v0.3, message signature or DSSE) for the
// artifact against the trust, offline: the signature over the artifact (or the DSSE
// envelope whose statement names the artifact's digest), the certificate chain to a
// trusted Fulcio CA at a verified time, the embedded SCT, every transparency-log entry
// (inclusion proof and signed checkpoint, signed entry timestamp, and that the entry
// records this very signature), RFC 3161 timestamps, and that the signer is one the trust
// names. A bundle whose signer the trust does not name fails.
func VerifyBundle(bundleJSON []byte, artifact ArtifactRef, trust *Trust) (_ *Verified, err error) {
	defer recoverTo(&err)
	if trust == nil || trust.material == nil {
		return nil, errorf("no trust material given; build one with NewTrust")
	}
	b, err := parseBundle(bundleJSON)
	if err != nil {
		return nil, err
	}
	v, err := verifyEntity(b, artifact, trust)
	if err != nil {
		return nil, err
	}
	v.MediaType = b.GetMediaType()
	v.Format = "bundle"
	return v, nil
}

func parseBundle(data []byte) (*bundle.Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, errorf("bundle larger than %d bytes; not read", MaxBundleSize)
	}
	if err := checkJSONDepth(data); err != nil {
		return nil, failf("bundle: %v", err)
	}
	var pb protobundle.Bundle
	if err := strictProtoJSON(data, &pb); err != nil {
		return nil, failf("not a valid Sigstore bundle: %v", err)
	}
	if chain := pb.GetVerificationMaterial().GetX509CertificateChain(); chain != nil && len(chain.GetCertificates()) > MaxChain {
		return nil, failf("bundle certificate chain has %d certificates, more than %d", len(chain.GetCertificates()), MaxChain)
	}
	if n := len(pb.GetVerificationMaterial().GetTlogEntries()); n > MaxEntries {
		return nil, errorf("bundle has %d transparency-log entries, more than %d; not checked", n, MaxEntries)
	}
	if n := len(pb.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()); n > MaxEntries {
		return nil, errorf("bundle has %d signed timestamps, more than %d; not checked", n, MaxEntries)
	}
	b, err := bundle.NewBundle(&pb)
	if err != nil {
		return nil, failf("not a valid Sigstore bundle: %v", err)
	}
	return b, nil
}

// artifactOption turns the artifact reference into sigstore-go's policy option.
func artifactOption(a ArtifactRef) (verify.ArtifactPolicyOption, error) {
	if a.Reader != nil {
		return verify.WithArtifact(a.Reader), nil
	}
	d, err := parseSHA256(a.SHA256)
	if err != nil {
		return nil, err
	}
	return verify.WithArtifactDigest("sha256", d), nil
}

func parseSHA256(s string) ([]byte, error) {
	h := strings.TrimPrefix(s, "sha256:")
	d, err := hex.DecodeString(h)
	if err != nil || len(d) != sha256.Size {
		return nil, errorf("artifact digest %q is not a hex SHA-256; give the artifact's bytes or its sha256", s)
	}
	return d, nil
}

// verifyEntity applies the trust's policy to one signed entity.
func verifyEntity(e verify.SignedEntity, artifact ArtifactRef, trust *Trust) (*Verified, error) {
	if trust == nil || trust.material == nil {
		return nil, errorf("no trust material given; build one with NewTrust")
	}
	vc, err := e.VerificationContent()
	if err != nil {
		return nil, failf("bundle verification material: %v", err)
	}
	entries, err := e.TlogEntries()
	if err != nil {
		return nil, failf("bundle transparency-log entries: %v", err)
	}
	stamps, err := e.Timestamps()
	if err != nil {
		return nil, failf("bundle timestamps: %v", err)
	}
	if len(entries) > MaxEntries || len(stamps) > MaxEntries {
		return nil, errorf("bundle has more than %d transparency-log entries or timestamps; not checked", MaxEntries)
	}
	if err := checkEntries(entries, trust.material); err != nil {
		return nil, err
	}
	if cert := vc.Certificate(); cert != nil {
		return verifyKeyless(e, cert.Raw, len(entries), len(stamps), artifact, trust)
	}
	return verifyWithKeys(e, len(entries), len(stamps), artifact, trust)
}

// checkEntries requires every transparency-log entry of a bundle to be one the trusted
// root can check, with a valid signed entry timestamp when it carries one. sigstore-go
// skips such entries as long as another entry meets its threshold; a bundle that is
// partly invalid is not valid (CVE-2022-36056), and Verified.TlogEntries counts every
// entry as verified. Inclusion proofs and the binding of each entry to this signature
// are checked by sigstore-go, which fails on any entry that does not match.
func checkEntries(entries []*tlog.Entry, tm root.TrustedMaterial) error {
	logs := tm.RekorLogs()
	for i, e := range entries {
		id := hex.EncodeToString([]byte(e.LogKeyID()))
		if _, ok := logs[id]; !ok {
			return failf("transparency-log entry %d of %d is from a log the trusted root does not name (log id %s); every entry of a bundle must verify: remove it or give the trusted root of that log", i+1, len(entries), id)
		}
		if e.HasInclusionPromise() {
			if err := tlog.VerifySET(e, logs); err != nil {
				return failf("transparency-log entry %d of %d: its signed entry timestamp does not verify (%v); the bundle is not valid", i+1, len(entries), err)
			}
		}
	}
	return nil
}

// timeOptions chooses what proves the signing time: the transparency-log entries and the
// signed timestamps present in the bundle are all verified when the trust can check them.
func timeOptions(e verify.SignedEntity, nEntries, nStamps int, tm root.TrustedMaterial, keyless, sct bool) []verify.VerifierOption {
	var opts []verify.VerifierOption
	observed := false
	if keyless && len(tm.RekorLogs()) > 0 || nEntries > 0 {
		opts = append(opts, verify.WithTransparencyLog(1))
		if e.HasInclusionPromise() {
			opts = append(opts, verify.WithIntegratedTimestamps(1))
			observed = true
		}
	}
	if nStamps > 0 && len(tm.TimestampingAuthorities()) > 0 {
		// Every timestamp present must verify, each from its own authority: sigstore-go
		// ignores a bad or repeated one as long as the threshold is met.
		opts = append(opts, verify.WithSignedTimestamps(nStamps))
		observed = true
	}
	if keyless && sct {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	if !keyless && !observed {
		// A key does not expire: with no log entry or timestamp the signature is
		// checked without a time (cosign sign-blob --tlog-upload=false).
		opts = append(opts, verify.WithNoObserverTimestamps())
	}
	return opts
}

func verifyKeyless(e verify.SignedEntity, certDER []byte, nEntries, nStamps int, artifact ArtifactRef, trust *Trust) (*Verified, error) {
	summary, err := summarize(certDER)
	if err != nil {
		return nil, failf("bundle certificate: %v", err)
	}
	signer := fmt.Sprintf("%s (issuer %s)", summary.SubjectAlternativeName, summary.Issuer)
	if len(trust.identities) == 0 {
		return nil, failf("signed by certificate for %s, but a policy must name whom it trusts: give --certificate-identity (or -regexp) and --certificate-oidc-issuer (or -regexp)", signer)
	}
	if !e.HasInclusionPromise() && (nStamps == 0 || len(trust.material.TimestampingAuthorities()) == 0) {
		return nil, failf("signed by %s, but the bundle carries no signed entry timestamp or RFC 3161 timestamp proving the short-lived certificate was valid when it signed; ask for the complete bundle (cosign sign-blob --bundle)", signer)
	}
	sev, err := verify.NewVerifier(trust.material, timeOptions(e, nEntries, nStamps, trust.material, true, !trust.noSCT)...)
	if err != nil {
		return nil, failf("bundle cannot be verified with %s: %v", trust.rootName, err)
	}
	art, err := artifactOption(artifact)
	if err != nil {
		return nil, err
	}
	opts := make([]verify.PolicyOption, 0, len(trust.identities))
	for _, id := range trust.identities {
		opts = append(opts, verify.WithCertificateIdentity(id))
	}
	res, err := sev.Verify(e, verify.NewPolicy(art, opts...))
	if err != nil {
		var idErr *verify.ErrNoMatchingCertificateIdentity
		if errors.As(err, &idErr) {
			return nil, failf("signed by %s, which is not a trusted identity (trusted: %s)", signer, strings.Join(trust.idText, "; "))
		}
		return nil, failf("signature by %s does not verify: %v", signer, err)
	}
	v := newVerified(res, e, nEntries, len(trust.material.RekorLogs()) > 0)
	v.Keyless = true
	v.SAN, v.Issuer = summary.SubjectAlternativeName, summary.Issuer
	if res.VerifiedIdentity != nil {
		for i, id := range trust.identities {
			if identityEqual(id, *res.VerifiedIdentity) {
				v.Identity = trust.idText[i]
				break
			}
		}
	}
	if err := addStatement(v, e); err != nil {
		return nil, err
	}
	return v, nil
}

func verifyWithKeys(e verify.SignedEntity, nEntries, nStamps int, artifact ArtifactRef, trust *Trust) (*Verified, error) {
	if len(trust.keys) == 0 {
		if len(trust.kms) > 0 {
			return nil, errorf("signed by a key; only KMS keys are trusted (%s), which need the online KMS; not checked offline", strings.Join(trust.kms, ", "))
		}
		return nil, failf("signed by a public key, but a policy must name whom it trusts: give --key with the signer's public key")
	}
	keys := keysByHint(e, trust.keys)
	arts, err := reusable(artifact, len(keys))
	if err != nil {
		return nil, err
	}
	var errs []string
	for _, k := range keys {
		km, err := keyMaterial(k)
		if err != nil {
			return nil, errorf("key %s: %v", k.Fingerprint, err)
		}
		tm := root.TrustedMaterialCollection{km, trust.material}
		sev, err := verify.NewVerifier(tm, timeOptions(e, nEntries, nStamps, trust.material, false, false)...)
		if err != nil {
			return nil, failf("bundle cannot be verified with %s: %v", trust.rootName, err)
		}
		art, err := artifactOption(arts())
		if err != nil {
			return nil, err
		}
		res, err := sev.Verify(e, verify.NewPolicy(art, verify.WithKey()))
		if err != nil {
			errs = append(errs, fmt.Sprintf("key %s: %v", k.Fingerprint, err))
			continue
		}
		v := newVerified(res, e, nEntries, true)
		v.KeyFingerprint = k.Fingerprint
		if err := addStatement(v, e); err != nil {
			return nil, err
		}
		return v, nil
	}
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Sprintf("and %d more keys", len(errs)-3))
	}
	if len(trust.kms) > 0 {
		return nil, errorf("no trusted public key verifies the signature and the KMS keys (%s) need the online KMS; not checked offline: %s", strings.Join(trust.kms, ", "), strings.Join(errs, "; "))
	}
	return nil, failf("signature does not verify with the trusted key(s): %s", strings.Join(errs, "; "))
}

func newVerified(res *verify.VerificationResult, e verify.SignedEntity, nEntries int, tlogChecked bool) *Verified {
	v := &Verified{}
	if nEntries > 0 && tlogChecked {
		v.TlogEntries, v.InclusionProof = nEntries, e.HasInclusionProof()
	}
	for _, t := range res.VerifiedTimestamps {
		kind := "tlog"
		if t.Type == "TimestampAuthority" {
			kind = "tsa"
		}
		v.Timestamps = append(v.Timestamps, Timestamp{Kind: kind, URI: t.URI, Time: t.Timestamp.UTC()})
	}
	return v
}

func identityEqual(a, b verify.CertificateIdentity) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// addStatement decodes the in-toto statement of a verified DSSE envelope.
func addStatement(v *Verified, e verify.SignedEntity) error {
	sc, err := e.SignatureContent()
	if err != nil {
		return failf("bundle content: %v", err)
	}
	env := sc.EnvelopeContent()
	if env == nil {
		return nil
	}
	be, ok := env.(*bundle.Envelope)
	if !ok || be.Envelope == nil {
		return failf("DSSE envelope of unexpected type %T", env)
	}
	raw, err := base64.StdEncoding.DecodeString(be.Payload)
	if err != nil {
		return failf("DSSE payload is not base64: %v", err)
	}
	if err := checkJSONDepth(raw); err != nil {
		return failf("in-toto statement: %v", err)
	}
	var st Statement
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&st); err != nil {
		return failf("in-toto statement is not JSON: %v", err)
	}
	if dec.More() {
		return failf("in-toto statement has data after the JSON value")
	}
	if st.Type != "https://in-toto.io/Statement/v1" && st.Type != "https://in-toto.io/Statement/v0.1" {
		return failf("in-toto statement has _type %q, not https://in-toto.io/Statement/v1", st.Type)
	}
	if len(st.Subjects) > 1024 {
		return errorf("in-toto statement has %d subjects, more than 1024; not checked", len(st.Subjects))
	}
	st.Raw = raw
	v.Statement = &st
	return nil
}

func summarize(der []byte) (certificate.Summary, error) {
	cert, err := parseCert(der)
	if err != nil {
		return certificate.Summary{}, err
	}
	return certificate.SummarizeCertificate(cert)
}

// hostOf gives the host of a log or TSA URI for messages.
func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return u
}

// keysByHint puts the key the bundle's hint names (cosign: base64 of the SHA-256 of the
// key's DER) first; the hint is not trusted, only used to try that key first.
func keysByHint(e verify.SignedEntity, keys []PublicKey) []PublicKey {
	vc, err := e.VerificationContent()
	if err != nil || vc.PublicKey() == nil {
		return keys
	}
	hint := vc.PublicKey().Hint()
	out := make([]PublicKey, 0, len(keys))
	var rest []PublicKey
	for _, k := range keys {
		d, _ := hex.DecodeString(strings.TrimPrefix(k.Fingerprint, "sha256:"))
		if hint != "" && base64.StdEncoding.EncodeToString(d) == hint {
			out = append(out, k)
		} else {
			rest = append(rest, k)
		}
	}
	return append(out, rest...)
}

// maxArtifactInMemory bounds the artifact bytes kept to try several keys; a larger
// artifact is checked by its digest.
const maxArtifactInMemory = 64 << 20

// reusable returns a function giving the artifact once per try, for n tries.
func reusable(a ArtifactRef, n int) (func() ArtifactRef, error) {
	if a.Reader == nil || n <= 1 {
		return func() ArtifactRef { return a }, nil
	}
	head, err := io.ReadAll(io.LimitReader(a.Reader, maxArtifactInMemory+1))
	if err != nil {
		return nil, errorf("reading the artifact: %v", err)
	}
	if len(head) <= maxArtifactInMemory {
		return func() ArtifactRef { return ArtifactRef{Reader: bytes.NewReader(head)} }, nil
	}
	h := sha256.New()
	h.Write(head)
	if _, err := io.Copy(h, a.Reader); err != nil {
		return nil, errorf("reading the artifact: %v", err)
	}
	d := hex.EncodeToString(h.Sum(nil))
	return func() ArtifactRef { return ArtifactRef{SHA256: d} }, nil
}
