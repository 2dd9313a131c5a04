package script_test

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/script"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// take runs the inventory with the script analyzer over input and returns the artifacts
// by path.
func take(t *testing.T, input string) map[string]result.Artifact {
	t.Helper()
	inv, err := inventory.Take(context.Background(), []string{input}, inventory.Options{
		Limits: limits.Default(), Jobs: 1, Analyzers: []analyzers.Analyzer{script.New()},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range inv.Errors {
		t.Errorf("inventory error: %+v", e)
	}
	out := map[string]result.Artifact{}
	for _, a := range inv.Artifacts {
		out[a.Path] = a
	}
	return out
}

func factsOf(t *testing.T, arts map[string]result.Artifact, path string) *script.Facts {
	t.Helper()
	a, ok := arts[path]
	if !ok {
		var paths []string
		for p := range arts {
			paths = append(paths, p)
		}
		t.Fatalf("no artifact %s; have %q", path, paths)
	}
	f, ok := a.Facts["script"].(*script.Facts)
	if !ok {
		t.Fatalf("%s: script facts %T (%v)", path, a.Facts["script"], a.Facts)
	}
	return f
}

// TestDeb builds a .deb with dpkg-deb and reads its maintainer scripts the way a scan
// reaches them: through the inventory, as pkg.deb!control.tar.xz!postinst.
func TestDeb(t *testing.T) {
	dir := t.TempDir()
	deb := script.BuildDeb(t, dir)
	arts := take(t, dir)
	base := "kensa-agent_1.0-1_all.deb!control.tar.xz!"

	post := factsOf(t, arts, base+"postinst")
	if post.Kind != "script" || post.Language != "sh" || post.LanguageSource != "shebang" || len(post.InstallHooks) != 1 {
		t.Fatalf("postinst: %+v", post)
	}
	h := post.InstallHooks[0]
	if h.System != "deb" || h.Name != "postinst" || h.When != "after-install" || !h.RunsCode || h.Language != "sh" ||
		strings.Join(h.Interpreter, " ") != "/bin/sh" || h.Size != post.Size || h.Body != "" {
		t.Errorf("postinst hook %+v", h)
	}
	var kinds []string
	for _, o := range post.Observations {
		kinds = append(kinds, o.Kind+"@"+itoa(o.Line))
	}
	if got := strings.Join(kinds, " "); got != "user-add@4 pipe-to-shell@5" {
		t.Errorf("postinst observations %q", got)
	}

	prerm := factsOf(t, arts, base+"prerm")
	if prerm.Language != "sh" || prerm.LanguageSource != "content" || len(prerm.InstallHooks) != 1 || prerm.InstallHooks[0].When != "before-remove" {
		t.Errorf("prerm (no #! line): %+v", prerm)
	}
	for name, when := range map[string]string{"conffiles": "upgrade", "triggers": "trigger"} {
		f := factsOf(t, arts, base+name)
		if f.Kind != "control" || len(f.InstallHooks) != 1 || f.InstallHooks[0].When != when || f.InstallHooks[0].RunsCode {
			t.Errorf("%s: %+v", name, f)
		}
	}
	if _, ok := arts[base+"control"].Facts["script"]; ok {
		t.Error("the control file has script facts")
	}
	helper := factsOf(t, arts, "kensa-agent_1.0-1_all.deb!data.tar.xz!usr/lib/agent/helper.sh")
	if helper.Language != "bash" || len(helper.InstallHooks) != 0 || len(helper.Observations) != 1 || helper.Observations[0].Kind != "setuid-chmod" {
		t.Errorf("helper.sh: %+v", helper)
	}
	_ = deb
}

var (
	rpmScriptHead  = regexp.MustCompile(`^(\S+) scriptlet \(using (.*?)\)(?: -- .*)?:?$`)
	rpmProgramHead = regexp.MustCompile(`^(\S+) program: (.*)$`)
	rpmNames       = map[string]string{
		"pretrans": "pretrans", "preinstall": "prein", "postinstall": "postin", "preuninstall": "preun",
		"postuninstall": "postun", "posttrans": "posttrans", "verify": "verifyscript",
		"triggerin": "trigger", "triggerun": "trigger", "triggerpostun": "trigger", "triggerprein": "trigger",
	}
)

type rpmScript struct {
	name, interp, body string
}

// rpmScripts parses the output of rpm -qp --scripts --triggers.
func rpmScripts(t *testing.T, out string) []rpmScript {
	var list []rpmScript
	var body []string
	flush := func() {
		if len(list) > 0 {
			list[len(list)-1].body = strings.Join(body, "\n")
		}
		body = nil
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if m := rpmScriptHead.FindStringSubmatch(l); m != nil && rpmNames[m[1]] != "" {
			flush()
			list = append(list, rpmScript{name: rpmNames[m[1]], interp: m[2]})
			continue
		}
		if m := rpmProgramHead.FindStringSubmatch(l); m != nil && rpmNames[m[1]] != "" {
			flush()
			list = append(list, rpmScript{name: rpmNames[m[1]], interp: m[2]})
			continue
		}
		body = append(body, l)
	}
	flush()
	return list
}

// TestRPM builds an rpm with every kind of scriptlet, reads it through the inventory and
// compares the scriptlets with what rpm -qp --scripts --triggers prints.
func TestRPM(t *testing.T) {
	dir := t.TempDir()
	pkg := script.BuildRPM(t, dir)
	out, err := exec.Command("rpm", "-qp", "--scripts", "--triggers", pkg).Output()
	if err != nil {
		t.Fatalf("rpm -qp --scripts: %v", err)
	}
	want := rpmScripts(t, string(out))
	arts := take(t, pkg)
	f := factsOf(t, arts, "kensa-agent-1.0-1.noarch.rpm")
	if f.Kind != "rpm" || f.RPM == nil || f.RPM.Name != "kensa-agent" || f.RPM.Version != "1.0" || f.RPM.Release != "1" {
		t.Fatalf("rpm facts %+v", f)
	}
	if len(want) != 8 {
		t.Fatalf("rpm printed %d scriptlets, want 8:\n%s", len(want), out)
	}
	got := map[string]script.Hook{}
	for _, h := range f.InstallHooks {
		if h.System != "rpm" || !h.RunsCode {
			t.Errorf("hook %+v", h)
		}
		got[h.Name] = h
	}
	agree := 0
	for _, w := range want {
		h, ok := got[w.name]
		switch {
		case !ok:
			t.Errorf("%s: missing (rpm prints it)", w.name)
		case strings.Join(h.Interpreter, " ") != w.interp:
			t.Errorf("%s: interpreter %q, rpm says %q", w.name, h.Interpreter, w.interp)
		case h.Size != int64(len(w.body)):
			t.Errorf("%s: size %d, rpm prints %d bytes", w.name, h.Size, len(w.body))
		case !strings.HasPrefix(w.body, h.Body) || (!h.BodyTruncated && h.Body != w.body):
			t.Errorf("%s: body %q, rpm prints %q", w.name, h.Body, w.body)
		default:
			agree++
		}
	}
	t.Logf("rpm -qp --scripts --triggers agrees on %d of %d scriptlets", agree, len(want))
	if len(f.InstallHooks) != len(want) {
		t.Errorf("%d hooks, rpm prints %d scriptlets", len(f.InstallHooks), len(want))
	}

	for name, c := range map[string]struct {
		when, lang string
		obs        []string
	}{
		"pretrans":     {"before-transaction", "lua", nil},
		"prein":        {"before-install", "sh", []string{"user-add@1", "pipe-to-shell@2"}},
		"postin":       {"after-install", "other", nil},
		"preun":        {"before-remove", "sh", nil},
		"postun":       {"after-remove", "sh", nil},
		"posttrans":    {"after-transaction", "lua", nil},
		"verifyscript": {"verify", "perl", nil},
		"trigger":      {"trigger", "sh", nil},
	} {
		h := got[name]
		var obs []string
		for _, o := range h.Observations {
			obs = append(obs, o.Kind+"@"+itoa(o.Line))
		}
		if h.When != c.when || h.Language != c.lang || strings.Join(obs, " ") != strings.Join(c.obs, " ") {
			t.Errorf("%s: when %q language %q observations %q, want %q %q %q", name, h.When, h.Language, obs, c.when, c.lang, c.obs)
		}
	}
	if h := got["postun"]; !h.BodyTruncated || len(h.Body) != 64<<10 || h.Size <= 64<<10 {
		t.Errorf("postun: body of %d bytes, truncated %v, size %d; want the 64 KiB cap of a longer body", len(h.Body), h.BodyTruncated, h.Size)
	}
	if h := got["postin"]; h.Body != "" || h.Size != 0 || strings.Join(h.Interpreter, " ") != "/sbin/ldconfig" {
		t.Errorf("postin (-p /sbin/ldconfig): %+v", h)
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
