package script

import (
	"context"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/internal/limits"
)

const (
	// maxHooks bounds the install hooks of one artifact.
	maxHooks = 256
	// maxBody bounds the hook body reported.
	maxBody = 64 << 10
)

// debHooks are the deb control files that run or steer code at install time.
var debHooks = map[string]struct {
	when string
	code bool
}{
	"preinst":   {"before-install", true},
	"postinst":  {"after-install", true},
	"prerm":     {"before-remove", true},
	"postrm":    {"after-remove", true},
	"config":    {"configure", true},
	"triggers":  {"trigger", false},
	"conffiles": {"upgrade", false},
}

// apkHooks are the install scripts of an Alpine package.
var apkHooks = map[string]string{
	".pre-install": "before-install", ".post-install": "after-install",
	".pre-upgrade": "before-install", ".post-upgrade": "after-install",
	".pre-deinstall": "before-remove", ".post-deinstall": "after-remove",
	".trigger": "trigger",
}

// pathHook tells from where a file lies whether a package manager runs it: a deb's
// control member (pkg.deb!control.tar.xz!postinst, or DEBIAN/postinst of a tree dpkg-deb
// builds), an Alpine package's .post-install, an Arch package's .INSTALL. nil otherwise.
func pathHook(p string) *Hook {
	comps := strings.Split(strings.ReplaceAll(p, "\\", "/"), "!")
	last := strings.TrimPrefix(comps[len(comps)-1], "./")
	dir, base := path.Split(last)
	nested := len(comps) >= 2
	if nested && dir == "" {
		if isControlTar(path.Base(comps[len(comps)-2])) {
			if h, ok := debHooks[base]; ok {
				return &Hook{System: "deb", Name: base, When: h.when, RunsCode: h.code}
			}
			return nil
		}
		if w, ok := apkHooks[base]; ok {
			return &Hook{System: "apk", Name: base, When: w, RunsCode: true}
		}
		if base == ".INSTALL" {
			return &Hook{System: "pacman", Name: base, When: "after-install", RunsCode: true}
		}
	}
	if path.Base(strings.TrimSuffix(dir, "/")) == "DEBIAN" {
		if h, ok := debHooks[base]; ok {
			return &Hook{System: "deb", Name: base, When: h.when, RunsCode: h.code}
		}
	}
	return nil
}

// isControlTar reports whether name is a deb's control member.
func isControlTar(name string) bool {
	switch name {
	case "control.tar", "control.tar.gz", "control.tar.xz", "control.tar.zst", "control.tar.bz2", "control.tar.lzma":
		return true
	}
	return false
}

var pacmanFunc = regexp.MustCompile(`(?m)^[ \t]*(?:function[ \t]+)?((?:pre|post)_(?:install|upgrade|remove))[ \t]*\([ \t]*\)`)

// pacmanHooks lists the functions an Arch .INSTALL file defines, each a hook.
func pacmanHooks(text []byte, h Hook) []Hook {
	when := map[string]string{
		"pre_install": "before-install", "post_install": "after-install",
		"pre_upgrade": "before-install", "post_upgrade": "after-install",
		"pre_remove": "before-remove", "post_remove": "after-remove",
	}
	var out []Hook
	seen := map[string]bool{}
	for _, m := range pacmanFunc.FindAllSubmatch(text, 16) {
		name := string(m[1])
		if seen[name] {
			continue
		}
		seen[name] = true
		c := h
		c.Name, c.When = name, when[name]
		out = append(out, c)
	}
	if len(out) == 0 {
		out = append(out, h)
	}
	return out
}

// rpmWhen maps rpm scriptlet names to when they run.
var rpmWhen = map[string]string{
	"prein": "before-install", "postin": "after-install", "preun": "before-remove",
	"postun": "after-remove", "pretrans": "before-transaction", "posttrans": "after-transaction",
	"verifyscript": "verify", "trigger": "trigger", "filetrigger": "trigger",
	"transfiletrigger": "trigger",
}

// analyzeRPM lists the scriptlets of an rpm package's header. The payload is not read.
func analyzeRPM(ctx context.Context, a *analyzers.Artifact, lim *limits.Limits, f *Facts) error {
	h, err := readRPMHeader(a, lim)
	if err != nil {
		return fmt.Errorf("reading the rpm header for its scriptlets: %w", err)
	}
	f.RPM = &RPMPackage{Name: h.Name, Version: h.Version, Release: h.Release, Arch: h.Arch, Source: h.Source}
	for _, s := range h.Scriptlets {
		if len(f.InstallHooks) >= maxHooks {
			f.InstallHooksTruncated = true
			break
		}
		hk, err := scriptletHook(ctx, s)
		f.InstallHooks = append(f.InstallHooks, hk)
		if err != nil {
			return err
		}
	}
	return nil
}

// readRPMHeader reads the lead and headers of an rpm package, not its payload: the
// scriptlets are there even when the payload is damaged.
func readRPMHeader(a *analyzers.Artifact, lim *limits.Limits) (h *archive.RPMHeader, err error) {
	defer func() {
		if v := recover(); v != nil {
			h, err = nil, fmt.Errorf("rpm header reader failed (recovered panic: %v)", v)
		}
	}()
	return archive.ReadRPMHeader(io.NewSectionReader(a.Content, 0, a.Size), lim)
}

// scriptletHook describes one rpm scriptlet.
func scriptletHook(ctx context.Context, s archive.RPMScriptlet) (Hook, error) {
	hk := Hook{System: "rpm", Name: s.Name, When: rpmWhen[s.Name], RunsCode: true,
		Interpreter: s.Interpreter, Size: int64(len(s.Body))}
	if len(s.Interpreter) > 0 {
		hk.Language = languageOf(s.Interpreter[0])
	}
	hk.Body, hk.BodyTruncated = cutBody(s.Body)
	if s.Body == "" {
		return hk, nil
	}
	st, err := scanText(ctx, strings.NewReader(s.Body), hk.Language, maxHookObservations)
	if st != nil {
		hk.Observations = st.obs
	}
	return hk, err
}

// cutBody makes a hook body valid UTF-8 and cuts it to maxBody bytes on a rune boundary;
// cut reports that text was left out.
func cutBody(s string) (string, bool) {
	out := cutValid(s, maxBody)
	return out, len(s) > maxBody || len(out) < len(strings.ToValidUTF8(s[:min(len(s), 4*maxBody)], "\uFFFD"))
}
