// Package sniff tells what a file is from its first bytes, the way file(1) does for the
// formats a software delivery holds: executables (ELF, PE, Mach-O), scripts and their
// interpreters, archives and compressed streams, text and opaque data.
//
// The name of a file is used only where the bytes cannot tell (a jar is a zip; a script
// without a #! line), never to override what the bytes say.
package sniff

import (
	"bytes"
	"encoding/binary"
	"path"
	"strings"
	"unicode/utf8"
)

// HeadSize is how many leading bytes Detect wants to see. Fewer are fine for short files.
const HeadSize = 4096

// Format is what a file is.
type Format string

// Formats Detect reports.
const (
	Empty     Format = "empty"
	Text      Format = "text"
	Data      Format = "data"
	Script    Format = "script"
	ELF       Format = "elf"
	PE        Format = "pe"
	MSDOS     Format = "msdos" // MZ header without a PE header within the first HeadSize bytes
	MachO     Format = "macho"
	MachOFat  Format = "macho-fat"
	JavaClass Format = "java-class"
	Wasm      Format = "wasm"
	Dex       Format = "dex"

	Tar   Format = "tar"
	Zip   Format = "zip"
	Jar   Format = "jar"
	Ar    Format = "ar"
	Deb   Format = "deb"
	RPM   Format = "rpm"
	Cpio  Format = "cpio"
	Gzip  Format = "gzip"
	Bzip2 Format = "bzip2"
	XZ    Format = "xz"
	LZMA  Format = "lzma"
	Zstd  Format = "zstd"

	// Recognised but not opened: their bytes are hashed and reported as they are.
	SevenZip Format = "7z"
	Cab      Format = "cab"
	MSI      Format = "msi" // OLE compound file: MSI installers, old Office documents
	Squashfs Format = "squashfs"
	RAR      Format = "rar"
	ISO9660  Format = "iso9660"
	PDF      Format = "pdf"
)

// Formats lists every format name an artifact can have: those Detect reports, and the
// compressed tar archives the inventory names after their compression ("tar.gz").
func Formats() []string {
	return []string{
		string(Empty), string(Text), string(Data), string(Script), string(ELF), string(PE), string(MSDOS),
		string(MachO), string(MachOFat), string(JavaClass), string(Wasm), string(Dex),
		string(Tar), "tar.gz", "tar.bz2", "tar.xz", "tar.lzma", "tar.zst",
		string(Zip), string(Jar), string(Ar), string(Deb), string(RPM), string(Cpio),
		string(Gzip), string(Bzip2), string(XZ), string(LZMA), string(Zstd),
		string(SevenZip), string(Cab), string(MSI), string(Squashfs), string(RAR), string(ISO9660), string(PDF),
	}
}

// Executable reports whether f is machine code kensa analyses as a binary.
func (f Format) Executable() bool {
	switch f {
	case ELF, PE, MSDOS, MachO, MachOFat:
		return true
	}
	return false
}

// Compressed reports whether f is a single compressed stream.
func (f Format) Compressed() bool {
	switch f {
	case Gzip, Bzip2, XZ, LZMA, Zstd:
		return true
	}
	return false
}

// Opened reports whether kensa takes f apart and analyses its members on their own: an
// archive it reads (tar, zip, jar, ar, deb, rpm, cpio) or a compressed stream. Reading
// such a file's own bytes again finds the members' bytes (tar, cpio) or compressed ones.
func (f Format) Opened() bool {
	switch f {
	case Tar, Zip, Jar, Ar, Deb, RPM, Cpio:
		return true
	}
	return f.Compressed()
}

// Result is what Detect found.
type Result struct {
	Format Format
	// Interpreter is the program a script runs under: the base name from its #! line
	// (with /usr/bin/env resolved: "python3"), or the language its name implies.
	Interpreter string
}

// Detect identifies a file from head, its first bytes (up to HeadSize), and name, its
// base name. size is the whole file's size, or -1 if unknown.
func Detect(head []byte, name string, size int64) Result {
	if len(head) == 0 {
		if size == 0 {
			return Result{Format: Empty}
		}
		return Result{Format: Data}
	}
	if f := magic(head, name); f != "" {
		return Result{Format: f}
	}
	if bytes.HasPrefix(head, []byte("#!")) {
		return Result{Format: Script, Interpreter: shebang(head)}
	}
	if !isText(head) {
		return Result{Format: Data}
	}
	if lang := scriptByName(name); lang != "" {
		return Result{Format: Script, Interpreter: lang}
	}
	return Result{Format: Text}
}

