package elf

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
)

// GNU note and property numbers (glibc elf.h).
const (
	ntGNUBuildID         = 3
	ntGNUPropertyType0   = 5
	propX86Feature1And   = 0xc0000002
	propAArch64Feature1  = 0xc0000000
	x86FeatureIBT        = 1 << 0
	x86FeatureSHSTK      = 1 << 1
	aarch64FeatureBTI    = 1 << 0
	aarch64FeaturePAC    = 1 << 1
	maxBuildIDBytes      = 64
	maxNoteRegions       = 64
	maxNotesPerRegion    = 256
	maxPropertiesPerNote = 256
)

// notes reads the notes of the PT_NOTE segments, or of the SHT_NOTE sections when the
// file has no PT_NOTE: the build ID and the GNU property note.
func (s *state) notes() {
	type region struct{ off, n, align uint64 }
	var regions []region
	for _, p := range s.f.Progs {
		if p.Type == elf.PT_NOTE && len(regions) < maxNoteRegions {
			regions = append(regions, region{p.Off, p.Filesz, p.Align})
		}
	}
	if len(regions) == 0 {
		for _, sec := range s.f.Sections {
			if sec.Type == elf.SHT_NOTE && sec.Flags&elf.SHF_COMPRESSED == 0 && len(regions) < maxNoteRegions {
				regions = append(regions, region{sec.Offset, sec.FileSize, sec.Addralign})
			}
		}
	}
	for _, rg := range regions {
		b, err := s.read(rg.off, min(rg.n, maxNoteBytes), maxNoteBytes)
		if err != nil {
			s.anomaly("note at offset 0x%x unreadable: %v", rg.off, err)
			continue
		}
		align := uint64(4)
		if rg.align == 8 {
			align = 8
		}
		s.parseNotes(b, align)
	}
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

func (s *state) parseNotes(b []byte, align uint64) {
	off := uint64(0)
	for k := 0; k < maxNotesPerRegion && off+12 <= uint64(len(b)); k++ {
		namesz := uint64(s.bo.Uint32(b[off:]))
		descsz := uint64(s.bo.Uint32(b[off+4:]))
		typ := s.bo.Uint32(b[off+8:])
		nameAt := off + 12
		descAt := alignUp(nameAt+namesz, align)
		end := alignUp(descAt+descsz, align)
		if namesz > uint64(len(b)) || descsz > uint64(len(b)) || descAt+descsz > uint64(len(b)) {
			return
		}
		name := b[nameAt : nameAt+namesz]
		desc := b[descAt : descAt+descsz]
		if bytes.Equal(name, []byte("GNU\x00")) {
			switch typ {
			case ntGNUBuildID:
				if s.facts.BuildID == "" && len(desc) > 0 {
					s.facts.BuildID = hex.EncodeToString(desc[:min(len(desc), maxBuildIDBytes)])
				}
			case ntGNUPropertyType0:
				s.properties(desc)
			}
		}
		if end <= off {
			return
		}
		off = end
	}
}

// properties reads the GNU property array of an NT_GNU_PROPERTY_TYPE_0 note.
func (s *state) properties(b []byte) {
	pad := uint64(4)
	if s.is64 {
		pad = 8
	}
	off := uint64(0)
	for k := 0; k < maxPropertiesPerNote && off+8 <= uint64(len(b)); k++ {
		typ := s.bo.Uint32(b[off:])
		n := uint64(s.bo.Uint32(b[off+4:]))
		data := off + 8
		if n > uint64(len(b)) || data+n > uint64(len(b)) {
			return
		}
		if n >= 4 {
			v := s.bo.Uint32(b[data:])
			switch {
			case typ == propX86Feature1And && (s.f.Machine == elf.EM_X86_64 || s.f.Machine == elf.EM_386):
				s.facts.IBT = s.facts.IBT || v&x86FeatureIBT != 0
				s.facts.SHSTK = s.facts.SHSTK || v&x86FeatureSHSTK != 0
			case typ == propAArch64Feature1 && s.f.Machine == elf.EM_AARCH64:
				s.facts.BTI = s.facts.BTI || v&aarch64FeatureBTI != 0
				s.facts.PAC = s.facts.PAC || v&aarch64FeaturePAC != 0
			}
		}
		off = alignUp(data+n, pad)
	}
}

// A needle is a byte string that marks a packer.
type needle struct {
	packer string
	what   string
	b      []byte
	// edge limits the match to the first or last edge bytes of the file; 0 for anywhere.
	edge int64
}

// Packer marks, with their sources:
//   - UPX: the "UPX!" magic of its l_info and PackHeader structures, which UPX writes
//     after the program headers and near the end of the file; the "$Info:" and "$Id:"
//     banners and the "PROT_EXEC|PROT_WRITE failed." message of its ELF stub (UPX
//     sources; the same strings anchor the UPX rules of Neo23x0/signature-base and
//     chainguard-dev/malcontent).
//   - Ezuri, a Go crypter that decrypts and runs an ELF from memory: its Go function
//     names main.runFromMemory and main.aesDec (malcontent's ezuri rule).
//   - Kiteshield, an ELF packer abused by Linux botnets: the register-clearing jump of
//     its loader and its obfuscated "TracerPid:" string (XLab's analysis, malcontent's
//     kiteshield rule).
//   - shc, the shell script compiler: its "argv[0] nor $_" message (neurobin/shc).
var needles = []needle{
	{"upx", "UPX! magic", []byte("UPX!"), 4096},
	{"upx", "UPX banner", []byte("$Info: This file is packed with the UPX"), 0},
	{"upx", "UPX banner", []byte("$Id: UPX"), 0},
	{"upx", "UPX stub message", []byte("PROT_EXEC|PROT_WRITE failed."), 0},
	{"ezuri", "Go function name", []byte("main.runFromMemory"), 0},
	{"ezuri", "Go function name", []byte("main.aesDec"), 0},
	{"kiteshield", "loader register-clearing jump", []byte{0x31, 0xd2, 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xf6, 0x31, 0xff, 0x31, 0xed,
		0x45, 0x31, 0xc0, 0x45, 0x31, 0xc9, 0x45, 0x31, 0xd2, 0x45, 0x31, 0xdb, 0x45, 0x31, 0xe4, 0x45, 0x31, 0xed,
		0x45, 0x31, 0xf6, 0x45, 0x31, 0xff, 0x5b, 0xff, 0xe3}, 0},
	{"kiteshield", "obfuscated TracerPid: string", []byte{0xd7, 0xf6, 0xe4, 0xe5, 0xe2, 0xfa, 0xd9, 0xe3, 0xef, 0xb6}, 0},
	{"shc", "shc runtime message", []byte("argv[0] nor $_"), 0},
}

// requireAll names the packers whose needles must all be found before any is reported.
var requireAll = map[string]bool{"ezuri": true, "kiteshield": true}

// longestNeedle is the length of the longest needle.
var longestNeedle = func() int {
	n := 0
	for _, nd := range needles {
		n = max(n, len(nd.b))
	}
	return n
}()

// packerBuffers hold the chunks packers reads: 256 KiB, and the end of the chunk before.
var packerBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10+longestNeedle); return &b }}

