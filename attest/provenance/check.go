package provenance

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode"

	"kensa.dev/kensa/internal/result"
)

// Check names.
const (
	CheckSubject       = "provenance/subject"
	CheckPredicateType = "provenance/predicate-type"
	CheckBuilder       = "provenance/builder"
	CheckSource        = "provenance/source"
	CheckSourceTag     = "provenance/source-tag"
	CheckSourceBranch  = "provenance/source-branch"
	CheckRequired      = "provenance/required"
)

// Subject is the delivered artifact a statement must be about.
type Subject struct {
	// Name is the artifact's path relative to the delivery root (or an image reference);
	// it names the result checks. Unless DigestOnly, a statement subject with the
	// artifact's digest must also carry its base name (after cleaning "dir/../"), so a
	// statement cannot vouch for these bytes under another name.
	Name string
	// DigestOnly matches subjects by digest alone, for images, whose statements name the
	// repository rather than the reference the image was fetched by.
	DigestOnly bool
	// SHA256 is the hex sha256 of the artifact's bytes. Required.
	SHA256 string
	// SHA512 is the hex sha512 of the artifact's bytes, if known. A statement subject
	// that also lists a sha512 only matches when SHA512 is given and equal.
	SHA512 string
}

// SubjectOf hashes r and returns the Subject for an artifact named name.
func SubjectOf(name string, r io.Reader) (Subject, error) {
	h256, h512 := sha256.New(), sha512.New()
	if _, err := io.Copy(io.MultiWriter(h256, h512), r); err != nil {
		return Subject{}, fmt.Errorf("hashing %s: %w", name, err)
	}
	return Subject{Name: name, SHA256: hex.EncodeToString(h256.Sum(nil)), SHA512: hex.EncodeToString(h512.Sum(nil))}, nil
}

// Expect is what the buyer expects of an artifact's provenance.
type Expect struct {
	// PredicateTypes are the accepted predicate types; empty means SLSA provenance v0.2
	// or v1.
	PredicateTypes []string
	// BuilderID is the trusted builder, "URI" or "URI@version". Without a version any
	// version matches; "URI@v1.2.3" also matches a builder "URI@refs/tags/v1.2.3". SLSA
	// provenance always needs one: with none, the builder check fails.
	BuilderID string
	// SourceURI is the source repository, e.g. "github.com/o/r", "https://github.com/o/r"
	// or "git+https://github.com/o/r" (all the same).
	SourceURI string
	// SourceTag is the tag the build ran from: "v1.2.3" or "refs/tags/v1.2.3".
	SourceTag string
	// SourceBranch is the branch the build ran from: "main" or "refs/heads/main".
	SourceBranch string
	// Required makes a missing statement a failure (see MissingChecks).
	Required bool
}

// WantsPredicate reports whether a statement of predicate type t is one exp asks for.
func (exp Expect) WantsPredicate(t string) bool {
	return slices.Contains(exp.predicateTypes(), t)
}

func (exp Expect) predicateTypes() []string {
	if len(exp.PredicateTypes) == 0 {
		return []string{SLSAProvenance02, SLSAProvenance1}
	}
	return exp.PredicateTypes
}

// Check checks a verified statement st against the artifact and the expectations, and
// returns one check per property: provenance/subject, provenance/predicate-type, and for
// SLSA provenance provenance/builder, provenance/source (fail when SourceURI is given and
// differs; skip when none is given), provenance/source-tag and provenance/source-branch
// (when expected). Any problem is a fail, never a pass.
//
// signer is the identity that signed the statement as verified by package attest/sigstore:
// for a keyless (Fulcio) certificate its URI subject alternative name, e.g.
// "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1". For SLSA
// provenance it must equal the builder id the statement claims: on GitHub the builder is
// the workflow that signs, and a statement copied into another signer's envelope is
// refused. The exception is the SLSA GitHub generator's delegator build type
// (BuildTypeSLSADelegator), which a released delegator workflow signs on behalf of the
// builder it names. Pass "" when the statement was signed by a trusted key rather than
// a builder identity; the builder id in the statement is then taken as the key holder's
// word.
func Check(st *Statement, artifact Subject, exp Expect, signer string) (checks []result.Check) {
	defer func() {
		if r := recover(); r != nil {
			checks = []result.Check{{Name: CheckSubject, Subject: artifact.Name, Status: result.Erred,
				Detail: fmt.Sprintf("internal error while checking provenance: %v", r)}}
		}
	}()
	mk := func(name, status, format string, args ...any) result.Check {
		return result.Check{Name: name, Subject: artifact.Name, Status: status, Detail: fmt.Sprintf(format, args...)}
	}
	if st == nil {
		return []result.Check{mk(CheckSubject, result.Erred, "no statement to check")}
	}
	checks = append(checks, checkSubject(st, artifact, mk))

	types := exp.predicateTypes()
	if slices.Contains(types, st.PredicateType) {
		checks = append(checks, mk(CheckPredicateType, result.Pass, "predicate type is %s", st.PredicateType))
	} else {
		checks = append(checks, mk(CheckPredicateType, result.Fail,
			"predicate type is %s, expected %s: this statement is not the attestation asked for",
			quote(st.PredicateType), strings.Join(types, " or ")))
	}

	p := st.Provenance
	if p == nil {
		if exp.BuilderID != "" {
			checks = append(checks, mk(CheckBuilder, result.Fail,
				"statement is not SLSA provenance (predicate type %s), so it names no builder to compare with %s",
				quote(st.PredicateType), quote(exp.BuilderID)))
		}
		if exp.SourceURI != "" || exp.SourceTag != "" || exp.SourceBranch != "" {
			checks = append(checks, mk(CheckSource, result.Fail,
				"statement is not SLSA provenance (predicate type %s), so it names no source to compare with the expected one",
				quote(st.PredicateType)))
		}
		return checks
	}
	checks = append(checks, checkBuilder(p, exp, signer, mk))
	checks = append(checks, checkSource(p, exp, mk)...)
	return checks
}

