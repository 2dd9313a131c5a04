package provenance

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

const (
	genericBuilder = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"
	acmeCommit     = "5e2c1a2b6f0b9d7c3e4f5a6b7c8d9e0f1a2b3c4d"
)

var (
	appBytes   = []byte("#!/bin/sh\necho acme app 1.4.2\n")
	appSHA256  = sha256hex(appBytes)
	toolSHA256 = sha256hex([]byte("acme tool 1.4.2"))
)

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// slsa02Statement is SLSA provenance v0.2 as slsa-github-generator's generic generator
// (generator_generic_slsa3.yml v1.10.0) writes it for a release built on a tag push,
// following https://slsa.dev/provenance/v0.2 and the generator's buildType.
func slsa02Statement(mutate func(st map[string]any)) []byte {
	st := map[string]any{
		"_type":         StatementV01,
		"predicateType": SLSAProvenance02,
		"subject": []any{
			map[string]any{"name": "acme-app_linux_amd64", "digest": map[string]any{"sha256": appSHA256}},
			map[string]any{"name": "acme-tool_linux_amd64", "digest": map[string]any{"sha256": toolSHA256}},
		},
		"predicate": map[string]any{
			"builder":   map[string]any{"id": genericBuilder + "@refs/tags/v1.10.0"},
			"buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
			"invocation": map[string]any{
				"configSource": map[string]any{
					"uri":        "git+https://github.com/acme/app@refs/tags/v1.4.2",
					"digest":     map[string]any{"sha1": acmeCommit},
					"entryPoint": ".github/workflows/release.yml",
				},
				"parameters": map[string]any{},
				"environment": map[string]any{
					"github_actor":               "acme-release-bot",
					"github_actor_id":            "1234567",
					"github_base_ref":            "",
					"github_event_name":          "push",
					"github_event_payload":       map[string]any{"ref": "refs/tags/v1.4.2", "base_ref": nil},
					"github_head_ref":            "",
					"github_ref":                 "refs/tags/v1.4.2",
					"github_ref_type":            "tag",
					"github_repository_id":       "987654321",
					"github_repository_owner":    "acme",
					"github_repository_owner_id": "7654321",
					"github_run_attempt":         "1",
					"github_run_id":              "8123456789",
					"github_run_number":          "42",
					"github_sha1":                acmeCommit,
				},
			},
			"metadata": map[string]any{
				"buildInvocationID": "8123456789-1",
				"completeness":      map[string]any{"parameters": true, "environment": false, "materials": false},
				"reproducible":      false,
			},
			"materials": []any{
				map[string]any{"uri": "git+https://github.com/acme/app@refs/tags/v1.4.2", "digest": map[string]any{"sha1": acmeCommit}},
			},
		},
	}
	if mutate != nil {
		mutate(st)
	}
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	return b
}

func pred(st map[string]any) map[string]any { return st["predicate"].(map[string]any) }

// dsseLine wraps a payload in a bare DSSE envelope as slsa-github-generator writes its
// .intoto.jsonl (the signature bytes are placeholders: nothing here verifies them).
func dsseLine(payloadType string, payload []byte) string {
	b, _ := json.Marshal(map[string]any{
		"payloadType": payloadType,
		"payload":     base64.StdEncoding.EncodeToString(payload),
		"signatures":  []any{map[string]any{"keyid": "", "sig": "MEUCIQDplaceholder"}},
	})
	return string(b)
}

