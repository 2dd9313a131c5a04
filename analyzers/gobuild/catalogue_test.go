package gobuild

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Tests of the bad-input catalogue rows E7 and E9 (/work/shared/reference/bad-inputs.md
// §7) for the go analyzer.

// forgedModinfo is the module information a forger writes: a main module and a
// dependency with a go.sum checksum, none of which built the file.
const forgedModinfo = "path\texample.com/forged\nmod\texample.com/forged\tv9.9.9\th1:forgedmain=\n" +
	"dep\tgolang.org/x/crypto\tv0.99.0\th1:forgeddep=\nbuild\t-buildmode=exe\nbuild\tGOOS=linux\n" +
	"build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n"

// forgedC is a C program whose writable data holds two Go build information blobs, the
// first claiming go1.99.1 and the module information above, the second go1.11.1.
func forgedC() string {
	array := func(name string, b []byte) string {
		var s strings.Builder
		fmt.Fprintf(&s, "__attribute__((aligned(16))) unsigned char %s[] = {", name)
		for i, c := range b {
			if i > 0 {
				s.WriteByte(',')
			}
			fmt.Fprintf(&s, "%d", c)
		}
		s.WriteString("};\n")
		return s.String()
	}
	return "#include <stdio.h>\n" +
		array("first", goBlob("go1.99.1", forgedModinfo)) +
		array("second", goBlob("go1.11.1", strings.ReplaceAll(forgedModinfo, "v9.9.9", "v1.0.0"))) +
		"int main(void) { printf(\"%d %d\\n\", first[0], second[0]); return 0; }\n"
}

// TestE7ForgedBuildInfo: Go build information is what the file claims. A C program
// (gcc for Linux, mingw-w64 for Windows) that carries two forged blobs in its data is
// reported by the go analyzer exactly as the first blob claims (debug/buildinfo takes
// the first aligned marker of the data): the claims are facts of analyzer "go", repeated
// verbatim and never checked (the go.sum checksums included), while the file has none
// of the structure the Go linker writes (no .go.buildinfo or .gopclntab section, which
// the elf facts list), which is what lets a rule tell the claim from a Go build. A real Go
// build with a forged blob added to its data keeps its own build information: the
// linker's .go.buildinfo section is read first.
func TestE7ForgedBuildInfo(t *testing.T) {
	dir := filepath.Join(workDir(t), "forged")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "forged.c"), []byte(forgedC()))
	elfPath, pePath := filepath.Join(dir, "forged"), filepath.Join(dir, "forged.exe")
	run(t, dir, nil, "gcc", "gcc", "-o", elfPath, "forged.c")
	run(t, dir, nil, "gcc-mingw-w64-x86-64", "x86_64-w64-mingw32-gcc", "-o", pePath, "forged.c")

	want := &GoFacts{GoVersion: "go1.99.1", Path: "example.com/forged",
		Main: &Module{Path: "example.com/forged", Version: "v9.9.9", Sum: "h1:forgedmain="},
		Deps: []Module{{Path: "golang.org/x/crypto", Version: "v0.99.0", Sum: "h1:forgeddep="}}, DepCount: 1,
		Settings:  []Setting{{"-buildmode", "exe"}, {"GOOS", "linux"}, {"vcs.revision", "0123456789abcdef0123456789abcdef01234567"}},
		BuildMode: "exe", GOOS: "linux", VCSRevision: "0123456789abcdef0123456789abcdef01234567"}
	for _, path := range []string{elfPath, pePath} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b := readFile(t, path)
			if n := bytes.Count(b, buildInfoMagic); n != 2 {
				t.Fatalf("%d build information markers in the build", n)
			}
			g, err := analyzeGo(t, b)
			if err != nil || g == nil {
				t.Fatalf("facts %+v, error %v", g, err)
			}
			got, _ := json.Marshal(g)
			exp, _ := json.Marshal(want)
			if !bytes.Equal(got, exp) {
				t.Errorf("go facts\n%s\nwant the first blob's claims\n%s", got, exp)
			}
			// Every string reported is in the file: nothing is looked up or completed.
			for _, s := range []string{g.GoVersion, g.Path, g.Main.Sum, g.Deps[0].Sum, g.VCSRevision} {
				if !bytes.Contains(b, []byte(s)) {
					t.Errorf("%q is not in the file", s)
				}
			}
			// The container has no Go linker structure.
			if bytes.Contains(b, []byte(".gopclntab")) || bytes.Contains(b, []byte(".go.buildinfo")) {
				t.Error("the C build names Go sections")
			}
		})
	}

	t.Run("go-build-with-forged-data", func(t *testing.T) {
		real := readFile(t, filepath.Join(goFixtures(t), "linux-trimpath"))
		// A forged blob over the start of .noptrdata, which lies in the writable segment
		// debug/buildinfo falls back to when there is no .go.buildinfo section.
		ef, err := elf.NewFile(bytes.NewReader(real))
		if err != nil {
			t.Fatal(err)
		}
		data := ef.Section(".noptrdata")
		if data == nil || ef.Section(".go.buildinfo") == nil {
			t.Fatal("the Go build lacks .noptrdata or .go.buildinfo")
		}
		b := bytes.Clone(real)
		at := (data.Offset + 15) &^ 15
		copy(b[at:], goBlob("go1.99.1", forgedModinfo))
		g, err := analyzeGo(t, b)
		if err != nil || g == nil || g.GoVersion != runtime.Version() || g.Path != "example.com/app" {
			t.Errorf("facts %+v, error %v", g, err)
		}
	})
}

