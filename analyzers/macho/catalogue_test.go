package macho

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
)

// Tests of the bad-input catalogue rows M1 and M2 (/work/shared/reference/bad-inputs.md
// §7).

// catSection is one section_64 of catSegment.
type catSection struct {
	name           string
	addr, size     uint64
	offset, reloff uint32
	nreloc         uint32
}

// catSegment is an LC_SEGMENT_64 command named __TEXT with the given sections;
// cmdsize 0 means the size its sections need.
func catSegment(vmaddr, vmsize, fileoff, filesize uint64, cmdsize uint32, nsects uint32, secs ...catSection) []byte {
	var b bytes.Buffer
	if cmdsize == 0 {
		cmdsize = uint32(72 + 80*len(secs))
	}
	le32(&b, 0x19, cmdsize)
	b.Write(append([]byte("__TEXT"), make([]byte, 10)...))
	le64(&b, vmaddr, vmsize, fileoff, filesize)
	le32(&b, 5, 5, nsects, 0)
	for _, s := range secs {
		b.Write(append([]byte(s.name), make([]byte, 16-len(s.name))...))
		b.Write(append([]byte("__TEXT"), make([]byte, 10)...))
		le64(&b, s.addr, s.size)
		le32(&b, s.offset, 0, s.reloff, s.nreloc, 0x80000400, 0, 0, 0)
	}
	out := b.Bytes()
	if int(cmdsize) < len(out) {
		out = out[:cmdsize]
	}
	return out
}

// image builds an MH_EXECUTE image from commands, followed by 4 KiB of code bytes.
func catImage(cmds ...[]byte) []byte {
	m := &machoBuilder{fileType: 2}
	for _, c := range cmds {
		m.add(c)
	}
	b, _ := m.build(bytes.Repeat([]byte{0x1f, 0x20, 0x03, 0xd5}, 1024)) // arm64 nop
	return b
}

// TestM1UndefinedSymbolCount: an LC_DYSYMTAB whose undefined-symbol range (iundefsym +
// nundefsym) exceeds the symbol table (CVE-2021-41771: debug/macho's ImportedSymbols
// indexed past its slice) is an error, not a panic and not a silent empty import list.
// The other two ranges of LC_DYSYMTAB are held to the same bound.
func TestM1UndefinedSymbolCount(t *testing.T) {
	cases := []struct {
		name  string
		dysym []uint32 // ilocalsym, nlocalsym, iextdefsym, nextdefsym, iundefsym, nundefsym
		want  string
	}{
		{"nundefsym-past-nsyms", []uint32{0, 0, 0, 0, 0, 11}, "dynamic symbol table's undefined range (0+11) exceeds the symbol table (10 entries)"},
		{"iundefsym-past-nsyms", []uint32{0, 0, 0, 0, 10, 1}, "dynamic symbol table's undefined range (10+1) exceeds the symbol table (10 entries)"},
		{"range-wraps-32-bits", []uint32{0, 0, 0, 0, 0xfffffff0, 0x20}, "dynamic symbol table's undefined range (4294967280+32) exceeds the symbol table (10 entries)"},
		{"nlocalsym-past-nsyms", []uint32{4, 7, 0, 0, 0, 2}, "dynamic symbol table's local range (4+7) exceeds the symbol table (10 entries)"},
		{"nextdefsym-past-nsyms", []uint32{0, 0, 9, 2, 0, 2}, "dynamic symbol table's external range (9+2) exceeds the symbol table (10 entries)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := symtabImage(10, 16, []uint32{c.dysym[4], c.dysym[5]})
			// symtabImage writes the undefined range; the local and external ranges follow
			// the command header.
			i := bytes.Index(b, []byte{0x0b, 0, 0, 0, 80, 0, 0, 0})
			for k := 0; k < 4; k++ {
				binary.LittleEndian.PutUint32(b[i+8+4*k:], c.dysym[k])
			}
			res := analyzers.Run(t.Context(), []analyzers.Analyzer{New()}, artifact(b))
			if len(res) != 1 {
				t.Fatalf("outcomes %+v", res)
			}
			var pe *analyzers.PanicError
			f, _ := res[0].Facts.(*Facts)
			err := res[0].Err
			if errors.As(err, &pe) || err == nil || !strings.Contains(err.Error(), "malformed image: "+c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
			if f == nil || len(f.Architectures) != 1 || !slices.Contains(f.Architectures[0].Anomalies, c.want) {
				t.Fatalf("facts %+v", f)
			}
		})
	}
	// A range within the table is not an error.
	if _, err := analyze(t, symtabImage(10, 16, []uint32{2, 8})); err != nil {
		t.Errorf("a valid range: %v", err)
	}
}