func TestSLSA02FromIntotoJSONL(t *testing.T) {
	// Two lines, as a release with two attestation files concatenated.
	in := dsseLine(PayloadTypeInToto, slsa02Statement(nil)) + "\n\n" + dsseLine(PayloadTypeInToto, slsa02Statement(nil)) + "\n"
	envs, err := ParseEnvelopes(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 2 || envs[0].MediaType != "" || envs[0].Signatures != 1 {
		t.Fatalf("%+v", envs)
	}
	st, err := StatementFromEnvelope(envs[1])
	if err != nil {
		t.Fatal(err)
	}
	p := st.Provenance
	if p == nil || p.Version != "v0.2" || p.BuilderID != genericBuilder+"@refs/tags/v1.10.0" ||
		p.Trigger != "git+https://github.com/acme/app@refs/tags/v1.4.2" || p.EntryPoint != ".github/workflows/release.yml" ||
		p.TriggerDigest["sha1"] != acmeCommit || len(p.Materials) != 1 {
		t.Fatalf("%+v", p)
	}
}

func TestSLSA02Checks(t *testing.T) {
	art := Subject{Name: "dist/acme-app_linux_amd64", SHA256: appSHA256}
	signer := genericBuilder + "@refs/tags/v1.10.0"
	good := Expect{BuilderID: genericBuilder, SourceURI: "github.com/acme/app", SourceTag: "v1.4.2", Required: true}
	P, F := result.Pass, result.Fail
	for _, c := range []struct {
		name   string
		mutate func(map[string]any)
		exp    func(*Expect)
		art    Subject
		signer string
		want   map[string]string
	}{
		{name: "right expectations", signer: signer,
			want: map[string]string{CheckSubject: P, CheckPredicateType: P, CheckBuilder: P, CheckSource: P, CheckSourceTag: P}},
		{name: "signed by a key (no signer identity)", signer: "",
			want: map[string]string{CheckBuilder: P}},
		{name: "builder pinned to the generator's tag", exp: func(e *Expect) { e.BuilderID = genericBuilder + "@v1.10.0" }, signer: signer,
			want: map[string]string{CheckBuilder: P}},
		{name: "builder pinned to another tag", exp: func(e *Expect) { e.BuilderID = genericBuilder + "@v1.9.0" }, signer: signer,
			want: map[string]string{CheckBuilder: F}},
		{name: "builder with two @", exp: func(e *Expect) { e.BuilderID = genericBuilder + "@v1@v2" }, signer: signer,
			want: map[string]string{CheckBuilder: result.Erred}},
		{name: "other builder signed", signer: "https://github.com/evil/x/.github/workflows/sign.yml@refs/heads/main",
			want: map[string]string{CheckBuilder: F}},
		{name: "ref given in full", exp: func(e *Expect) { e.SourceTag = "refs/tags/v1.4.2" }, signer: signer,
			want: map[string]string{CheckSourceTag: P}},
		{name: "wrong tag", exp: func(e *Expect) { e.SourceTag = "v1.4.1" }, signer: signer,
			want: map[string]string{CheckSourceTag: F}},
		{name: "branch expected, built from a tag", exp: func(e *Expect) { e.SourceTag = ""; e.SourceBranch = "main" }, signer: signer,
			want: map[string]string{CheckSourceBranch: F}},
		{name: "built from a branch", signer: signer, exp: func(e *Expect) { e.SourceTag = ""; e.SourceBranch = "main" },
			mutate: func(st map[string]any) {
				uri := "git+https://github.com/acme/app@refs/heads/main"
				pred(st)["invocation"].(map[string]any)["configSource"].(map[string]any)["uri"] = uri
				pred(st)["materials"].([]any)[0].(map[string]any)["uri"] = uri
			},
			want: map[string]string{CheckSource: P, CheckSourceBranch: P}},
		{name: "material from another repository", signer: signer,
			mutate: func(st map[string]any) {
				pred(st)["materials"].([]any)[0].(map[string]any)["uri"] = "git+https://github.com/evil/app@refs/tags/v1.4.2"
			},
			want: map[string]string{CheckSource: F}},
		{name: "material at another ref", signer: signer,
			mutate: func(st map[string]any) {
				pred(st)["materials"].([]any)[0].(map[string]any)["uri"] = "git+https://github.com/acme/app@refs/heads/dev"
			},
			want: map[string]string{CheckSource: F}},
		{name: "no materials", signer: signer,
			mutate: func(st map[string]any) { delete(pred(st), "materials") },
			want:   map[string]string{CheckSource: F}},
		{name: "no configSource", signer: signer,
			mutate: func(st map[string]any) { delete(pred(st), "invocation") },
			want:   map[string]string{CheckSource: F}},
		{name: "configSource without a ref", signer: signer,
			mutate: func(st map[string]any) {
				pred(st)["invocation"].(map[string]any)["configSource"].(map[string]any)["uri"] = "git+https://github.com/acme/app"
			},
			want: map[string]string{CheckSource: F}},
		{name: "bidirectional-text control in the ref", signer: signer,
			mutate: func(st map[string]any) {
				uri := "git+https://github.com/acme/app@refs/tags/v1.4.2\u202e"
				pred(st)["invocation"].(map[string]any)["configSource"].(map[string]any)["uri"] = uri
				pred(st)["materials"].([]any)[0].(map[string]any)["uri"] = uri
			},
			want: map[string]string{CheckSource: F}},
		{name: "no builder id", signer: signer,
			mutate: func(st map[string]any) { delete(pred(st), "builder") },
			want:   map[string]string{CheckBuilder: F}},
		{name: "no source expected", exp: func(e *Expect) { e.SourceURI = ""; e.SourceTag = "" }, signer: signer,
			want: map[string]string{CheckSource: result.Skip}},
		{name: "malformed expected source", exp: func(e *Expect) { e.SourceURI = "ssh://git@github.com/acme/app" }, signer: signer,
			want: map[string]string{CheckSource: result.Erred}},
		{name: "other artifact of the same release", art: Subject{Name: "acme-tool_linux_amd64", SHA256: toolSHA256}, signer: signer,
			want: map[string]string{CheckSubject: P}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := ParseStatement(slsa02Statement(c.mutate))
			if err != nil {
				t.Fatal(err)
			}
			exp := good
			if c.exp != nil {
				c.exp(&exp)
			}
			a := art
			if c.art.SHA256 != "" {
				a = c.art
			}
			checks := Check(st, a, exp, c.signer)
			got := statuses(t, checks)
			for name, status := range c.want {
				if got[name] != status {
					t.Errorf("%s = %q, want %q", name, got[name], status)
				}
			}
			for _, ch := range checks {
				if !printable(ch.Detail) {
					t.Errorf("detail %q holds unprintable characters", ch.Detail)
				}
				if ch.Subject != a.Name {
					t.Errorf("check subject %q, want %q", ch.Subject, a.Name)
				}
				t.Logf("%s %s: %s", ch.Name, ch.Status, ch.Detail)
			}
		})
	}
}

