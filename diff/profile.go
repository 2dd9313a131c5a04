package diff

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// maxProfileList bounds each list of a profile, so that a hostile file cannot make a
// baseline result grow without end.
const maxProfileList = 5000

// Profiled reports the artifacts that get a profile: executables and scripts.
func Profiled(a result.Artifact) bool {
	return a.Hidden == "" && (a.Executable() || a.Format == "script")
}

// ProfileOf draws the profile of an artifact from its facts (as the analyzers left them,
// or as a facts or result document holds them after a JSON round trip). It returns nil
// for an artifact without facts.
func ProfileOf(a result.Artifact) *result.Profile {
	if len(a.Facts) == 0 || !Profiled(a) {
		return nil
	}
	var f facts
	b, err := json.Marshal(a.Facts)
	if err != nil || json.Unmarshal(b, &f) != nil {
		return nil
	}
	p := &profile{}
	f.elf(p)
	f.pe(p)
	f.macho(p)
	f.modules(p)
	f.script(p)
	f.strings(p)
	return p.done()
}

// facts are the parts of the analyzers' facts (docs/facts.md) a profile is drawn from.
type facts struct {
	ELF *struct {
		Needed   []string `json:"needed"`
		Imported []struct {
			Name    string `json:"name"`
			Library string `json:"library"`
		} `json:"importedSymbols"`
		Exported []struct {
			Name string `json:"name"`
		} `json:"exportedSymbols"`
		IFuncs   []string `json:"ifuncSymbols"`
		Sections []struct {
			Name    string   `json:"name"`
			Type    string   `json:"type"`
			Flags   string   `json:"flags"`
			Size    uint64   `json:"size"`
			Entropy *float64 `json:"entropy"`
		} `json:"sections"`
		Constructors int    `json:"constructorCount"`
		PIE          bool   `json:"pie"`
		NX           bool   `json:"nx"`
		Relro        string `json:"relro"`
		Canary       bool   `json:"canary"`
		Fortified    int    `json:"fortifiedCount"`
		IBT          bool   `json:"ibt"`
		SHSTK        bool   `json:"shstk"`
		TextRel      bool   `json:"textRel"`
		WX           int    `json:"writableExecutableCount"`
		Packers      []struct {
			Packer string `json:"packer"`
		} `json:"packers"`
	} `json:"elf"`
	PE *struct {
		DLLs    []string `json:"importedDLLs"`
		Imports []string `json:"imports"`
		Delay   []string `json:"delayImports"`
		Exports []struct {
			Name      string `json:"name"`
			Forwarder string `json:"forwarder"`
		} `json:"exports"`
		Sections []struct {
			Name    string  `json:"name"`
			Perm    string  `json:"perm"`
			RawSize uint64  `json:"rawSize"`
			Entropy float64 `json:"entropy"`
		} `json:"sections"`
		ASLR, HighEntropyVA, DEP, CFG bool
		TLS                           struct {
			Callbacks int `json:"callbacks"`
		} `json:"tls"`
		Authenticode struct {
			Signatures []struct {
				Signer *struct {
					Subject string `json:"subject"`
					SHA256  string `json:"sha256"`
				} `json:"signer"`
			} `json:"signatures"`
		} `json:"authenticode"`
	} `json:"pe"`
	Macho *struct {
		Architectures []struct {
			Cpu    string `json:"cpu"`
			PIE    bool   `json:"pie"`
			Dylibs []struct {
				Name string `json:"name"`
				Kind string `json:"kind"`
			} `json:"dylibs"`
			Imported []string `json:"importedSymbols"`
			Segments []struct {
				InitProt string `json:"initProt"`
				Sections []struct {
					Name    string  `json:"name"`
					Segment string  `json:"segment"`
					Size    uint64  `json:"size"`
					Entropy float64 `json:"entropy"`
				} `json:"sections"`
			} `json:"segments"`
			CodeSignature *struct {
				CodeDirectory *struct {
					Identifier string `json:"identifier"`
					TeamID     string `json:"teamId"`
				} `json:"codeDirectory"`
			} `json:"codeSignature"`
		} `json:"architectures"`
	} `json:"macho"`
	Go *struct {
		Main *struct {
			Path    string `json:"path"`
			Version string `json:"version"`
		} `json:"main"`
		Deps []struct {
			Path    string `json:"path"`
			Version string `json:"version"`
		} `json:"deps"`
	} `json:"go"`
	Rust *struct {
		Packages []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"packages"`
	} `json:"rust"`
	Script *struct {
		Observations []observation `json:"observations"`
		Hooks        []struct {
			Name         string        `json:"name"`
			RunsCode     bool          `json:"runsCode"`
			Observations []observation `json:"observations"`
		} `json:"installHooks"`
	} `json:"script"`
	Strings *struct {
		Notable []struct {
			Value string `json:"value"`
		} `json:"notable"`
		Indicators map[string]struct {
			Items []struct {
				Kind          string `json:"kind"`
				Value         string `json:"value"`
				Scope         string `json:"scope"`
				DecodedFormat string `json:"decodedFormat"`
			} `json:"items"`
		} `json:"indicators"`
		Entropy float64 `json:"entropy"`
	} `json:"strings"`
}

type observation struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// profile collects a profile's lists as sets.
type profile struct {
	result.Profile
	sets map[string]map[string]bool
}

func (p *profile) add(list, v string) {
	if v == "" {
		return
	}
	if p.sets == nil {
		p.sets = map[string]map[string]bool{}
	}
	s := p.sets[list]
	if s == nil {
		s = map[string]bool{}
		p.sets[list] = s
	}
	if len(s) >= maxProfileList {
		p.Truncated = true
		return
	}
	s[v] = true
}

func (p *profile) done() *result.Profile {
	get := func(name string) []string {
		var out []string
		for v := range p.sets[name] {
			out = append(out, v)
		}
		slices.Sort(out)
		return out
	}
	r := p.Profile
	r.Imports, r.Exports, r.Libraries, r.IFuncs = get("imports"), get("exports"), get("libraries"), get("ifuncs")
	r.Network, r.Interesting, r.Hardening = get("network"), get("interesting"), get("hardening")
	r.Modules, r.Signers, r.Packers, r.Observations = get("modules"), get("signers"), get("packers"), get("observations")
	slices.SortStableFunc(r.Sections, func(a, b result.SectionProfile) int { return strings.Compare(a.Name, b.Name) })
	return &r
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

func (f *facts) elf(p *profile) {
	e := f.ELF
	if e == nil {
		return
	}
	for _, l := range e.Needed {
		p.add("libraries", l)
	}
	for _, s := range e.Imported {
		p.add("imports", s.Name)
	}
	for _, s := range e.Exported {
		p.add("exports", s.Name)
	}
	for _, s := range e.IFuncs {
		p.add("ifuncs", s)
	}
	for _, s := range e.Sections {
		if s.Name == "" || s.Type == "null" || len(p.Sections) >= maxProfileList {
			continue
		}
		sp := result.SectionProfile{Name: s.Name, Size: s.Size, Perm: elfPerm(s.Flags)}
		if s.Entropy != nil {
			sp.Entropy = round(*s.Entropy)
		}
		p.Sections = append(p.Sections, sp)
	}
	p.Constructors += e.Constructors
	flag := func(on bool, name string) {
		if on {
			p.add("hardening", name)
		}
	}
	flag(e.PIE, "pie")
	flag(e.NX, "nx")
	flag(e.Relro != "" && e.Relro != "none", "relro="+e.Relro)
	flag(e.Canary, "canary")
	flag(e.Fortified > 0, "fortify")
	flag(e.IBT || e.SHSTK, "cet")
	flag(!e.TextRel && e.WX == 0, "no-wx")
	for _, k := range e.Packers {
		p.add("packers", k.Packer)
	}
}

// elfPerm turns readelf's section flag letters into "r-x" form (sections are readable
// when allocated).
func elfPerm(flags string) string {
	if !strings.Contains(flags, "A") {
		return ""
	}
	perm := []byte("r--")
	if strings.Contains(flags, "W") {
		perm[1] = 'w'
	}
	if strings.Contains(flags, "X") {
		perm[2] = 'x'
	}
	return string(perm)
}

func (f *facts) pe(p *profile) {
	e := f.PE
	if e == nil {
		return
	}
	for _, d := range e.DLLs {
		p.add("libraries", strings.ToLower(d))
	}
	for _, list := range [][]string{e.Imports, e.Delay} {
		for _, i := range list {
			dll, fn, ok := strings.Cut(i, "!")
			if ok {
				i = strings.ToLower(dll) + "!" + fn
			}
			p.add("imports", i)
		}
	}
	for _, x := range e.Exports {
		if x.Forwarder != "" {
			p.add("exports", x.Name+"→"+x.Forwarder)
		} else {
			p.add("exports", x.Name)
		}
	}
	for _, s := range e.Sections {
		if len(p.Sections) < maxProfileList {
			p.Sections = append(p.Sections, result.SectionProfile{Name: s.Name, Size: s.RawSize, Perm: strings.ToLower(s.Perm), Entropy: round(s.Entropy)})
		}
	}
	p.Constructors += e.TLS.Callbacks
	flag := func(on bool, name string) {
		if on {
			p.add("hardening", name)
		}
	}
	flag(e.ASLR, "aslr")
	flag(e.HighEntropyVA, "high-entropy-va")
	flag(e.DEP, "dep")
	flag(e.CFG, "cfg")
	for _, s := range e.Authenticode.Signatures {
		if s.Signer != nil {
			p.add("signers", fmt.Sprintf("%s (sha256 %s)", s.Signer.Subject, s.Signer.SHA256))
		}
	}
}

func (f *facts) macho(p *profile) {
	if f.Macho == nil {
		return
	}
	multi := len(f.Macho.Architectures) > 1
	for _, a := range f.Macho.Architectures {
		prefix := ""
		if multi {
			prefix = a.Cpu + ":"
		}
		for _, d := range a.Dylibs {
			if d.Kind != "id" {
				p.add("libraries", d.Name)
			}
		}
		for _, s := range a.Imported {
			p.add("imports", s)
		}
		for _, sg := range a.Segments {
			for _, s := range sg.Sections {
				if len(p.Sections) < maxProfileList {
					p.Sections = append(p.Sections, result.SectionProfile{Name: prefix + s.Segment + "," + s.Name, Size: s.Size,
						Perm: strings.ToLower(sg.InitProt), Entropy: round(max(s.Entropy, 0))})
				}
			}
		}
		if a.PIE {
			p.add("hardening", prefix+"pie")
		}
		if cs := a.CodeSignature; cs != nil && cs.CodeDirectory != nil {
			if t := cs.CodeDirectory.TeamID; t != "" {
				p.add("signers", "team "+t)
			} else {
				p.add("signers", "ad-hoc "+cs.CodeDirectory.Identifier)
			}
		}
	}
}

func (f *facts) modules(p *profile) {
	if g := f.Go; g != nil {
		for _, d := range g.Deps {
			p.add("modules", d.Path+"@"+d.Version)
		}
	}
	if r := f.Rust; r != nil {
		for _, d := range r.Packages {
			p.add("modules", d.Name+"@"+d.Version)
		}
	}
}

func (f *facts) script(p *profile) {
	s := f.Script
	if s == nil {
		return
	}
	for _, o := range s.Observations {
		p.add("observations", o.Kind+": "+o.Text)
	}
	for _, h := range s.Hooks {
		if h.RunsCode {
			p.add("observations", "install-hook: "+h.Name)
		}
		for _, o := range h.Observations {
			p.add("observations", o.Kind+": "+h.Name+": "+o.Text)
		}
	}
}

// networkKinds are the indicator kinds that name a network destination.
var networkKinds = map[string]bool{"urls": true, "domains": true, "ipv4": true, "ipv6": true, "onions": true, "emails": true}

// hostTLDs are the top-level domains a name standing alone in a Go binary must end in to
// count as a destination: Go's symbol names ("errors.Is", "reflect.flag.ro") read as
// domains under country codes (.is, .mu, .ro), so only names under the generic domains
// where destinations live are kept; URL hosts always are.
var hostTLDs = []string{"com", "net", "org", "info", "biz", "xyz", "top", "online", "site", "club", "app", "dev", "cloud", "ru", "cn", "su", "tk"}

// StandaloneDestination reports whether a domain name found standing alone in an
// executable (not in a URL) is taken for a network destination; in a Go binary only one
// under hostTLDs is.
func StandaloneDestination(name string, goBinary bool) bool {
	if !goBinary {
		return true
	}
	labels := strings.Split(name, ".")
	return slices.Contains(hostTLDs, labels[len(labels)-1])
}

func (f *facts) strings(p *profile) {
	s := f.Strings
	if s == nil {
		return
	}
	p.Entropy = round(s.Entropy)
	for kind, list := range s.Indicators {
		for _, it := range list.Items {
			switch {
			case networkKinds[kind]:
				if (kind == "ipv4" || kind == "ipv6") && it.Scope != "" && it.Scope != "public" {
					continue
				}
				if kind == "domains" && !StandaloneDestination(it.Value, f.Go != nil) {
					continue
				}
				p.add("network", strings.TrimSuffix(it.Kind, "s")+":"+it.Value)
			case kind == "secrets":
				p.add("interesting", "secret "+it.Kind+": "+it.Value)
			case kind == "base64" || kind == "hex":
				if it.DecodedFormat != "" && it.DecodedFormat != "text" && it.DecodedFormat != "data" {
					p.add("interesting", kind+" blob decoding to "+it.DecodedFormat+": "+it.Value)
				}
			}
		}
	}
	for _, str := range s.Notable {
		v := str.Value
		if len(v) > 200 {
			v = v[:200] + "…"
		}
		p.add("interesting", v)
	}
}
