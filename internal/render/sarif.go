package render

import (
	"encoding/json"
	"io"
	"net/url"
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
// separator it is (RFC 3986 allows it in a path).
func artifactURI(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		members := strings.Split(part, "!")
		for j, m := range members {
			members[j] = url.PathEscape(m)
		}
		parts[i] = strings.Join(members, "!")
	}
	return strings.Join(parts, "/")
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
			props["tags"] = append([]string{"security"}, r.References...)
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: r.ID, Name: r.ID, ShortDescription: sarifText{r.Title}, FullDescription: sarifText{strings.TrimSpace(r.Description)},
			DefaultConfiguration: sarifConfig{sarifLevel(r.Severity)}, Properties: props,
		})
	}
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: len(res.Errors) == 0}
	for _, e := range res.Errors {
		n := sarifNotification{Level: "error", Message: sarifText{e.Error}, Props: map[string]any{"kind": e.Kind}}
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
	for _, a := range res.Artifacts {
		if withFindings[a.Path] {
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
				loc.Logical = []sarifLogical{{Name: m.Section, FullyQualifiedName: f.Path + "#" + m.Section, Kind: "section"}}
			}
		}
		r := sarifResult{RuleID: f.Rule, RuleIndex: i, Level: sarifLevel(f.Severity), Message: sarifText{f.Message}, Locations: []sarifLocation{loc}}
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
