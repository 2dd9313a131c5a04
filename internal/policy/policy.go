// Package policy reads the acceptance policy: one YAML file holding everything an
// acceptance needs (whom the buyer trusts, what provenance and SBOM it expects, what the
// vendor declared, which rules judge and how strictly, and the waivers granted). It is
// read strictly: an unknown key, a wrong type or an impossible value is an error that
// names the file, line and column.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"kensa.dev/kensa/internal/glob"
	"kensa.dev/kensa/internal/result"
)

// APIVersion names this version of the policy format.
const APIVersion = "kensa.dev/policy/v1"

// maxSize bounds a policy file.
const maxSize = 4 << 20

// Policy is one acceptance policy.
type Policy struct {
	APIVersion   string       `yaml:"apiVersion"`
	Trust        Trust        `yaml:"trust"`
	Provenance   Provenance   `yaml:"provenance"`
	Signatures   Signatures   `yaml:"signatures"`
	SBOM         SBOM         `yaml:"sbom"`
	Declarations Declarations `yaml:"declarations"`
	Rules        Rules        `yaml:"rules"`
	Waivers      []Waiver     `yaml:"waivers"`
	// Baseline is the result.json kensa accept wrote for the previously accepted release:
	// the delivery is compared with it and every change ranked by risk.
	Baseline string `yaml:"baseline"`

	// File is where the policy was read from ("" for the default policy); relative paths
	// in it are relative to its directory.
	File string `yaml:"-"`
	// Digest is the sha256 of the policy file's bytes ("" for the default policy).
	Digest string `yaml:"-"`
}

// Trust names whom the buyer trusts.
type Trust struct {
	Sigstore     SigstoreTrust     `yaml:"sigstore"`
	OpenPGP      OpenPGPTrust      `yaml:"openpgp"`
	Authenticode AuthenticodeTrust `yaml:"authenticode"`
}

// SigstoreTrust: cosign keys, keyless identities and the trusted root.
type SigstoreTrust struct {
	Keys        []string   `yaml:"keys"`
	Identities  []Identity `yaml:"identities"`
	TrustedRoot string     `yaml:"trustedRoot"`
}

// Identity is one trusted keyless signer.
type Identity struct {
	Identity       string `yaml:"identity"`
	IdentityRegexp string `yaml:"identityRegexp"`
	Issuer         string `yaml:"issuer"`
	IssuerRegexp   string `yaml:"issuerRegexp"`
}

// OpenPGPTrust: the keys checksum manifests must be signed with.
type OpenPGPTrust struct {
	Keys []string `yaml:"keys"`
}

// AuthenticodeTrust: roots and signers of Windows executables.
type AuthenticodeTrust struct {
	Roots       []string `yaml:"roots"`
	TSARoots    []string `yaml:"tsaRoots"`
	Signers     []string `yaml:"signers"`
	SystemRoots bool     `yaml:"systemRoots"`
	Required    bool     `yaml:"required"`
}

// Provenance is what the build provenance must say.
type Provenance struct {
	Required       bool     `yaml:"required"`
	BuilderID      string   `yaml:"builderId"`
	SourceURI      string   `yaml:"sourceUri"`
	SourceTag      string   `yaml:"sourceTag"`
	SourceBranch   string   `yaml:"sourceBranch"`
	PredicateTypes []string `yaml:"predicateTypes"`
}

// Signatures: whether every delivered file must be covered by a verified signature.
type Signatures struct {
	Required bool `yaml:"required"`
}

// SBOM is what the buyer expects of the components.
type SBOM struct {
	// Vendor is the vendor's SBOM to reconcile the delivery with.
	Vendor string `yaml:"vendor"`
	// Forbidden are components that must not appear: globs over "name@version" or the
	// purl ("xz-utils@5.6.*", "pkg:npm/event-stream@*").
	Forbidden []string `yaml:"forbidden"`
}

