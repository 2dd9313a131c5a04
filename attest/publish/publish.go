package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Bounds of what is signed.
const (
	// MaxBlobSize bounds a file SignBlob signs (it is held in memory to be signed).
	MaxBlobSize = 1 << 30
	// MaxStatementSize bounds an in-toto statement or a predicate.
	MaxStatementSize = 32 << 20
	// MaxSubjects bounds the subjects of a statement.
	MaxSubjects = 4096
	// MaxJSONDepth bounds the nesting of a statement or predicate.
	MaxJSONDepth = 64
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Predicate types, by the names cosign's --type flag gives them, and kensa's own.
const (
	PredicateCycloneDX  = "https://cyclonedx.org/bom"
	PredicateSPDX       = "https://spdx.dev/Document"
	PredicateSLSA1      = "https://slsa.dev/provenance/v1"
	PredicateVSA        = "https://slsa.dev/verification_summary/v1"
	PredicateTestResult = "https://in-toto.io/attestation/test-result/v0.1"
	// PredicateCosignSign is the predicate of cosign v3's image signatures.
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"
)

// predicateNames are the short names of cosign's --type flag (cmd/cosign/cli/options/predicate.go)
// and kensa's own.
var predicateNames = map[string]string{
	"cyclonedx":       PredicateCycloneDX,
	"spdx":            PredicateSPDX,
	"spdxjson":        PredicateSPDX,
	"slsaprovenance1": PredicateSLSA1,
	"vsa":             PredicateVSA,
	"test-result":     PredicateTestResult,
}

// PredicateType turns a short name as cosign's --type flag takes them (cyclonedx,
// spdxjson, slsaprovenance1; and vsa, test-result) into its URI; a URI is returned as it is.
func PredicateType(nameOrURI string) (string, error) {
	if u, ok := predicateNames[nameOrURI]; ok {
		return u, nil
	}
	if u, err := url.Parse(nameOrURI); err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "") {
		if err := checkPredicateType(nameOrURI); err != nil {
			return "", err
		}
		return nameOrURI, nil
	}
	return "", fmt.Errorf("publish: predicate type %q is neither a URI nor one of cyclonedx, spdx, spdxjson, slsaprovenance1, vsa, test-result", nameOrURI)
}

// Signer says how to sign: with Key, or keyless (FulcioURL and IDToken) when Key is nil.
type Signer struct {
	// Key signs: a *signing.Key (a cosign key pair, a PEM key or a KMS key), or
	// any sigstore-go sign.Keypair. The bundle carries the public key's hint, not a
	// certificate, and is verified with the public key.
	Key sign.Keypair

	// FulcioURL (e.g. https://fulcio.sigstore.dev) and IDToken (an OIDC identity token)
	// sign keyless: an ephemeral key certified by Fulcio for the token's identity; the
	// bundle carries the certificate.
	FulcioURL string
	IDToken   string

	// RekorURL, when set, logs the signature in that Rekor (v1 API) and puts the entry in
	// the bundle. TSAURL, when set, adds an RFC 3161 timestamp from that authority (its
	// full URL, e.g. https://timestamp.sigstore.dev/api/v1/timestamp). A keyless bundle
	// needs one of them to be verified after its short-lived certificate expires.
	RekorURL string
	TSAURL   string

	// Transport carries the requests to Fulcio and the timestamp authority (Rekor's
	// client has its own); nil means http.DefaultTransport. Timeout bounds each request
	// to Fulcio, Rekor and the timestamp authority; 0 means 30 seconds.
	Transport http.RoundTripper
	Timeout   time.Duration
}

// Subject is what a statement is about: a name and its digests ("sha256": hex).
type Subject struct {
	Name   string
	Digest map[string]string
}

// SignBlob signs content (at most MaxBlobSize bytes) into a Sigstore bundle (JSON) with a
// message signature, for `cosign verify-blob --bundle`.
func SignBlob(ctx context.Context, s Signer, content io.Reader) (bundleJSON []byte, err error) {
	defer recoverTo(&err)
	if content == nil {
		return nil, errors.New("publish: nothing to sign")
	}
	data, err := io.ReadAll(io.LimitReader(content, MaxBlobSize+1))
	if err != nil {
		return nil, fmt.Errorf("publish: reading what to sign: %w", err)
	}
	if len(data) > MaxBlobSize {
		return nil, fmt.Errorf("publish: the file is larger than %d bytes; sign a checksum manifest of it instead", MaxBlobSize)
	}
	return s.bundle(ctx, &sign.PlainData{Data: data})
}