type mkFunc func(name, status, format string, args ...any) result.Check

func checkSubject(st *Statement, a Subject, mk mkFunc) result.Check {
	want256 := strings.ToLower(a.SHA256)
	if len(want256) != 64 || !isLowerHex(want256) {
		return mk(CheckSubject, result.Erred, "the artifact's sha256 %s is not 64 hex digits", quote(a.SHA256))
	}
	want512 := strings.ToLower(a.SHA512)
	if want512 != "" && (len(want512) != 128 || !isLowerHex(want512)) {
		return mk(CheckSubject, result.Erred, "the artifact's sha512 %s is not 128 hex digits", quote(a.SHA512))
	}
	var names []string
	var conflict string
	for _, s := range st.Subjects {
		d256, has256 := s.Digest["sha256"]
		d512, has512 := s.Digest["sha512"]
		if !(has256 && d256 == want256) && !(has512 && want512 != "" && d512 == want512) {
			continue
		}
		// One acceptable digest matches: every other acceptable one present must too.
		switch {
		case has256 && d256 != want256:
			conflict = fmt.Sprintf("subject %s has the artifact's sha512 but sha256 %s", quote(s.Name), d256)
			continue
		case has512 && want512 == "":
			conflict = fmt.Sprintf("subject %s also lists a sha512, which was not given for the artifact: compute it (SubjectOf) so that it can be compared", quote(s.Name))
			continue
		case has512 && d512 != want512:
			conflict = fmt.Sprintf("subject %s has the artifact's sha256 but sha512 %s", quote(s.Name), d512)
			continue
		}
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		if conflict != "" {
			return mk(CheckSubject, result.Fail, "%s: the statement's digests disagree with the artifact", conflict)
		}
		var claimed []string
		for i, s := range st.Subjects {
			if i == 3 {
				claimed = append(claimed, fmt.Sprintf("and %d more", len(st.Subjects)-3))
				break
			}
			claimed = append(claimed, fmt.Sprintf("%s sha256:%s", quote(s.Name), s.Digest["sha256"]))
		}
		return mk(CheckSubject, result.Fail,
			"the statement is about other bytes (%s), not this artifact (sha256:%s): it does not attest what was delivered",
			strings.Join(claimed, ", "), want256)
	}
	if a.Name == "" || a.DigestOnly {
		return mk(CheckSubject, result.Pass, "statement subject %s has the artifact's digest sha256:%s", quote(names[0]), want256)
	}
	base := path.Base(path.Clean("/" + strings.ReplaceAll(a.Name, "\\", "/")))
	for _, n := range names {
		if path.Base(path.Clean("/"+strings.ReplaceAll(n, "\\", "/"))) == base {
			return mk(CheckSubject, result.Pass, "statement subject %s has the artifact's digest sha256:%s", quote(n), want256)
		}
	}
	return mk(CheckSubject, result.Fail,
		"the statement vouches for these bytes under the name %s, not %s: check which file the vendor attested",
		quote(names[0]), quote(base))
}

// splitBuilderID splits "URI@version" as slsa-verifier does: at most one "@".
func splitBuilderID(id string) (name, version string, ok bool) {
	parts := strings.Split(id, "@")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return parts[0], "", true
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], true
	}
	return "", "", false
}

