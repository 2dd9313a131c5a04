package sbom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	cyclonedx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/tagvalue"
)

// Declared is an SBOM someone else wrote (the vendor's), read into what reconciliation
// compares: its components and files, and what the document says about itself.
type Declared struct {
	// Format names the document's format and version ("CycloneDX 1.5 JSON",
	// "SPDX-2.3 tag-value").
	Format string
	// Components are the declared packages, libraries, applications and so on; the
	// document's own subject (CycloneDX metadata.component, an SPDX package the document
	// DESCRIBES without a purl) is left out.
	Components []Component
	// Files are the declared files (CycloneDX components of type file, SPDX files).
	Files []Component
	// Timestamp is when the document says it was made; empty when it does not say.
	Timestamp string
	// Authors are the people or organisations the document names as its authors
	// (tools are not authors).
	Authors []string
	// Dependencies reports whether the document relates components to each other.
	Dependencies bool
	// NoAssertion counts SPDX fields that say NOASSERTION, of Assertable such fields.
	NoAssertion, Assertable int
}

// Component is one declared component or file.
type Component struct {
	// Ref is the document's identifier for it (bom-ref, SPDXID).
	Ref      string
	Name     string
	Version  string
	Type     string
	PURL     string
	CPEs     []string
	Supplier string
	// Hashes are lower-case hex digests by algorithm ("sha256", "sha512", "sha1").
	Hashes map[string]string
}

// ReadDeclaredFile reads a vendor SBOM of at most limit bytes.
func ReadDeclaredFile(name string, limit int64) (*Declared, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadDeclared(f, limit)
}

// ReadDeclared reads a CycloneDX (1.2-1.6, JSON or XML) or SPDX (2.2-2.3, JSON or
// tag-value) document of at most limit bytes, recognised from its content.
func ReadDeclared(r io.Reader, limit int64) (d *Declared, err error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the SBOM is larger than %d bytes (raise --limit file-size)", limit)
	}
	defer func() {
		// The decoders are not written for hostile input.
		if v := recover(); v != nil {
			d, err = nil, fmt.Errorf("the SBOM could not be read: decoder panic: %v", v)
		}
	}()
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(trimmed, []byte(`"bomFormat"`)):
		return readCycloneDX(trimmed, cyclonedx.BOMFileFormatJSON)
	case bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(trimmed, []byte(`"spdxVersion"`)):
		doc, err := spdxjson.Read(bytes.NewReader(trimmed))
		if err != nil {
			return nil, fmt.Errorf("reading SPDX JSON: %w", err)
		}
		return fromSPDX(doc, "JSON"), nil
	case bytes.HasPrefix(trimmed, []byte("<")) && bytes.Contains(trimmed, []byte("cyclonedx.org/schema/bom")):
		return readCycloneDX(trimmed, cyclonedx.BOMFileFormatXML)
	case bytes.Contains(trimmed, []byte("SPDXVersion:")):
		doc, err := tagvalue.Read(bytes.NewReader(trimmed))
		if err != nil {
			return nil, fmt.Errorf("reading SPDX tag-value: %w", err)
		}
		return fromSPDX(doc, "tag-value"), nil
	}
	return nil, errors.New("not an SBOM kensa reads: want CycloneDX JSON or XML, or SPDX JSON or tag-value")
}

func readCycloneDX(data []byte, f cyclonedx.BOMFileFormat) (*Declared, error) {
	var bom cyclonedx.BOM
	if err := cyclonedx.NewBOMDecoder(bytes.NewReader(data), f).Decode(&bom); err != nil {
		return nil, fmt.Errorf("reading CycloneDX: %w", err)
	}
	kind := "JSON"
	if f == cyclonedx.BOMFileFormatXML {
		kind = "XML"
	}
	d := &Declared{Format: fmt.Sprintf("CycloneDX %s %s", bom.SpecVersion, kind)}
	if bom.SpecVersion == 0 && f == cyclonedx.BOMFileFormatXML {
		d.Format = "CycloneDX XML"
	}
	if m := bom.Metadata; m != nil {
		d.Timestamp = m.Timestamp
		if m.Authors != nil {
			for _, a := range *m.Authors {
				d.Authors = appendNonEmpty(d.Authors, a.Name, a.Email)
			}
		}
		if m.Manufacture != nil {
			d.Authors = appendNonEmpty(d.Authors, m.Manufacture.Name)
		}
		if m.Manufacturer != nil {
			d.Authors = appendNonEmpty(d.Authors, m.Manufacturer.Name)
		}
		if m.Supplier != nil {
			d.Authors = appendNonEmpty(d.Authors, m.Supplier.Name)
		}
	}
	if bom.Dependencies != nil {
		for _, dep := range *bom.Dependencies {
			if dep.Dependencies != nil && len(*dep.Dependencies) > 0 {
				d.Dependencies = true
				break
			}
		}
	}
	// A file nested in a file component is inside that archive: its name is the chain
	// ("app.tar.gz!bin/tool"), as kensa names it.
	var walk func(cs *[]cyclonedx.Component, parent string, depth int)
	walk = func(cs *[]cyclonedx.Component, parent string, depth int) {
		if cs == nil || depth > maxNesting {
			return
		}
		for _, c := range *cs {
			comp := Component{Ref: c.BOMRef, Name: c.Name, Version: c.Version, Type: string(c.Type), PURL: c.PackageURL, Hashes: map[string]string{}}
			if c.CPE != "" {
				comp.CPEs = []string{c.CPE}
			}
			if c.Supplier != nil {
				comp.Supplier = c.Supplier.Name
			}
			if comp.Supplier == "" && c.Publisher != "" {
				comp.Supplier = c.Publisher
			}
			if c.Hashes != nil {
				for _, h := range *c.Hashes {
					comp.Hashes[hashName(string(h.Algorithm))] = strings.ToLower(h.Value)
				}
			}
			inner := ""
			if c.Type == cyclonedx.ComponentTypeFile {
				if parent != "" {
					comp.Name = parent + "!" + strings.TrimPrefix(c.Name, "/")
				}
				inner = comp.Name
				d.Files = append(d.Files, comp)
			} else {
				d.Components = append(d.Components, comp)
			}
			walk(c.Components, inner, depth+1)
		}
	}
	walk(bom.Components, "", 0)
	return d, nil
}

