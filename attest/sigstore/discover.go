package sigstore

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// Attachment kinds.
const (
	// KindBundle is a Sigstore bundle (X.sigstore.json, X.sigstore) or, for X.bundle,
	// either a Sigstore bundle or cosign's old bundle (told apart by content).
	KindBundle = "bundle"
	// KindJSONL is X.intoto.jsonl: one Sigstore bundle per line (GitHub attestations).
	KindJSONL = "jsonl"
	// KindSignature is a detached X.sig, with X.pem, X.crt or X.cert if present.
	KindSignature = "signature"
)

// Attachment is a signature file found beside the artifact it signs.
type Attachment struct {
	Artifact string `json:"artifact"`
	Path     string `json:"path"`
	Kind     string `json:"kind"`
	// Certificate is the certificate file beside a detached signature, if any.
	Certificate string `json:"certificate,omitempty"`
}

var suffixes = []struct{ suffix, kind string }{
	{".sigstore.json", KindBundle},
	{".intoto.jsonl", KindJSONL},
	{".sigstore", KindBundle},
	{".bundle", KindBundle},
	{".sig", KindSignature},
}

// attestationKind is the KIND of an attestation bundle X.KIND.sigstore.json.
var attestationKind = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Discover pairs each file X of a delivery's file list with its signature files:
// X.sigstore.json, X.sigstore, X.bundle, X.intoto.jsonl and X.sig (with X.pem, X.crt or
// X.cert), and the attestation bundles X.KIND.sigstore.json (X.sbom.sigstore.json). A signature file whose artifact is not in the list is not returned. The result
// is sorted by artifact, then path.
func Discover(files []string) []Attachment {
	present := make(map[string]bool, len(files))
	for _, f := range files {
		present[f] = true
	}
	var out []Attachment
	for _, f := range files {
		for _, s := range suffixes {
			if !strings.HasSuffix(f, s.suffix) {
				continue
			}
			art := strings.TrimSuffix(f, s.suffix)
			if !present[art] && s.kind == KindBundle {
				// X.KIND.sigstore.json: an attestation of X (kensa release writes
				// X.sbom.sigstore.json and X.scan.sigstore.json beside X.sigstore.json).
				if i := strings.LastIndexByte(art, '.'); i > 0 && attestationKind.MatchString(art[i+1:]) {
					art = art[:i]
				}
			}
			if art == "" || !present[art] {
				continue
			}
			a := Attachment{Artifact: art, Path: f, Kind: s.kind}
			if s.kind == KindSignature {
				for _, c := range []string{".pem", ".crt", ".cert"} {
					if present[art+c] {
						a.Certificate = art + c
						break
					}
				}
			}
			out = append(out, a)
			break
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Artifact != out[j].Artifact {
			return out[i].Artifact < out[j].Artifact
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// SplitJSONL splits an .intoto.jsonl file into its bundles (one per non-empty line).
func SplitJSONL(data []byte) ([][]byte, error) {
	if len(data) > MaxBundleSize {
		return nil, errorf("file larger than %d bytes; not read", MaxBundleSize)
	}
	var out [][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(out) == MaxBundlesPerFile {
			return nil, errorf("more than %d bundles in one file; not checked", MaxBundlesPerFile)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, failf("no bundle in the file")
	}
	return out, nil
}

// VerifyAttachment verifies one attachment of the artifact with sha256 (hex) and returns
// one check per signature it holds (one per line of an .intoto.jsonl), each with the
// artifact as subject, and the verified results of those that passed. read gives a file of
// the delivery by its path in the list.
func VerifyAttachment(a Attachment, read func(path string) ([]byte, error), sha256 string, trust *Trust) ([]result.Check, []*Verified) {
	if _, err := hex.DecodeString(strings.TrimPrefix(sha256, "sha256:")); err != nil {
		return []result.Check{Check(a.Artifact, nil, errorf("%s: artifact digest %q is not hex", a.Path, sha256))}, nil
	}
	art := ArtifactRef{SHA256: sha256}
	data, err := read(a.Path)
	if err != nil {
		return []result.Check{Check(a.Artifact, nil, errorf("%s: %v", a.Path, err))}, nil
	}
	var checks []result.Check
	var verified []*Verified
	add := func(label string, v *Verified, err error) {
		if err != nil {
			err = &Error{Status: Status(err), Err: fmt.Errorf("%s: %w", label, err)}
		}
		c := Check(a.Artifact, v, err)
		if err == nil {
			c.Detail = label + ": " + c.Detail
		}
		checks = append(checks, c)
		if c.Status == result.Pass {
			verified = append(verified, v)
		}
	}
	switch {
	case a.Kind == KindJSONL:
		lines, err := SplitJSONL(data)
		if err != nil {
			add(a.Path, nil, err)
			break
		}
		for i, line := range lines {
			v, err := VerifyBundle(line, art, trust)
			add(fmt.Sprintf("%s line %d", a.Path, i+1), v, err)
		}
	case a.Kind == KindBundle && IsLegacyBundle(data):
		v, err := VerifyLegacy(Legacy{Bundle: data}, art, trust)
		add(a.Path, v, err)
	case a.Kind == KindBundle:
		v, err := VerifyBundle(data, art, trust)
		add(a.Path, v, err)
	case a.Kind == KindSignature:
		l := Legacy{Signature: data}
		if a.Certificate != "" {
			if l.Certificate, err = read(a.Certificate); err != nil {
				add(a.Path, nil, errorf("%s: %v", a.Certificate, err))
				break
			}
		}
		v, err := VerifyLegacy(l, art, trust)
		add(a.Path, v, err)
	default:
		add(a.Path, nil, errorf("unknown attachment kind %q", a.Kind))
	}
	return checks, verified
}