// slsa1GeneratorStatement is SLSA provenance v1 with the SLSA GitHub generator's workflow
// build type (https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1).
func slsa1GeneratorStatement(extra map[string]any) []byte {
	ext := map[string]any{
		"workflow": map[string]any{"ref": "refs/tags/v2.0.0", "repository": "https://github.com/acme/app", "path": ".github/workflows/release.yml"},
		"inputs":   map[string]any{"draft": false},
	}
	for k, v := range extra {
		ext[k] = v
	}
	b, _ := json.Marshal(map[string]any{
		"_type":         StatementV1,
		"predicateType": SLSAProvenance1,
		"subject":       []any{map[string]any{"name": "acme-app_linux_amd64", "digest": map[string]any{"sha256": appSHA256}}},
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType":          BuildTypeSLSAGitHubWorkflow,
				"externalParameters": ext,
				"internalParameters": map[string]any{"github": map[string]any{"event_name": "push", "repository_id": "987654321"}},
				"resolvedDependencies": []any{map[string]any{
					"uri": "git+https://github.com/acme/app@refs/tags/v2.0.0", "digest": map[string]any{"gitCommit": acmeCommit}}},
			},
			"runDetails": map[string]any{
				"builder":  map[string]any{"id": genericBuilder + "@refs/tags/v2.0.0"},
				"metadata": map[string]any{"invocationId": "https://github.com/acme/app/actions/runs/8123456789/attempts/1"},
			},
		},
	})
	return b
}

func TestSLSA1GeneratorAndContainerBased(t *testing.T) {
	art := Subject{Name: "acme-app_linux_amd64", SHA256: appSHA256}
	exp := Expect{BuilderID: genericBuilder, SourceURI: "https://github.com/acme/app", SourceTag: "v2.0.0"}
	st, err := ParseStatement(slsa1GeneratorStatement(nil))
	if err != nil {
		t.Fatal(err)
	}
	allPass(t, Check(st, art, exp, genericBuilder+"@refs/tags/v2.0.0"),
		CheckSubject, CheckPredicateType, CheckBuilder, CheckSource, CheckSourceTag)

	// Container-based build: the source is externalParameters.source.
	var m map[string]any
	if err := json.Unmarshal(slsa1GeneratorStatement(nil), &m); err != nil {
		t.Fatal(err)
	}
	bd := pred(m)["buildDefinition"].(map[string]any)
	bd["buildType"] = BuildTypeSLSAContainerBased
	bd["externalParameters"] = map[string]any{
		"source":       map[string]any{"uri": "git+https://github.com/acme/app@refs/tags/v2.0.0", "digest": map[string]any{"sha1": acmeCommit}},
		"builderImage": map[string]any{"uri": "docker.io/library/golang:1.26", "digest": map[string]any{"sha256": appSHA256}},
		"configPath":   ".slsa/build.toml",
	}
	delete(bd, "resolvedDependencies")
	b, _ := json.Marshal(m)
	st, err = ParseStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	allPass(t, Check(st, art, exp, ""), CheckSubject, CheckPredicateType, CheckBuilder, CheckSource, CheckSourceTag)

	// An unknown build type cannot be checked for its source: fail closed.
	bd["buildType"] = "https://example.com/my-builder/v1"
	b, _ = json.Marshal(m)
	if st, err = ParseStatement(b); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, Check(st, art, exp, ""))[CheckSource]; got != result.Fail {
		t.Fatalf("unknown buildType: source %q", got)
	}
}

