package render

import (
	"cmp"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// RuleInfo is what the reports say about a rule.
type RuleInfo struct {
	ID          string
	Title       string
	Description string
	Severity    result.Severity
	References  []string
}

// SARIF 2.1.0, the subset kensa writes. Field names follow the specification.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Artifacts   []sarifArtifact   `json:"artifacts,omitempty"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
	Props     map[string]any  `json:"properties,omitempty"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
	Length   int64                 `json:"length"`
	Hashes   map[string]string     `json:"hashes,omitempty"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifLocation struct {
	Physical *sarifPhysical `json:"physicalLocation,omitempty"`
	Logical  []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifRegion struct {
	ByteOffset int64 `json:"byteOffset"`
	ByteLength int   `json:"byteLength"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// sarifLevel maps a severity to SARIF's levels.
func sarifLevel(s result.Severity) string {
	switch s {
	case result.Critical, result.High:
		return "error"
	case result.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the number code-scanning tools sort by (GitHub: 9+ critical,
// 7+ high, 4+ medium, else low).
var securitySeverity = map[result.Severity]string{
	result.Critical: "9.5", result.High: "8.0", result.Medium: "5.5", result.Low: "3.0", result.Info: "1.0",
}

// artifactURI writes a kensa path as a relative URI reference: each element
// percent-encoded, "/" kept, and the "!" between an archive and its member kept as the
// separator it is (RFC 3986 allows it in a path). Nothing in a name can make the
// reference absolute or point elsewhere: ":" is encoded (so "javascript:…" is no
// scheme), "." and ".." elements are encoded (so they do not climb), and a leading "/"
// gets a "." before it (so "//host/…" is no authority).
func artifactURI(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		members := strings.Split(part, "!")
		for j, m := range members {
			switch m {
			case ".":
				members[j] = "%2E"
			case "..":
				members[j] = "%2E%2E"
			default:
				members[j] = strings.ReplaceAll(url.PathEscape(m), ":", "%3A")
			}
		}
		parts[i] = strings.Join(members, "!")
	}
	u := strings.Join(parts, "/")
	if strings.HasPrefix(u, "/") {
		u = "." + u
	}
	return u
}

// sarifMessage makes text from a delivery a SARIF plain text message that shows as it
// is: control and format characters become visible escapes (see safe); "[" and "]" are
// escaped with a backslash, and so is a backslash before one of them, so that no
// embedded link ("[text](javascript:…)", SARIF 2.1.0 §3.11.6) can be formed; "{" and "}"
// are doubled, as §3.11.5 requires of every message string.
func sarifMessage(s string) string {
	s = safe(s)
	if !strings.ContainsAny(s, "[]{}") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '[', ']':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\\':
			if i+1 < len(s) && strings.IndexByte(`\[]`, s[i+1]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		case '{', '}':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// SARIF writes res as a SARIF 2.1.0 log, with the rules that ran as the tool's rule
// metadata. Each finding is located in its artifact (by path) and, for binaries, at the
// byte offset of its first pattern match with the section holding it as a logical
// location. Files that could not be inspected are tool execution notifications.
func SARIF(w io.Writer, res *result.Result, rules []RuleInfo) error {
	driver := sarifDriver{Name: "kensa", Version: res.Tool.Version, InformationURI: "https://kensa.dev", Rules: []sarifRule{}}
	index := map[string]int{}
	for _, r := range rules {
		index[r.ID] = len(driver.Rules)
		props := map[string]any{"security-severity": securitySeverity[r.Severity], "severity": string(r.Severity)}
		if len(r.References) > 0 {
			props["tags"] = uniq(append([]string{"security"}, r.References...)) // a set in SARIF
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: r.ID, Name: r.ID, ShortDescription: sarifText{sarifMessage(cmp.Or(r.Title, r.ID))}, FullDescription: sarifText{sarifMessage(cmp.Or(strings.TrimSpace(r.Description), r.Title, r.ID))},
			DefaultConfiguration: sarifConfig{sarifLevel(r.Severity)}, Properties: props,
		})
	}
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: len(res.Errors) == 0}
	for _, e := range res.Errors {
		n := sarifNotification{Level: "error", Message: sarifText{sarifMessage(cmp.Or(e.Error, e.Kind, "not inspected"))}, Props: map[string]any{"kind": e.Kind}}
		if e.Path != "" {
			n.Locations = []sarifLocation{{Physical: &sarifPhysical{ArtifactLocation: sarifArtifactLocation{artifactURI(e.Path)}}}}
		}
		inv.Notifications = append(inv.Notifications, n)
	}
	run.Invocations = []sarifInvocation{inv}
	withFindings := map[string]bool{}
	for _, f := range res.Findings {
		withFindings[f.Path] = true
	}
	// Each path once (the artifacts of a run are a set): the file in the final image
	// before one a later layer hid.
	arts := slices.Clone(res.Artifacts)
	slices.SortStableFunc(arts, func(x, y result.Artifact) int { return cmp.Compare(x.Hidden, y.Hidden) })
	for _, a := range arts {
		if withFindings[a.Path] {
			withFindings[a.Path] = false
			art := sarifArtifact{Location: sarifArtifactLocation{artifactURI(a.Path)}, Length: a.Size}
			if d, ok := strings.CutPrefix(a.Digest, "sha256:"); ok {
				art.Hashes = map[string]string{"sha-256": d}
			}
			run.Artifacts = append(run.Artifacts, art)
		}
	}
	for _, f := range res.Findings {
		i, ok := index[f.Rule]
		if !ok {
			i = -1
		}
		loc := sarifLocation{Physical: &sarifPhysical{ArtifactLocation: sarifArtifactLocation{artifactURI(f.Path)}}}
		if len(f.Matches) > 0 {
			m := f.Matches[0]
			loc.Physical.Region = &sarifRegion{ByteOffset: m.Offset, ByteLength: m.Length}
			if m.Section != "" {
				loc.Logical = []sarifLogical{{Name: safe(m.Section), FullyQualifiedName: safe(f.Path + "#" + m.Section), Kind: "section"}}
			}
		}
		r := sarifResult{RuleID: f.Rule, RuleIndex: i, Level: sarifLevel(f.Severity), Message: sarifText{sarifMessage(cmp.Or(f.Message, f.Rule, "finding"))}, Locations: []sarifLocation{loc}}
		r.Properties = map[string]any{"severity": string(f.Severity)}
		if len(f.Evidence) > 0 {
			r.Properties["evidence"] = f.Evidence
		}
		run.Results = append(run.Results, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}

// uniq returns the distinct strings of l in their first order.
func uniq(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
