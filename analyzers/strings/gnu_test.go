package strings

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// gnuStrings runs GNU strings (binutils) on path with -a -n 6 -t d and the extra args,
// and returns "offset value" lines, values cut to maxValue characters, with the length.
func gnuStrings(t testing.TB, path string, args ...string) map[string]int64 {
	t.Helper()
	if _, err := exec.LookPath("strings"); err != nil {
		t.Fatal("GNU strings is needed: install the Debian package binutils")
	}
	cmd := exec.Command("strings", append([]string{"-a", "-n", strconv.Itoa(MinLength), "-t", "d"}, args...)...)
	cmd.Args = append(cmd.Args, path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("strings %s: %v", path, err)
	}
	set := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := bytes.TrimLeft(sc.Bytes(), " ")
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			t.Fatalf("unexpected strings output line %q", line)
		}
		off, v := line[:sp], line[sp+1:]
		n := int64(len(v))
		set[fmt.Sprintf("%s %s", off, v[:min(len(v), maxValue)])] = n
	}
	return set
}

func ours(f *Facts, enc string) map[string]int64 {
	set := map[string]int64{}
	for _, s := range f.Strings {
		if s.Encoding == enc {
			set[fmt.Sprintf("%d %s", s.Offset, s.Value)] = s.Length
		}
	}
	return set
}

func compareSets(t *testing.T, name, enc string, gnu, got map[string]int64) {
	t.Helper()
	missing, extra, badLen := 0, 0, 0
	for k, n := range gnu {
		m, ok := got[k]
		if !ok {
			if missing < 5 {
				t.Errorf("%s %s: GNU strings found %q, kensa did not", name, enc, k)
			}
			missing++
		} else if m != n {
			badLen++
			if badLen < 5 {
				t.Errorf("%s %s: %q length %d, GNU strings %d", name, enc, k, m, n)
			}
		}
	}
	for k := range got {
		if _, ok := gnu[k]; !ok {
			if extra < 5 {
				t.Errorf("%s %s: kensa found %q, GNU strings did not", name, enc, k)
			}
			extra++
		}
	}
	t.Logf("%s %s: GNU %d, kensa %d, agreeing %d, missing %d, extra %d", name, enc, len(gnu), len(got), len(gnu)-missing, missing, extra)
}

// mixedBlob builds bytes that exercise the edge cases of both scanners: strings at odd
// and even offsets, tabs, runs of exactly MinLength-1 and MinLength, UTF-16 next to
// ASCII, random noise, a long string over a chunk boundary, and an odd final byte.
func mixedBlob(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b []byte
	word := func(n int) string {
		w := make([]byte, n)
		for i := range w {
			w[i] = byte(0x20 + r.IntN(0x5f))
			if r.IntN(20) == 0 {
				w[i] = '\t'
			}
		}
		return string(w)
	}
	for len(b) < size {
		switch r.IntN(8) {
		case 0:
			b = append(b, word(1+r.IntN(12))...)
		case 1:
			b = append(b, utf16le(word(1+r.IntN(12)))...)
		case 2:
			for range 1 + r.IntN(64) {
				b = append(b, byte(r.Uint32()))
			}
		case 3:
			b = append(b, 0)
		case 4:
			b = append(b, make([]byte, r.IntN(4))...)
		case 5:
			b = append(b, word(MinLength-1+r.IntN(3))...)
			b = append(b, byte(0x80+r.IntN(0x80)))
		case 6:
			b = append(b, utf16le(word(MinLength-1+r.IntN(3)))...)
			b = append(b, byte(r.IntN(256)), byte(1+r.IntN(255)))
		case 7:
			if r.IntN(50) == 0 {
				b = append(b, word(3000+r.IntN(3000))...)
			}
		}
	}
	// A long ASCII string and a long UTF-16 string across the first chunk boundary.
	if len(b) > chunkSize+4096 {
		copy(b[chunkSize-1500:], word(3000))
		copy(b[chunkSize+2001:], utf16le(word(700)))
	}
	return append(b, 'x')
}

// TestGNUStringsDifferential checks that the strings found are exactly those GNU strings
// prints with -a -n 6 (ASCII) and -a -n 6 -e l (UTF-16LE): same offsets, same values, same
// lengths, on real binaries and on generated edge cases.
func TestGNUStringsDifferential(t *testing.T) {
	files := []string{"/usr/bin/strings", "/usr/bin/objdump", "/usr/bin/readelf", "/usr/bin/ld.bfd"}
	gr, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	files = append(files, filepath.Join(string(bytes.TrimSpace(gr)), "bin", "gofmt"))
	// KENSA_STRINGS_DIFF adds files (colon-separated) to compare, for a wider check by hand.
	if extra := os.Getenv("KENSA_STRINGS_DIFF"); extra != "" {
		files = append(files, filepath.SplitList(extra)...)
	}
	dir := t.TempDir()
	for i, size := range []int{100, 5000, chunkSize + 10000} {
		p := filepath.Join(dir, fmt.Sprintf("mixed%d", i))
		if err := os.WriteFile(p, mixedBlob(uint64(i+1), size), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (the test reads binaries of the Debian package binutils and of the Go toolchain)", err)
		}
		f := scanAll(t, b)
		name := filepath.Base(p)
		compareSets(t, name, encASCII, gnuStrings(t, p), ours(f, encASCII))
		compareSets(t, name, encUTF16, gnuStrings(t, p, "-e", "l"), ours(f, encUTF16))
	}
}