// packers scans the file once for the packer needles.
func (s *state) packers() {
	found := make([]int64, len(needles))
	for i := range found {
		found[i] = -1
	}
	bp := packerBuffers.Get().(*[]byte)
	defer packerBuffers.Put(bp)
	buf := *bp
	chunk := int64(len(buf) - longestNeedle)
	carry := 0
	for base := int64(0); base < s.size; {
		if s.ctx.Err() != nil {
			return
		}
		n, err := s.r.ReadAt(buf[carry:carry+int(min(chunk, s.size-base))], base)
		if n == 0 {
			if err != nil && err != io.EOF {
				s.fail(fmt.Errorf("elf: reading the file: %w", err))
			}
			break
		}
		win := buf[:carry+n]
		start := base - int64(carry)
		for i, nd := range needles {
			if found[i] >= 0 {
				continue
			}
			from := 0
			for {
				j := bytes.Index(win[from:], nd.b)
				if j < 0 {
					break
				}
				at := start + int64(from+j)
				if nd.edge == 0 || at < nd.edge || at >= s.size-nd.edge {
					found[i] = at
					break
				}
				from += j + 1
			}
		}
		base += int64(n)
		carry = min(longestNeedle-1, len(win))
		copy(buf, win[len(win)-carry:])
	}
	complete := map[string]bool{}
	for p := range requireAll {
		complete[p] = true
	}
	for i, nd := range needles {
		if found[i] < 0 && requireAll[nd.packer] {
			complete[nd.packer] = false
		}
	}
	for i, nd := range needles {
		if found[i] < 0 || (requireAll[nd.packer] && !complete[nd.packer]) {
			continue
		}
		s.facts.Packers = append(s.facts.Packers, PackerSign{
			Packer:   nd.packer,
			Evidence: fmt.Sprintf("%s %q at offset 0x%x", nd.what, printable(nd.b), found[i]),
		})
	}
}

// printable shows a needle as text when it is text, else as hex.
func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(b)
		}
	}
	return string(b)
}
