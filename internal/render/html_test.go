package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/result"
)

// hostileResult is an acceptance result whose text from the delivery tries to break out
// of the report.
func hostileResult() *result.Result {
	return &result.Result{
		SchemaVersion: result.SchemaVersion,
		Tool:          result.Tool{Name: "kensa", Version: "test"},
		Target:        result.Target{Input: "delivery-3.2.0", Kind: "dir", Digest: "sha256:" + strings.Repeat("ab", 32)},
		Artifacts: []result.Artifact{
			{Path: "bin/<script>alert(1)</script>", Type: "file", Format: "elf", Size: 1234, Digest: "sha256:" + strings.Repeat("cd", 32)},
			{Path: "install.sh", Type: "file", Format: "script", Size: 341, Digest: "sha256:" + strings.Repeat("ef", 32)},
		},
		Findings: []result.Finding{
			{Rule: "policy/undeclared-endpoint", Severity: result.High, Path: "bin/<script>alert(1)</script>",
				Message: `contacts "><img src=x onerror=alert(2)>.example`, Evidence: []string{"</td></tr></table><script>alert(3)</script>"}},
			{Rule: "hardening/pe-without-cfg", Severity: result.Info, Path: "casemgr-admin.exe", Message: "no CFG",
				Waiver: &result.Waiver{Reason: "built with Go", Approver: "検収担当 山田", Expires: "2027-03-31"}},
		},
		Checks:     []result.Check{{Name: "signature/authenticode", Subject: "casemgr-admin.exe", Status: result.Fail, Detail: "not signed <b>"}},
		Errors:     []result.Error{},
		Verdict:    "fail",
		Reasons:    []string{"high finding policy/undeclared-endpoint: <iframe src=//evil>"},
		NotChecked: []string{"no build provenance was verified"},
		Policy:     &result.PolicyRef{File: "acceptance.yaml", Digest: "sha256:" + strings.Repeat("01", 32), FailOn: "high"},
	}
}

func renderHTML(t *testing.T, lang string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, hostileResult(), ReportExtras{Lang: lang, Components: map[string]int{"deb": 3, "golang": 2}, Executables: 5, Unaccounted: 1,
		Generated: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestHTMLReport(t *testing.T) {
	for lang, words := range map[string][]string{
		English: {"Acceptance report", "FAIL — not accepted", "Reasons for the verdict", "Waivers used", "Delivered files (2)"},
		Japanese: {"検収報告書", "不合格", "不合格の理由", "適用した免除", "納品ファイル一覧 (2)", "検収担当 山田",
			"重大度「高」の検出事項 policy/undeclared-endpoint: ", "ビルドの来歴 (provenance) を検証していません"},
	} {
		page := renderHTML(t, lang)
		for _, w := range words {
			if !strings.Contains(page, w) {
				t.Errorf("%s report lacks %q", lang, w)
			}
		}
		// Nothing from the delivery becomes markup.
		for _, bad := range []string{"<script", "<img", "<iframe", "<b>"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s report carries %q from the delivery", lang, bad)
			}
		}
		// Self-contained: no resource is fetched from anywhere.
		if m := regexp.MustCompile(`(?i)<[a-z][^<>]*\s(src|href)\s*=\s*["']?(https?:|//)`).FindString(page); m != "" {
			t.Errorf("%s report refers to an external resource: %s", lang, m)
		}
		if !strings.Contains(page, "sha256:"+strings.Repeat("cd", 32)) {
			t.Errorf("%s report lacks a file's digest", lang)
		}
		if !strings.Contains(page, `<svg xmlns="http://www.w3.org/2000/svg"`) {
			t.Errorf("%s report has no chart", lang)
		}
	}
}

// TestHTMLInChromium opens both reports in headless Chromium (Debian's chromium
// package): each renders without a console error and shows its verdict. Screenshots go
// to $KENSA_TEST_ARTIFACTS when set.
func TestHTMLInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (Debian package chromium); .ci/run installs it")
	}
	out := os.Getenv("KENSA_TEST_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	for lang, verdict := range map[string]string{English: "FAIL — not accepted", Japanese: "不合格"} {
		dir := t.TempDir()
		page := filepath.Join(dir, "report.html")
		if err := os.WriteFile(page, []byte(renderHTML(t, lang)), 0o644); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(out, "report-"+lang+".png")
		args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
			"--window-size=1100,1600", "--virtual-time-budget=2000"}
		cmd := exec.Command(browser, append(args, "--dump-dom", "file://"+page)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		dom, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.Bytes())
		}
		if !strings.Contains(string(dom), verdict) {
			t.Errorf("%s: the rendered page does not show %q", lang, verdict)
		}
		if strings.Contains(stderr.String(), "CONSOLE") {
			t.Errorf("%s: console messages while rendering:\n%s", lang, stderr.String())
		}
		if out, err := exec.Command(browser, append(args, "--screenshot="+shot, "file://"+page)...).CombinedOutput(); err != nil {
			t.Fatalf("chromium screenshot: %v\n%s", err, out)
		}
		if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
			t.Errorf("%s: no screenshot: %v", lang, err)
		}
		t.Logf("%s report screenshot: %s", lang, shot)
	}
}

func TestJapaneseSentences(t *testing.T) {
	for en, ja := range map[string]string{
		"high finding backdoor/x: agentd opens a shell (the waiver approved by 山田 expired on 2026-03-31 and no longer applies)": "重大度「高」の検出事項 backdoor/x: agentd opens a shell（山田 が承認した免除は 2026-03-31 に期限が切れ、適用されません）",
		"check signature/authenticode failed for admin.exe: not signed":                                                         "検証 signature/authenticode が不合格 (admin.exe): not signed",
		"check provenance/slsa could not be decided for app.tgz: no bundle":                                                     "検証 provenance/slsa を判定できません (app.tgz): no bundle",
		"x.tar!a could not be inspected (limit): too big":                                                                       "x.tar!a を検査できませんでした (limit): too big",
		NoBaseline: "ベースラインがありません。前回検収したリリースとの比較をしていません",
	} {
		if got := sentence(Japanese, en); got != ja {
			t.Errorf("%q:\n got %q\nwant %q", en, got, ja)
		}
		if got := sentence(English, en); got != en {
			t.Errorf("English changed %q to %q", en, got)
		}
	}
	for _, s := range []string{NoSignature, NoProvenance, NoVendorSBOM, NoManifest, NoDestinations, NoBaseline} {
		if notCheckedJA[s] == "" {
			t.Errorf("no Japanese for %q", s)
		}
	}
}
