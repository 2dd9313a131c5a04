package sbom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// moduleDir is where the go command keeps a module of the build.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go list -m %s: %v (run go mod download)", mod, err)
	}
	return strings.TrimSpace(string(out))
}

func loadJSON(t *testing.T, name string) any {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// officialSchemas compiles the CycloneDX 1.6 schema (as the CycloneDX project
// publishes it, vendored by cyclonedx-go) and the SPDX 2.3 schema (as the SPDX project
// publishes it, vendored by syft), with format assertions on.
func officialSchemas(t *testing.T) (cdx, spdx *jsonschema.Schema) {
	t.Helper()
	cdxDir := filepath.Join(moduleDir(t, "github.com/CycloneDX/cyclonedx-go"), "schema")
	spdxFile := filepath.Join(moduleDir(t, "github.com/anchore/syft"), "schema", "spdx-json", "spdx-schema-2.3.json")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for url, file := range map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schemax.json",
	} {
		if err := c.AddResource(url, loadJSON(t, filepath.Join(cdxDir, file))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddResource("https://spdx.org/schema/spdx-2.3.json", loadJSON(t, spdxFile)); err != nil {
		t.Fatal(err)
	}
	var err error
	if cdx, err = c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json"); err != nil {
		t.Fatal(err)
	}
	if spdx, err = c.Compile("https://spdx.org/schema/spdx-2.3.json"); err != nil {
		t.Fatal(err)
	}
	return cdx, spdx
}

// TestOutputsValidate checks kensa's CycloneDX 1.6 and SPDX 2.3 JSON against the
// official schemas, for a directory and an image, and that what kensa adds is there.
func TestOutputsValidate(t *testing.T) {
	cdx, spdx := officialSchemas(t)
	dir := fixture(t)
	for _, target := range []string{dir, "oci-dir:" + ociLayout(t, dir, "schema-oci")} {
		s, err := Generate(context.Background(), take(t, target), Options{ToolVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			format string
			schema *jsonschema.Schema
		}{{CycloneDXJSON, cdx}, {SPDXJSON, spdx}} {
			var buf bytes.Buffer
			if err := Encode(&buf, s, tc.format); err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.schema.Validate(doc); err != nil {
				t.Errorf("%s of %s does not validate: %v", tc.format, target, err)
			}
			out := buf.String()
			if tc.format == CycloneDXJSON && !strings.Contains(out, `"specVersion": "1.6"`) {
				t.Errorf("%s is not CycloneDX 1.6", tc.format)
			}
			if tc.format == SPDXJSON && !strings.Contains(out, `"spdxVersion": "SPDX-2.3"`) {
				t.Errorf("%s is not SPDX 2.3", tc.format)
			}
			// The evidence of the dpkg packages (their database) is listed with its digest.
			status := sha256File(t, filepath.Join(dir, "var/lib/dpkg/status"))
			for _, want := range []string{"kensa:hardening", "kensa:unaccounted", "pkg:golang/example.com/dep", "pkg:cargo/serde@1.0.210",
				"pkg:pypi/urllib3@2.0.7", "MIT", status} {
				if !strings.Contains(out, want) {
					t.Errorf("%s of %s lacks %q", tc.format, target, want)
				}
			}
		}
	}
}

// TestOtherFormats checks that the XML, tag-value and syft JSON outputs are what their
// readers accept: each is read back and holds the same packages.
func TestOtherFormats(t *testing.T) {
	s, err := Generate(context.Background(), take(t, fixture(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// CycloneDX lists the operating system as a component too.
	packages := s.Syft.Artifacts.Packages.PackageCount()
	for _, f := range []string{CycloneDXXML, SPDXTagValue, CycloneDXJSON, SPDXJSON} {
		want := packages
		if strings.HasPrefix(f, "cyclonedx") {
			want++
		}
		var buf bytes.Buffer
		if err := Encode(&buf, s, f); err != nil {
			t.Fatal(err)
		}
		d, err := ReadDeclared(&buf, 1<<30)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(d.Components) != want {
			t.Errorf("%s read back: %d components, want %d", f, len(d.Components), want)
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, s, SyftJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Artifacts []json.RawMessage `json:"artifacts"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Artifacts) != packages {
		t.Errorf("syft-json: %d artifacts (%v), want %d", len(doc.Artifacts), err, packages)
	}
	if err := Encode(&buf, s, "cyclonedx"); err == nil {
		t.Error("an unknown format was accepted")
	}
}

func sha256File(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
