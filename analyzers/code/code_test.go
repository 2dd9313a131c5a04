package code

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"kensa.dev/kensa/analyzers"
)

// sources is where the C sources of the rule fixtures are, relative to this package.
const sources = "../../testdata/rule-fixtures/code-extra"

// extra are C sources written here: loader walks by dlinfo, dladdr1 and dlsym.
var extra = map[string]string{
	"linkmap.c": `#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
void *first_object(void) {
	struct link_map *lm = NULL;
	void *h = dlopen(NULL, RTLD_NOW);
	if (h == NULL || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0) return NULL;
	return lm;
}
void *object_of(void *addr) {
	Dl_info info;
	struct link_map *lm = NULL;
	if (!dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP)) return NULL;
	return lm;
}
void *loader_debug(void) { return dlsym(RTLD_DEFAULT, "_r_debug"); }
`,
	"symbols.c": `#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
void *lookup(void) { return dlsym(RTLD_DEFAULT, "printf"); }
`,
}

var (
	fixturesOnce sync.Once
	fixturesDir  string
	fixturesErr  error
)

// fixtures builds the fixtures once per test binary: the rule fixtures' C sources in
// several ways (PIE, fixed-address, -fno-plt, unoptimised, with symbols, static) and
// the sources above. The files are built, never run.
func fixtures(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc is needed to build the fixtures: install the Debian package gcc")
	}
	fixturesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "code-fixtures-")
		if err != nil {
			fixturesErr = err
			return
		}
		fixturesDir = dir
		for name, src := range extra {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				fixturesErr = err
				return
			}
		}
		sshd := filepath.Join(sources, "sshd-magic.c")
		builds := [][]string{
			{"-O2", "-s", "-o", "sshd-pie", sshd, "-lcrypt"},
			{"-O2", "-o", "sshd-symbols", sshd, "-lcrypt"},
			{"-O0", "-o", "sshd-O0", sshd, "-lcrypt"},
			{"-O2", "-s", "-fno-pie", "-no-pie", "-o", "sshd-nopie", sshd, "-lcrypt"},
			{"-O2", "-s", "-fno-plt", "-o", "sshd-noplt", sshd, "-lcrypt"},
			{"-O2", "-fcf-protection=none", "-o", "sshd-noibt", sshd, "-lcrypt"},
			{"-O2", "-s", "-o", "pwcheck", filepath.Join(sources, "pwcheck.c"), "-lcrypt"},
			{"-O2", "-s", "-shared", "-fPIC", "-o", "libgotpatch.so", filepath.Join(sources, "libgotpatch.c")},
			{"-O2", "-shared", "-fPIC", "-o", "libgotself.so", filepath.Join(sources, "libgotself.c")},
			{"-O2", "-s", "-shared", "-fPIC", "-o", "libmodlist.so", filepath.Join(sources, "libmodlist.c")},
			{"-O2", "-s", "-shared", "-fPIC", "-o", "liblinkmap.so", filepath.Join(dir, "linkmap.c"), "-ldl"},
			{"-O2", "-s", "-shared", "-fPIC", "-o", "libsymbols.so", filepath.Join(dir, "symbols.c"), "-ldl"},
			{"-O2", "-c", "-o", "object.o", sshd},
		}
		for _, args := range builds {
			for i, a := range args {
				if strings.HasPrefix(a, "../") {
					abs, _ := filepath.Abs(a)
					args[i] = abs
				}
			}
			cmd := exec.Command("gcc", args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				fixturesErr = fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
		// A static build needs libc.a and libcrypt.a (libc6-dev, libcrypt-dev).
		cmd := exec.Command("gcc", "-O2", "-static", "-o", "sshd-static", filepath.Join(must(filepath.Abs(sources)), "sshd-magic.c"), "-lcrypt")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			fixturesErr = fmt.Errorf("gcc -static: %v\n%s", err, out)
		}
	})
	if fixturesErr != nil {
		t.Fatal(fixturesErr)
	}
	return fixturesDir
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixturesDir != "" {
		os.RemoveAll(fixturesDir)
	}
	os.Exit(code)
}

