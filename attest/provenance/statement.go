package provenance

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
)

// Statement and predicate type URIs this package understands.
const (
	StatementV01     = "https://in-toto.io/Statement/v0.1"
	StatementV1      = intoto.StatementTypeUri // "https://in-toto.io/Statement/v1"
	SLSAProvenance02 = "https://slsa.dev/provenance/v0.2"
	SLSAProvenance1  = "https://slsa.dev/provenance/v1"
	// PayloadTypeInToto is the DSSE payloadType of an in-toto statement.
	PayloadTypeInToto = "application/vnd.in-toto+json"
)

// Build types whose source fields this package knows how to read.
const (
	// BuildTypeGitHubActions is GitHub's artifact attestations (actions/attest-build-provenance).
	BuildTypeGitHubActions = "https://actions.github.io/buildtypes/workflow/v1"
	// BuildTypeSLSAGitHubWorkflow is the SLSA GitHub generator's workflow build type (SLSA v1).
	BuildTypeSLSAGitHubWorkflow = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	// BuildTypeSLSAContainerBased is the SLSA container-based build (source in
	// externalParameters.source).
	BuildTypeSLSAContainerBased = "https://slsa.dev/container-based-build/v0.1?draft"
	// BuildTypeSLSADelegator is the SLSA GitHub generator's "bring your own builder"
	// delegator: the trigger is internalParameters.GITHUB_WORKFLOW_REF and the statement
	// is signed by the generator's delegator workflow on behalf of the builder it names.
	BuildTypeSLSADelegator = "https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0"
)

// Bounds on what ParseStatement accepts. They follow sigstore-go (1024 subjects, 32
// digests each; CVE-2024-45395) and the JSON caps of the project's limits table.
const (
	// MaxStatementSize bounds a statement payload in bytes (cosign's attachment cap).
	MaxStatementSize = 128 << 20
	// MaxSubjects bounds the subjects of one statement.
	MaxSubjects = 1024
	// MaxDigests bounds the digests of one subject or material.
	MaxDigests = 32
	// MaxMaterials bounds the materials (v0.2) or resolved dependencies (v1) of a predicate.
	MaxMaterials = 10000
	// MaxDepth bounds JSON nesting in statements, envelopes and bundles.
	MaxDepth = 128
	// maxObjectKeys bounds the keys of one JSON object.
	maxObjectKeys = 100000
)

// Statement is a parsed in-toto statement (v0.1 or v1). It says nothing about who made
// it: the signature over it is verified elsewhere (package attest/sigstore), and only a
// verified statement should be given to Check.
type Statement struct {
	// Type is the statement's _type.
	Type string
	// Subjects are the artifacts the statement is about.
	Subjects []ResourceDigest
	// PredicateType is the URI naming the predicate's schema.
	PredicateType string
	// Predicate is the predicate as decoded JSON (objects are map[string]any, numbers
	// json.Number); nil if absent.
	Predicate map[string]any
	// Provenance is the SLSA provenance read from the predicate when PredicateType is
	// SLSAProvenance02 or SLSAProvenance1, else nil.
	Provenance *Provenance
}

// ResourceDigest is a subject or material: a name or URI and its digests by algorithm.
type ResourceDigest struct {
	Name   string
	URI    string
	Digest map[string]string
}

// Provenance is what Check reads from SLSA provenance v0.2 or v1.
type Provenance struct {
	// Version is "v0.2" or "v1".
	Version string
	// BuilderID is builder.id (v0.2) or runDetails.builder.id (v1).
	BuilderID string
	// BuildType is buildType (v0.2) or buildDefinition.buildType (v1).
	BuildType string
	// Trigger is where the build definition came from, as "git+https://host/owner/repo@ref":
	// invocation.configSource.uri (v0.2); externalParameters.workflow.repository and .ref
	// (GitHub workflow build types, v1); externalParameters.source (container-based, v1).
	// Empty when the predicate does not say (TriggerProblem tells why).
	Trigger string
	// TriggerDigest is the digest of the trigger source (configSource.digest, or of the
	// resolved dependency that matches it), typically {"sha1"|"gitCommit": commit}.
	TriggerDigest map[string]string
	// EntryPoint is the workflow path (configSource.entryPoint, workflow.path).
	EntryPoint string
	// TriggerProblem says why Trigger could not be read.
	TriggerProblem string
	// Materials are materials (v0.2) or buildDefinition.resolvedDependencies (v1).
	Materials []ResourceDigest
	// ExternalParameterKeys are the keys of buildDefinition.externalParameters (v1), sorted.
	ExternalParameterKeys []string
}

// ParseStatement parses an in-toto statement (v0.1 or v1) strictly: bounded in size,
// subjects, digests and JSON depth; duplicate or case-variant keys, trailing data, fields
// of the wrong JSON type and malformed digests of known algorithms are errors. Digests of
// algorithms it does not know are kept but never used for matching. It reads SLSA
// provenance v0.2 and v1 predicates into Statement.Provenance. It does not verify any
// signature.
func ParseStatement(payload []byte) (st *Statement, err error) {
	defer func() {
		if r := recover(); r != nil {
			st, err = nil, fmt.Errorf("in-toto statement: internal error while parsing: %v", r)
		}
	}()
	st, err = parseStatement(payload)
	if err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	return st, nil
}