// maxNesting bounds how deeply CycloneDX components are followed.
const maxNesting = 64

func fromSPDX(doc *spdx.Document, kind string) *Declared {
	d := &Declared{Format: doc.SPDXVersion + " " + kind}
	if ci := doc.CreationInfo; ci != nil {
		d.Timestamp = ci.Created
		for _, c := range ci.Creators {
			if c.CreatorType == "Person" || c.CreatorType == "Organization" {
				d.Authors = appendNonEmpty(d.Authors, c.Creator)
			}
		}
	}
	described := map[string]bool{}
	byID := map[string]bool{}
	for _, p := range doc.Packages {
		byID[string(p.PackageSPDXIdentifier)] = true
	}
	for _, r := range doc.Relationships {
		rel := strings.ToUpper(r.Relationship)
		a, b := string(r.RefA.ElementRefID), string(r.RefB.ElementRefID)
		switch rel {
		case "DESCRIBES":
			described[b] = true
		case "DESCRIBED_BY":
			described[a] = true
		case "DEPENDS_ON", "DEPENDENCY_OF", "CONTAINS", "CONTAINED_BY", "BUILD_DEPENDENCY_OF", "RUNTIME_DEPENDENCY_OF", "DEV_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF":
			if byID[a] && byID[b] {
				d.Dependencies = true
			}
		}
	}
	assert := func(v string) {
		d.Assertable++
		if v == "" || strings.EqualFold(v, "NOASSERTION") {
			d.NoAssertion++
		}
	}
	for _, p := range doc.Packages {
		comp := Component{Ref: string(p.PackageSPDXIdentifier), Name: p.PackageName, Version: p.PackageVersion, Hashes: map[string]string{}}
		if p.PackageSupplier != nil && !strings.EqualFold(p.PackageSupplier.Supplier, "NOASSERTION") {
			comp.Supplier = p.PackageSupplier.Supplier
		}
		supplier := ""
		if p.PackageSupplier != nil {
			supplier = p.PackageSupplier.Supplier
		}
		assert(supplier)
		assert(p.PackageDownloadLocation)
		assert(p.PackageLicenseConcluded)
		assert(p.PackageLicenseDeclared)
		assert(p.PackageCopyrightText)
		for _, ref := range p.PackageExternalReferences {
			switch strings.ToLower(ref.RefType) {
			case "purl":
				if comp.PURL == "" {
					comp.PURL = ref.Locator
				}
			case "cpe22type", "cpe23type":
				comp.CPEs = append(comp.CPEs, ref.Locator)
			}
		}
		for _, c := range p.PackageChecksums {
			comp.Hashes[hashName(string(c.Algorithm))] = strings.ToLower(c.Value)
		}
		if comp.PURL != "" {
			comp.Type = purlType(comp.PURL)
		}
		if described[comp.Ref] && comp.PURL == "" {
			continue // the document's subject, not a component of it
		}
		d.Components = append(d.Components, comp)
	}
	for _, f := range doc.Files {
		comp := Component{Ref: string(f.FileSPDXIdentifier), Name: f.FileName, Type: "file", Hashes: map[string]string{}}
		for _, c := range f.Checksums {
			comp.Hashes[hashName(string(c.Algorithm))] = strings.ToLower(c.Value)
		}
		d.Files = append(d.Files, comp)
	}
	return d
}

func appendNonEmpty(list []string, vals ...string) []string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return append(list, v)
		}
	}
	return list
}

// hashName normalises an algorithm name: "SHA-256", "SHA256" → "sha256".
func hashName(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(s, "-", ""), "_", ""))
}

// purlType is the type of a package URL ("pkg:deb/debian/bash@5" → "deb").
func purlType(purl string) string {
	rest, ok := strings.CutPrefix(strings.ToLower(purl), "pkg:")
	if !ok {
		return ""
	}
	t, _, _ := strings.Cut(strings.TrimLeft(rest, "/"), "/")
	return t
}
