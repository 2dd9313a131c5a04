package elf

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// maxSystemFiles caps how many ELF files of the machine the readelf comparison reads.
const maxSystemFiles = 4000

// systemELFs lists the regular ELF files under /usr/bin, /usr/sbin and
// /usr/lib/x86_64-linux-gnu (recursively), without symlinks, each inode once (Mesa
// installs one driver under a dozen hard-linked names), sorted, at most max.
func systemELFs(t testing.TB, max int) []string {
	t.Helper()
	var files []string
	seen := map[uint64]bool{}
	for _, root := range []string{"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.Size() < 64 {
				return nil
			}
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				if seen[st.Ino] {
					return nil
				}
				seen[st.Ino] = true
			}
			f, err := os.Open(path)
			if err != nil {
				return nil
			}
			var magic [4]byte
			_, err = f.ReadAt(magic[:], 0)
			f.Close()
			if err == nil && string(magic[:]) == "\x7fELF" {
				files = append(files, path)
			}
			return nil
		})
	}
	sort.Strings(files)
	t.Logf("%d regular ELF files (each inode once) under /usr/bin, /usr/sbin and /usr/lib/x86_64-linux-gnu", len(files))
	if len(files) > max {
		t.Logf("%d ELF files found; comparing the first %d", len(files), max)
		files = files[:max]
	}
	return files
}

// readelfView is what `readelf -W -h -l -d --dyn-syms` says about one file, reduced to
// the facts compared, each decided the way checksec.sh decides it from the same output.
type readelfView struct {
	needed      []string
	imports     []string
	interpreter string
	pie         bool   // Type DYN and a (DEBUG) dynamic entry
	nx          bool   // a GNU_STACK header whose flags lack E
	relro       string // GNU_RELRO, and BIND_NOW or FLAGS_1 NOW for full
}

func runReadelf(path string, args ...string) (*readelfView, error) {
	if len(args) == 0 {
		args = []string{"--dyn-syms"}
	}
	cmd := exec.Command("readelf", append(append([]string{"-W", "-h", "-l", "-d"}, args...), path)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = nil
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		return nil, err
	}
	v := &readelfView{relro: "none"}
	isDyn, hasDebug, hasRelro, bindNow := false, false, false, false
	inDynsym := false
	for _, line := range strings.Split(out.String(), "\n") {
		trim := strings.TrimSpace(line)
		fields := strings.Fields(trim)
		switch {
		case strings.HasPrefix(trim, "Type:"):
			isDyn = len(fields) > 1 && fields[1] == "DYN"
		case strings.HasPrefix(trim, "[Requesting program interpreter: "):
			v.interpreter = strings.TrimSuffix(strings.TrimPrefix(trim, "[Requesting program interpreter: "), "]")
		case len(fields) > 0 && fields[0] == "GNU_STACK":
			// Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align; Flg may hold spaces ("R E").
			v.nx = len(fields) >= 8 && !strings.Contains(strings.Join(fields[6:len(fields)-1], ""), "E")
		case len(fields) > 0 && fields[0] == "GNU_RELRO":
			hasRelro = true
		case strings.HasPrefix(trim, "Symbol table '.dynsym'"), strings.HasPrefix(trim, "Symbol table for image"):
			inDynsym = true
		case strings.HasPrefix(trim, "Symbol table "):
			inDynsym = false
		case strings.HasPrefix(trim, "0x") && len(fields) >= 2 && strings.HasPrefix(fields[1], "("):
			tag := strings.Trim(fields[1], "()")
			rest := strings.Join(fields[2:], " ")
			switch tag {
			case "NEEDED":
				v.needed = append(v.needed, strings.TrimSuffix(strings.TrimPrefix(rest, "Shared library: ["), "]"))
			case "DEBUG":
				hasDebug = true
			case "BIND_NOW":
				bindNow = true
			case "FLAGS":
				bindNow = bindNow || slices.Contains(fields[2:], "BIND_NOW")
			case "FLAGS_1":
				bindNow = bindNow || slices.Contains(fields[2:], "NOW")
			}
		case inDynsym && len(fields) >= 8 && strings.HasSuffix(fields[0], ":") && fields[6] == "UND":
			// name, or name@VERSION followed by the version index in parentheses.
			v.imports = append(v.imports, fields[7])
		}
	}
	v.pie = isDyn && hasDebug
	if hasRelro {
		v.relro = "partial"
		if bindNow {
			v.relro = "full"
		}
	}
	return v, nil
}

// emptyImports counts the listed imports without a name, which readelf does not list.
func emptyImports(f *Facts) int {
	n := 0
	for _, s := range f.ImportedSymbols {
		if s.Name == "" {
			n++
		}
	}
	return n
}

// importNames writes the imports the way readelf does: name@VERSION, or name.
func importNames(f *Facts) []string {
	var out []string
	for _, s := range f.ImportedSymbols {
		switch {
		case s.Name == "":
		case s.Version != "":
			out = append(out, s.Name+"@"+s.Version)
		default:
			out = append(out, s.Name)
		}
	}
	return out
}

