package macho

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// llvmView is what llvm-objdump and llvm-nm report about one architecture.
type llvmView struct {
	commands, dylibs, rpaths, segments, imports []string
	uuid, minOS, sdk, sig                       string
}

var archLine = regexp.MustCompile(`\(.*architecture (\S+)\):$`)

// splitArch splits tool output into per-architecture parts (one part, keyed "", for a
// thin file).
func splitArch(out string) map[string][]string {
	parts := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(out, "\n") {
		if m := archLine.FindStringSubmatch(l); m != nil {
			cur = m[1]
			continue
		}
		parts[cur] = append(parts[cur], l)
	}
	return parts
}

func llvmTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (Debian package llvm)", name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func llvmViews(t *testing.T, path string) map[string]*llvmView {
	views := map[string]*llvmView{}
	get := func(arch string) *llvmView {
		if views[arch] == nil {
			views[arch] = &llvmView{}
		}
		return views[arch]
	}
	for arch, lines := range splitArch(llvmTool(t, "llvm-objdump", "--macho", "--private-headers", "--arch=all", path)) {
		v := get(arch)
		inSect, dataoff := false, ""
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "cmd":
				v.commands = append(v.commands, strings.ToLower(f[1]))
				inSect = false
			case "sectname":
				inSect = true
			case "segname":
				if !inSect {
					v.segments = append(v.segments, f[1])
				}
			case "path":
				v.rpaths = append(v.rpaths, strings.Join(f[1:len(f)-2], " "))
			case "uuid":
				v.uuid = f[1]
			case "minos":
				v.minOS = f[1]
			case "sdk":
				v.sdk = f[1]
			case "dataoff":
				dataoff = f[1]
			case "datasize":
				if v.commands[len(v.commands)-1] == "lc_code_signature" {
					v.sig = dataoff + "+" + f[1]
				}
			}
		}
	}
	for arch, lines := range splitArch(llvmTool(t, "llvm-objdump", "--macho", "--dylibs-used", "--arch=all", path)) {
		v := get(arch)
		for _, l := range lines {
			if strings.HasPrefix(l, "\t") {
				v.dylibs = append(v.dylibs, strings.TrimSpace(l))
			}
		}
	}
	// llvm-nm prints the names sorted.
	for arch, lines := range splitArch(llvmTool(t, "llvm-nm", "--undefined-only", "--arch=all", path)) {
		v := get(arch)
		for _, l := range lines {
			if f := strings.Fields(l); len(f) == 1 {
				v.imports = append(v.imports, f[0])
			}
		}
	}
	return views
}

// kensaView puts the analyzer's facts for one architecture in llvm's words.
func kensaView(a Architecture) *llvmView {
	v := &llvmView{commands: a.LoadCommands, rpaths: a.Rpaths, uuid: a.UUID, minOS: a.MinOS, sdk: a.SDK}
	dylib := func(d Dylib) string {
		s := fmt.Sprintf("%s (compatibility version %s, current version %s", d.Name, d.CompatVersion, d.CurrentVersion)
		if d.Kind != "load" && d.Kind != "id" {
			s += ", " + d.Kind
		}
		return s + ")"
	}
	if a.IDDylib != nil {
		v.dylibs = append(v.dylibs, dylib(*a.IDDylib))
	}
	for _, d := range a.Dylibs {
		v.dylibs = append(v.dylibs, dylib(d))
	}
	for _, s := range a.Segments {
		v.segments = append(v.segments, s.Name)
	}
	v.imports = slices.Clone(a.ImportedSymbols)
	slices.Sort(v.imports) // llvm-nm sorts by name
	if a.CodeSignature != nil {
		v.sig = fmt.Sprintf("%d+%d", a.CodeSignature.Offset, a.CodeSignature.Size)
	}
	return v
}

// TestDifferentialLLVM compares load commands, dylibs, run paths, segments, UUID, minimum
// OS and SDK, code signature location and imported symbols with llvm-objdump and llvm-nm.
func TestDifferentialLLVM(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"hello-amd64":  readFixture(t, "hello-amd64"),
		"hello-arm64":  readFixture(t, "hello-arm64"),
		"signed.dylib": signedDylib(t, testEntitlements),
	}
	files["fat"] = fat(t, false, files["hello-amd64"], files["hello-arm64"])
	agree, total := 0, 0
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := analyze(t, b)
		if err != nil {
			t.Fatal(err)
		}
		views := llvmViews(t, p)
		for _, a := range f.Architectures {
			key := a.Cpu
			if !f.Fat {
				key = ""
			}
			want, got := views[key], kensaView(a)
			if want == nil {
				t.Errorf("%s: llvm-objdump shows no architecture %q (has %v)", name, key, views)
				continue
			}
			for _, c := range []struct {
				what      string
				got, want any
			}{
				{"load commands", got.commands, want.commands},
				{"dylibs", got.dylibs, want.dylibs},
				{"rpaths", got.rpaths, want.rpaths},
				{"segments", got.segments, want.segments},
				{"imported symbols", got.imports, want.imports},
				{"uuid", got.uuid, want.uuid},
				{"minos", got.minOS, want.minOS},
				{"sdk", got.sdk, want.sdk},
				{"code signature", got.sig, want.sig},
			} {
				total++
				if reflect.DeepEqual(c.got, c.want) {
					agree++
				} else {
					t.Errorf("%s %s: %s: kensa %q, llvm %q", name, a.Cpu, c.what, c.got, c.want)
				}
			}
		}
	}
	t.Logf("agreement with llvm-objdump/llvm-nm: %d of %d facts over %d files", agree, total, len(files))
	if total != 45 {
		t.Errorf("compared %d facts, want 45 (5 architectures × 9)", total)
	}
}
