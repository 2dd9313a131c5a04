package sbom

import (
	"fmt"
	"io"
	"slices"
	"strings"

	cyclonedx "github.com/CycloneDX/cyclonedx-go"
	"github.com/anchore/syft/syft/format/common/cyclonedxhelpers"
	"github.com/anchore/syft/syft/format/common/spdxhelpers"
	"github.com/anchore/syft/syft/format/syftjson"
	"github.com/spdx/tools-golang/convert"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"
	"github.com/spdx/tools-golang/tagvalue"
)

// Output formats of Encode.
const (
	CycloneDXJSON = "cyclonedx-json"
	CycloneDXXML  = "cyclonedx-xml"
	SPDXJSON      = "spdx-json"
	SPDXTagValue  = "spdx-tag-value"
	SyftJSON      = "syft-json"
)

// Formats lists the output formats, the default first.
var Formats = []string{CycloneDXJSON, CycloneDXXML, SPDXJSON, SPDXTagValue, SyftJSON}

// Property names kensa adds to CycloneDX file components (and, in SPDX, to file comments).
const (
	PropHardening   = "kensa:hardening"
	PropUnaccounted = "kensa:unaccounted"
	PropAccountedBy = "kensa:accounted-by"
)

// Encode writes the SBOM in one of Formats: CycloneDX 1.6 or SPDX 2.3 (as syft writes
// them, with every executable listed as a file with its sha256, its hardening summary
// and whether a package accounts for it), or syft's own JSON.
func Encode(w io.Writer, s *SBOM, format string) error {
	switch format {
	case CycloneDXJSON, CycloneDXXML:
		bom := cyclonedxhelpers.ToFormatModel(*s.Syft)
		annotateCycloneDX(bom, s)
		f := cyclonedx.BOMFileFormatJSON
		if format == CycloneDXXML {
			f = cyclonedx.BOMFileFormatXML
		}
		return cyclonedx.NewBOMEncoder(w, f).SetPretty(true).SetEscapeHTML(false).EncodeVersion(bom, cyclonedx.SpecVersion1_6)
	case SPDXJSON, SPDXTagValue:
		latest := spdxhelpers.ToFormatModel(*s.Syft)
		if latest == nil {
			return fmt.Errorf("could not describe the SBOM in SPDX")
		}
		annotateSPDX(latest, s)
		var doc v2_3.Document
		if err := convert.Document(latest, &doc); err != nil {
			return fmt.Errorf("could not describe the SBOM in SPDX 2.3: %w", err)
		}
		if format == SPDXJSON {
			return spdxjson.Write(&doc, w, spdxjson.Indent(" "), spdxjson.EscapeHTML(false))
		}
		return tagvalue.Write(&doc, w)
	case SyftJSON:
		enc, err := syftjson.NewFormatEncoderWithConfig(syftjson.EncoderConfig{Pretty: true})
		if err != nil {
			return err
		}
		return enc.Encode(w, *s.Syft)
	}
	return fmt.Errorf("unknown SBOM format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// exeByRef indexes the executables by the CycloneDX bom-ref syft gives their file.
func (s *SBOM) exeByRef() map[string]*Executable {
	m := map[string]*Executable{}
	for i := range s.Executables {
		e := &s.Executables[i]
		m[string(e.coords.ID())] = e
	}
	return m
}

func annotateCycloneDX(bom *cyclonedx.BOM, s *SBOM) {
	refs := s.exeByRef()
	var walk func(cs *[]cyclonedx.Component)
	walk = func(cs *[]cyclonedx.Component) {
		if cs == nil {
			return
		}
		for i := range *cs {
			c := &(*cs)[i]
			if e := refs[c.BOMRef]; e != nil && c.Type == cyclonedx.ComponentTypeFile {
				props := []cyclonedx.Property{}
				if c.Properties != nil {
					props = *c.Properties
				}
				props = append(props, exeProperties(e)...)
				c.Properties = &props
			}
			walk(c.Components)
		}
	}
	walk(bom.Components)
	if bom.Metadata != nil {
		props := []cyclonedx.Property{}
		if bom.Metadata.Properties != nil {
			props = *bom.Metadata.Properties
		}
		props = append(props, cyclonedx.Property{Name: "kensa:unaccounted-executables", Value: fmt.Sprint(s.UnaccountedCount())})
		bom.Metadata.Properties = &props
	}
}

func exeProperties(e *Executable) []cyclonedx.Property {
	var p []cyclonedx.Property
	if e.Hardening != "" {
		p = append(p, cyclonedx.Property{Name: PropHardening, Value: e.Hardening})
	}
	if e.Unaccounted() {
		p = append(p, cyclonedx.Property{Name: PropUnaccounted, Value: "true"})
	}
	for _, pk := range e.Packages {
		p = append(p, cyclonedx.Property{Name: PropAccountedBy, Value: pk})
	}
	return p
}

func annotateSPDX(doc *spdx.Document, s *SBOM) {
	// syft names a file by its path within its archive; the digest tells same-named
	// files of different archives apart.
	type key struct{ name, sha256 string }
	byKey := map[key]*Executable{}
	for i := range s.Executables {
		e := &s.Executables[i]
		byKey[key{strings.TrimPrefix(e.coords.LocalPath(), "/"), strings.TrimPrefix(e.Digest, "sha256:")}] = e
	}
	for _, f := range doc.Files {
		var sum string
		for _, c := range f.Checksums {
			if c.Algorithm == spdx.SHA256 {
				sum = c.Value
			}
		}
		e := byKey[key{strings.TrimPrefix(f.FileName, "/"), sum}]
		if e == nil {
			continue
		}
		var parts []string
		if f.FileComment != "" {
			parts = append(parts, f.FileComment)
		}
		for _, p := range exeProperties(e) {
			parts = append(parts, p.Name+"="+p.Value)
		}
		f.FileComment = strings.Join(parts, "; ")
	}
	doc.CreationInfo.CreatorComment = strings.TrimSpace(doc.CreationInfo.CreatorComment + fmt.Sprintf(" kensa:unaccounted-executables=%d", s.UnaccountedCount()))
}

// UnaccountedCount is how many executables no package accounts for.
func (s *SBOM) UnaccountedCount() int {
	return len(slices.DeleteFunc(slices.Clone(s.Executables), func(e Executable) bool { return !e.Unaccounted() }))
}