// TestReadelfAgreement compares, for every ELF file of this machine's system directories,
// the needed libraries, imported dynamic symbols (name@version, in table order), PIE, NX,
// RELRO and interpreter with what readelf (binutils) says. PIE, NX and RELRO are decided
// from readelf's output the way checksec.sh decides them, except that NX also needs the
// GNU_STACK header to exist (see Facts.NX); PIE uses checksec's rule alone (DYN with a
// DEBUG entry), so the test also shows that DF_1_PIE adds no disagreement. No readelf
// quirk needed an exception on Debian bookworm (binutils 2.40). Under the race detector
// every raceSample-th file is compared, so that the test stays well within a minute on
// two cores.
func TestReadelfAgreement(t *testing.T) {
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Fatal("readelf not found: install the Debian package binutils")
	}
	files := systemELFs(t, maxSystemFiles)
	if len(files) < 100 {
		t.Fatalf("only %d ELF files under /usr/bin, /usr/sbin and /usr/lib/x86_64-linux-gnu", len(files))
	}
	if raceEnabled {
		var sample []string
		for i := 0; i < len(files); i += raceSample {
			sample = append(sample, files[i])
		}
		t.Logf("race detector on: comparing every %dth file, %d of %d", raceSample, len(sample), len(files))
		files = sample
	}
	type result struct {
		agree      map[string]bool
		skipped    string
		mismatches []string
	}
	results := make([]result, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = compareOne(t, files[i])
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

	counts := map[string]int{}
	compared := 0
	for i, r := range results {
		if r.skipped != "" {
			t.Logf("%s: not compared: %s", files[i], r.skipped)
			continue
		}
		compared++
		for field, ok := range r.agree {
			if ok {
				counts[field]++
			}
		}
		for _, m := range r.mismatches {
			t.Errorf("%s: %s", files[i], m)
		}
	}
	for _, field := range []string{"needed", "imports", "pie", "nx", "relro", "interpreter"} {
		t.Logf("%-12s agree on %d of %d files", field, counts[field], compared)
	}
}

func compareOne(t *testing.T, path string) (r struct {
	agree      map[string]bool
	skipped    string
	mismatches []string
}) {
	want, err := runReadelf(path)
	if err != nil {
		r.skipped = "readelf failed: " + err.Error()
		return
	}
	got := analyzeFile(t, path)
	r.agree = map[string]bool{}
	check := func(field string, ok bool, g, w any) {
		r.agree[field] = ok
		if !ok {
			r.mismatches = append(r.mismatches, fmt.Sprintf("%s: kensa %v, readelf %v", field, g, w))
		}
	}
	check("needed", slices.Equal(got.Needed, want.needed), got.Needed, want.needed)
	// Past the cap, the listed imports must be readelf's first ones and the count must
	// be readelf's.
	g := importNames(got)
	w := want.imports[:min(len(g), len(want.imports))]
	check("imports", slices.Equal(g, w) && got.ImportedSymbolCount-emptyImports(got) == len(want.imports),
		fmt.Sprintf("%d names (%d in all)", len(g), got.ImportedSymbolCount), fmt.Sprintf("%d names", len(want.imports)))
	check("pie", got.PIE == want.pie, got.PIE, want.pie)
	check("nx", got.NX == want.nx, got.NX, want.nx)
	check("relro", got.Relro == want.relro, got.Relro, want.relro)
	check("interpreter", got.Interpreter == want.interpreter, got.Interpreter, want.interpreter)
	return
}

// TestReadelfWithoutSectionHeaders removes the section header table from a sample of the
// system's files (as sstrip does, and as packers and malware often do) and compares the
// needed libraries and the imports with versions, which then come from the dynamic
// segment and its hash tables, with `readelf -D -s` on the same bytes.
func TestReadelfWithoutSectionHeaders(t *testing.T) {
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Fatal("readelf not found: install the Debian package binutils")
	}
	var files []string
	for i, f := range systemELFs(t, maxSystemFiles) {
		if i%25 == 0 {
			files = append(files, f)
		}
	}
	dir := t.TempDir()
	compared, withImports, gnuHashOnly := 0, 0, 0
	for i, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 64 || b[4] != 2 || b[5] != 1 { // ELF64 little-endian: the header offsets below
			continue
		}
		clear(b[40:48]) // e_shoff
		clear(b[60:64]) // e_shnum, e_shstrndx
		cp := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(cp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		want, err := runReadelf(cp, "-D", "-s")
		if err != nil {
			t.Fatalf("%s: readelf: %v", path, err)
		}
		got := analyzeFile(t, cp)
		compared++
		if !slices.Equal(got.Needed, want.needed) {
			t.Errorf("%s: needed: kensa %q, readelf %q", path, got.Needed, want.needed)
		}
		if g := importNames(got); !slices.Equal(g, want.imports) {
			t.Errorf("%s: imports: kensa %d %q…, readelf %d %q…", path, len(g), g[:min(3, len(g))], len(want.imports), want.imports[:min(3, len(want.imports))])
		}
		if len(want.imports) > 0 {
			withImports++
		}
		if bytes.Contains(b, []byte("\x00.gnu.hash\x00")) && !bytes.Contains(b, []byte("\x00.hash\x00")) {
			gnuHashOnly++
		}
	}
	t.Logf("%d files without section headers compared, %d with imports, %d with DT_GNU_HASH only", compared, withImports, gnuHashOnly)
	if withImports < 10 || gnuHashOnly < 10 {
		t.Errorf("too few files exercise the hash tables: %d with imports, %d with DT_GNU_HASH only", withImports, gnuHashOnly)
	}
}