func parseStatement(payload []byte) (*Statement, error) {
	if len(payload) > MaxStatementSize {
		return nil, fmt.Errorf("%d bytes is more than the limit of %d", len(payload), MaxStatementSize)
	}
	v, err := decodeStrict(payload)
	if err != nil {
		return nil, fmt.Errorf("not a valid JSON document: %w", err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("top-level value is a %s, not an object", kind(v))
	}
	st := &Statement{}
	if st.Type, err = optString(top, "_type", "statement"); err != nil {
		return nil, err
	}
	if st.Type != StatementV01 && st.Type != StatementV1 {
		return nil, fmt.Errorf("_type is %s, want %q or %q", quote(st.Type), StatementV1, StatementV01)
	}
	subjects, err := optArray(top, "subject", "statement")
	if err != nil {
		return nil, err
	}
	if len(subjects) == 0 {
		return nil, errors.New("statement has no subject")
	}
	if len(subjects) > MaxSubjects {
		return nil, fmt.Errorf("%d subjects is more than the limit of %d", len(subjects), MaxSubjects)
	}
	for i, s := range subjects {
		rd, err := parseResource(s, fmt.Sprintf("subject[%d]", i))
		if err != nil {
			return nil, err
		}
		if len(rd.Digest) == 0 {
			return nil, fmt.Errorf("subject[%d] has no digest", i)
		}
		st.Subjects = append(st.Subjects, rd)
	}
	if st.PredicateType, err = optString(top, "predicateType", "statement"); err != nil {
		return nil, err
	}
	if st.PredicateType == "" {
		return nil, errors.New("predicateType is missing or empty")
	}
	if st.Predicate, err = optObject(top, "predicate", "statement"); err != nil {
		return nil, err
	}
	switch st.PredicateType {
	case SLSAProvenance02:
		st.Provenance, err = parseSLSA02(st.Predicate)
	case SLSAProvenance1:
		st.Provenance, err = parseSLSA1(st.Predicate)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// parseResource reads a resource descriptor (subject, material, resolved dependency).
func parseResource(v any, where string) (ResourceDigest, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return ResourceDigest{}, fmt.Errorf("%s is a %s, not an object", where, kind(v))
	}
	var rd ResourceDigest
	var err error
	if rd.Name, err = optString(obj, "name", where); err != nil {
		return rd, err
	}
	if rd.URI, err = optString(obj, "uri", where); err != nil {
		return rd, err
	}
	if rd.Digest, err = parseDigestSet(obj, where); err != nil {
		return rd, err
	}
	return rd, nil
}

// parseDigestSet reads obj.digest. Values of algorithms the in-toto spec fixes the size
// of must be lowercase hex of that size.
func parseDigestSet(obj map[string]any, where string) (map[string]string, error) {
	d, err := optObject(obj, "digest", where)
	if err != nil || d == nil {
		return nil, err
	}
	if len(d) > MaxDigests {
		return nil, fmt.Errorf("%s has %d digests, more than the limit of %d", where, len(d), MaxDigests)
	}
	out := make(map[string]string, len(d))
	for alg, v := range d {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s.digest.%s is a %s, not a string", where, alg, kind(v))
		}
		if size := intoto.HashAlgorithm(alg).HexLength(); size > 0 {
			ok := len(s) == 2*size
			if strings.HasPrefix(alg, "git") {
				// Git object ids are SHA-1 or, in SHA-256 repositories, SHA-256.
				ok = len(s) == 40 || len(s) == 64
			}
			if !ok || !isLowerHex(s) {
				return nil, fmt.Errorf("%s.digest.%s is %s, not %d lowercase hex digits", where, alg, quote(s), 2*size)
			}
		}
		out[alg] = s
	}
	return out, nil
}

func isLowerHex(s string) bool {
	if _, err := hex.DecodeString(s); err != nil {
		return false
	}
	return strings.ToLower(s) == s
}

func parseSLSA02(pred map[string]any) (*Provenance, error) {
	const w = "predicate"
	if pred == nil {
		return nil, errors.New("SLSA provenance v0.2 statement has no predicate")
	}
	p := &Provenance{Version: "v0.2"}
	builder, err := optObject(pred, "builder", w)
	if err != nil {
		return nil, err
	}
	if builder != nil {
		if p.BuilderID, err = optString(builder, "id", w+".builder"); err != nil {
			return nil, err
		}
	}
	if p.BuildType, err = optString(pred, "buildType", w); err != nil {
		return nil, err
	}
	inv, err := optObject(pred, "invocation", w)
	if err != nil {
		return nil, err
	}
	var cs map[string]any
	if inv != nil {
		if cs, err = optObject(inv, "configSource", w+".invocation"); err != nil {
			return nil, err
		}
		if _, err = optObject(inv, "environment", w+".invocation"); err != nil {
			return nil, err
		}
	}
	if cs != nil {
		const cw = w + ".invocation.configSource"
		if p.Trigger, err = optString(cs, "uri", cw); err != nil {
			return nil, err
		}
		if p.TriggerDigest, err = parseDigestSet(cs, cw); err != nil {
			return nil, err
		}
		if p.EntryPoint, err = optString(cs, "entryPoint", cw); err != nil {
			return nil, err
		}
	}
	if p.Trigger == "" {
		p.TriggerProblem = "predicate.invocation.configSource.uri is missing"
	}
	if p.Materials, err = parseMaterials(pred, "materials", w); err != nil {
		return nil, err
	}
	return p, nil
}

func parseSLSA1(pred map[string]any) (*Provenance, error) {
	const w = "predicate"
	if pred == nil {
		return nil, errors.New("SLSA provenance v1 statement has no predicate")
	}
	p := &Provenance{Version: "v1"}
	rd, err := optObject(pred, "runDetails", w)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		builder, err := optObject(rd, "builder", w+".runDetails")
		if err != nil {
			return nil, err
		}
		if builder != nil {
			if p.BuilderID, err = optString(builder, "id", w+".runDetails.builder"); err != nil {
				return nil, err
			}
		}
	}
	bd, err := optObject(pred, "buildDefinition", w)
	if err != nil {
		return nil, err
	}
	if bd == nil {
		p.TriggerProblem = "predicate.buildDefinition is missing"
		return p, nil
	}
	const bw = w + ".buildDefinition"
	if p.BuildType, err = optString(bd, "buildType", bw); err != nil {
		return nil, err
	}
	ext, err := optObject(bd, "externalParameters", bw)
	if err != nil {
		return nil, err
	}
	for k := range ext {
		p.ExternalParameterKeys = append(p.ExternalParameterKeys, k)
	}
	sort.Strings(p.ExternalParameterKeys)
	if p.Materials, err = parseMaterials(bd, "resolvedDependencies", bw); err != nil {
		return nil, err
	}
	const ew = bw + ".externalParameters"
	switch p.BuildType {
	case BuildTypeGitHubActions, BuildTypeSLSAGitHubWorkflow:
		wf, err := optObject(ext, "workflow", ew)
		if err != nil {
			return nil, err
		}
		if wf == nil {
			p.TriggerProblem = ew + ".workflow is missing"
			break
		}
		repo, err := optString(wf, "repository", ew+".workflow")
		if err != nil {
			return nil, err
		}
		ref, err := optString(wf, "ref", ew+".workflow")
		if err != nil {
			return nil, err
		}
		if p.EntryPoint, err = optString(wf, "path", ew+".workflow"); err != nil {
			return nil, err
		}
		if repo == "" || ref == "" {
			p.TriggerProblem = ew + ".workflow.repository or .ref is missing"
			break
		}
		p.Trigger = "git+" + strings.TrimPrefix(repo, "git+") + "@" + ref
	case BuildTypeSLSAContainerBased:
		src, ok := field(ext, "source")
		if !ok {
			p.TriggerProblem = ew + ".source is missing"
			break
		}
		r, err := parseResource(src, ew+".source")
		if err != nil {
			return nil, err
		}
		p.Trigger, p.TriggerDigest = r.URI, r.Digest
		if p.Trigger == "" {
			p.TriggerProblem = ew + ".source.uri is missing"
		}
	case BuildTypeSLSADelegator:
		internal, err := optObject(bd, "internalParameters", bw)
		if err != nil {
			return nil, err
		}
		wfRef, err := optString(internal, "GITHUB_WORKFLOW_REF", bw+".internalParameters")
		if err != nil {
			return nil, err
		}
		// "owner/repo/.github/workflows/x.yml@refs/tags/v1"
		repoPath, ref, _ := strings.Cut(wfRef, "@")
		parts := strings.SplitN(repoPath, "/", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || ref == "" {
			p.TriggerProblem = fmt.Sprintf("%s.internalParameters.GITHUB_WORKFLOW_REF %s is not owner/repo/path@ref", bw, quote(wfRef))
			break
		}
		p.Trigger = "git+https://github.com/" + parts[0] + "/" + parts[1] + "@" + ref
		p.EntryPoint = parts[2]
	default:
		p.TriggerProblem = fmt.Sprintf("buildType %s is not one kensa can read the source of (it reads %s, %s, %s and %s)",
			quote(p.BuildType), BuildTypeGitHubActions, BuildTypeSLSAGitHubWorkflow, BuildTypeSLSAContainerBased, BuildTypeSLSADelegator)
	}
	return p, nil
}

func parseMaterials(obj map[string]any, key, where string) ([]ResourceDigest, error) {
	arr, err := optArray(obj, key, where)
	if err != nil {
		return nil, err
	}
	if len(arr) > MaxMaterials {
		return nil, fmt.Errorf("%s.%s has %d entries, more than the limit of %d", where, key, len(arr), MaxMaterials)
	}
	var out []ResourceDigest
	for i, m := range arr {
		rd, err := parseResource(m, fmt.Sprintf("%s.%s[%d]", where, key, i))
		if err != nil {
			return nil, err
		}
		out = append(out, rd)
	}
	return out, nil
}
