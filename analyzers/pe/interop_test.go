package pe

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// objdumpImports parses the import tables of `objdump -p` into "dll!function" and
// "dll!#ordinal" strings.
func objdumpImports(out string) []string {
	var list []string
	dll := ""
	named := regexp.MustCompile(`^\t[0-9a-f]+\t +[0-9]+  (\S+)$`)
	ordinal := regexp.MustCompile(`^\t[0-9a-f]{16}\t +([0-9a-f]+)  <none>$`)
	inImports := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "The Import Tables"):
			inImports = true
		case inImports && strings.HasPrefix(line, "The ") && !strings.HasPrefix(line, "The Import Tables"):
			inImports = false
		case !inImports:
		case strings.HasPrefix(line, "\tDLL Name: "):
			dll = strings.TrimPrefix(line, "\tDLL Name: ")
		case named.MatchString(line):
			list = append(list, dll+"!"+named.FindStringSubmatch(line)[1])
		case ordinal.MatchString(line):
			n, _ := strconv.ParseUint(ordinal.FindStringSubmatch(line)[1], 16, 32)
			list = append(list, fmt.Sprintf("%s!#%d", dll, n))
		}
	}
	return list
}

// objdumpSection is one line of `objdump -h`.
type objdumpSection struct {
	name           string
	size, vma, off uint64
	// readonly and code are bfd's READONLY and CODE flags.
	readonly, code bool
}

func objdumpSections(out string) []objdumpSection {
	re := regexp.MustCompile(`^ +\d+ (\S+) +([0-9a-f]+) +([0-9a-f]+) +[0-9a-f]+ +([0-9a-f]+) +2\*\*\d+$`)
	var list []objdumpSection
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := objdumpSection{name: m[1]}
		s.size, _ = strconv.ParseUint(m[2], 16, 64)
		s.vma, _ = strconv.ParseUint(m[3], 16, 64)
		s.off, _ = strconv.ParseUint(m[4], 16, 64)
		if i+1 < len(lines) {
			flags := strings.Split(strings.TrimSpace(lines[i+1]), ", ")
			s.readonly, s.code = slices.Contains(flags, "READONLY"), slices.Contains(flags, "CODE")
		}
		list = append(list, s)
	}
	return list
}

// bfdSize is the size objdump shows for a section of an image: the virtual size, cut to
// the raw size when the file holds less.
func bfdSize(s Section) uint64 {
	if s.RawSize == 0 || s.VirtualSize > 0 && s.VirtualSize < s.RawSize {
		return uint64(s.VirtualSize)
	}
	return uint64(s.RawSize)
}

func objdump(t *testing.T, flag, path string) string {
	t.Helper()
	out, err := exec.Command("x86_64-w64-mingw32-objdump", flag, path).Output()
	if err != nil {
		t.Fatalf("objdump %s %s: %v", flag, path, err)
	}
	return string(out)
}

// TestObjdumpAgreement compares imports and sections with binutils' objdump.
func TestObjdumpAgreement(t *testing.T) {
	fx := getFixtures(t)
	files := []string{fx.goExe, fx.exe, fx.dll, fx.signed, fx.timestamped, fx.padded}
	agreeImports, agreeSections, entries, sections := 0, 0, 0, 0
	for _, p := range files {
		f, err := analyzeFile(t, p)
		if err != nil {
			t.Fatal(err)
		}
		want := objdumpImports(objdump(t, "-p", p))
		if len(want) == 0 {
			t.Fatalf("%s: objdump output not understood", p)
		}
		if slices.Equal(want, f.Imports) {
			agreeImports++
			entries += len(want)
		} else {
			t.Errorf("%s: imports\n kensa   %v\n objdump %v", filepath.Base(p), f.Imports, want)
		}
		secs := objdumpSections(objdump(t, "-h", p))
		ok := len(secs) == len(f.Sections)
		for i := 0; ok && i < len(secs); i++ {
			s, o := f.Sections[i], secs[i]
			ok = s.Name == o.name && bfdSize(s) == o.size &&
				f.ImageBase+uint64(s.VirtualAddress) == o.vma && uint64(s.RawOffset) == o.off &&
				o.readonly == (s.Perm[1] != 'W') && o.code == slices.Contains(s.Flags, "cnt_code")
			if !ok {
				t.Errorf("%s: section %d: kensa %+v objdump %+v", filepath.Base(p), i, s, o)
			}
		}
		if ok {
			agreeSections++
			sections += len(secs)
		} else if len(secs) != len(f.Sections) {
			t.Errorf("%s: %d sections, objdump %d", filepath.Base(p), len(f.Sections), len(secs))
		}
	}
	t.Logf("objdump agreement: imports %d/%d files (%d entries), sections %d/%d files (%d sections)",
		agreeImports, len(files), entries, agreeSections, len(files), sections)
}