func checkBuilder(p *Provenance, exp Expect, signer string, mk mkFunc) result.Check {
	if p.BuilderID == "" {
		return mk(CheckBuilder, result.Fail, "the provenance names no builder id")
	}
	if exp.BuilderID == "" {
		return mk(CheckBuilder, result.Fail,
			"no trusted builder was given: name the builder you trust (--builder-id); this provenance claims %s", quote(p.BuilderID))
	}
	wantName, wantVersion, ok := splitBuilderID(exp.BuilderID)
	if !ok {
		return mk(CheckBuilder, result.Erred, "the expected builder id %s is not of the form URI or URI@version", quote(exp.BuilderID))
	}
	gotName, gotVersion, ok := splitBuilderID(p.BuilderID)
	if !ok {
		return mk(CheckBuilder, result.Fail, "the provenance's builder id %s is malformed (more than one @ or an empty part)", quote(p.BuilderID))
	}
	if gotName != wantName {
		return mk(CheckBuilder, result.Fail, "built by %s, not by the trusted builder %s", quote(p.BuilderID), quote(exp.BuilderID))
	}
	if wantVersion != "" && gotVersion != wantVersion && gotVersion != "refs/tags/"+wantVersion {
		return mk(CheckBuilder, result.Fail, "built by %s at version %s, expected version %s",
			quote(gotName), quote(gotVersion), quote(wantVersion))
	}
	if signer != "" && p.BuildType == BuildTypeSLSADelegator {
		// The delegator workflow signs for the builder it ran (slsa-verifier's BYOB rule).
		name, version, _ := splitBuilderID(signer)
		if !strings.HasPrefix(name, slsaDelegatorPrefix) || !strings.HasPrefix(version, "refs/tags/v") {
			return mk(CheckBuilder, result.Fail,
				"delegated provenance must be signed by a released (refs/tags/v…) SLSA GitHub generator delegator workflow, but was signed by %s", quote(signer))
		}
		return mk(CheckBuilder, result.Pass, "builder %s matches %s, signed for it by %s", quote(p.BuilderID), quote(exp.BuilderID), quote(signer))
	}
	if signer != "" && signer != p.BuilderID {
		return mk(CheckBuilder, result.Fail,
			"the provenance claims builder %s but was signed by %s: it was not made by the builder it names",
			quote(p.BuilderID), quote(signer))
	}
	if signer == "" {
		return mk(CheckBuilder, result.Pass, "builder %s matches %s (as stated by the key holder)", quote(p.BuilderID), quote(exp.BuilderID))
	}
	return mk(CheckBuilder, result.Pass, "builder %s matches %s and signed the provenance", quote(p.BuilderID), quote(exp.BuilderID))
}

// slsaDelegatorPrefix starts the identities of the SLSA GitHub generator's delegator
// workflows (delegator_generic_slsa3.yml, delegator_lowperms-generic_slsa3.yml).
const slsaDelegatorPrefix = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_"

// normalizeRepo returns a repository URI in the form "git+https://host/path", without a
// trailing "/" or ".git", and whether it is well formed. A "@ref" is not allowed.
func normalizeRepo(s string) (string, bool) {
	s = strings.TrimPrefix(s, "git+")
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		return "", false
	}
	rest = strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ".git")
	host, repoPath, _ := strings.Cut(rest, "/")
	if host == "" || repoPath == "" || strings.ContainsAny(rest, "@?#\\ ") || !printable(rest) {
		return "", false
	}
	return "git+https://" + strings.ToLower(host) + "/" + repoPath, true
}

// splitGitURI splits "git+https://host/o/r@ref" into the normalised repository and ref.
func splitGitURI(uri string) (repo, ref string, ok bool) {
	if !strings.HasPrefix(uri, "git+") {
		return "", "", false
	}
	r, ref, _ := strings.Cut(uri, "@")
	repo, ok = normalizeRepo(r)
	return repo, ref, ok && printable(ref) && !strings.Contains(ref, " ")
}

