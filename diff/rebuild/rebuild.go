// Package rebuild compares delivered binaries with the binaries the buyer rebuilt from
// the delivered source, and reports what does not legitimately differ.
//
// Two builds of the same source legitimately differ in build IDs, time stamps, embedded
// build paths, debug information, section layout and signatures; an injected call does
// not. CompareBinary compares one executable (ELF, PE or Mach-O) with its rebuild: it sets
// aside what legitimately differs (listed in Ignored, each with what it was) and reports
// the rest: function symbols by name and size, imports, exports and needed libraries,
// sections (added, removed, resized, or the same size with other bytes) and printable
// strings. CompareTargets does this for every file of two targets (a binary, a directory,
// an archive or an image), pairing files by path.
//
// What is set aside as legitimate: for ELF the GNU and Go build ID notes,
// .gnu_debuglink, .gnu_debugaltlink, .debug_* and .zdebug_* (when not loaded), the bytes
// of .symtab and .strtab (functions are compared by name and size instead), .comment (a
// compiler change is reported as low), section addresses and file offsets; for PE the
// COFF TimeDateStamp, the CheckSum, the debug directory and its data (CodeView GUID, age,
// PDB path), the certificate table (a delivered file is signed, a rebuild is not) and the
// Rich header; for Mach-O LC_UUID and the code signature. In every format, strings and
// same-size section bytes that differ only in a date, a time, a Unix time, a Go build ID
// or the directory part of an absolute path are set aside too. Go build information is
// compared: the Go version (low), module, dependencies and build settings, vcs.revision
// and vcs.time included (a rebuild from another commit is not the same source).
//
// Strings are those of .rodata and .data (.rdata and .data for PE), or of the whole file
// when either side is stripped (Mach-O always). Mach-O symbol tables are not compared.
// Go builds with -trimpath and without VCS stamping come out byte for byte identical
// from the same source and toolchain, whatever the directory.
//
// The rebuild is the reference: "new import system" means the delivered file imports
// system and the rebuild does not; "function handle_request is 12 bytes larger (143 →
// 155)" means 143 bytes in the rebuild, 155 in the delivered file.
//
// A pair is "identical" (same bytes), "equivalent" (only legitimate differences, maybe a
// low-severity toolchain change), or "differs". Findings turns the report into the
// project's findings:
//
//   - diff/rebuild-differs (high): a delivered executable differs from its rebuild; the
//     differences are the evidence. Medium for a file that is not an executable.
//   - diff/rebuild-missing (high): a delivered executable the rebuild did not produce, so
//     nothing vouches that it came from the delivered source.
//   - diff/rebuild-extra (medium): a delivered file that is not an executable and that
//     the rebuild did not produce (documentation, data, scripts without the execute bit).
//   - diff/rebuild-undelivered (low): a file the rebuild produced that was not delivered.
//   - diff/rebuild-toolchain (low): an equivalent executable whose compiler or Go
//     toolchain recorded another version.
//
// Files that could not be compared are in Report.Errors, and make Verdict "error"
// (fail closed); they never count as identical.
//
// Two builds come out equivalent only when their layout matches: build from directories
// whose paths have the same length, or map the paths away (-ffile-prefix-map, -trimpath),
// as reproducible builds do; otherwise the longer path moves the code and the report
// lists those moves as differences.
//
// Example:
//
//	rep, err := rebuild.CompareTargets(ctx, "delivery/", "rebuilt/", inventory.Options{})
//	if err != nil {
//		return err
//	}
//	rep.WriteText(os.Stdout)
//	findings := rep.Findings()
package rebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// Report is the comparison of a delivery with its rebuild.
type Report struct {
	Delivered string `json:"delivered"`
	Rebuilt   string `json:"rebuilt"`
	// Verdict is "identical" when every delivered file is identical or equivalent to its
	// rebuild, "differs" when any differs or was not rebuilt, "error" when nothing
	// differs but some file could not be compared.
	Verdict string `json:"verdict"`
	// Pairs are sorted by path.
	Pairs  []Pair         `json:"pairs"`
	Counts Counts         `json:"counts"`
	Errors []result.Error `json:"errors"`
}

