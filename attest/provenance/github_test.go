package provenance

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

// ghDir holds real GitHub artifact attestations (Sigstore bundles v0.3) for releases of
// aspect-build/rules_lint; see ../shared/testdata/README.md.
var ghDir = filepath.Join("..", "..", "..", "shared", "testdata", "github-attestations")

const (
	publishBuilder = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml"
	rulesetBuilder = "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml"
	rulesLintRepo  = "github.com/aspect-build/rules_lint"
)

// ghAttestation is one statement of the test data with the identity its certificate
// names. The certificate is not verified here: that is attest/sigstore's job.
type ghAttestation struct {
	st     *Statement
	signer string
	art    Subject
}

func loadGitHub(t *testing.T, artifact string) ghAttestation {
	t.Helper()
	f, err := os.Open(filepath.Join(ghDir, artifact+".intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	envs, err := ParseEnvelopes(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 1 {
		t.Fatalf("%d envelopes, want 1", len(envs))
	}
	env := envs[0]
	if env.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" || env.PayloadType != PayloadTypeInToto || env.Signatures != 1 {
		t.Fatalf("envelope %q %q %d", env.MediaType, env.PayloadType, env.Signatures)
	}
	st, err := StatementFromEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		VerificationMaterial struct {
			Certificate struct {
				RawBytes string `json:"rawBytes"`
			} `json:"certificate"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(env.Raw, &b); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(b.VerificationMaterial.Certificate.RawBytes)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.URIs) != 1 {
		t.Fatalf("certificate has %d URIs", len(cert.URIs))
	}
	a, err := os.Open(filepath.Join(ghDir, artifact))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	art, err := SubjectOf(artifact, a)
	if err != nil {
		t.Fatal(err)
	}
	return ghAttestation{st: st, signer: cert.URIs[0].String(), art: art}
}

// statuses maps check name to status; a name seen twice is a test failure.
func statuses(t *testing.T, checks []result.Check) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, c := range checks {
		if _, dup := m[c.Name]; dup {
			t.Fatalf("check %s reported twice: %+v", c.Name, checks)
		}
		if c.Detail == "" {
			t.Errorf("check %s has no detail", c.Name)
		}
		m[c.Name] = c.Status
	}
	return m
}

func expectStatuses(t *testing.T, checks []result.Check, want map[string]string) {
	t.Helper()
	got := statuses(t, checks)
	for name, status := range want {
		if got[name] != status {
			t.Errorf("%s = %q, want %q", name, got[name], status)
		}
	}
	for name, status := range got {
		if _, ok := want[name]; !ok && status != result.Pass {
			t.Errorf("unexpected %s = %q", name, status)
		}
	}
	if t.Failed() {
		for _, c := range checks {
			t.Logf("%s %s: %s", c.Name, c.Status, c.Detail)
		}
	}
}

func allPass(t *testing.T, checks []result.Check, names ...string) {
	t.Helper()
	want := map[string]string{}
	for _, n := range names {
		want[n] = result.Pass
	}
	expectStatuses(t, checks, want)
}

func TestGitHubStatementContent(t *testing.T) {
	g := loadGitHub(t, "MODULE.bazel")
	st := g.st
	if st.Type != StatementV1 || st.PredicateType != SLSAProvenance1 || len(st.Subjects) != 1 {
		t.Fatalf("statement %+v", st)
	}
	if st.Subjects[0].Name != "MODULE.bazel" || st.Subjects[0].Digest["sha256"] != g.art.SHA256 {
		t.Fatalf("subject %+v, artifact %s", st.Subjects[0], g.art.SHA256)
	}
	p := st.Provenance
	if p == nil || p.Version != "v1" || p.BuildType != BuildTypeGitHubActions {
		t.Fatalf("provenance %+v", p)
	}
	if p.BuilderID != publishBuilder+"@refs/tags/v0.0.1" || p.BuilderID != g.signer {
		t.Fatalf("builder %q, signer %q", p.BuilderID, g.signer)
	}
	if p.Trigger != "git+https://github.com/aspect-build/rules_lint@refs/heads/publish-to-bcr" ||
		p.EntryPoint != ".github/workflows/release.yml" || len(p.Materials) != 1 ||
		p.Materials[0].Digest["gitCommit"] != "8f70009fde0c94ade6ce2a054b94718c819126ec" {
		t.Fatalf("source %+v", p)
	}
}

func TestGitHubAttestationsPass(t *testing.T) {
	for _, c := range []struct{ artifact, builder string }{
		{"MODULE.bazel", publishBuilder},
		{"MODULE.bazel", publishBuilder + "@v0.0.1"},
		{"MODULE.bazel", publishBuilder + "@refs/tags/v0.0.1"},
		{"rules_lint-v1.3.1.tar.gz", rulesetBuilder},
		{"rules_lint-v1.3.1.tar.gz", rulesetBuilder + "@v7.1.0"},
	} {
		t.Run(c.artifact+" "+c.builder, func(t *testing.T) {
			g := loadGitHub(t, c.artifact)
			for _, src := range []string{rulesLintRepo, "https://" + rulesLintRepo, "git+https://" + rulesLintRepo, "https://" + rulesLintRepo + ".git"} {
				exp := Expect{BuilderID: c.builder, SourceURI: src, SourceBranch: "publish-to-bcr", Required: true}
				allPass(t, Check(g.st, g.art, exp, g.signer),
					CheckSubject, CheckPredicateType, CheckBuilder, CheckSource, CheckSourceBranch)
			}
			exp := Expect{BuilderID: c.builder, SourceURI: rulesLintRepo, SourceBranch: "refs/heads/publish-to-bcr",
				PredicateTypes: []string{SLSAProvenance1}}
			allPass(t, Check(g.st, g.art, exp, g.signer),
				CheckSubject, CheckPredicateType, CheckBuilder, CheckSource, CheckSourceBranch)
		})
	}
}

func TestGitHubAttestationsFail(t *testing.T) {
	mod := loadGitHub(t, "MODULE.bazel")
	tgz := loadGitHub(t, "rules_lint-v1.3.1.tar.gz")
	wrongSigner := loadGitHub(t, "MODULE-wrong-signer.bazel")
	good := Expect{BuilderID: publishBuilder, SourceURI: rulesLintRepo}
	with := func(f func(*Expect)) Expect { e := good; f(&e); return e }
	P, F := result.Pass, result.Fail
	for _, c := range []struct {
		name   string
		g      ghAttestation
		art    Subject
		exp    Expect
		signer string
		want   map[string]string
	}{
		{"wrong source repository", mod, mod.art, with(func(e *Expect) { e.SourceURI = "github.com/aspect-build/rules_go" }), mod.signer,
			map[string]string{CheckSubject: P, CheckPredicateType: P, CheckBuilder: P, CheckSource: F}},
		{"source owner only", mod, mod.art, with(func(e *Expect) { e.SourceURI = "github.com/aspect-build" }), mod.signer,
			map[string]string{CheckSource: F}},
		{"wrong tag (built from a branch)", mod, mod.art, with(func(e *Expect) { e.SourceTag = "v1.3.1" }), mod.signer,
			map[string]string{CheckSource: P, CheckSourceTag: F}},
		{"wrong branch", mod, mod.art, with(func(e *Expect) { e.SourceBranch = "main" }), mod.signer,
			map[string]string{CheckSource: P, CheckSourceBranch: F}},
		{"S9 wrong predicate type", mod, mod.art, with(func(e *Expect) { e.PredicateTypes = []string{SLSAProvenance02} }), mod.signer,
			map[string]string{CheckPredicateType: F}},
		{"subject of another artifact", mod, tgz.art, good, mod.signer,
			map[string]string{CheckSubject: F}},
		{"wrong builder", tgz, tgz.art, good, tgz.signer,
			map[string]string{CheckBuilder: F}},
		{"wrong builder version", mod, mod.art, with(func(e *Expect) { e.BuilderID = publishBuilder + "@v0.0.2" }), mod.signer,
			map[string]string{CheckBuilder: F}},
		{"no expected builder", mod, mod.art, with(func(e *Expect) { e.BuilderID = "" }), mod.signer,
			map[string]string{CheckBuilder: F}},
		{"signed by another workflow", wrongSigner, wrongSigner.art, good, wrongSigner.signer,
			map[string]string{CheckBuilder: F, CheckSubject: F}},
		{"statement signed by another workflow, artifact renamed back", wrongSigner, mod.art, good, wrongSigner.signer,
			map[string]string{CheckSubject: P, CheckBuilder: F}},
	} {
		t.Run(c.name, func(t *testing.T) {
			checks := Check(c.g.st, c.art, c.exp, c.signer)
			got := statuses(t, checks)
			for name, status := range c.want {
				if got[name] != status {
					t.Errorf("%s = %q, want %q", name, got[name], status)
				}
			}
			failed := false
			for _, ch := range checks {
				failed = failed || ch.Status == F
				t.Logf("%s %s: %s", ch.Name, ch.Status, ch.Detail)
			}
			if !failed {
				t.Error("no check failed")
			}
		})
	}
}

func TestWrongSignerDetail(t *testing.T) {
	g := loadGitHub(t, "MODULE-wrong-signer.bazel")
	for _, c := range Check(g.st, g.art, Expect{BuilderID: publishBuilder}, g.signer) {
		if c.Name == CheckBuilder {
			if c.Status != result.Fail || !strings.Contains(c.Detail, "loosebazooka/aa-test") {
				t.Fatalf("%+v", c)
			}
			return
		}
	}
	t.Fatal("no builder check")
}

func TestMissingChecks(t *testing.T) {
	art := Subject{Name: "dist/app.tar.gz", SHA256: strings.Repeat("a", 64)}
	got := MissingChecks(art, Expect{Required: true})
	if len(got) != 1 || got[0].Status != result.Fail || got[0].Name != CheckRequired || got[0].Subject != art.Name {
		t.Fatalf("%+v", got)
	}
	got = MissingChecks(art, Expect{})
	if len(got) != 1 || got[0].Status != result.Skip {
		t.Fatalf("%+v", got)
	}
	// An SBOM attestation does not stand in for provenance (CVE-2022-35929).
	if (Expect{}).WantsPredicate("https://spdx.dev/Document") || !(Expect{}).WantsPredicate(SLSAProvenance1) ||
		!(Expect{}).WantsPredicate(SLSAProvenance02) {
		t.Fatal("default predicate types")
	}
}