func magic(h []byte, name string) Format {
	le32 := func(off int) uint32 {
		if len(h) < off+4 {
			return 0
		}
		return binary.LittleEndian.Uint32(h[off:])
	}
	be32 := func(off int) uint32 {
		if len(h) < off+4 {
			return 0
		}
		return binary.BigEndian.Uint32(h[off:])
	}
	switch {
	case bytes.HasPrefix(h, []byte("\x7fELF")):
		return ELF
	case bytes.HasPrefix(h, []byte("MZ")):
		if off := le32(0x3c); off >= 0x40 && int(off)+4 <= len(h) && bytes.Equal(h[off:off+4], []byte("PE\x00\x00")) {
			return PE
		}
		return MSDOS
	case be32(0) == 0xfeedface, be32(0) == 0xfeedfacf, be32(0) == 0xcefaedfe, be32(0) == 0xcffaedfe:
		return MachO
	case be32(0) == 0xcafebabe:
		// Java class files share the magic; their next word is a version ≥ 45, a fat
		// Mach-O's is its number of architectures.
		if n := be32(4); n > 0 && n < 30 {
			return MachOFat
		}
		return JavaClass
	case be32(0) == 0xcafebabf:
		return MachOFat
	case bytes.HasPrefix(h, []byte("\x00asm")):
		return Wasm
	case bytes.HasPrefix(h, []byte("dex\n")):
		return Dex
	case bytes.HasPrefix(h, []byte("PK\x03\x04")), bytes.HasPrefix(h, []byte("PK\x05\x06")):
		if isJarName(name) || bytes.Contains(h[:min(len(h), 512)], []byte("META-INF/")) {
			return Jar
		}
		return Zip
	case bytes.HasPrefix(h, []byte("!<arch>\n")):
		if bytes.HasPrefix(h[8:], []byte("debian-binary")) {
			return Deb
		}
		return Ar
	case bytes.HasPrefix(h, []byte{0xed, 0xab, 0xee, 0xdb}):
		return RPM
	case bytes.HasPrefix(h, []byte("070701")), bytes.HasPrefix(h, []byte("070702")), bytes.HasPrefix(h, []byte("070707")):
		return Cpio
	case bytes.HasPrefix(h, []byte{0xc7, 0x71}), bytes.HasPrefix(h, []byte{0x71, 0xc7}):
		return Cpio // old binary cpio
	case bytes.HasPrefix(h, []byte{0x1f, 0x8b}):
		return Gzip
	case bytes.HasPrefix(h, []byte("BZh")) && len(h) > 3 && h[3] >= '1' && h[3] <= '9':
		return Bzip2
	case bytes.HasPrefix(h, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return XZ
	case bytes.HasPrefix(h, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	case bytes.HasPrefix(h, []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}):
		return SevenZip
	case bytes.HasPrefix(h, []byte("MSCF\x00\x00\x00\x00")):
		return Cab
	case bytes.HasPrefix(h, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}):
		return MSI
	case bytes.HasPrefix(h, []byte("hsqs")), bytes.HasPrefix(h, []byte("sqsh")):
		return Squashfs
	case bytes.HasPrefix(h, []byte("Rar!\x1a\x07")):
		return RAR
	case bytes.HasPrefix(h, []byte("%PDF-")):
		return PDF
	case isTar(h):
		return Tar
	case isLZMA(h, name):
		return LZMA
	}
	return ""
}

// isTar accepts POSIX, GNU and old v7 headers whose checksum is right.
func isTar(h []byte) bool {
	if len(h) < 512 {
		return false
	}
	if bytes.Equal(h[257:262], []byte("ustar")) {
		return tarChecksumOK(h)
	}
	// v7: no magic; the name must be printable and the checksum right.
	if h[0] == 0 {
		return false
	}
	return tarChecksumOK(h)
}

func tarChecksumOK(h []byte) bool {
	field := bytes.TrimRight(bytes.TrimLeft(h[148:156], " \x00"), " \x00")
	if len(field) == 0 {
		return false
	}
	var want int64
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
	}
	var unsigned, signed int64
	for i := 0; i < 512; i++ {
		c := h[i]
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// isLZMA recognises the legacy .lzma format, which has no magic: properties byte 0x5d and
// a power-of-two dictionary size, and only under an lzma name so that random data is not
// mistaken for it.
func isLZMA(h []byte, name string) bool {
	if len(h) < 13 || h[0] != 0x5d {
		return false
	}
	ext := strings.ToLower(path.Ext(name))
	if ext != ".lzma" && ext != ".tlz" {
		return false
	}
	dict := binary.LittleEndian.Uint32(h[1:5])
	return dict >= 1<<12 && dict&(dict-1) == 0
}

func isJarName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar", ".kar", ".nar", ".apk", ".aar":
		return true
	}
	return false
}

// shebang returns the interpreter a #! line names.
func shebang(h []byte) string {
	line := h[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(strings.TrimRight(string(line), "\r"))
	if len(fields) == 0 {
		return ""
	}
	prog := path.Base(fields[0])
	if prog == "env" {
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "-") || strings.Contains(f, "=") {
				continue
			}
			return path.Base(f)
		}
	}
	if !utf8.ValidString(prog) {
		return ""
	}
	return prog
}

var scriptExt = map[string]string{
	".sh": "sh", ".bash": "bash", ".zsh": "zsh", ".ksh": "ksh", ".csh": "csh",
	".py": "python", ".pl": "perl", ".pm": "perl", ".rb": "ruby",
	".js": "node", ".mjs": "node", ".cjs": "node",
	".ps1": "powershell", ".psm1": "powershell", ".bat": "cmd", ".cmd": "cmd",
	".vbs": "vbscript", ".php": "php", ".lua": "lua", ".tcl": "tcl",
}

func scriptByName(name string) string {
	return scriptExt[strings.ToLower(path.Ext(name))]
}

// isText reports whether head looks like text: no NUL and mostly printable, valid UTF-8
// (a rune cut at the end of the window is allowed). UTF-16 text with a byte-order mark
// counts as text too.
func isText(h []byte) bool {
	if bytes.HasPrefix(h, []byte{0xff, 0xfe}) || bytes.HasPrefix(h, []byte{0xfe, 0xff}) {
		return true
	}
	if bytes.IndexByte(h, 0) >= 0 {
		return false
	}
	bad := 0
	for i := 0; i < len(h); {
		r, size := utf8.DecodeRune(h[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(h)-i < utf8.UTFMax && !utf8.FullRune(h[i:]) {
				break
			}
			bad++
		} else if r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\f' && r != 0x1b {
			bad++
		}
		i += size
	}
	return bad*100 <= len(h)
}