// Pair is one delivered file and its rebuilt counterpart.
type Pair struct {
	// Path is the delivered file's path in the delivered target (the rebuilt one's for a
	// file only the rebuild has); RebuiltPath is the counterpart's when it differs.
	Path        string `json:"path"`
	RebuiltPath string `json:"rebuiltPath,omitempty"`
	// Format is the delivered file's format (the rebuilt one's when not delivered).
	Format string `json:"format"`
	// Executable says whether the file is an executable.
	Executable bool `json:"executable"`
	// Verdict is identical, equivalent, differs, delivered-only, rebuilt-only or error.
	Verdict         string       `json:"verdict"`
	DeliveredSize   int64        `json:"deliveredSize,omitempty"`
	RebuiltSize     int64        `json:"rebuiltSize,omitempty"`
	DeliveredDigest string       `json:"deliveredDigest,omitempty"`
	RebuiltDigest   string       `json:"rebuiltDigest,omitempty"`
	Differences     []Difference `json:"differences,omitempty"`
	Ignored         []Difference `json:"ignored,omitempty"`
}

// Counts counts the pairs by verdict.
type Counts struct {
	Pairs         int `json:"pairs"`
	Identical     int `json:"identical"`
	Equivalent    int `json:"equivalent"`
	Differs       int `json:"differs"`
	DeliveredOnly int `json:"deliveredOnly"`
	RebuiltOnly   int `json:"rebuiltOnly"`
	Errors        int `json:"errors"`
}

// side is one inventoried target.
type side struct {
	inv *inventory.Inventory
	// byKey indexes the compared artifacts by their key.
	byKey map[string]int
	keys  []string
}

// CompareTargets inventories both targets (a file, directory, archive or image, as
// inventory.Take reads them), pairs their files by path and compares each pair: the same
// digest is identical, executables go through CompareBinary, other files differ. Two
// single-file targets are paired whatever their names; inside archives given as files,
// paths are compared below the archive's own name. Archives and images are compared by
// their contents, not their container bytes. It returns an error only when a target
// cannot be read at all; problems with single files are in Report.Errors.
func CompareTargets(ctx context.Context, delivered, rebuilt string, opts inventory.Options) (*Report, error) {
	opts.Keep = true
	if opts.Limits == (limits.Limits{}) {
		opts.Limits = limits.Default()
	}
	rep := &Report{Delivered: delivered, Rebuilt: rebuilt, Pairs: []Pair{}, Errors: []result.Error{}}
	d, err := take(ctx, delivered, opts)
	if err != nil {
		return nil, fmt.Errorf("reading the delivered target: %w", err)
	}
	defer d.inv.Close()
	r, err := take(ctx, rebuilt, opts)
	if err != nil {
		return nil, fmt.Errorf("reading the rebuilt target: %w", err)
	}
	defer r.inv.Close()
	for _, e := range d.inv.Errors {
		e.Error = "delivered: " + e.Error
		rep.Errors = append(rep.Errors, e)
	}
	for _, e := range r.inv.Errors {
		e.Error = "rebuilt: " + e.Error
		rep.Errors = append(rep.Errors, e)
	}
	keys := map[string]bool{}
	for _, k := range d.keys {
		keys[k] = true
	}
	for _, k := range r.keys {
		keys[k] = true
	}
	var all []string
	for k := range keys {
		all = append(all, k)
	}
	sort.Strings(all)
	for _, k := range all {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		di, dok := d.byKey[k]
		ri, rok := r.byKey[k]
		var p Pair
		switch {
		case dok && rok:
			p = comparePair(d, r, di, ri, rep)
		case dok:
			a := d.inv.Artifacts[di]
			p = Pair{Path: a.Path, Format: a.Format, Executable: a.Executable(), Verdict: DeliveredOnly, DeliveredSize: a.Size, DeliveredDigest: a.Digest}
		default:
			a := r.inv.Artifacts[ri]
			p = Pair{Path: a.Path, Format: a.Format, Executable: a.Executable(), Verdict: RebuiltOnly, RebuiltSize: a.Size, RebuiltDigest: a.Digest}
		}
		rep.Pairs = append(rep.Pairs, p)
	}
	sort.SliceStable(rep.Errors, func(i, j int) bool {
		if rep.Errors[i].Path != rep.Errors[j].Path {
			return rep.Errors[i].Path < rep.Errors[j].Path
		}
		return rep.Errors[i].Error < rep.Errors[j].Error
	})
	rep.count()
	return rep, nil
}