// AttestBlob signs an in-toto statement (JSON, Statement v1 or v0.1) into a DSSE
// Sigstore bundle (JSON), for `cosign verify-blob-attestation --bundle`. The statement is
// checked first: it must name its subjects by digest and its predicate type.
func AttestBlob(ctx context.Context, s Signer, statement []byte) (bundleJSON []byte, err error) {
	defer recoverTo(&err)
	if _, err := ParseStatement(statement); err != nil {
		return nil, err
	}
	return s.bundle(ctx, &sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType})
}

// Statement builds an in-toto Statement v1 (JSON) from a predicate type (a URI, see the
// Predicate constants), the predicate (a JSON object) and its subjects.
func Statement(predicateType string, predicate []byte, subjects ...Subject) (_ []byte, err error) {
	defer recoverTo(&err)
	if len(subjects) == 0 {
		return nil, errors.New("publish: a statement needs at least one subject")
	}
	if len(subjects) > MaxSubjects {
		return nil, fmt.Errorf("publish: more than %d subjects; split the statement", MaxSubjects)
	}
	if err := checkPredicateType(predicateType); err != nil {
		return nil, err
	}
	pred, err := parsePredicate(predicate)
	if err != nil {
		return nil, err
	}
	st := &intotov1.Statement{Type: intotov1.StatementTypeUri, PredicateType: predicateType, Predicate: pred}
	for i, sub := range subjects {
		if err := checkDigests(sub.Digest); err != nil {
			return nil, fmt.Errorf("publish: subject %d (%q): %w", i+1, sub.Name, err)
		}
		st.Subject = append(st.Subject, &intotov1.ResourceDescriptor{Name: sub.Name, Digest: sub.Digest})
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("publish: statement: %w", err)
	}
	return protojson.Marshal(st)
}

// ParsedStatement is what ParseStatement reads of an in-toto statement.
type ParsedStatement struct {
	Type          string
	PredicateType string
	Subjects      []Subject
}

