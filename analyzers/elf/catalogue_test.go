package elf

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/gobuild"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// Tests of the bad-input catalogue rows E1, E3, E4, E6 and E8
// (/work/shared/reference/bad-inputs.md §7): each builds the hostile file and runs every
// analyzer kensa runs on an ELF file that this module's executable analyzers provide
// (elf, and the Go and Rust build information readers of package gobuild).

// executableOutcome is what one analyzer made of a file.
type executableOutcome struct {
	name  string
	facts any
	err   error
}

// analyzeExecutable runs the elf, go and rust analyzers on the size-byte file in r, as the
// inventory does (analyzers.Run, which turns a panic into a *analyzers.PanicError), and
// fails the test on a recovered panic anywhere, in an analyzer or in a library it called.
func analyzeExecutable(t *testing.T, r io.ReaderAt, size int64) []executableOutcome {
	t.Helper()
	l := limits.Default()
	a := &analyzers.Artifact{Path: "hostile", Format: sniff.ELF, Size: size, Content: r, Limits: &l}
	var out []executableOutcome
	for _, an := range []analyzers.Analyzer{New(), gobuild.NewGo(), gobuild.NewRust()} {
		var o executableOutcome
		o.name = an.Name()
		if res := analyzers.Run(context.Background(), []analyzers.Analyzer{an}, a); len(res) == 1 {
			o.facts, o.err = res[0].Facts, res[0].Err
		}
		var pe *analyzers.PanicError
		if errors.As(o.err, &pe) || o.err != nil && (strings.Contains(o.err.Error(), "made the parser fail") || strings.Contains(o.err.Error(), "recovered panic")) {
			t.Fatalf("%s: a panic was recovered: %v", o.name, o.err)
		}
		out = append(out, o)
	}
	return out
}

// elfFacts returns the elf analyzer's facts from outcomes.
func elfFacts(t *testing.T, out []executableOutcome) (*Facts, error) {
	t.Helper()
	f, _ := out[0].facts.(*Facts)
	if out[0].name != "elf" || f == nil {
		t.Fatalf("no elf facts: %+v", out[0])
	}
	return f, out[0].err
}

func hasAnomaly(f *Facts, substr string) bool {
	return slices.ContainsFunc(f.Anomalies, func(s string) bool { return strings.Contains(s, substr) })
}

// TestE1HugeSectionSize: the last section header of a real gcc build claims
// sh_size = 0xFFFFFFFFFFFFFFFF (Go #53626, #33121: makeslice panic). debug/elf refuses the
// section header table; kensa does not panic, allocates nothing in proportion to the
// claim, reads the file as the loader does (program headers, dynamic section) and
// reports the unusable section header table as an anomaly.
func TestE1HugeSectionSize(t *testing.T) {
	orig := readFixture(t, "default")
	le := binary.LittleEndian
	shoff, shnum := le.Uint64(orig[40:]), uint64(le.Uint16(orig[60:]))
	for _, which := range []struct {
		name string
		idx  uint64
	}{{"last", shnum - 1}, {"symtab", 0}} {
		t.Run(which.name, func(t *testing.T) {
			b := slices.Clone(orig)
			idx := which.idx
			if which.name == "symtab" {
				ef, err := elf.NewFile(bytes.NewReader(orig))
				if err != nil {
					t.Fatal(err)
				}
				idx = uint64(slices.IndexFunc(ef.Sections, func(s *elf.Section) bool { return s.Type == elf.SHT_SYMTAB }))
			}
			le.PutUint64(b[shoff+idx*64+32:], ^uint64(0))
			var out []executableOutcome
			alloc := allocated(func() { out = analyzeExecutable(t, bytes.NewReader(b), int64(len(b))) })
			f, err := elfFacts(t, out)
			if err != nil {
				t.Errorf("error %v", err)
			}
			want := fmt.Sprintf("invalid section size '-1' in record at byte 0x%x", shoff+idx*64)
			if !hasAnomaly(f, "section header table unusable") || !hasAnomaly(f, want) || !hasAnomaly(f, "no section header table") {
				t.Errorf("anomalies %q lack the unusable section header table (%s)", f.Anomalies, want)
			}
			if !slices.Equal(f.Needed, []string{"libc.so.6"}) || f.Interpreter == "" || !f.PIE {
				t.Errorf("the loader's view is lost: needed %q interpreter %q pie %v", f.Needed, f.Interpreter, f.PIE)
			}
			if limit := 16 << 20 * allocFactor(); alloc > limit {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(b))
			}
		})
	}
}