func (rep *Report) count() {
	c := Counts{Pairs: len(rep.Pairs)}
	for _, p := range rep.Pairs {
		switch p.Verdict {
		case Identical:
			c.Identical++
		case Equivalent:
			c.Equivalent++
		case Differs:
			c.Differs++
		case DeliveredOnly:
			c.DeliveredOnly++
		case RebuiltOnly:
			c.RebuiltOnly++
		case Failed:
			c.Errors++
		}
	}
	rep.Counts = c
	switch {
	case c.Differs > 0 || c.DeliveredOnly > 0:
		rep.Verdict = Differs
	case c.Errors > 0 || len(rep.Errors) > 0:
		rep.Verdict = Failed
	default:
		rep.Verdict = Identical
	}
}

// take inventories one target and keys its files for pairing.
func take(ctx context.Context, target string, opts inventory.Options) (*side, error) {
	inv, err := inventory.Take(ctx, []string{target}, opts)
	if err != nil {
		return nil, err
	}
	s := &side{inv: inv, byKey: map[string]int{}}
	single := len(inv.Targets) == 1 && inv.Targets[0].Kind == "file"
	// Archives whose entries are listed are compared through their entries.
	containers := map[string]bool{}
	for _, a := range inv.Artifacts {
		for i := 0; i < len(a.Path); i++ {
			if a.Path[i] == '!' {
				containers[a.Path[:i]] = true
			}
		}
	}
	for i, a := range inv.Artifacts {
		if containers[a.Path] && !a.Executable() {
			// An executable that holds an archive (a self-extracting installer) is
			// compared as an executable too.
			continue
		}
		k := a.Path
		if single {
			// The target's own name is left out: "x.tar!bin/a" pairs with "y.tar!bin/a".
			if j := strings.IndexByte(k, '!'); j >= 0 {
				k = k[j:]
			} else {
				k = ""
			}
		}
		if _, dup := s.byKey[k]; dup {
			continue // an image's lower layers: the squashed view lists each path once
		}
		s.byKey[k] = i
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// comparePair compares the delivered artifact di with the rebuilt artifact ri.
func comparePair(d, r *side, di, ri int, rep *Report) Pair {
	da, ra := d.inv.Artifacts[di], r.inv.Artifacts[ri]
	p := Pair{Path: da.Path, Format: da.Format, Executable: da.Executable() || ra.Executable(),
		DeliveredSize: da.Size, RebuiltSize: ra.Size, DeliveredDigest: da.Digest, RebuiltDigest: ra.Digest}
	if ra.Path != da.Path {
		p.RebuiltPath = ra.Path
	}
	fail := func(err error) Pair {
		p.Verdict = Failed
		kind := result.KindMalformed
		var le *limits.Error
		if errors.As(err, &le) {
			kind = result.KindLimit
		}
		rep.Errors = append(rep.Errors, result.Error{Path: da.Path, Kind: kind, Error: err.Error()})
		return p
	}
	if da.Type != "file" || ra.Type != "file" {
		if da.Type == ra.Type && da.LinkTarget == ra.LinkTarget && da.Digest == ra.Digest {
			p.Verdict = Identical
			return p
		}
		p.Verdict = Differs
		p.Differences = []Difference{{Kind: "content", Severity: result.Medium,
			Message: fmt.Sprintf("the delivered entry is a %s %s, the rebuilt one a %s %s", da.Type, da.LinkTarget, ra.Type, ra.LinkTarget)}}
		return p
	}
	if da.Digest != "" && da.Digest == ra.Digest && da.Size == ra.Size {
		p.Verdict = Identical
		return p
	}
	if da.Digest == "" || ra.Digest == "" {
		return fail(errors.New("the file was not read in full (see the inventory errors); it cannot be compared"))
	}
	if !binaryFormat(da.Format) && !binaryFormat(ra.Format) {
		p.Verdict = Differs
		sev := result.Medium
		if p.Executable {
			sev = result.High
		}
		p.Differences = []Difference{{Kind: "content", Severity: sev,
			Message: fmt.Sprintf("content differs (%d bytes rebuilt, %d bytes delivered)", ra.Size, da.Size)}}
		return p
	}
	df, err := d.inv.Stored[di].Open()
	if err != nil {
		return fail(fmt.Errorf("opening the delivered file: %w", err))
	}
	defer df.Close()
	rf, err := r.inv.Stored[ri].Open()
	if err != nil {
		return fail(fmt.Errorf("opening the rebuilt file: %w", err))
	}
	defer rf.Close()
	bd, err := CompareBinary(df, rf, da.Size, ra.Size)
	if err != nil {
		return fail(err)
	}
	p.Verdict, p.Differences, p.Ignored = bd.Verdict, bd.Differences, bd.Ignored
	return p
}

func binaryFormat(f string) bool {
	switch f {
	case "elf", "pe", "macho":
		return true
	}
	return false
}

// Findings turns the report into findings (see the package comment for the rules),
// in the order of the pairs.
func (rep *Report) Findings() []result.Finding {
	out := []result.Finding{}
	for _, p := range rep.Pairs {
		switch p.Verdict {
		case Differs:
			sev := result.Medium
			what := "file"
			if p.Executable {
				sev, what = result.High, "executable"
			}
			var ev []string
			for _, d := range p.Differences {
				ev = append(ev, d.Message)
			}
			out = append(out, result.Finding{Rule: "diff/rebuild-differs", Severity: sev, Path: p.Path,
				Message:  fmt.Sprintf("delivered %s differs from the one rebuilt from the delivered source (%d differences); find out why before accepting it", what, len(p.Differences)),
				Evidence: ev})
		case DeliveredOnly:
			if p.Executable {
				out = append(out, result.Finding{Rule: "diff/rebuild-missing", Severity: result.High, Path: p.Path,
					Message: "delivered executable was not produced by the rebuild from the delivered source: nothing shows it was built from that source"})
			} else {
				out = append(out, result.Finding{Rule: "diff/rebuild-extra", Severity: result.Medium, Path: p.Path,
					Message: "delivered file was not produced by the rebuild from the delivered source; check that the source or build instructions account for it"})
			}
		case RebuiltOnly:
			out = append(out, result.Finding{Rule: "diff/rebuild-undelivered", Severity: result.Low, Path: p.Path,
				Message: "the rebuild produced this file but it was not delivered"})
		case Equivalent:
			var ev []string
			for _, d := range p.Differences {
				ev = append(ev, d.Message)
			}
			if len(ev) > 0 {
				out = append(out, result.Finding{Rule: "diff/rebuild-toolchain", Severity: result.Low, Path: p.Path,
					Message: "delivered executable is equivalent to its rebuild but was built with another toolchain version", Evidence: ev})
			}
		}
	}
	return out
}

// WriteText writes the report for people: one line per pair that is not identical, its
// differences and what was ignored, then the counts and the verdict.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "delivered: %s\nrebuilt:   %s\n\n", rep.Delivered, rep.Rebuilt)
	for _, p := range rep.Pairs {
		name := p.Path
		if name == "" {
			name = "(file)"
		}
		if p.RebuiltPath != "" {
			name += " ↔ " + p.RebuiltPath
		}
		fmt.Fprintf(&b, "%-14s %s\n", p.Verdict, name)
		for _, d := range p.Differences {
			fmt.Fprintf(&b, "    %-6s %s\n", d.Severity, d.Message)
		}
		for _, d := range p.Ignored {
			fmt.Fprintf(&b, "    ignored %s\n", d.Message)
		}
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(&b, "error          %s: %s\n", e.Path, e.Error)
	}
	c := rep.Counts
	fmt.Fprintf(&b, "\n%d files: %d identical, %d equivalent, %d differ, %d delivered only, %d rebuilt only, %d errors\n",
		c.Pairs, c.Identical, c.Equivalent, c.Differs, c.DeliveredOnly, c.RebuiltOnly, len(rep.Errors))
	switch rep.Verdict {
	case Identical:
		b.WriteString("identical: the delivery matches its rebuild up to legitimate build differences\n")
	case Differs:
		b.WriteString("differs: the delivery does not match its rebuild; explain every difference above before accepting it\n")
	default:
		b.WriteString("error: some files could not be compared; the delivery is not shown to match its rebuild\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
