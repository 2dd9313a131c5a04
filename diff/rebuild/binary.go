package rebuild

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// Caps on what one comparison may read, hold or report.
const (
	// maxBinaryBytes bounds the size of either binary.
	maxBinaryBytes = 1 << 30
	// maxSectionBytes bounds one section read into memory for a byte comparison.
	maxSectionBytes = 256 << 20
	// maxStrings and maxStringBytes bound the distinct strings kept per binary;
	// maxStringLength cuts one string.
	maxStrings      = 1 << 20
	maxStringBytes  = 64 << 20
	maxStringLength = 1024
	// minStringLength is the shortest printable run counted as a string.
	minStringLength = 5
	// maxListed caps the differences of one kind listed one by one; the rest are counted
	// in one summary line.
	maxListed = 50
	// maxRunExpand bounds how far a differing byte's printable run is followed.
	maxRunExpand = 4096
)

// Verdicts of a pair.
const (
	// Identical: the same bytes.
	Identical = "identical"
	// Equivalent: only legitimate build differences, each listed in Ignored.
	Equivalent = "equivalent"
	// Differs: at least one meaningful difference, each listed in Differences.
	Differs = "differs"
	// DeliveredOnly: a delivered file the rebuild did not produce.
	DeliveredOnly = "delivered-only"
	// RebuiltOnly: a file the rebuild produced that was not delivered.
	RebuiltOnly = "rebuilt-only"
	// Failed: the pair could not be compared; see Report.Errors.
	Failed = "error"
)

// Difference is one way the delivered file differs from its rebuild. In Ignored it is a
// legitimate build difference, said with what it was.
type Difference struct {
	// Kind groups differences: function, import, export, library, section, string,
	// header, go-build, toolchain, content; for ignored ones build-id, debug-info,
	// symbol-table, layout, timestamp, checksum, signature, rich-header, build-path.
	Kind string `json:"kind"`
	// Name is what differs (a function, an import, a section), when it has a name.
	Name string `json:"name,omitempty"`
	// Severity is high for what could be injected code or data, low for a toolchain
	// change, info for ignored differences.
	Severity result.Severity `json:"severity"`
	// Message says it in one sentence, the rebuild being the reference: "function
	// handle_request is 12 bytes larger (143 → 155)".
	Message string `json:"message"`
}

// BinaryDiff is the comparison of one delivered executable with its rebuild.
type BinaryDiff struct {
	// Format is elf, pe or macho.
	Format string `json:"format"`
	// Verdict is identical, equivalent or differs.
	Verdict     string       `json:"verdict"`
	Differences []Difference `json:"differences,omitempty"`
	Ignored     []Difference `json:"ignored,omitempty"`
}

