package sigstore

import (
	"errors"
	"fmt"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// CheckName is the name of the checks this package reports.
const CheckName = "signature/sigstore"

// Check turns the outcome of VerifyBundle or VerifyLegacy into the check for the artifact
// at subject (a path relative to the delivery root). It passes only when err is nil and v
// names the pinned signer.
func Check(subject string, v *Verified, err error) result.Check {
	c := result.Check{Name: CheckName, Subject: subject}
	switch {
	case err != nil:
		c.Status = Status(err)
		c.Detail = err.Error()
	case v == nil || (v.Keyless && v.Identity == "") || (!v.Keyless && v.KeyFingerprint == ""):
		c.Status = result.Erred
		c.Detail = "verification returned no pinned signer; not trusted"
	default:
		c.Status = result.Pass
		c.Detail = v.Describe()
	}
	return c
}

// Status is the check status of a verification error: result.Pass for nil, result.Erred for
// what could not be checked, result.Fail otherwise.
func Status(err error) string {
	if err == nil {
		return result.Pass
	}
	var e *Error
	if errors.As(err, &e) && e.Status == result.Erred {
		return result.Erred
	}
	return result.Fail
}

// Describe says in one sentence who signed and what was checked.
func (v *Verified) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "signed by %s", v.Signer())
	if v.Keyless && v.Identity != "" {
		fmt.Fprintf(&b, ", trusted as %s", v.Identity)
	}
	fmt.Fprintf(&b, "; %s verified", v.Format)
	if v.Statement != nil {
		fmt.Fprintf(&b, " (in-toto statement, predicate %s)", v.Statement.PredicateType)
	}
	var what []string
	if v.TlogEntries > 0 {
		s := fmt.Sprintf("%d transparency-log entr%s", v.TlogEntries, map[bool]string{true: "y", false: "ies"}[v.TlogEntries == 1])
		if v.InclusionProof {
			s += " with inclusion proof"
		}
		what = append(what, s)
	}
	for _, t := range v.Timestamps {
		src := "transparency log"
		if t.Kind == "tsa" {
			src = "signed timestamp"
		}
		if h := hostOf(t.URI); h != "" {
			src += " " + h
		}
		what = append(what, fmt.Sprintf("%s at %s", src, t.Time.Format("2006-01-02T15:04:05Z")))
	}
	if len(what) == 0 {
		what = append(what, "no transparency-log entry or timestamp (signed offline)")
	}
	b.WriteString(" with ")
	b.WriteString(strings.Join(what, ", "))
	return b.String()
}