// TestOsslsigncodeAgreement compares the Authenticode verdict (intact: the digest
// matches, the PKCS#7 verifies, and the signature covers the file) and the digests with
// `osslsigncode verify` under the test CA.
func TestOsslsigncodeAgreement(t *testing.T) {
	fx := getFixtures(t)
	bad := filepath.Join(fx.dir, "badsig.exe")
	if err := os.WriteFile(bad, badSignature(t, fx), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path   string
		intact bool
	}{
		{fx.signed, true}, {fx.timestamped, true}, {fx.nested, true}, {fx.padded, true},
		{fx.trailing, false}, {fx.tampered, false}, {bad, false},
	}
	current := regexp.MustCompile(`Current message digest +: ([0-9A-F]+)`)
	calculated := regexp.MustCompile(`Calculated message digest +: ([0-9A-F]+)`)
	sumRe := regexp.MustCompile(`Calculated PE checksum: ([0-9A-F]+)`)
	agree, digests, sums, odd := 0, 0, 0, 0
	for _, c := range cases {
		f, err := analyzeFile(t, c.path)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("osslsigncode", "verify", "-CAfile", fx.ca, "-TSA-CAfile", fx.ca, "-in", c.path)
		out, err := cmd.CombinedOutput()
		if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
			t.Fatalf("osslsigncode: %v", err)
		}
		theirs := err == nil
		name := filepath.Base(c.path)
		if f.Authenticode.Intact != c.intact {
			t.Errorf("%s: intact %v, want %v", name, f.Authenticode.Intact, c.intact)
		}
		if f.Authenticode.Intact == theirs {
			agree++
		} else {
			t.Errorf("%s: kensa intact %v, osslsigncode verified %v:\n%s", name, f.Authenticode.Intact, theirs, out)
		}
		// osslsigncode prints the computed PE checksum only when it differs from the
		// stored one, and drops the last byte of a file of odd length (CheckSumMappedFile
		// adds it): compare on even lengths only.
		if st, _ := os.Stat(c.path); st.Size()%2 == 0 {
			m := sumRe.FindStringSubmatch(string(out))
			v := uint64(f.Checksum.Stored)
			if m != nil {
				v, _ = strconv.ParseUint(m[1], 16, 32)
			}
			if uint32(v) == f.Checksum.Computed && (m == nil) == f.Checksum.Valid {
				sums++
			} else {
				t.Errorf("%s: PE checksum: osslsigncode %v, kensa %+v", name, m, f.Checksum)
			}
		} else {
			odd++
		}
		// osslsigncode prints the digests of the signatures it checked, primary first.
		cur, calc := current.FindAllStringSubmatch(string(out), -1), calculated.FindAllStringSubmatch(string(out), -1)
		for i := 0; i < len(cur) && i < len(calc) && i < len(f.Authenticode.Signatures); i++ {
			s := f.Authenticode.Signatures[i]
			if strings.EqualFold(cur[i][1], s.SignedDigest) && strings.EqualFold(calc[i][1], f.Authenticode.Authentihash[s.DigestAlgorithm]) {
				digests++
			} else {
				t.Errorf("%s signature %d: osslsigncode current %s calculated %s; kensa signed %s computed %s",
					name, i, cur[i][1], calc[i][1], s.SignedDigest, f.Authenticode.Authentihash[s.DigestAlgorithm])
			}
		}
	}
	if digests < 6 {
		t.Errorf("only %d digest pairs compared", digests)
	}
	t.Logf("osslsigncode agreement: verdict %d/%d files, digests %d pairs, PE checksums %d/%d (%d of odd length not compared)",
		agree, len(cases), digests, sums, len(cases)-odd, odd)
}