// Declarations are what the vendor declared about the delivery.
type Declarations struct {
	// Manifest is a file listing the delivered files with their sha256, in
	// sha256sum's format: every file must be there with that digest, and nothing else.
	Manifest string `yaml:"manifest"`
	// NetworkDestinations are the hosts, "*.domain" wildcards, IP addresses and CIDR
	// ranges the software is specified to contact.
	NetworkDestinations []string `yaml:"networkDestinations"`
}

// Rules choose the rule packs and the failure threshold.
type Rules struct {
	// Builtin turns the built-in packs off when false (default: on).
	Builtin *bool    `yaml:"builtin"`
	Packs   []string `yaml:"packs"`
	Disable []string `yaml:"disable"`
	// FailOn is the lowest severity that fails the acceptance (default: high).
	FailOn string `yaml:"failOn"`
}

// Waiver accepts one finding for a stated reason, until it expires.
type Waiver struct {
	Rule     string `yaml:"rule"`
	Path     string `yaml:"path"`
	Digest   string `yaml:"digest"`
	Reason   string `yaml:"reason"`
	Approver string `yaml:"approver"`
	Expires  string `yaml:"expires"`

	expires time.Time
	rule    *glob.Pattern
	path    *glob.Pattern
}

// Default is the policy without a file: the built-in packs failing at high, and no one
// trusted, so that any signature offered fails until the buyer names the signer.
func Default() *Policy {
	p := &Policy{APIVersion: APIVersion}
	p.Rules.FailOn = string(result.High)
	return p
}

// Error is a mistake in a policy file, at a position when known.
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads and checks a policy file.
func Load(name string) (*Policy, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes", maxSize)}
	}
	p, err := Parse(name, src)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	p.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return p, nil
}

// Parse reads a policy from its bytes; name is used in errors and to resolve relative
// paths.
func Parse(name string, src []byte) (*Policy, error) {
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, yamlError(name, err)
	}
	if len(file.Docs) != 1 || file.Docs[0].Body == nil {
		return nil, &Error{File: name, Msg: "a policy is one YAML document"}
	}
	body := file.Docs[0].Body
	if _, ok := body.(*ast.MappingNode); !ok {
		return nil, &Error{File: name, Line: line(body), Msg: "a policy is a mapping of keys (apiVersion, trust, rules, …)"}
	}
	var alias error
	ast.Walk(visit(func(n ast.Node) bool {
		if _, ok := n.(*ast.AliasNode); ok && alias == nil {
			alias = &Error{File: name, Line: line(n), Msg: "YAML aliases are not allowed in a policy; write the value out"}
		}
		return alias == nil
	}), body)
	if alias != nil {
		return nil, alias
	}
	p := &Policy{}
	if err := yaml.NodeToValue(body, p, yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(name, err)
	}
	p.File = name
	if err := p.check(file); err != nil {
		return nil, err
	}
	return p, nil
}