// CompareBinary compares a delivered executable (ELF, PE or Mach-O) with the one rebuilt
// from the delivered source. It ignores what legitimately differs between builds (build
// IDs, timestamps, build paths, debug information, signatures, section layout) and lists
// it in Ignored; everything else is a Difference. Both inputs are hostile: every read is
// bounded, and a malformed file gives an error, never a panic.
func CompareBinary(delivered, rebuilt io.ReaderAt, dSize, rSize int64) (bd *BinaryDiff, err error) {
	defer func() {
		if v := recover(); v != nil {
			bd, err = nil, fmt.Errorf("rebuild: malformed executable made the comparison fail (%v); inspect the file by hand", v)
		}
	}()
	for _, s := range []int64{dSize, rSize} {
		if s < 0 {
			return nil, errors.New("rebuild: negative file size")
		}
		if s > maxBinaryBytes {
			return nil, &limits.Error{Limit: "file-size", Value: maxBinaryBytes, What: fmt.Sprintf("executable of %d bytes compared with its rebuild", s)}
		}
	}
	df, rf := formatOf(delivered), formatOf(rebuilt)
	c := &comparison{}
	if dSize == rSize {
		same, err := sameBytes(delivered, rebuilt, dSize)
		if err != nil {
			return nil, err
		}
		if same {
			return &BinaryDiff{Format: df, Verdict: Identical}, nil
		}
	}
	if df == "" || rf == "" {
		return nil, fmt.Errorf("rebuild: not an ELF, PE or Mach-O executable (delivered %q, rebuilt %q); compare these files as data", orUnknown(df), orUnknown(rf))
	}
	if df != rf {
		c.differ("header", "format", "the delivered file is %s, the rebuild is %s", df, rf)
		return c.result(df), nil
	}
	d := &image{r: delivered, size: dSize}
	r := &image{r: rebuilt, size: rSize}
	switch df {
	case "elf":
		err = compareELF(c, d, r)
	case "pe":
		err = comparePE(c, d, r)
	case "macho":
		err = compareMachO(c, d, r)
	}
	if err != nil {
		return nil, err
	}
	return c.result(df), nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// formatOf names the executable format from the magic number.
func formatOf(r io.ReaderAt) string {
	var b [4]byte
	if n, _ := r.ReadAt(b[:], 0); n < 4 {
		return ""
	}
	switch {
	case string(b[:]) == "\x7fELF":
		return "elf"
	case string(b[:2]) == "MZ":
		return "pe"
	}
	switch binary.LittleEndian.Uint32(b[:]) {
	case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe:
		return "macho"
	}
	return ""
}

// sameBytes reports whether the first size bytes of a and b are equal.
func sameBytes(a, b io.ReaderAt, size int64) (bool, error) {
	const chunk = 1 << 20
	ba, bb := make([]byte, min(chunk, size)), make([]byte, min(chunk, size))
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		if _, err := a.ReadAt(ba[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("rebuild: reading the delivered file: %w", err)
		}
		if _, err := b.ReadAt(bb[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("rebuild: reading the rebuilt file: %w", err)
		}
		if !bytes.Equal(ba[:n], bb[:n]) {
			return false, nil
		}
	}
	return true, nil
}

// comparison gathers the differences of one pair.
type comparison struct {
	diffs   []Difference
	ignored []Difference
}

func (c *comparison) add(sev result.Severity, kind, name, format string, args ...any) {
	c.diffs = append(c.diffs, Difference{Kind: kind, Name: name, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (c *comparison) differ(kind, name, format string, args ...any) {
	c.add(result.High, kind, name, format, args...)
}

func (c *comparison) ignore(kind, name, format string, args ...any) {
	c.ignored = append(c.ignored, Difference{Kind: kind, Name: name, Severity: result.Info, Message: fmt.Sprintf(format, args...)})
}

// result decides the verdict: any difference above low makes the pair differ.
func (c *comparison) result(format string) *BinaryDiff {
	bd := &BinaryDiff{Format: format, Verdict: Equivalent, Differences: c.diffs, Ignored: c.ignored}
	for _, d := range c.diffs {
		if d.Severity.Rank() > result.Low.Rank() {
			bd.Verdict = Differs
		}
	}
	return bd
}

// section is one section of an executable, as the comparison needs it.
type section struct {
	Name string
	// Offset and FileSize locate its bytes in the file; FileSize is 0 for sections that
	// occupy no file bytes.
	Offset, FileSize int64
	// Size is the size the header states (in memory for allocated sections).
	Size uint64
	Addr uint64
	// Alloc: loaded into memory; Exec: executable.
	Alloc, Exec bool
	// Strings: its printable strings are compared.
	Strings bool
}

// span is a byte range [Off, End) of a file.
type span struct{ Off, End int64 }

// image is one side of a comparison.
type image struct {
	r        io.ReaderAt
	size     int64
	sections []section
	// stripped: no symbol table, so strings are read from the whole file.
	stripped bool
	// mask are file ranges of legitimately differing bytes (build IDs, debug directory,
	// signature): left out of byte and string comparisons.
	mask []span
	// stringMask are file ranges of ignored sections, left out of whole-file strings.
	stringMask []span
	// readBudget bounds the section bytes read, against overlapping sections.
	readBudget int64
}

// read returns the file bytes of s, bounded.
func (im *image) read(s section) ([]byte, error) {
	if s.FileSize <= 0 {
		return nil, nil
	}
	if s.Offset < 0 || s.Offset > im.size || s.FileSize > im.size-s.Offset {
		return nil, fmt.Errorf("rebuild: section %s (offset %d, %d bytes) lies outside the %d-byte file", s.Name, s.Offset, s.FileSize, im.size)
	}
	if s.FileSize > maxSectionBytes {
		return nil, &limits.Error{Limit: "section-size", Value: maxSectionBytes, What: fmt.Sprintf("section %s of %d bytes", s.Name, s.FileSize)}
	}
	if im.readBudget == 0 {
		im.readBudget = 4*im.size + 1<<20
	}
	if s.FileSize > im.readBudget {
		return nil, fmt.Errorf("rebuild: sections overlap so much that reading them would take more than four times the file size; the file is malformed")
	}
	im.readBudget -= s.FileSize
	b := make([]byte, s.FileSize)
	if _, err := im.r.ReadAt(b, s.Offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("rebuild: reading section %s: %w", s.Name, err)
	}
	return b, nil
}

// masked reports the mask spans that overlap section s, relative to its start.
func (im *image) masked(s section) []span {
	var out []span
	for _, m := range im.mask {
		lo, hi := max(m.Off, s.Offset), min(m.End, s.Offset+s.FileSize)
		if lo < hi {
			out = append(out, span{lo - s.Offset, hi - s.Offset})
		}
	}
	return out
}

func inSpans(spans []span, i int64) bool {
	for _, s := range spans {
		if i >= s.Off && i < s.End {
			return true
		}
	}
	return false
}

// keyed names sections uniquely: the second section named x is "x#2".
func keyed(secs []section) (map[string]section, []string) {
	m := map[string]section{}
	var order []string
	seen := map[string]int{}
	for _, s := range secs {
		seen[s.Name]++
		k := s.Name
		if n := seen[s.Name]; n > 1 {
			k = fmt.Sprintf("%s#%d", s.Name, n)
		}
		m[k] = s
		order = append(order, k)
	}
	return m, order
}

// compareSections compares the sections that skip does not set aside: the set of
// names, the sizes and the bytes of those whose sizes match. skip returns the ignored
// kind and a description for a section compared elsewhere or ignored.
func compareSections(c *comparison, d, r *image, skip func(section) bool) error {
	dm, dOrder := keyed(d.sections)
	rm, rOrder := keyed(r.sections)
	moved := 0
	for _, k := range rOrder {
		if _, ok := dm[k]; !ok && !skip(rm[k]) {
			c.differ("section", k, "section %s of the rebuild is missing from the delivered file", k)
		}
	}
	for _, k := range dOrder {
		ds := dm[k]
		if skip(ds) {
			continue
		}
		rs, ok := rm[k]
		if !ok {
			c.differ("section", k, "new section %s (%d bytes) in the delivered file, not in the rebuild", k, ds.Size)
			continue
		}
		if ds.Addr != rs.Addr || ds.Offset != rs.Offset {
			moved++
		}
		if ds.Size != rs.Size {
			c.differ("section", k, "section %s is %s (%d → %d)", k, larger(rs.Size, ds.Size), rs.Size, ds.Size)
			continue
		}
		if ds.FileSize != rs.FileSize {
			c.differ("section", k, "section %s holds %d file bytes in the rebuild, %d in the delivered file", k, rs.FileSize, ds.FileSize)
			continue
		}
		db, err := d.read(ds)
		if err != nil {
			return err
		}
		rb, err := r.read(rs)
		if err != nil {
			return err
		}
		bc := diffBytes(db, rb, d.masked(ds), r.masked(rs))
		if bc.unexplained > 0 {
			c.differ("section", k, "%d bytes of section %s differ (same size, %d bytes)", bc.unexplained, k, ds.FileSize)
		}
		if bc.explained > 0 {
			c.ignore("build-path", k, "%d bytes of section %s differ only inside dates, times, build paths or build IDs (%s)", bc.explained, k, bc.example)
		}
		if bc.masked > 0 {
			c.ignore("build-id", k, "%d bytes of section %s differ only inside build IDs, debug directory or signature data", bc.masked, k)
		}
	}
	if moved > 0 {
		c.ignore("layout", "", "%d sections have other addresses or file offsets; addresses and offsets are not compared", moved)
	}
	return nil
}

func larger(from, to uint64) string {
	if to > from {
		return fmt.Sprintf("%d bytes larger", to-from)
	}
	return fmt.Sprintf("%d bytes smaller", from-to)
}

// byteCount is the outcome of a byte comparison of two equally long sections.
type byteCount struct {
	unexplained, explained, masked int
	example                        string
}

func printable(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' }

// runAt returns the printable run of b around i, each way at most maxRunExpand bytes.
func runAt(b []byte, i int) (int, int) {
	if !printable(b[i]) {
		return i, i
	}
	s, e := i, i+1
	for s > 0 && i-s < maxRunExpand && printable(b[s-1]) {
		s--
	}
	for e < len(b) && e-i < maxRunExpand && printable(b[e]) {
		e++
	}
	return s, e
}

// diffBytes counts the differing bytes of a and b (equally long). A differing byte is
// explained when it lies in a printable run whose two versions normalise alike (a date,
// time, build path or Go build ID that changed), and masked when either side masks it.
func diffBytes(a, b []byte, am, bm []span) byteCount {
	var bc byteCount
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		if inSpans(am, int64(i)) || inSpans(bm, int64(i)) {
			bc.masked++
			continue
		}
		as, ae := runAt(a, i)
		bs, be := runAt(b, i)
		end := max(ae, be)
		n := 0
		for j := i; j < end && j < len(a) && j < len(b); j++ {
			if a[j] != b[j] {
				n++
			}
		}
		if ae > as && be > bs && normalise(string(a[as:ae])) == normalise(string(b[bs:be])) {
			bc.explained += n
			if bc.example == "" {
				bc.example = fmt.Sprintf("%q → %q", clip(string(b[bs:be])), clip(string(a[as:ae])))
			}
		} else if ae > as || be > bs {
			bc.unexplained += n
		} else {
			bc.unexplained++
			continue
		}
		i = end - 1
	}
	return bc
}

// excerpt shortens a long string for a message around where it departs from the most
// alike string of the other side (other is sorted): compilers pack strings together, and
// the new part of a long run is what a person needs to see.
func excerpt(s string, other []string) string {
	if len(s) <= 80 {
		return s
	}
	at := 0
	i := sort.SearchStrings(other, s)
	for _, j := range []int{i - 1, i} {
		if j >= 0 && j < len(other) {
			at = max(at, commonPrefix(s, other[j]))
		}
	}
	if at < 40 {
		return clip(s)
	}
	from := at - 20
	to := min(len(s), from+80)
	out := "…" + s[from:to]
	if to < len(s) {
		out += "…"
	}
	return out
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "…"
	}
	return s
}

// Normalisation of what legitimately differs inside strings.
var (
	ctimeRe   = regexp.MustCompile(`(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] [0-9]{4}`)
	cDateRe   = regexp.MustCompile(`(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3][0-9] [0-9]{4}`)
	isoDateRe = regexp.MustCompile(`[0-9]{4}-[01][0-9]-[0-3][0-9]([T ][0-2][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?`)
	timeRe    = regexp.MustCompile(`[0-2][0-9]:[0-5][0-9]:[0-5][0-9]`)
	epochRe   = regexp.MustCompile(`(^|[^0-9])1[0-9]{9}($|[^0-9])`)
	goIDRe    = regexp.MustCompile(`Go build ID: "[A-Za-z0-9_\-/=+]*"?`)
	unixDirRe = regexp.MustCompile(`(^|[\s"'=(,])(/[A-Za-z0-9._+@-]+)+/`)
	winDirRe  = regexp.MustCompile(`[A-Za-z]:(\\[^\\\s"]+)+\\`)
	tokensRe  = regexp.MustCompile(`<(date|time|epoch|id)>`)
)

// normalise replaces in s what legitimately differs between two builds of the same
// source: dates, times, Unix times, Go build IDs and the directory part of absolute
// paths. Two strings that normalise alike differ only in those.
func normalise(s string) string {
	s = goIDRe.ReplaceAllString(s, `Go build ID: "<id>"`)
	s = unixDirRe.ReplaceAllString(s, "${1}<dir>/")
	s = winDirRe.ReplaceAllString(s, `<dir>\`)
	s = ctimeRe.ReplaceAllString(s, "<date>")
	s = cDateRe.ReplaceAllString(s, "<date>")
	s = isoDateRe.ReplaceAllString(s, "<date>")
	s = timeRe.ReplaceAllString(s, "<time>")
	s = epochRe.ReplaceAllString(s, "${1}<epoch>${2}")
	return s
}

// onlyDate reports whether s is nothing but dates and times (and punctuation).
func onlyDate(s string) bool {
	n := normalise(s)
	if !tokensRe.MatchString(n) {
		return false
	}
	rest := tokensRe.ReplaceAllString(n, "")
	return strings.Trim(rest, " \t,.:;-/()[]T") == ""
}

// stringSet is the distinct printable strings of one binary.
type stringSet struct {
	set   map[string]struct{}
	bytes int
}

func (ss *stringSet) add(s string) error {
	if len(s) < minStringLength {
		return nil
	}
	if _, ok := ss.set[s]; ok {
		return nil
	}
	if len(ss.set) >= maxStrings || ss.bytes+len(s) > maxStringBytes {
		return &limits.Error{Limit: "strings", Value: maxStrings, What: "distinct printable strings of one executable"}
	}
	ss.set[s] = struct{}{}
	ss.bytes += len(s)
	return nil
}

// stringsOf reads the printable strings of the given file ranges, leaving out im.mask.
func stringsOf(im *image, ranges []span) (*stringSet, error) {
	ss := &stringSet{set: map[string]struct{}{}}
	buf := make([]byte, 1<<20)
	var cur []byte
	cut := false
	flush := func() error {
		err := ss.add(string(cur))
		cur, cut = cur[:0], false
		return err
	}
	for _, rg := range subtract(ranges, append(append([]span(nil), im.mask...), im.stringMask...)) {
		lo, hi := max(rg.Off, 0), min(rg.End, im.size)
		for off := lo; off < hi; {
			n := min(int64(len(buf)), hi-off)
			if _, err := im.r.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("rebuild: reading strings: %w", err)
			}
			for i := int64(0); i < n; i++ {
				c := buf[i]
				if printable(c) {
					if len(cur) < maxStringLength {
						cur = append(cur, c)
					} else {
						cut = true
					}
					continue
				}
				if len(cur) > 0 || cut {
					if err := flush(); err != nil {
						return nil, err
					}
				}
			}
			off += n
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

// subtract returns the parts of ranges outside every span of cut.
func subtract(ranges, cut []span) []span {
	sort.Slice(cut, func(i, j int) bool { return cut[i].Off < cut[j].Off })
	var out []span
	for _, rg := range ranges {
		cur := rg
		for _, m := range cut {
			if m.End <= cur.Off || m.Off >= cur.End {
				continue
			}
			if m.Off > cur.Off {
				out = append(out, span{cur.Off, m.Off})
			}
			cur.Off = max(cur.Off, m.End)
			if cur.Off >= cur.End {
				break
			}
		}
		if cur.Off < cur.End {
			out = append(out, cur)
		}
	}
	return out
}

// stringRanges chooses where strings are read: the sections marked for it, or the whole
// file when either side is stripped (a stripped binary's strings are all it tells).
func stringRanges(im *image, whole bool) []span {
	if whole {
		return []span{{0, im.size}}
	}
	var out []span
	for _, s := range im.sections {
		if s.Strings && s.FileSize > 0 {
			out = append(out, span{s.Offset, s.Offset + s.FileSize})
		}
	}
	return out
}

// compareStrings reports the strings of one side only, after pairing those that differ
// only in dates, times, build paths or build IDs.
func compareStrings(c *comparison, d, r *image) error {
	whole := d.stripped || r.stripped
	ds, err := stringsOf(d, stringRanges(d, whole))
	if err != nil {
		return err
	}
	rs, err := stringsOf(r, stringRanges(r, whole))
	if err != nil {
		return err
	}
	var added, removed []string
	for s := range ds.set {
		if _, ok := rs.set[s]; !ok {
			added = append(added, s)
		}
	}
	for s := range rs.set {
		if _, ok := ds.set[s]; !ok {
			removed = append(removed, s)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	byNorm := map[string][]string{}
	for _, s := range removed {
		n := normalise(s)
		byNorm[n] = append(byNorm[n], s)
	}
	paired := map[string]bool{}
	var newOnes []string
	explained, example := 0, ""
	for _, s := range added {
		n := normalise(s)
		if l := byNorm[n]; len(l) > 0 {
			byNorm[n] = l[1:]
			paired[l[0]] = true
			explained++
			if example == "" {
				example = fmt.Sprintf("%q → %q", clip(l[0]), clip(s))
			}
			continue
		}
		if onlyDate(s) {
			explained++
			continue
		}
		newOnes = append(newOnes, s)
	}
	var gone []string
	for _, s := range removed {
		if paired[s] {
			continue
		}
		if onlyDate(s) {
			explained++
			continue
		}
		gone = append(gone, s)
	}
	where := "in .rodata/.data"
	if whole {
		where = "in the whole file (a side is stripped)"
	}
	if explained > 0 {
		if example != "" {
			example = ", e.g. " + example
		}
		c.ignore("build-path", "", "%d strings %s differ only in dates, times, build paths or build IDs%s", explained, where, example)
	}
	for i, s := range newOnes {
		if i == maxListed {
			c.differ("string", "", "and %d more new strings in the delivered file", len(newOnes)-maxListed)
			break
		}
		c.differ("string", s, "new string %q in the delivered file, not in the rebuild", excerpt(s, gone))
	}
	for i, s := range gone {
		if i == maxListed {
			c.differ("string", "", "and %d more strings of the rebuild missing from the delivered file", len(gone)-maxListed)
			break
		}
		c.differ("string", s, "string %q of the rebuild is missing from the delivered file", excerpt(s, newOnes))
	}
	return nil
}

// compareSets reports names present on one side only: what names a kind ("import",
// "export", "library") in the sentence.
func compareSets(c *comparison, kind, what string, delivered, rebuilt []string) {
	dset, rset := map[string]bool{}, map[string]bool{}
	for _, s := range delivered {
		dset[s] = true
	}
	for _, s := range rebuilt {
		rset[s] = true
	}
	var added, removed []string
	for s := range dset {
		if !rset[s] {
			added = append(added, s)
		}
	}
	for s := range rset {
		if !dset[s] {
			removed = append(removed, s)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	for i, s := range added {
		if i == maxListed {
			c.differ(kind, "", "and %d more new %ss", len(added)-maxListed, what)
			break
		}
		c.differ(kind, s, "new %s %s in the delivered file, not in the rebuild", what, s)
	}
	for i, s := range removed {
		if i == maxListed {
			c.differ(kind, "", "and %d more %ss of the rebuild missing", len(removed)-maxListed, what)
			break
		}
		c.differ(kind, s, "%s %s of the rebuild is missing from the delivered file", what, s)
	}
}

// compareFunctions compares function symbols by name and size.
func compareFunctions(c *comparison, delivered, rebuilt map[string][]uint64) {
	var names []string
	for n := range delivered {
		names = append(names, n)
	}
	for n := range rebuilt {
		if _, ok := delivered[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	listed := 0
	more := 0
	for _, n := range names {
		ds, rs := delivered[n], rebuilt[n]
		var msgs []string
		switch {
		case rs == nil:
			msgs = append(msgs, fmt.Sprintf("new function %s (%d bytes) in the delivered file, not in the rebuild", n, ds[0]))
		case ds == nil:
			msgs = append(msgs, fmt.Sprintf("function %s of the rebuild (%d bytes) is missing from the delivered file", n, rs[0]))
		case len(ds) != len(rs):
			msgs = append(msgs, fmt.Sprintf("function %s is defined %d times in the delivered file, %d in the rebuild", n, len(ds), len(rs)))
		default:
			for i := range ds {
				if ds[i] != rs[i] {
					msgs = append(msgs, fmt.Sprintf("function %s is %s (%d → %d)", n, larger(rs[i], ds[i]), rs[i], ds[i]))
				}
			}
		}
		for _, m := range msgs {
			if listed == maxListed {
				more++
				continue
			}
			listed++
			c.differ("function", n, "%s", m)
		}
	}
	if more > 0 {
		c.differ("function", "", "and %d more function differences", more)
	}
}