func TestGitHubActionsUnknownExternalParameter(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(slsa1GeneratorStatement(nil), &m); err != nil {
		t.Fatal(err)
	}
	bd := pred(m)["buildDefinition"].(map[string]any)
	bd["buildType"] = BuildTypeGitHubActions
	b, _ := json.Marshal(m) // externalParameters has "inputs", which GitHub's build type never writes
	st, err := ParseStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	art := Subject{SHA256: appSHA256}
	if got := statuses(t, Check(st, art, Expect{BuilderID: genericBuilder, SourceURI: "github.com/acme/app"}, ""))[CheckSource]; got != result.Fail {
		t.Fatalf("source %q", got)
	}
}

func TestNotProvenance(t *testing.T) {
	b, _ := json.Marshal(map[string]any{
		"_type":         StatementV1,
		"predicateType": "https://cyclonedx.org/bom",
		"subject":       []any{map[string]any{"name": "app", "digest": map[string]any{"sha256": appSHA256}}},
		"predicate":     map[string]any{"bomFormat": "CycloneDX"},
	})
	st, err := ParseStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Provenance != nil {
		t.Fatal("SBOM read as provenance")
	}
	checks := Check(st, Subject{Name: "app", SHA256: appSHA256}, Expect{BuilderID: genericBuilder, SourceURI: "github.com/acme/app"}, "")
	expectStatuses(t, checks, map[string]string{CheckSubject: result.Pass, CheckPredicateType: result.Fail,
		CheckBuilder: result.Fail, CheckSource: result.Fail})
	// The same statement is fine where that predicate type is what was asked for.
	checks = Check(st, Subject{Name: "app", SHA256: appSHA256}, Expect{PredicateTypes: []string{"https://cyclonedx.org/bom"}}, "")
	allPass(t, checks, CheckSubject, CheckPredicateType)
}

func TestSubjectOf(t *testing.T) {
	s, err := SubjectOf("x", bytes.NewReader(appBytes))
	if err != nil {
		t.Fatal(err)
	}
	if s.SHA256 != appSHA256 || len(s.SHA512) != 128 || s.Name != "x" {
		t.Fatalf("%+v", s)
	}
}

func TestSLSA1Delegator(t *testing.T) {
	const trw = "https://github.com/acme/builder/.github/workflows/builder.yml"
	const delegator = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v2.0.0"
	b, _ := json.Marshal(map[string]any{
		"_type":         StatementV1,
		"predicateType": SLSAProvenance1,
		"subject":       []any{map[string]any{"name": "acme-app_linux_amd64", "digest": map[string]any{"sha256": appSHA256}}},
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType":          BuildTypeSLSADelegator,
				"externalParameters": map[string]any{"inputs": map[string]any{"go-version": "1.26"}, "vars": map[string]any{}},
				"internalParameters": map[string]any{
					"GITHUB_EVENT_NAME":   "push",
					"GITHUB_REF":          "refs/tags/v2.0.0",
					"GITHUB_REF_TYPE":     "tag",
					"GITHUB_REPOSITORY":   "acme/app",
					"GITHUB_SHA":          acmeCommit,
					"GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/release.yml@refs/tags/v2.0.0",
				},
				"resolvedDependencies": []any{map[string]any{"uri": "git+https://github.com/acme/app@refs/tags/v2.0.0", "digest": map[string]any{"gitCommit": acmeCommit}}},
			},
			"runDetails": map[string]any{"builder": map[string]any{"id": trw + "@refs/tags/v1.0.0"}},
		},
	})
	st, err := ParseStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Provenance.Trigger != "git+https://github.com/acme/app@refs/tags/v2.0.0" || st.Provenance.EntryPoint != ".github/workflows/release.yml" {
		t.Fatalf("%+v", st.Provenance)
	}
	art := Subject{Name: "acme-app_linux_amd64", SHA256: appSHA256}
	exp := Expect{BuilderID: trw + "@v1.0.0", SourceURI: "github.com/acme/app", SourceTag: "v2.0.0"}
	allPass(t, Check(st, art, exp, delegator), CheckSubject, CheckPredicateType, CheckBuilder, CheckSource, CheckSourceTag)
	for _, signer := range []string{
		trw + "@refs/tags/v1.0.0", // the delegator, not the builder, signs delegated provenance
		"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/heads/main",
		"https://github.com/evil/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v2.0.0",
	} {
		if got := statuses(t, Check(st, art, exp, signer))[CheckBuilder]; got != result.Fail {
			t.Errorf("signer %s: builder %q", signer, got)
		}
	}
}
