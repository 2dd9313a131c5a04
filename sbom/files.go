package sbom

import (
	"fmt"
	"path"
	"strings"

	stfile "github.com/anchore/stereoscope/pkg/file"
	"github.com/anchore/syft/syft/file"

	"kensa.dev/kensa/analyzers/elf"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/macho"
	"kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/internal/result"
)

func fileMetadata(a result.Artifact, s inventory.Stored) file.Metadata {
	return stfile.Metadata{
		FileInfo: stfile.ManualInfo{NameValue: path.Base(a.Path), SizeValue: a.Size, ModeValue: parseMode(a.Mode)},
		Path:     syftPath(a.Path),
		Type:     stfile.TypeRegular,
		MIMEType: s.MIME,
	}
}

// hardening summarises the mitigations an executable asks for, from kensa's facts.
func hardening(facts map[string]any) string {
	var w []string
	flag := func(on bool, name string) {
		if on {
			w = append(w, name)
		} else {
			w = append(w, "no-"+name)
		}
	}
	if f, ok := facts["elf"].(*elf.Facts); ok && f != nil {
		flag(f.PIE, "pie")
		flag(f.NX, "nx")
		w = append(w, "relro="+f.Relro)
		flag(f.Canary, "canary")
		w = append(w, fmt.Sprintf("fortify=%d", f.FortifiedCount))
		if f.IBT || f.SHSTK {
			w = append(w, "cet")
		}
		if f.BTI {
			w = append(w, "bti")
		}
	}
	if f, ok := facts["pe"].(*pe.Facts); ok && f != nil {
		flag(f.ASLR, "aslr")
		flag(f.HighEntropyVA, "high-entropy-va")
		flag(f.DEP, "dep")
		flag(f.CFG, "cfg")
		flag(f.Authenticode.Present, "signed")
	}
	if f, ok := facts["macho"].(*macho.Facts); ok && f != nil {
		pie := len(f.Architectures) > 0
		for _, a := range f.Architectures {
			pie = pie && a.PIE
		}
		flag(pie, "pie")
	}
	return strings.Join(w, " ")
}
