package result

// FactsSchemaVersion names the document `kensa facts` writes.
const FactsSchemaVersion = "kensa.dev/facts/v1"

// Facts is what every analyzer observed about the artifacts of a delivery: the view a
// rule author writes conditions against. Each artifact carries its facts keyed by
// analyzer name; docs/facts.md lists every field.
type Facts struct {
	SchemaVersion string   `json:"schemaVersion"`
	Tool          Tool     `json:"tool"`
	Target        Target   `json:"target"`
	Targets       []Target `json:"targets,omitempty"`
	Scope         string   `json:"scope,omitempty"`
	// Analyzers names the analyzers that ran.
	Analyzers []string `json:"analyzers"`
	// Path is the --path pattern that selected the artifacts, if one was given.
	Path      string     `json:"path,omitempty"`
	Summary   Summary    `json:"summary"`
	Artifacts []Artifact `json:"artifacts"`
	Errors    []Error    `json:"errors"`
}