// zlibZeros returns a zlib stream that inflates to n MiB of zeros: a stream for one MiB
// whose middle deflate block (flushed on a byte boundary, its window all zeros) is
// repeated, so that a 512 MiB stream costs no more than 1 MiB to make.
func zlibZeros(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	mib := make([]byte, 1<<20)
	zw.Write(mib)
	zw.Flush()
	start := buf.Len()
	zw.Write(mib)
	zw.Flush()
	block := bytes.Clone(buf.Bytes()[start:])
	zw.Write(mib)
	zw.Flush()
	again := bytes.Clone(buf.Bytes()[start+len(block):])
	if !bytes.Equal(block, again) {
		t.Fatal("the deflate block of a zero MiB differs from one MiB to the next")
	}
	head := bytes.Clone(buf.Bytes()[:start])
	out := append(head, bytes.Repeat(block, n-1)...)
	// Adler-32 of n MiB of zeros: s1 stays 1, s2 adds it once per byte.
	adler := uint32(uint64(n)<<20%65521)<<16 | 1
	out = append(out, 0x03, 0x00) // a final fixed-Huffman block with only end-of-block
	return binary.BigEndian.AppendUint32(out, adler)
}

// zstdZeros returns a zstd frame that decompresses to size zero bytes: a frame header
// declaring the content size and RLE blocks of 128 KiB each.
func zstdZeros(size uint64) []byte {
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0} // magic; single segment, 8-byte content size
	out = binary.LittleEndian.AppendUint64(out, size)
	const block = 128 << 10
	for left := size; left > 0; left -= min(left, block) {
		n := min(left, block)
		h := uint32(n)<<3 | 1<<1 // RLE block
		if left == n {
			h |= 1 // last block
		}
		out = append(out, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return out
}

// compressedELF builds a small executable (one read-only PT_LOAD over the whole file, a
// .text section) with a SHF_COMPRESSED .symtab declaring 512 MiB of zlib data and a
// SHF_COMPRESSED .gopclntab declaring 4 GiB of zstd data, both real streams. (The
// .gopclntab is not SHF_ALLOC: debug/elf refuses compressed allocated sections, and
// kensa then reads the file without its section headers.)
func compressedELF(t *testing.T) []byte {
	t.Helper()
	chdr := func(typ elf.CompressionType, size uint64, stream []byte) []byte {
		h := make([]byte, 24)
		binary.LittleEndian.PutUint32(h, uint32(typ))
		binary.LittleEndian.PutUint64(h[8:], size)
		binary.LittleEndian.PutUint64(h[16:], 8)
		return append(h, stream...)
	}
	return buildSections([]catSection{
		{name: ".text", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, data: []byte{0xc3}},
		{name: ".symtab", typ: elf.SHT_SYMTAB, flags: elf.SHF_COMPRESSED, link: 3, entsize: 24,
			data: chdr(elf.COMPRESS_ZLIB, 512<<20, zlibZeros(t, 512))},
		{name: ".strtab", typ: elf.SHT_STRTAB, data: []byte("\x00main\x00")},
		{name: ".gopclntab", typ: elf.SHT_PROGBITS, flags: elf.SHF_COMPRESSED,
			data: chdr(elf.COMPRESS_ZSTD, 4<<30, zstdZeros(4<<30))},
	})
}

// TestE3CompressedSectionBomb: a file of about 650 KB whose SHF_COMPRESSED .symtab
// declares 512 MiB (zlib) and whose .gopclntab declares 4 GiB (zstd) (syft #5187).
// kensa decompresses no section: the analyzers complete without allocating by the
// declared sizes, and the elf facts report each declared size over 128 MiB.
func TestE3CompressedSectionBomb(t *testing.T) {
	b := compressedELF(t)
	// The streams are real: the first MiB of each inflates to zeros.
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".symtab", ".gopclntab"} {
		sec := ef.Section(name)
		if sec == nil {
			t.Fatalf("no %s", name)
		}
		r := sec.Open()
		head := make([]byte, 1<<20)
		if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head, make([]byte, 1<<20)) {
			t.Fatalf("%s does not inflate to zeros: %v", name, err)
		}
	}
	t.Logf("%d-byte file; .symtab declares %d bytes, .gopclntab %d", len(b), ef.Section(".symtab").Size, ef.Section(".gopclntab").Size)

	var out []executableOutcome
	alloc := allocated(func() { out = analyzeExecutable(t, bytes.NewReader(b), int64(len(b))) })
	f, err := elfFacts(t, out)
	if err != nil {
		t.Errorf("error %v", err)
	}
	for _, want := range []string{
		"section 2 (.symtab) declares 536870912 bytes when decompressed (zlib), more than 128 MiB; not decompressed",
		"section 4 (.gopclntab) declares 4294967296 bytes when decompressed (zstd), more than 128 MiB; not decompressed",
		"symbol table is marked compressed; not read",
	} {
		if !slices.Contains(f.Anomalies, want) {
			t.Errorf("anomalies %q lack %q", f.Anomalies, want)
		}
	}
	for _, o := range out[1:] {
		if o.facts != nil || o.err != nil {
			t.Errorf("%s: facts %+v, error %v", o.name, o.facts, o.err)
		}
	}
	if limit := 8 << 20 * allocFactor(); alloc > limit {
		t.Errorf("allocated %d bytes", alloc)
	}
	t.Logf("allocated %d bytes", alloc)
}