// TestM2LLVMInvalid: the malformed Mach-O images of LLVM's test suite
// (llvm/test/Object/macho-invalid.test, the inputs macho-invalid-* and
// macho64-invalid-*), rebuilt from the fields their names and expected messages
// describe. LLVM rejects each as "truncated or malformed object"; kensa reports each as
// an error (with an anomaly where the rest of the image could still be read), never a
// panic.
func TestM2LLVMInvalid(t *testing.T) {
	arm := readFixture(t, "hello-arm64")
	le := binary.LittleEndian
	code := catSection{name: "__text", addr: 0x100000000, size: 0x1000, offset: 0} // offset set below
	withCode := func(mut func(s *catSection)) []byte {
		s := code
		// The code follows the header (32 bytes) and the one segment command, 16-aligned.
		s.offset = (32 + 72 + 80 + 15) &^ 15
		mut(&s)
		return catImage(catSegment(0x100000000, 0x2000, 0, 0x1000, 0, 1, s))
	}
	cases := []struct {
		name string // the LLVM input it stands for
		b    []byte
		want string // substring of the error
	}{
		{"macho-invalid-header", arm[:20], "Mach-O header is truncated"},
		{"macho64-invalid-incomplete-load-command", func() []byte {
			b := bytes.Clone(arm)
			le.PutUint32(b[16:], le.Uint32(b[16:])+1)
			return b
		}(), "lies past the end of the load command area"},
		{"macho64-invalid-too-small-load-command", func() []byte {
			b := bytes.Clone(arm)
			le.PutUint32(b[20:], uint32(len(b)))
			return b
		}(), "the load commands extend past the end of the image"},
		{"macho64-invalid-too-small-load-command.1", func() []byte {
			b := bytes.Clone(arm)
			first := le.Uint32(b[32+4:])
			le.PutUint32(b[32+first+4:], 4)
			return b
		}(), "has an invalid size 4"},
		{"macho64-invalid-too-small-segment-load-command", catImage(catSegment(0, 0x1000, 0, 0, 16, 0)), "parsing segments and sections"},
		{"macho64-invalid-no-size-for-sections", catImage(catSegment(0, 0x1000, 0, 0, 72, 10)), "parsing segments and sections"},
		{"macho-invalid-segment-fileoff", catImage(catSegment(0x100000000, 0x1000, 1<<30, 0x1000, 0, 0)),
			"malformed image: segment __TEXT (offset 1073741824, size 4096) extends past the end of the image"},
		{"macho-invalid-segment-filesize", catImage(catSegment(0x100000000, 1<<40, 0, 1<<40, 0, 0)),
			"malformed image: segment __TEXT (offset 0, size 1099511627776) extends past the end of the image"},
		{"macho-invalid-section-offset", withCode(func(s *catSection) { s.offset = 1 << 30 }),
			"malformed image: section __TEXT,__text (offset 1073741824, size 4096) extends past the end of the image"},
		{"macho-invalid-section-offset-size", withCode(func(s *catSection) { s.size = 0x100000 }),
			"malformed image: section __TEXT,__text"},
		{"macho-invalid-section-reloff", withCode(func(s *catSection) { s.reloff, s.nreloc = 1<<30, 1 }), "parsing segments and sections"},
		{"macho-invalid-symbol-name-past-eof", func() []byte {
			b := symtabImage(1, 16, nil)
			i := bytes.Index(b, []byte{0x02, 0, 0, 0, 24, 0, 0, 0})
			le.PutUint32(b[le.Uint32(b[i+8:]):], 4261412866) // n_strx of symbol 0, LLVM's value
			return b
		}(), "malformed image: a symbol's name offset 4261412866 lies past the string table (16 bytes)"},
		{"macho-invalid-bad-symbol-index", func() []byte {
			b := symtabImage(4, 16, []uint32{0, 4})
			i := bytes.Index(b, []byte{0x0b, 0, 0, 0, 80, 0, 0, 0})
			le.PutUint32(b[i+8:], 2)  // ilocalsym
			le.PutUint32(b[i+12:], 3) // nlocalsym: 2+3 > 4
			return b
		}(), "malformed image: dynamic symbol table's local range (2+3) exceeds the symbol table (4 entries)"},
		{"macho-invalid-symtab-symoff", func() []byte {
			b := symtabImage(4, 16, nil)
			i := bytes.Index(b, []byte{0x02, 0, 0, 0, 24, 0, 0, 0})
			le.PutUint32(b[i+8:], 1<<30)
			return b
		}(), "malformed image: symbol table (4 entries at offset 1073741824) extends past the end of the image"},
		{"macho-invalid-symtab-stroff", func() []byte {
			b := symtabImage(4, 16, nil)
			i := bytes.Index(b, []byte{0x02, 0, 0, 0, 24, 0, 0, 0})
			le.PutUint32(b[i+16:], 1<<30)
			return b
		}(), "malformed image: string table (16 bytes at offset 1073741824) extends past the end of the image"},
		{"macho-invalid-dylib-name_offset-toobig", func() []byte {
			c := strCmd(0xc, "/usr/lib/libSystem.B.dylib", 2, 0x10000, 0x10000)
			le.PutUint32(c[8:], 0x1000) // the name offset, past the command
			return catImage(c)
		}(), "malformed image: load command 0 (lc_load_dylib) string offset 4096 lies outside the command"},
		{"macho-invalid-uuid-more-than-one", func() []byte {
			var u bytes.Buffer
			le32(&u, 0x1b, 24)
			u.Write(bytes.Repeat([]byte{0xab}, 16))
			return catImage(u.Bytes(), u.Bytes())
		}(), "malformed image: more than one lc_uuid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := analyzers.Run(t.Context(), []analyzers.Analyzer{New()}, artifact(c.b))
			if len(res) != 1 {
				t.Fatalf("outcomes %+v", res)
			}
			var pe *analyzers.PanicError
			if err := res[0].Err; errors.As(err, &pe) || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	// The valid image the section cases start from is not an error.
	if f, err := analyze(t, withCode(func(*catSection) {})); err != nil || len(f.Architectures[0].Anomalies) != 0 {
		t.Errorf("the valid image: error %v, anomalies %q", err, f.Architectures[0].Anomalies)
	}
}