// printable reports whether s holds only printable characters (no controls, no
// bidirectional-text or other format characters), so that it can go into a message as is.
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func checkSource(p *Provenance, exp Expect, mk mkFunc) []result.Check {
	var checks []result.Check
	refWanted := exp.SourceTag != "" || exp.SourceBranch != ""
	if exp.SourceURI == "" && !refWanted {
		return []result.Check{mk(CheckSource, result.Skip,
			"no expected source repository was given (--source-uri): the build's source was not checked")}
	}
	if p.Trigger == "" {
		return []result.Check{mk(CheckSource, result.Fail, "cannot tell which source the build ran from: %s", p.TriggerProblem)}
	}
	repo, ref, ok := splitGitURI(p.Trigger)
	if !ok || ref == "" {
		return []result.Check{mk(CheckSource, result.Fail,
			"the provenance's source %s is not a git URI with a ref (git+https://host/owner/repo@ref)", quote(p.Trigger))}
	}
	// The source material must agree with the trigger. The build types this package reads
	// all record the checked-out repository as the first material; its ref, if stated,
	// must be the trigger's.
	var commit string
	if p.BuildType != BuildTypeSLSAContainerBased {
		if len(p.Materials) == 0 {
			return []result.Check{mk(CheckSource, result.Fail, "the provenance lists no materials, so the source it was built from is not recorded")}
		}
		m := p.Materials[0]
		mrepo, mref, ok := splitGitURI(m.URI)
		if !ok || mrepo != repo || (mref != "" && mref != ref) {
			return []result.Check{mk(CheckSource, result.Fail,
				"the build was triggered from %s but its source material is %s: the provenance is inconsistent",
				quote(p.Trigger), quote(m.URI))}
		}
		commit = firstOf(m.Digest, "gitCommit", "sha1")
	}
	if commit == "" {
		commit = firstOf(p.TriggerDigest, "gitCommit", "sha1")
	}
	if p.BuildType == BuildTypeGitHubActions {
		for _, k := range p.ExternalParameterKeys {
			if k != "workflow" {
				return []result.Check{mk(CheckSource, result.Fail,
					"externalParameters holds %s, which kensa does not know how to check for buildType %s", quote(k), p.BuildType)}
			}
		}
	}
	at := ""
	if commit != "" {
		at = " at commit " + commit
	}
	if p.EntryPoint != "" {
		at += ", workflow " + quote(p.EntryPoint)
	}
	if exp.SourceURI == "" {
		checks = append(checks, mk(CheckSource, result.Skip,
			"no expected source repository was given (--source-uri); built from %s@%s%s", repo, ref, at))
	} else if want, ok := normalizeRepo(exp.SourceURI); !ok {
		checks = append(checks, mk(CheckSource, result.Erred,
			"the expected source %s is not a repository URI such as github.com/owner/repo (give tag or branch separately)", quote(exp.SourceURI)))
	} else if want != repo {
		checks = append(checks, mk(CheckSource, result.Fail, "built from %s, not from the expected %s", repo, want))
	} else {
		checks = append(checks, mk(CheckSource, result.Pass, "built from %s@%s%s", repo, ref, at))
	}
	if exp.SourceTag != "" {
		checks = append(checks, checkRef(CheckSourceTag, "tags", "tag", exp.SourceTag, ref, mk))
	}
	if exp.SourceBranch != "" {
		checks = append(checks, checkRef(CheckSourceBranch, "heads", "branch", exp.SourceBranch, ref, mk))
	}
	return checks
}

func checkRef(name, refType, noun, want, got string, mk mkFunc) result.Check {
	want = strings.TrimPrefix(want, "refs/"+refType+"/")
	parts := strings.SplitN(got, "/", 3)
	if len(parts) != 3 || parts[0] != "refs" || parts[2] == "" {
		return mk(name, result.Fail, "the build ran from %s, which is not a full git ref (refs/%s/…)", quote(got), refType)
	}
	if parts[1] != refType {
		return mk(name, result.Fail, "the build ran from %s, not from a %s; expected %s %s", quote(got), noun, noun, quote(want))
	}
	if parts[2] != want {
		return mk(name, result.Fail, "the build ran from %s %s, expected %s", noun, quote(parts[2]), quote(want))
	}
	return mk(name, result.Pass, "the build ran from %s %s", noun, quote(parts[2]))
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// MissingChecks is the result for an artifact for which no statement of an expected
// predicate type was found: a fail when exp.Required (SLSA: expected provenance that is
// missing must fail verification), otherwise a skip.
func MissingChecks(artifact Subject, exp Expect) []result.Check {
	types := strings.Join(exp.predicateTypes(), " or ")
	if exp.Required {
		return []result.Check{{Name: CheckRequired, Subject: artifact.Name, Status: result.Fail,
			Detail: fmt.Sprintf("provenance is required but none was found (%s): ask the vendor for the attestation, e.g. %s.intoto.jsonl or a Sigstore bundle", types, path.Base(artifact.Name))}}
	}
	return []result.Check{{Name: CheckRequired, Subject: artifact.Name, Status: result.Skip,
		Detail: fmt.Sprintf("no provenance found (%s) and none is required", types)}}
}