// catSection is one section of buildSections.
type catSection struct {
	name    string
	typ     elf.SectionType
	flags   elf.SectionFlag
	link    uint32
	entsize uint64
	data    []byte
}

// buildSections lays out a little-endian x86-64 ELF executable: header, one program
// header (a read-only PT_LOAD mapping the whole file at 0x400000, executable when a
// section is), the sections (8-byte aligned, addressed in that segment), .shstrtab and
// the section header table.
func buildSections(secs []catSection) []byte {
	const base = 0x400000
	le := binary.LittleEndian
	b := make([]byte, 64+56)
	shstr := []byte{0}
	type placed struct{ name, off int }
	var ps []placed
	all := append(slices.Clone(secs), catSection{name: ".shstrtab", typ: elf.SHT_STRTAB})
	for _, s := range all {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		p := placed{name: len(shstr), off: len(b)}
		shstr = append(append(shstr, s.name...), 0)
		if s.name == ".shstrtab" {
			s.data = shstr
		}
		b = append(b, s.data...)
		ps = append(ps, p)
	}
	all[len(all)-1].data = shstr
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	shoff := len(b)
	b = append(b, make([]byte, 64*(len(all)+1))...)
	flags := elf.PF_R
	for i, s := range all {
		h := b[shoff+64*(i+1):]
		le.PutUint32(h[0:], uint32(ps[i].name))
		le.PutUint32(h[4:], uint32(s.typ))
		le.PutUint64(h[8:], uint64(s.flags))
		if s.flags&elf.SHF_ALLOC != 0 {
			le.PutUint64(h[16:], uint64(base+ps[i].off))
		}
		if s.flags&elf.SHF_EXECINSTR != 0 {
			flags |= elf.PF_X
		}
		le.PutUint64(h[24:], uint64(ps[i].off))
		le.PutUint64(h[32:], uint64(len(s.data)))
		le.PutUint32(h[40:], s.link)
		le.PutUint64(h[48:], 8)
		le.PutUint64(h[56:], s.entsize)
	}
	copy(b, elf.ELFMAG)
	b[4], b[5], b[6] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[24:], uint64(base+ps[0].off))
	le.PutUint64(b[32:], 64)
	le.PutUint64(b[40:], uint64(shoff))
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], 56)
	le.PutUint16(b[56:], 1)
	le.PutUint16(b[58:], 64)
	le.PutUint16(b[60:], uint16(len(all)+1))
	le.PutUint16(b[62:], uint16(len(all)))
	ph := b[64:]
	le.PutUint32(ph[0:], uint32(elf.PT_LOAD))
	le.PutUint32(ph[4:], uint32(flags))
	le.PutUint64(ph[16:], base)
	le.PutUint64(ph[24:], base)
	le.PutUint64(ph[32:], uint64(len(b)))
	le.PutUint64(ph[40:], uint64(len(b)))
	le.PutUint64(ph[48:], 0x1000)
	return b
}

