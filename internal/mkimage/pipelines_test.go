package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// pipelinesDir holds the ready-made CI definitions that run the image.
var pipelinesDir = filepath.Join("..", "..", "docs", "pipelines")

// yamlDocs parses every document of a YAML file into generic maps.
func yamlDocs(t *testing.T, name string) (string, []map[string]any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pipelinesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s does not parse: %v", name, err)
		}
		docs = append(docs, m)
	}
	if len(docs) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return string(b), docs
}

func asMap(v any) map[string]any          { m, _ := v.(map[string]any); return m }
func asList(v any) []any                  { l, _ := v.([]any); return l }
func asString(v any) string               { s, _ := v.(string); return s }
func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// commonChecks: every definition runs the image, the release and acceptance commands, and
// takes keys only from the secret store.
func commonChecks(t *testing.T, name, text string) {
	t.Helper()
	for _, want := range []string{"kensa.dev/kensa:", "release", "sign", "--predicate", "sbom", "scan", "accept", "--policy", "--out", "--sign-key", "COSIGN_PASSWORD"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not mention %q", name, want)
		}
	}
	if regexp.MustCompile(`BEGIN [A-Z ]*PRIVATE KEY|COSIGN_PASSWORD\s*[:=]\s*["']?[A-Za-z0-9]`).MatchString(text) {
		t.Errorf("%s holds a key or password inline", name)
	}
}

func TestGitHubActions(t *testing.T) {
	text, docs := yamlDocs(t, "github-actions.yml")
	commonChecks(t, "github-actions.yml", text)
	w := docs[0]
	if !has(w, "on") || !has(w, "jobs") {
		t.Fatalf("a workflow needs on and jobs; keys are %v", keys(w))
	}
	jobs := asMap(w["jobs"])
	for _, name := range []string{"release", "accept"} {
		j := asMap(jobs[name])
		if j == nil || asString(j["runs-on"]) == "" || len(asList(j["steps"])) == 0 {
			t.Errorf("job %s missing, or without runs-on and steps", name)
			continue
		}
		for i, s := range asList(j["steps"]) {
			s := asMap(s)
			if !has(s, "run") && !has(s, "uses") {
				t.Errorf("job %s step %d has neither run nor uses", name, i)
			}
			if env := asMap(s["env"]); env != nil {
				checkSecretRefs(t, name, env)
			}
		}
		checkSecretRefs(t, name, asMap(j["env"]))
	}
	for _, want := range []string{"github/codeql-action/upload-sarif", "evidence/result.sarif", "actions/upload-artifact", "security-events: write"} {
		if !strings.Contains(text, want) {
			t.Errorf("the accept job does not use %s", want)
		}
	}
}

// checkSecretRefs: a key or password in a GitHub env block comes from secrets.
func checkSecretRefs(t *testing.T, job string, env map[string]any) {
	t.Helper()
	for k, v := range env {
		if strings.Contains(k, "KEY") || strings.Contains(k, "PASSWORD") {
			if !strings.Contains(asString(v), "secrets.") {
				t.Errorf("job %s: %s = %q is not taken from secrets", job, k, v)
			}
		}
	}
}

func TestGitLabCI(t *testing.T) {
	text, docs := yamlDocs(t, "gitlab-ci.yml")
	commonChecks(t, "gitlab-ci.yml", text)
	c := docs[0]
	reserved := map[string]bool{"variables": true, "stages": true, "default": true, "include": true, "workflow": true}
	jobs := 0
	for name, v := range c {
		if reserved[name] || strings.HasPrefix(name, ".") {
			continue
		}
		j := asMap(v)
		script := asList(j["script"])
		if len(script) == 0 {
			t.Errorf("job %s has no script", name)
		}
		for _, line := range script {
			if asString(line) == "" {
				t.Errorf("job %s: script entries must be strings, got %T", name, line)
			}
		}
		if asString(j["extends"]) != "" && !has(c, asString(j["extends"])) {
			t.Errorf("job %s extends %s, which is not defined", name, j["extends"])
		}
		jobs++
	}
	if jobs < 2 {
		t.Errorf("%d jobs, want kensa-release and kensa-accept", jobs)
	}
	acc := asMap(c["kensa-accept"])
	arts := asMap(acc["artifacts"])
	if asString(arts["when"]) != "always" || asString(asMap(arts["reports"])["junit"]) == "" {
		t.Errorf("kensa-accept must keep its evidence always and report junit: %v", arts)
	}
	if pw := asString(asMap(acc["variables"])["COSIGN_PASSWORD"]); !strings.HasPrefix(pw, "$") {
		t.Errorf("kensa-accept's COSIGN_PASSWORD %q is not taken from a CI/CD variable", pw)
	}
}

var tektonRef = regexp.MustCompile(`\$\((params|workspaces)\.([a-z0-9-]+)(\.path)?\)`)

func TestTektonTask(t *testing.T) {
	text, docs := yamlDocs(t, "tekton-task.yaml")
	commonChecks(t, "tekton-task.yaml", text)
	names := map[string]bool{}
	for i, d := range docs {
		if asString(d["apiVersion"]) != "tekton.dev/v1" || asString(d["kind"]) != "Task" {
			t.Errorf("document %d: apiVersion %v kind %v, want tekton.dev/v1 Task", i, d["apiVersion"], d["kind"])
			continue
		}
		name := asString(asMap(d["metadata"])["name"])
		names[name] = true
		spec := asMap(d["spec"])
		steps := asList(spec["steps"])
		if len(steps) == 0 {
			t.Errorf("task %s has no spec.steps", name)
		}
		tmplImage := asString(asMap(spec["stepTemplate"])["image"])
		for _, s := range steps {
			s := asMap(s)
			if asString(s["image"]) == "" && tmplImage == "" {
				t.Errorf("task %s step %v has no image", name, s["name"])
			}
			if has(s, "script") {
				t.Errorf("task %s step %v uses script: the kensa image has no shell", name, s["name"])
			}
		}
		// Every $(params.x) and $(workspaces.y.path) names something the Task declares.
		declared := map[string]bool{}
		for _, p := range asList(spec["params"]) {
			declared["params."+asString(asMap(p)["name"])] = true
		}
		for _, w := range asList(spec["workspaces"]) {
			declared["workspaces."+asString(asMap(w)["name"])] = true
		}
		raw, err := yaml.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		refs := tektonRef.FindAllStringSubmatch(string(raw), -1)
		if len(refs) == 0 {
			t.Errorf("task %s uses none of its params or workspaces", name)
		}
		for _, m := range refs {
			if !declared[m[1]+"."+m[2]] {
				t.Errorf("task %s refers to %s, which it does not declare", name, m[0])
			}
		}
	}
	for _, want := range []string{"kensa-release", "kensa-sign-image", "kensa-accept"} {
		if !names[want] {
			t.Errorf("no Task %s", want)
		}
	}
}

func TestPipelinesREADME(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(pipelinesDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(pipelinesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "README.md" && !strings.Contains(string(b), "("+e.Name()+")") {
			t.Errorf("README.md does not say what %s is for", e.Name())
		}
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