// check validates the values, with the position of the offending key.
func (p *Policy) check(file *ast.File) error {
	at := func(path, format string, args ...any) error {
		e := &Error{File: p.File, Msg: fmt.Sprintf(format, args...)}
		if yp, err := yaml.PathString(path); err == nil {
			if n, err := yp.FilterFile(file); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					e.Line, e.Column = tk.Position.Line, tk.Position.Column
				}
			}
		}
		return e
	}
	if p.APIVersion != APIVersion {
		return at("$.apiVersion", "apiVersion must be %q", APIVersion)
	}
	for i, id := range p.Trust.Sigstore.Identities {
		where := fmt.Sprintf("$.trust.sigstore.identities[%d]", i)
		if (id.Identity == "") == (id.IdentityRegexp == "") {
			return at(where, "give one of identity and identityRegexp")
		}
		if (id.Issuer == "") == (id.IssuerRegexp == "") {
			return at(where, "give one of issuer and issuerRegexp")
		}
		for _, re := range []string{id.IdentityRegexp, id.IssuerRegexp} {
			if _, err := regexp.Compile(re); err != nil {
				return at(where, "%v", err)
			}
		}
	}
	if p.Rules.FailOn == "" {
		p.Rules.FailOn = string(result.High)
	}
	if _, ok := result.ParseSeverity(p.Rules.FailOn); !ok {
		return at("$.rules.failOn", "failOn %q: want info, low, medium, high or critical", p.Rules.FailOn)
	}
	for i, d := range p.Declarations.NetworkDestinations {
		if !validDestination(d) {
			return at(fmt.Sprintf("$.declarations.networkDestinations[%d]", i), "%q is not a host name, *.domain, IP address or CIDR range", d)
		}
	}
	for i, f := range p.SBOM.Forbidden {
		if _, err := glob.Compile(f); err != nil {
			return at(fmt.Sprintf("$.sbom.forbidden[%d]", i), "%v", err)
		}
	}
	for i := range p.Waivers {
		w := &p.Waivers[i]
		where := fmt.Sprintf("$.waivers[%d]", i)
		if w.Rule == "" || w.Reason == "" || w.Approver == "" || w.Expires == "" {
			return at(where, "a waiver needs rule, reason, approver and expires")
		}
		t, err := time.Parse("2006-01-02", w.Expires)
		if err != nil {
			return at(where+".expires", "expires %q: write the date as YYYY-MM-DD", w.Expires)
		}
		w.expires = t.Add(24 * time.Hour) // valid through the day it names
		if w.rule, err = glob.Compile(w.Rule); err != nil {
			return at(where+".rule", "%v", err)
		}
		if w.Path != "" {
			if w.path, err = glob.Compile(w.Path); err != nil {
				return at(where+".path", "%v", err)
			}
		}
		if w.Digest != "" && !validDigest(w.Digest) {
			return at(where+".digest", "digest %q: write it as sha256:HEX", w.Digest)
		}
	}
	return nil
}

func validDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	return ok && len(h) == 64 && strings.Trim(h, "0123456789abcdef") == ""
}

var hostname = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validDestination(d string) bool {
	if _, _, err := net.ParseCIDR(d); err == nil {
		return true
	}
	if net.ParseIP(d) != nil {
		return true
	}
	return len(d) <= 253 && hostname.MatchString(strings.ToLower(d))
}

// Path resolves a path of the policy against the policy file's directory.
func (p *Policy) Path(rel string) string {
	if rel == "" || filepath.IsAbs(rel) || p.File == "" || strings.Contains(rel, "://") {
		return rel
	}
	return filepath.Join(filepath.Dir(p.File), rel)
}

// Paths resolves several.
func (p *Policy) Paths(rel []string) []string {
	out := make([]string, len(rel))
	for i, r := range rel {
		out[i] = p.Path(r)
	}
	return out
}

// Declared reports whether a host or IP address is among the declared destinations.
func (p *Policy) Declared(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	ip := net.ParseIP(host)
	for _, d := range p.Declarations.NetworkDestinations {
		d = strings.ToLower(d)
		switch {
		case ip != nil:
			if _, n, err := net.ParseCIDR(d); err == nil && n.Contains(ip) {
				return true
			}
			if dip := net.ParseIP(d); dip != nil && dip.Equal(ip) {
				return true
			}
		case strings.HasPrefix(d, "*."):
			if strings.HasSuffix(host, d[1:]) {
				return true
			}
		case d == host:
			return true
		}
	}
	return false
}

// Waive returns the waiver that covers a finding, if one does, and the expired waivers
// that would have.
func (p *Policy) Waive(f result.Finding, digest string, now time.Time) (*Waiver, []*Waiver) {
	var expired []*Waiver
	for i := range p.Waivers {
		w := &p.Waivers[i]
		if !w.rule.Match(f.Rule) || (w.Path != "" && !w.path.Match(f.Path)) || (w.Digest != "" && w.Digest != digest) {
			continue
		}
		if !now.Before(w.expires) {
			expired = append(expired, w)
			continue
		}
		return w, nil
	}
	return nil, expired
}

func line(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

type visit func(ast.Node) bool

func (v visit) Visit(n ast.Node) ast.Visitor {
	if v(n) {
		return v
	}
	return nil
}

func yamlError(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: file, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	return &Error{File: file, Msg: err.Error()}
}
