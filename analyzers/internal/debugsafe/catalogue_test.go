package debugsafe

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"testing"
)

// TestP9SectionNameOffset: a section named "/9999999" (a COFF string table offset, in an
// image; Ghidra #9167) makes debug/pe refuse the whole file, and with it every reader
// built on it (debug/buildinfo): the file would be "not a PE, skipped". Through View,
// debug/pe opens it, the unresolvable name renamed and the resolvable one kept, with or
// without a string table, and with a symbol table pointer past the end of the file.
func TestP9SectionNameOffset(t *testing.T) {
	le := binary.LittleEndian
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"with-string-table", testPE(2, 3, 16)},
		{"string-table-past-eof", func() []byte {
			b := testPE(2, 3, 16)
			le.PutUint32(b[0x44+8:], 0x7ffffff0) // PointerToSymbolTable
			return b
		}()},
		{"no-string-table", func() []byte {
			b := testPE(2, 0, 16)
			le.PutUint32(b[0x44+8:], 0)
			return b
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			copy(c.b[0x58+40:], "/9999999")
			if _, err := pe.NewFile(bytes.NewReader(c.b)); err == nil {
				t.Fatal("debug/pe opens the file without the view")
			}
			v, err := View(bytes.NewReader(c.b), int64(len(c.b)))
			if err != nil {
				t.Fatal(err)
			}
			f, err := pe.NewFile(v)
			if err != nil {
				t.Fatalf("through the view: %v", err)
			}
			if len(f.Sections) != 2 || f.Sections[1].Name != "?9999999" {
				t.Errorf("sections %q", []string{f.Sections[0].Name, f.Sections[1].Name})
			}
			if c.name == "with-string-table" && f.Sections[0].Name != ".debug_info" {
				t.Errorf("the resolvable name became %q", f.Sections[0].Name)
			}
		})
	}
}