// TestE4FuzzedReproducers runs the crash classes of the fuzzed debug/elf reproducers
// (Go #47445, #52035, #54967 and their kin #10996, #10999, #62649, #63610, #64446:
// tables whose links, sizes, entry sizes and counts point outside the file) through the
// analyzers: the exact reproducer of Go's TestIssue10996, then each header or table field
// of a real gcc build set to the values those reports used. Every file must end in facts
// or an error (ERROR/BOUNDED), without a recovered panic, within a fixed allocation, and
// give the same result twice.
func TestE4FuzzedReproducers(t *testing.T) {
	orig := readFixture(t, "default")
	ef, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	shoff := le.Uint64(orig[40:])
	phoff := le.Uint64(orig[32:])
	secField := func(name string, field int, width int, v uint64) func([]byte) {
		return func(b []byte) {
			i := slices.IndexFunc(ef.Sections, func(s *elf.Section) bool { return s.Name == name })
			if i < 0 {
				t.Fatalf("no section %s", name)
			}
			at := shoff + uint64(i)*64 + uint64(field)
			if width == 4 {
				le.PutUint32(b[at:], uint32(v))
			} else {
				le.PutUint64(b[at:], v)
			}
		}
	}
	progField := func(typ elf.ProgType, field int, v uint64) func([]byte) {
		return func(b []byte) {
			i := slices.IndexFunc(ef.Progs, func(p *elf.Prog) bool { return p.Type == typ })
			le.PutUint64(b[phoff+uint64(i)*56+uint64(field):], v)
		}
	}
	header := func(at int, width int, v uint64) func([]byte) {
		return func(b []byte) {
			switch width {
			case 2:
				le.PutUint16(b[at:], uint16(v))
			case 8:
				le.PutUint64(b[at:], v)
			}
		}
	}
	verneed := func(b []byte) {
		s := ef.Section(".gnu.version_r")
		le.PutUint16(b[s.Offset+2:], 0xffff) // vn_cnt
		le.PutUint32(b[s.Offset+8:], 0x7fffffff)
	}
	note := func(b []byte) {
		s := ef.Section(".note.gnu.build-id")
		le.PutUint32(b[s.Offset:], 0xfffffff0)   // namesz
		le.PutUint32(b[s.Offset+4:], 0xfffffff0) // descsz
	}
	cases := []struct {
		name   string
		mutate func([]byte)
	}{
		{"dynamic-link-out-of-range", secField(".dynamic", 40, 4, 0xffff)},
		{"dynamic-odd-size", secField(".dynamic", 32, 8, 7)},
		{"pt-dynamic-odd-size", progField(elf.PT_DYNAMIC, 32, 7)},
		{"pt-dynamic-past-eof", progField(elf.PT_DYNAMIC, 8, 1<<40)},
		{"dynstr-past-eof", secField(".dynstr", 24, 8, 1<<40)},
		{"dynsym-link-out-of-range", secField(".dynsym", 40, 4, 1000)},
		{"dynsym-entsize-zero", secField(".dynsym", 56, 8, 0)},
		{"dynsym-size-not-entries", secField(".dynsym", 32, 8, 25)},
		{"symtab-link-out-of-range", secField(".symtab", 40, 4, 1000)},
		{"symtab-link-to-itself", func(b []byte) {
			i := slices.IndexFunc(ef.Sections, func(s *elf.Section) bool { return s.Name == ".symtab" })
			secField(".symtab", 40, 4, uint64(i))(b)
		}},
		{"symtab-entsize-huge", secField(".symtab", 56, 8, 1<<40)},
		{"versym-one-byte", secField(".gnu.version", 32, 8, 1)},
		{"verneed-huge-count", verneed},
		{"note-huge-sizes", note},
		{"phentsize-one", header(54, 2, 1)},
		{"phnum-max", header(56, 2, 0xffff)},
		{"phoff-past-eof", header(32, 8, 1<<40)},
		{"shentsize-one", header(58, 2, 1)},
		{"shstrndx-out-of-range", header(62, 2, 0xfffe)},
		{"shstrndx-xindex", header(62, 2, 0xffff)},
		{"shnum-zero-extended-huge", func(b []byte) {
			le.PutUint16(b[60:], 0)
			le.PutUint64(b[shoff+32:], 1<<62)
		}},
	}
	run := func(t *testing.T, b []byte) {
		var out, again []executableOutcome
		alloc := allocated(func() { out = analyzeExecutable(t, bytes.NewReader(b), int64(len(b))) })
		again = analyzeExecutable(t, bytes.NewReader(b), int64(len(b)))
		if out[0].facts == nil && out[0].err == nil {
			t.Error("elf: neither facts nor an error")
		}
		for i := range out {
			j1, _ := json.Marshal(out[i].facts)
			j2, _ := json.Marshal(again[i].facts)
			if !bytes.Equal(j1, j2) || fmt.Sprint(out[i].err) != fmt.Sprint(again[i].err) {
				t.Errorf("%s: two runs differ", out[i].name)
			}
		}
		// A 16-bit e_phnum lets each debug/elf parse (the elf analyzer's two, the go
		// and rust analyzers' one each) read a program header table of up to 3.6 MB.
		if limit := 32 << 20 * allocFactor(); alloc > limit {
			t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(b))
		}
	}
	t.Run("go10996", func(t *testing.T) {
		run(t, []byte("\u007fELF\x02\x01\x010000000000000"+"\x010000000000000000000"+
			"\x00\x00\x00\x00\x00\x00\x00\x0000000000\x00\x00\x00\x00"+"0000"))
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := slices.Clone(orig)
			c.mutate(b)
			run(t, b)
		})
	}
	// The same file cut at every eighth of its length.
	for i := 1; i < 8; i++ {
		t.Run(fmt.Sprintf("truncated-%d-of-8", i), func(t *testing.T) { run(t, orig[:len(orig)*i/8]) })
	}
}

