package macho

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// goFixtures cross-compiles testdata/hello for darwin/amd64 and darwin/arm64 once per
// test binary and returns the directory holding hello-amd64 and hello-arm64.
func goFixtures(tb testing.TB) string {
	tb.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "kensa-macho-")
		if fixtureErr != nil {
			return
		}
		for _, arch := range []string{"amd64", "arm64"} {
			cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(fixtureDir, "hello-"+arch), ".")
			cmd.Dir = filepath.Join("testdata", "hello")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=darwin", "GOARCH="+arch)
			if out, err := cmd.CombinedOutput(); err != nil {
				fixtureErr = &buildError{err: err, out: string(out)}
				return
			}
		}
	})
	if fixtureErr != nil {
		tb.Fatalf("building the Go Mach-O fixtures: %v", fixtureErr)
	}
	return fixtureDir
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(goFixtures(tb), name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func artifact(b []byte) *analyzers.Artifact {
	lim := limits.Default()
	return &analyzers.Artifact{
		Path:    "f",
		Format:  sniff.Detect(b[:min(len(b), sniff.HeadSize)], "f", int64(len(b))).Format,
		Size:    int64(len(b)),
		Content: bytes.NewReader(b),
		Limits:  &lim,
	}
}

func analyze(tb testing.TB, b []byte) (*Facts, error) {
	tb.Helper()
	a := artifact(b)
	an := New()
	if !an.Wants(a) {
		tb.Fatalf("analyzer does not want a file sniffed as %q", a.Format)
	}
	facts, err := an.Analyze(context.Background(), a)
	if facts == nil {
		return nil, err
	}
	return facts.(*Facts), err
}

// fat assembles a fat file from thin slices, each aligned to 2^14 bytes. fat64 selects
// the 64-bit header form (0xcafebabf).
func fat(tb testing.TB, fat64 bool, slices ...[]byte) []byte {
	tb.Helper()
	const align = 14
	var hdr bytes.Buffer
	be := binary.BigEndian
	magic := uint32(0xcafebabe)
	entSize := 20
	if fat64 {
		magic, entSize = 0xcafebabf, 32
	}
	binary.Write(&hdr, be, magic)
	binary.Write(&hdr, be, uint32(len(slices)))
	off := uint64(1) << align
	if 8+len(slices)*entSize > int(off) {
		tb.Fatal("too many slices")
	}
	var body []byte
	for _, s := range slices {
		cpu := binary.LittleEndian.Uint32(s[4:])
		sub := binary.LittleEndian.Uint32(s[8:])
		binary.Write(&hdr, be, cpu)
		binary.Write(&hdr, be, sub)
		if fat64 {
			binary.Write(&hdr, be, off)
			binary.Write(&hdr, be, uint64(len(s)))
			binary.Write(&hdr, be, uint32(align))
			binary.Write(&hdr, be, uint32(0))
		} else {
			binary.Write(&hdr, be, uint32(off))
			binary.Write(&hdr, be, uint32(len(s)))
			binary.Write(&hdr, be, uint32(align))
		}
		body = append(body, make([]byte, int(off)-(1<<align)-len(body))...)
		body = append(body, s...)
		off += uint64(len(s))
		off = (off + 1<<align - 1) &^ (1<<align - 1)
	}
	out := make([]byte, 1<<align)
	copy(out, hdr.Bytes())
	return append(out, body...)
}

// machoBuilder assembles a little-endian 64-bit Mach-O image load command by load
// command; data appended after the commands is addressed by file offset.
type machoBuilder struct {
	fileType, flags uint32
	cmds            [][]byte
}

func le32(b *bytes.Buffer, vs ...uint32) {
	for _, v := range vs {
		binary.Write(b, binary.LittleEndian, v)
	}
}

func le64(b *bytes.Buffer, vs ...uint64) {
	for _, v := range vs {
		binary.Write(b, binary.LittleEndian, v)
	}
}

func pad8(b []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func (m *machoBuilder) add(c []byte) { m.cmds = append(m.cmds, c) }

// strCmd is a command whose fixed part is the uint32 fields, followed by a string
// (the first field after cmd and cmdsize is the string's offset).
func strCmd(cmd uint32, s string, fields ...uint32) []byte {
	var b bytes.Buffer
	fixed := 8 + 4 + 4*len(fields)
	total := fixed + len(s) + 1
	total = (total + 7) &^ 7
	le32(&b, cmd, uint32(total), uint32(fixed))
	le32(&b, fields...)
	b.WriteString(s)
	return pad8(append(b.Bytes(), 0))
}

func (m *machoBuilder) dylib(cmd uint32, name string, cur, compat uint32) {
	m.add(strCmd(cmd, name, 2, cur, compat))
}

// build lays out header, commands and then tail at the first 16-byte boundary after the
// commands; tailOff reports where tail starts so that commands can point at it (build
// is called twice: once to learn the offset, once with the right pointers).
func (m *machoBuilder) build(tail []byte) (out []byte, tailOff int) {
	var cmds []byte
	for _, c := range m.cmds {
		cmds = append(cmds, c...)
	}
	var b bytes.Buffer
	le32(&b, 0xfeedfacf, 0x0100000c, 0, m.fileType, uint32(len(m.cmds)), uint32(len(cmds)), m.flags, 0)
	b.Write(cmds)
	for b.Len()%16 != 0 {
		b.WriteByte(0)
	}
	tailOff = b.Len()
	b.Write(tail)
	return b.Bytes(), tailOff
}

func be32(b *bytes.Buffer, vs ...uint32) {
	for _, v := range vs {
		binary.Write(b, binary.BigEndian, v)
	}
}

// blob is one SuperBlob entry.
type blob struct {
	slot uint32
	data []byte // the whole blob, magic and length included
}

func superBlob(blobs ...blob) []byte {
	var b bytes.Buffer
	hdr := 12 + 8*len(blobs)
	total := hdr
	for _, bl := range blobs {
		total += len(bl.data)
	}
	be32(&b, csMagicEmbeddedSignature, uint32(total), uint32(len(blobs)))
	off := hdr
	for _, bl := range blobs {
		be32(&b, bl.slot, uint32(off))
		off += len(bl.data)
	}
	for _, bl := range blobs {
		b.Write(bl.data)
	}
	return b.Bytes()
}

func wrapBlob(magic uint32, payload []byte) []byte {
	var b bytes.Buffer
	be32(&b, magic, uint32(8+len(payload)))
	b.Write(payload)
	return b.Bytes()
}

// codeDirectory builds a version 0x20400 CodeDirectory with no hashes.
func codeDirectory(flags uint32, ident, team string, execSegFlags uint64) []byte {
	const hdr = 88
	identOff := hdr
	teamOff := identOff + len(ident) + 1
	end := teamOff + len(team) + 1
	var b bytes.Buffer
	be32(&b, csMagicCodeDirectory, uint32(end), 0x20400, flags, uint32(end) /*hashOffset*/, uint32(identOff),
		0 /*nSpecial*/, 0 /*nCode*/, 4096 /*codeLimit*/)
	b.Write([]byte{32, 2, 0, 12}) // hashSize, hashType sha256, platform, pageSize 2^12
	be32(&b, 0 /*spare2*/, 0 /*scatter*/, uint32(teamOff), 0 /*spare3*/)
	binary.Write(&b, binary.BigEndian, uint64(0))            // codeLimit64
	binary.Write(&b, binary.BigEndian, uint64(0))            // execSegBase
	binary.Write(&b, binary.BigEndian, uint64(0x4000))       // execSegLimit
	binary.Write(&b, binary.BigEndian, uint64(execSegFlags)) // execSegFlags
	b.WriteString(ident + "\x00" + team + "\x00")
	return b.Bytes()
}