// oldBlob is a build information header in the pre-Go 1.18 form: pointer size 8, little
// endian, and the addresses of the version and module information string headers.
func oldBlob(versPtr, modPtr uint64, ptrSize byte) []byte {
	b := make([]byte, 32)
	copy(b, buildInfoMagic)
	b[14], b[15] = ptrSize, 0
	binary.LittleEndian.PutUint64(b[16:], versPtr)
	binary.LittleEndian.PutUint64(b[24:], modPtr)
	return b
}

// TestE9BuildInfoPointers: build information whose pointers are nil or lead outside
// every segment (Go #57002, #52718) is an error naming the blob, not a panic: the go
// analyzer reports the file as malformed Go build information. miniELF maps its file at
// 0x400000; the blob is at file offset 128.
func TestE9BuildInfoPointers(t *testing.T) {
	const base, blobAt = 0x400000, 128
	strHdr := func(data, n uint64) []byte {
		return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, data), n)
	}
	cases := []struct {
		name string
		blob []byte
	}{
		{"nil-pointers", oldBlob(0, 0, 8)},
		{"pointers-past-every-segment", oldBlob(0xffffffffffff0000, 0xfffffffffffffff0, 8)},
		{"pointer-below-the-image", oldBlob(0x1000, 0x2000, 8)},
		{"pointer-size-5", oldBlob(base+blobAt, base+blobAt, 5)},
		{"string-data-nil", append(oldBlob(base+blobAt+32, base+blobAt+32, 8), strHdr(0, 8)...)},
		{"string-data-past-end", append(oldBlob(base+blobAt+32, base+blobAt+32, 8), strHdr(0x7fff0000, 8)...)},
		{"string-length-huge", append(oldBlob(base+blobAt+32, base+blobAt+32, 8), strHdr(base+blobAt, 1<<62)...)},
		{"inline-length-huge", func() []byte {
			b := goBlob("go1.99.1", forgedModinfo)
			n := binary.PutUvarint(b[32:], 1<<62)
			return b[:32+n]
		}()},
		{"header-cut", goBlob("go1.99.1", forgedModinfo)[:24]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := miniELF(elfSection{".go.buildinfo", c.blob})
			if off := bytes.Index(b, buildInfoMagic); off != blobAt {
				t.Fatalf("blob at %d", off)
			}
			var g *GoFacts
			var err error
			alloc := allocatedBytes(func() { g, err = analyzeGo(t, b) })
			if err == nil || g == nil || !g.Malformed || !strings.Contains(err.Error(), fmt.Sprintf("the Go build information at offset %d is malformed", blobAt)) {
				t.Errorf("facts %+v, error %v", g, err)
			}
			if strings.Contains(fmt.Sprint(err), "recovered panic") {
				t.Errorf("a panic was recovered: %v", err)
			}
			// A claimed length of 2^62 costs a 10 MiB chunk per read: debug/buildinfo reads
			// through internal/saferio, which allocates a chunk at a time until the read
			// fails.
			if alloc > 32<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

// allocatedBytes runs fn and returns the bytes it allocated.
func allocatedBytes(fn func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	fn()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}