// TestLiteralComparisons checks that the master password of the sshd-like fixture is
// found however the program is built: position-independent through .plt.sec, at a
// fixed address (mov esi, imm32), through the GOT (-fno-plt), unoptimised (the address
// copied through rax), without IBT (lazy .plt entries), and statically linked (strcmp
// an IFUNC called through an IRELATIVE slot); and that the function is named when the
// file keeps its symbols.
func TestLiteralComparisons(t *testing.T) {
	dir := fixtures(t)
	for _, tc := range []struct{ file, function string }{
		{"sshd-pie", ""}, {"sshd-symbols", "main"}, {"sshd-O0", "auth_password"}, {"sshd-nopie", ""},
		{"sshd-noplt", ""}, {"sshd-noibt", "main"}, {"sshd-static", "main"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := analyzeFile(t, filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var found *LiteralComparison
			for i, c := range f.LiteralComparisons {
				if c.Literal == "s3cr3t-Backd00r!" {
					found = &f.LiteralComparisons[i]
				}
			}
			if found == nil {
				t.Fatalf("the master password comparison is missing: %+v", f.LiteralComparisons)
			}
			if found.Callee != "strcmp" || found.Argument != "rsi" || found.Function != tc.function {
				t.Errorf("got %+v, want callee strcmp, argument rsi, function %q", *found, tc.function)
			}
			if f.LiteralComparisonCount < len(f.LiteralComparisons) || f.CodeBytes == 0 {
				t.Errorf("count %d, code bytes %d", f.LiteralComparisonCount, f.CodeBytes)
			}
		})
	}
}

// TestLiteralComparisonsAgainstObjdump checks every reported call against objdump's
// disassembly of the same file: at the reported address objdump shows a call (or
// jump) to the reported function's PLT entry, and the instruction that loads the
// argument names the literal's address.
func TestLiteralComparisonsAgainstObjdump(t *testing.T) {
	if _, err := exec.LookPath("objdump"); err != nil {
		t.Fatal("objdump is needed: install the Debian package binutils")
	}
	dir := fixtures(t)
	for _, file := range []string{"sshd-symbols", "pwcheck", "sshd-noibt"} {
		p := filepath.Join(dir, file)
		f, err := analyzeFile(t, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.LiteralComparisons) == 0 {
			t.Fatalf("%s: no literal comparison", file)
		}
		out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		lines := map[uint64]string{}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		re := regexp.MustCompile(`^\s*([0-9a-f]+):\s*(.*)$`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				a, _ := strconv.ParseUint(m[1], 16, 64)
				lines[a] = m[2]
			}
		}
		for _, c := range f.LiteralComparisons {
			l := lines[c.Address]
			if !regexp.MustCompile(`^(call|jmp)\s.*<` + c.Callee + `@plt>`).MatchString(l) {
				t.Errorf("%s: objdump shows %q at 0x%x, not a call of %s", file, l, c.Address, c.Callee)
			}
		}
	}
	// pwcheck compares options with literals; each is reported as it is.
	f, _ := analyzeFile(t, filepath.Join(dir, "pwcheck"))
	got := map[string]bool{}
	for _, c := range f.LiteralComparisons {
		got[c.Literal] = true
	}
	for _, want := range []string{"try_first_pass", "SHA512", "system-auth"} {
		if !got[want] {
			t.Errorf("pwcheck: %q not reported: %+v", want, f.LiteralComparisons)
		}
	}
}

// TestGOTWrites checks that a rip-relative store into the file's own GOT is reported
// with the slot's symbol, and that ordinary files have none.
func TestGOTWrites(t *testing.T) {
	dir := fixtures(t)
	f, err := analyzeFile(t, filepath.Join(dir, "libgotself.so"))
	if err != nil {
		t.Fatal(err)
	}
	if f.GOTWriteCount != 1 || len(f.GOTWrites) != 1 {
		t.Fatalf("got %d GOT writes, want 1: %+v", f.GOTWriteCount, f.GOTWrites)
	}
	w := f.GOTWrites[0]
	if w.Symbol != "getenv" || w.Section != ".got" || !strings.HasPrefix(w.Instruction, "mov qword ptr [rip+") || w.Function != "redirect" {
		t.Errorf("got %+v", w)
	}
	for _, file := range []string{"sshd-pie", "sshd-static", "libgotpatch.so", "libmodlist.so"} {
		f, err := analyzeFile(t, filepath.Join(dir, file))
		if err != nil || f.GOTWriteCount != 0 {
			t.Errorf("%s: %d GOT writes (%+v), %v", file, f.GOTWriteCount, f.GOTWrites, err)
		}
	}
}