// ParseStatement checks an in-toto statement before it is signed: its size and depth,
// its type (Statement v1 or v0.1), its predicate type, and subjects named by digest.
func ParseStatement(data []byte) (_ *ParsedStatement, err error) {
	defer recoverTo(&err)
	if len(data) > MaxStatementSize {
		return nil, fmt.Errorf("publish: statement larger than %d bytes", MaxStatementSize)
	}
	if err := checkJSON(data); err != nil {
		return nil, fmt.Errorf("publish: statement: %w", err)
	}
	var raw struct {
		Type          string          `json:"_type"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("publish: statement is not an in-toto statement: %v", err)
	}
	switch raw.Type {
	case intotov1.StatementTypeUri, "https://in-toto.io/Statement/v0.1":
	default:
		return nil, fmt.Errorf("publish: statement _type is %q; want %q", raw.Type, intotov1.StatementTypeUri)
	}
	if err := checkPredicateType(raw.PredicateType); err != nil {
		return nil, err
	}
	if p := bytes.TrimSpace(raw.Predicate); len(p) > 0 && p[0] != '{' {
		return nil, errors.New("publish: the statement's predicate is not a JSON object")
	}
	if len(raw.Subject) == 0 {
		return nil, errors.New("publish: the statement has no subject; name what it is about by digest")
	}
	if len(raw.Subject) > MaxSubjects {
		return nil, fmt.Errorf("publish: more than %d subjects; split the statement", MaxSubjects)
	}
	p := &ParsedStatement{Type: raw.Type, PredicateType: raw.PredicateType}
	for i, sub := range raw.Subject {
		if err := checkDigests(sub.Digest); err != nil {
			return nil, fmt.Errorf("publish: statement subject %d (%q): %w", i+1, sub.Name, err)
		}
		p.Subjects = append(p.Subjects, Subject{Name: sub.Name, Digest: sub.Digest})
	}
	return p, nil
}

var hexDigest = regexp.MustCompile(`^[0-9a-f]+$`)

// digestSizes are the hex lengths of the digest algorithms a subject may use.
var digestSizes = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128, "sha1": 40, "gitCommit": 40}

func checkDigests(d map[string]string) error {
	if len(d) == 0 {
		return errors.New("no digest")
	}
	for alg, v := range d {
		n, known := digestSizes[alg]
		if !hexDigest.MatchString(v) || (known && len(v) != n && !(alg == "gitCommit" && len(v) == 64)) {
			return fmt.Errorf("digest %s:%q is not a lowercase hex digest", alg, v)
		}
	}
	return nil
}

func checkPredicateType(t string) error {
	if t == "" {
		return errors.New("publish: no predicate type; give its URI (e.g. " + PredicateCycloneDX + ")")
	}
	if len(t) > 1024 || strings.ContainsAny(t, " \t\r\n") {
		return fmt.Errorf("publish: predicate type %.64q is not a URI", t)
	}
	return nil
}

// parsePredicate reads a predicate: a JSON object, bounded.
func parsePredicate(predicate []byte) (*structpb.Struct, error) {
	if len(predicate) > MaxStatementSize {
		return nil, fmt.Errorf("publish: predicate larger than %d bytes", MaxStatementSize)
	}
	if err := checkJSON(predicate); err != nil {
		return nil, fmt.Errorf("publish: predicate: %w", err)
	}
	if p := bytes.TrimSpace(predicate); len(p) == 0 || p[0] != '{' {
		return nil, errors.New("publish: the predicate is not a JSON object")
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(predicate, pred); err != nil {
		return nil, fmt.Errorf("publish: predicate: %v", err)
	}
	return pred, nil
}

// checkJSON checks that data is one JSON value nested at most MaxJSONDepth deep.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not JSON: %v", err)
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				if depth > MaxJSONDepth {
					return fmt.Errorf("nested deeper than %d", MaxJSONDepth)
				}
			default:
				depth--
			}
		}
	}
	if !json.Valid(data) {
		return errors.New("not a single JSON value")
	}
	return nil
}

// bundle signs content into a Sigstore bundle (JSON) as the Signer says.
func (s Signer) bundle(ctx context.Context, content sign.Content) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	keypair, opts, err := s.options(ctx)
	if err != nil {
		return nil, err
	}
	b, err := sign.Bundle(content, keypair, opts)
	if err != nil {
		return nil, fmt.Errorf("publish: signing: %w", err)
	}
	return protojson.Marshal(b)
}

// options chooses the key and the services of a signature.
func (s Signer) options(ctx context.Context) (sign.Keypair, sign.BundleOptions, error) {
	opts := sign.BundleOptions{Context: ctx}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if err := s.check(); err != nil {
		return nil, opts, err
	}
	keypair := s.Key
	if keypair == nil {
		var err error
		keypair, err = sign.NewEphemeralKeypair(nil)
		if err != nil {
			return nil, opts, fmt.Errorf("publish: ephemeral key: %w", err)
		}
		opts.CertificateProvider = sign.NewFulcio(&sign.FulcioOptions{BaseURL: strings.TrimRight(s.FulcioURL, "/"), Timeout: timeout, Transport: s.Transport})
		opts.CertificateProviderOptions = &sign.CertificateProviderOptions{IDToken: s.IDToken}
	}
	if s.RekorURL != "" {
		opts.TransparencyLogs = append(opts.TransparencyLogs, sign.NewRekor(&sign.RekorOptions{BaseURL: strings.TrimRight(s.RekorURL, "/"), Timeout: timeout}))
	}
	if s.TSAURL != "" {
		opts.TimestampAuthorities = append(opts.TimestampAuthorities, sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: s.TSAURL, Timeout: timeout, Transport: s.Transport}))
	}
	return keypair, opts, nil
}

// check says what is wrong with a Signer before anything is contacted.
func (s Signer) check() error {
	switch {
	case s.Key != nil && s.FulcioURL != "":
		return errors.New("publish: give a key or a Fulcio URL, not both")
	case s.Key == nil && s.FulcioURL == "":
		return errors.New("publish: no key to sign with; give a key (cosign key pair, PEM or KMS) or sign keyless with a Fulcio URL and an OIDC token")
	case s.Key == nil && s.IDToken == "":
		return errors.New("publish: keyless signing needs an OIDC identity token for Fulcio")
	}
	for _, u := range []struct{ what, url string }{{"Fulcio", s.FulcioURL}, {"Rekor", s.RekorURL}, {"timestamp authority", s.TSAURL}} {
		if u.url == "" {
			continue
		}
		if err := checkURL(u.url); err != nil {
			return fmt.Errorf("publish: %s URL: %w", u.what, err)
		}
	}
	return nil
}

// checkURL accepts https URLs, and http ones on the loopback network only.
func checkURL(u string) error {
	switch {
	case strings.HasPrefix(u, "https://"):
		return nil
	case strings.HasPrefix(u, "http://"):
		host := strings.TrimPrefix(u, "http://")
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if isLoopback(host) {
			return nil
		}
		return fmt.Errorf("%q: plain HTTP is refused outside the loopback network; use https", u)
	}
	return fmt.Errorf("%q is not an https URL", u)
}

// recoverTo turns a panic below the API into an error.
func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("publish: internal error (please report it): %v", r)
	}
}