// TestE6CodeOutsideSections: bytes of an executable PT_LOAD that no section covers are
// code that section-based tools (objdump -d, disassemblers) do not show (cf. Ghidra
// #9167). A real gcc build whose .text section header is cut to half its size keeps
// its code mapped by the loader; the facts flag the uncovered range. The unmodified
// build, whose executable segment has only zero padding between sections, is not flagged.
func TestE6CodeOutsideSections(t *testing.T) {
	orig := readFixture(t, "default")
	ef, err := elf.NewFile(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	f, err := analyzeBytes(orig)
	if err != nil || hasAnomaly(f, "no section covers") {
		t.Fatalf("the unmodified build: error %v, anomalies %q", err, f.Anomalies)
	}
	text := slices.IndexFunc(ef.Sections, func(s *elf.Section) bool { return s.Name == ".text" })
	sec := ef.Sections[text]
	b := slices.Clone(orig)
	half := sec.Size / 2
	binary.LittleEndian.PutUint64(b[binary.LittleEndian.Uint64(b[40:])+uint64(text)*64+32:], half)
	seg := slices.IndexFunc(ef.Progs, func(p *elf.Prog) bool {
		return p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && sec.Offset >= p.Off && sec.Offset-p.Off < p.Filesz
	})
	// The uncovered bytes run from the cut to .fini, which follows .text after alignment.
	fini := ef.Section(".fini")
	out := analyzeExecutable(t, bytes.NewReader(b), int64(len(b)))
	f, err = elfFacts(t, out)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("executable segment %d maps %d bytes that no section covers (1 ranges, the first at offset 0x%x)",
		seg, fini.Offset-(sec.Offset+half), sec.Offset+half)
	if !slices.Contains(f.Anomalies, want) {
		t.Errorf("anomalies %q lack %q", f.Anomalies, want)
	}
}

// hugeData is a synthetic file of size bytes: head, then zeros. It holds no memory for
// the zeros.
type hugeData struct {
	head []byte
	size int64
}

func (h *hugeData) ReadAt(p []byte, off int64) (int, error) {
	if off >= h.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), h.size-off))
	clear(p[:n])
	if off < int64(len(h.head)) {
		copy(p, h.head[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestE8HugeWritableSegment: a stripped, non-Go executable of 256 MiB whose writable
// PT_LOAD maps the whole file and claims 1 TiB in memory (Go #68592, #59817:
// debug/buildinfo read the whole data segment). The elf analyzer reads it in bounded
// chunks, and the Go and Rust build information readers stop at their read budgets and
// report nothing: the analyzers allocate a few MiB, not the segment.
func TestE8HugeWritableSegment(t *testing.T) {
	const size = 256 << 20
	b := buildELF(elf.EM_X86_64, elf.ET_EXEC, 0x400000+64+2*56, []phdr{
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: 0x400000, body: true},
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W, vaddr: 0x10000000, whole: true},
	}, []byte{0xc3})
	le := binary.LittleEndian
	data := 64 + 56                  // the second program header
	le.PutUint64(b[data+32:], size)  // p_filesz: the whole file
	le.PutUint64(b[data+40:], 1<<40) // p_memsz
	var out []executableOutcome
	alloc := allocated(func() { out = analyzeExecutable(t, &hugeData{head: b, size: size}, size) })
	f, err := elfFacts(t, out)
	if err != nil {
		t.Errorf("error %v", err)
	}
	if len(f.ProgramHeaders) != 2 || f.ProgramHeaders[1].Memsz != 1<<40 || f.ProgramHeaders[1].Filesz != size || !f.Stripped {
		t.Errorf("program headers %+v stripped %v", f.ProgramHeaders, f.Stripped)
	}
	for _, o := range out[1:] {
		if o.facts != nil || o.err != nil {
			t.Errorf("%s: facts %+v, error %v", o.name, o.facts, o.err)
		}
	}
	if limit := 16 << 20 * allocFactor(); alloc > limit {
		t.Errorf("allocated %d bytes for a %d-byte file", alloc, size)
	}
	t.Logf("allocated %d bytes for a %d-byte file whose data segment claims %d bytes", alloc, size, uint64(1<<40))
}