// TestWalksLoadedObjects checks each way of reaching the loader's list of objects, the
// mprotect facts, and that a dlsym of an ordinary name is not evidence.
func TestWalksLoadedObjects(t *testing.T) {
	dir := fixtures(t)
	f, err := analyzeFile(t, filepath.Join(dir, "libgotpatch.so"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.WalksLoadedObjects || !f.ImportsMprotect || f.MprotectWritableCalls != 1 ||
		strings.Join(f.LoadedObjectEvidence, ",") != "imports dl_iterate_phdr" {
		t.Errorf("libgotpatch.so: %+v", f)
	}
	f, err = analyzeFile(t, filepath.Join(dir, "liblinkmap.so"))
	if err != nil {
		t.Fatal(err)
	}
	ev := strings.Join(f.LoadedObjectEvidence, "\n")
	for _, want := range []string{"dlinfo(RTLD_DI_LINKMAP) at offset 0x", "dladdr1(RTLD_DL_LINKMAP) at offset 0x", `dlsym "_r_debug" at offset 0x`} {
		if !strings.Contains(ev, want) {
			t.Errorf("liblinkmap.so: no %q in %q", want, ev)
		}
	}
	if !f.WalksLoadedObjects || f.ImportsMprotect {
		t.Errorf("liblinkmap.so: %+v", f)
	}
	for _, file := range []string{"libsymbols.so", "sshd-pie"} {
		f, err := analyzeFile(t, filepath.Join(dir, file))
		if err != nil || f.WalksLoadedObjects || f.ImportsMprotect || f.MprotectWritableCalls != 0 {
			t.Errorf("%s: %+v, %v", file, f, err)
		}
	}
	f, _ = analyzeFile(t, filepath.Join(dir, "libmodlist.so"))
	if !f.WalksLoadedObjects || f.ImportsMprotect {
		t.Errorf("libmodlist.so: %+v", f)
	}
}

// TestOtherFiles checks that files the analyzer does not inspect give no facts and no
// error: another machine, a 32-bit file, a relocatable object, non-ELF bytes.
func TestOtherFiles(t *testing.T) {
	dir := fixtures(t)
	b, err := os.ReadFile(filepath.Join(dir, "sshd-pie"))
	if err != nil {
		t.Fatal(err)
	}
	arm := append([]byte(nil), b...)
	binary.LittleEndian.PutUint16(arm[18:], 183) // EM_AARCH64
	elf32 := append([]byte(nil), b...)
	elf32[4] = 1
	obj, err := os.ReadFile(filepath.Join(dir, "object.o"))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{"aarch64": arm, "elf32": elf32, "object": obj} {
		f, err := analyzeBytes(t, in)
		if f != nil || err != nil {
			t.Errorf("%s: %+v, %v", name, f, err)
		}
	}
	f, err := New().Analyze(context.Background(), &analyzers.Artifact{Content: bytesReader("#!/bin/sh\n"), Size: 10})
	if f != nil || err != nil {
		t.Errorf("script: %v, %v", f, err)
	}
}

// TestHostile feeds malformed files: each gives an error or incomplete facts, never a
// panic, and the bounds report analyzers.ErrBound.
func TestHostile(t *testing.T) {
	dir := fixtures(t)
	b, err := os.ReadFile(filepath.Join(dir, "sshd-symbols"))
	if err != nil {
		t.Fatal(err)
	}
	shoff := binary.LittleEndian.Uint64(b[40:])
	edit := func(f func(c []byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	cases := map[string]struct {
		in    []byte
		bound bool
	}{
		"truncated":            {b[:len(b)/2], false},
		"headers past the end": {edit(func(c []byte) { binary.LittleEndian.PutUint64(c[40:], uint64(len(c))) }), false},
		"too many sections": {edit(func(c []byte) {
			binary.LittleEndian.PutUint16(c[60:], 0)
			binary.LittleEndian.PutUint64(c[shoff+32:], 1<<40)
		}), true},
		"entry size": {edit(func(c []byte) { binary.LittleEndian.PutUint16(c[58:], 40) }), false},
		"no sections": {edit(func(c []byte) {
			binary.LittleEndian.PutUint64(c[40:], 0)
			binary.LittleEndian.PutUint16(c[60:], 0)
		}), false},
		"huge section sizes": {edit(func(c []byte) {
			for i := shoff + shdrSize; i+shdrSize <= uint64(len(c)); i += shdrSize {
				binary.LittleEndian.PutUint64(c[i+32:], 1<<62)
			}
		}), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := analyzeBytes(t, tc.in)
			if err == nil {
				t.Fatalf("no error; facts %+v", f)
			}
			if got := errors.Is(err, analyzers.ErrBound); got != tc.bound {
				t.Errorf("ErrBound %v, want %v: %v", got, tc.bound, err)
			}
		})
	}
}

// TestInstructionBound checks that the decoding bound stops the analysis with
// analyzers.ErrBound and keeps what was found before it.
func TestInstructionBound(t *testing.T) {
	dir := fixtures(t)
	b, err := os.ReadFile(filepath.Join(dir, "sshd-static"))
	if err != nil {
		t.Fatal(err)
	}
	full := &state{ctx: context.Background(), facts: &Facts{}, budget: newBudget(int64(len(b)))}
	if err := full.run(bytesReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	s := &state{ctx: context.Background(), facts: &Facts{}, budget: budget{names: maxNameBytes, code: maxCodeBytes, windows: maxWindows, insts: 200}}
	err = s.run(bytesReader(b), int64(len(b)))
	if !errors.Is(err, analyzers.ErrBound) {
		t.Fatalf("err = %v, want ErrBound", err)
	}
	if s.facts.LiteralComparisonCount >= full.facts.LiteralComparisonCount {
		t.Errorf("bounded run found %d comparisons, the full run %d", s.facts.LiteralComparisonCount, full.facts.LiteralComparisonCount)
	}
	s = &state{ctx: context.Background(), facts: &Facts{}, budget: budget{names: maxNameBytes, code: maxCodeBytes, windows: 1, insts: maxInstructions}}
	if err := s.run(bytesReader(b), int64(len(b))); !errors.Is(err, analyzers.ErrBound) {
		t.Fatalf("windows bound: err = %v, want ErrBound", err)
	}
}

// TestSystemBinaries runs the analyzer over real programs and libraries of this
// machine: no error, and the comparisons and names are well formed.
func TestSystemBinaries(t *testing.T) {
	files := systemFiles(t, 40)
	for _, p := range files {
		f, err := analyzeFile(t, p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if f == nil {
			continue
		}
		for _, c := range f.LiteralComparisons {
			if c.Literal == "" || !comparisons[c.Callee] || (c.Argument != "rdi" && c.Argument != "rsi") {
				t.Errorf("%s: %+v", p, c)
			}
		}
	}
}

// systemFiles lists up to n x86-64 ELF programs and libraries of this machine.
func systemFiles(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for _, glob := range []string{"/usr/bin/*", "/usr/lib/x86_64-linux-gnu/lib*.so.*"} {
		m, _ := filepath.Glob(glob)
		limit := len(out) + n/2
		for _, p := range m {
			if len(out) >= limit {
				break
			}
			st, err := os.Lstat(p)
			if err != nil || !st.Mode().IsRegular() || st.Size() > 64<<20 {
				continue
			}
			h := make([]byte, 20)
			fh, err := os.Open(p)
			if err != nil {
				continue
			}
			_, err = fh.ReadAt(h, 0)
			fh.Close()
			if err == nil && string(h[:4]) == "\x7fELF" && binary.LittleEndian.Uint16(h[18:]) == emX86_64 {
				out = append(out, p)
			}
		}
	}
	if len(out) < n/2 {
		t.Fatalf("only %d x86-64 ELF files found", len(out))
	}
	return out
}
