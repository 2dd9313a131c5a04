package script

import (
	"bytes"
	"context"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

// TestSamples checks the language of every sample script and that the observations are
// exactly those its "expect:" markers name, line by line (lines without a marker are the
// negatives).
func TestSamples(t *testing.T) {
	for _, c := range []struct {
		file, lang, source, prog, name string
		args                           []string
	}{
		{"install.sh", "sh", "shebang", "/bin/sh", "sh", []string{"-e"}},
		{"clean.sh", "bash", "shebang", "/bin/bash", "bash", nil},
		{"setup-env.bash", "bash", "shebang", "/usr/bin/env", "bash", []string{"bash"}},
		{"helper.py", "python", "shebang", "/usr/bin/env", "python3", []string{"-S", "python3", "-u"}},
		{"versioned.py", "python", "shebang", "/usr/bin/python3.11", "python3.11", nil},
		{"fetch.pl", "perl", "shebang", "/usr/bin/perl", "perl", []string{"-w"}},
		{"update.rb", "ruby", "shebang", "/usr/bin/env", "ruby", []string{"ruby"}},
		{"install.js", "node", "extension", "", "", nil},
		{"agent.ps1", "powershell", "extension", "", "", nil},
		{"setup.bat", "batch", "extension", "", "", nil},
		{"run.vbs", "vbscript", "extension", "", "", nil},
		{"hook.lua", "lua", "shebang", "/usr/bin/lua5.4", "lua5.4", nil},
		{"web.php", "php", "shebang", "/usr/bin/php", "php", nil},
		{"tool.tcl", "tcl", "shebang", "/usr/bin/tclsh8.6", "tclsh8.6", nil},
	} {
		t.Run(c.file, func(t *testing.T) {
			content := readSample(t, c.file)
			f, err := analyze(t, "delivery.tar.gz!scripts/"+c.file, content)
			if err != nil {
				t.Fatal(err)
			}
			if f.Kind != "script" || f.Language != c.lang || f.LanguageSource != c.source {
				t.Errorf("kind %q language %q from %q, want script %q from %q", f.Kind, f.Language, f.LanguageSource, c.lang, c.source)
			}
			if f.Interpreter != c.prog || f.InterpreterName != c.name || !reflect.DeepEqual(f.InterpreterArgs, c.args) {
				t.Errorf("interpreter %q %q name %q, want %q %q %q", f.Interpreter, f.InterpreterArgs, f.InterpreterName, c.prog, c.args, c.name)
			}
			lines := int64(bytes.Count(content, []byte("\n")))
			if f.Lines != lines || f.Size != int64(len(content)) || f.ScannedBytes != f.Size || f.CRLF || f.BOM != "" {
				t.Errorf("lines %d size %d scanned %d crlf %v bom %q, want %d lines, %d bytes, no CRLF or BOM", f.Lines, f.Size, f.ScannedBytes, f.CRLF, f.BOM, lines, len(content))
			}
			if f.Entropy < 3 || f.Entropy > 6.5 {
				t.Errorf("entropy %.3f, want that of text", f.Entropy)
			}
			if len(f.InstallHooks) != 0 {
				t.Errorf("install hooks %+v, want none for a script outside a package's control area", f.InstallHooks)
			}
			checkObservations(t, c.file, content, f.Observations)
		})
	}
}

// TestEveryKindHasASample makes sure the samples exercise every observation kind.
func TestEveryKindHasASample(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range []string{"install.sh", "setup-env.bash", "helper.py", "fetch.pl", "update.rb", "install.js", "agent.ps1", "setup.bat", "run.vbs", "hook.lua", "web.php", "tool.tcl"} {
		for _, kinds := range expected(readSample(t, name)) {
			for _, k := range kinds {
				seen[k] = true
			}
		}
	}
	for _, k := range []string{obsPipeToShell, obsDownloadExecute, obsBase64, obsDynamicEval, obsPreloadWrite, obsPreloadRef,
		obsCron, obsScheduledTask, obsSystemd, obsUserAdd, obsPassword, obsSudoers, obsAuthorizedKeys, obsSetuid, obsDevTCP, obsNetcatExec} {
		if !seen[k] {
			t.Errorf("no sample expects %q", k)
		}
	}
}

func TestShebang(t *testing.T) {
	for _, c := range []struct {
		line, prog, name, lang string
		args                   []string
	}{
		{"#!/usr/bin/env -S python3 -u\n", "/usr/bin/env", "python3", "python", []string{"-S", "python3", "-u"}},
		{"#!/usr/bin/env -Spython3.12 -u\n", "/usr/bin/env", "python3.12", "python", []string{"-Spython3.12", "-u"}},
		{"#!/usr/bin/env --split-string=ruby -w\n", "/usr/bin/env", "ruby", "ruby", []string{"--split-string=ruby", "-w"}},
		{"#!/usr/bin/env -u HOME -i LANG=C perl\n", "/usr/bin/env", "perl", "perl", []string{"-u", "HOME", "-i", "LANG=C", "perl"}},
		{"#!/bin/sh -e\n", "/bin/sh", "sh", "sh", []string{"-e"}},
		{"#! /bin/bash\r\necho\r\n", "/bin/bash", "bash", "bash", nil},
		{"#!/usr/bin/python3.11", "/usr/bin/python3.11", "python3.11", "python", nil},
		{"#!/bin/busybox sh\n", "/bin/busybox", "sh", "sh", []string{"sh"}},
		{"#!/usr/bin/pwsh -NoProfile\n", "/usr/bin/pwsh", "pwsh", "powershell", []string{"-NoProfile"}},
		{"#!/usr/bin/nodejs\n", "/usr/bin/nodejs", "nodejs", "node", nil},
		{"#!/usr/bin/dash\n", "/usr/bin/dash", "dash", "dash", nil},
		{"#!/usr/bin/zsh -f\n", "/usr/bin/zsh", "zsh", "zsh", []string{"-f"}},
		{"#!/usr/bin/expect -f\n", "/usr/bin/expect", "expect", "expect", []string{"-f"}},
		{"#!/usr/bin/gawk -f\n", "/usr/bin/gawk", "gawk", "awk", []string{"-f"}},
		{"#!/opt/vendor/bin/runner --fast\n", "/opt/vendor/bin/runner", "runner", "other", []string{"--fast"}},
		{"#!/usr/bin/env\n", "/usr/bin/env", "", "", nil},
	} {
		sb, ok := parseShebang([]byte(c.line))
		if !ok || sb.prog != c.prog || sb.name != c.name || !reflect.DeepEqual(sb.args, c.args) || languageOf(sb.name) != c.lang {
			t.Errorf("%q: got %q %q name %q language %q, want %q %q %q %q", c.line, sb.prog, sb.args, sb.name, languageOf(sb.name), c.prog, c.args, c.name, c.lang)
		}
	}
	if _, ok := parseShebang([]byte("echo hi\n")); ok {
		t.Error("a line without #! was taken for a #! line")
	}
}

func TestContentLanguage(t *testing.T) {
	for _, c := range []struct{ text, lang string }{
		{"set -e\ncase \"$1\" in\n configure) echo hi ;;\nesac\nexit 0\n", "sh"},
		{"import os\ndef main():\n    print(1)\n", "python"},
		{"@echo off\r\nsetlocal\r\necho hi\r\n", "batch"},
		{"param($a)\nWrite-Host $a\n", "powershell"},
		{"use strict;\nuse warnings;\nmy $x = 1;\n", "perl"},
		{"<?php echo 1;", "php"},
		{"hello world, this is a README\n", ""},
	} {
		if got := languageByContent([]byte(c.text)); got != c.lang {
			t.Errorf("%q: language %q, want %q", c.text, got, c.lang)
		}
	}
}

// TestEncodings checks byte-order marks, UTF-16 decoding and CR LF line ends: the
// observations stay on their lines.
func TestEncodings(t *testing.T) {
	src := readSample(t, "agent.ps1")
	crlf := bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
	lines := int64(bytes.Count(src, []byte("\n")))

	utf8BOM := append([]byte{0xef, 0xbb, 0xbf}, crlf...)
	u16 := utf16.Encode([]rune(string(crlf)))
	le := []byte{0xff, 0xfe}
	be := []byte{0xfe, 0xff}
	for _, u := range u16 {
		le = binary.LittleEndian.AppendUint16(le, u)
		be = binary.BigEndian.AppendUint16(be, u)
	}
	for _, c := range []struct {
		name    string
		content []byte
		bom     string
		crlf    bool
	}{
		{"lf", src, "", false},
		{"crlf", crlf, "", true},
		{"utf-8-bom", utf8BOM, "utf-8", true},
		{"utf-16le", le, "utf-16le", true},
		{"utf-16be", be, "utf-16be", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := analyze(t, "win/agent.ps1", c.content)
			if err != nil {
				t.Fatal(err)
			}
			if f.BOM != c.bom || f.CRLF != c.crlf || f.Lines != lines || f.Language != "powershell" {
				t.Errorf("bom %q crlf %v lines %d language %q, want %q %v %d powershell", f.BOM, f.CRLF, f.Lines, f.Language, c.bom, c.crlf, lines)
			}
			if c.crlf && f.CRLFLines != lines {
				t.Errorf("crlf lines %d, want %d", f.CRLFLines, lines)
			}
			checkObservations(t, c.name, src, f.Observations)
		})
	}
	// A #! line after a UTF-8 byte-order mark and with a CR before its line end.
	f, err := analyze(t, "x/run.sh", append([]byte("\xef\xbb\xbf#!/bin/sh\r\ncurl -s http://h/x | sh\r\n"), []byte{}...))
	if err != nil {
		t.Fatal(err)
	}
	if f.Language != "sh" || f.Interpreter != "/bin/sh" || len(f.Observations) != 1 || f.Observations[0].Line != 2 {
		t.Errorf("BOM + CRLF script: language %q interpreter %q observations %+v", f.Language, f.Interpreter, f.Observations)
	}
}

func TestLines(t *testing.T) {
	long := strings.Repeat("x", 3*maxLine)
	content := []byte("#!/bin/sh\n" + long + "\ncurl -s http://h/x | sh\nno newline at the end")
	f, err := analyze(t, "a/b.sh", content)
	if err != nil {
		t.Fatal(err)
	}
	if f.Lines != 4 || f.LongestLine != int64(len(long)) {
		t.Errorf("lines %d longest %d, want 4 and %d", f.Lines, f.LongestLine, len(long))
	}
	if len(f.Observations) != 1 || f.Observations[0].Line != 3 || f.Observations[0].Kind != obsPipeToShell {
		t.Errorf("observations %+v, want pipe-to-shell on line 3", f.Observations)
	}
	// Observation text is cut to maxObsText bytes and stays valid UTF-8.
	line := "curl -s http://h/x | sh # " + strings.Repeat("é", 600)
	f, err = analyze(t, "a/c.sh", []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Observations) != 1 || len(f.Observations[0].Text) > maxObsText || !utf8.ValidString(f.Observations[0].Text) {
		t.Errorf("observation %+v: want one, at most %d bytes of valid UTF-8", f.Observations, maxObsText)
	}
}

func TestObservationCap(t *testing.T) {
	content := []byte("#!/bin/sh\n" + strings.Repeat("curl -s http://h/x | sh\n", maxObservations+10))
	f, err := analyze(t, "a/many.sh", content)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Observations) != maxObservations || !f.ObservationsTruncated || f.Lines != maxObservations+11 {
		t.Errorf("%d observations truncated=%v lines %d, want %d, true, %d", len(f.Observations), f.ObservationsTruncated, f.Lines, maxObservations, maxObservations+11)
	}
}

func TestWants(t *testing.T) {
	an := New()
	for _, c := range []struct {
		path   string
		format sniff.Format
		want   bool
	}{
		{"x/install.sh", sniff.Script, true},
		{"x/tool", sniff.Script, true},
		{"x/pkg.rpm", sniff.RPM, true},
		{"x/notes.txt", sniff.Text, false},
		{"x/run.ps1", sniff.Text, true},
		{"x/run.PS1", sniff.Data, true},
		{"x/setup.cmd", sniff.Text, true},
		{"x/empty.sh", sniff.Empty, false},
		{"x/a.js", sniff.ELF, false},
		{"node_modules/left-pad/package.json", sniff.Text, true},
		{"src/setup.py", sniff.Text, true},
		{"src/setup.cfg", sniff.Text, true},
		{"src/pyproject.toml", sniff.Text, true},
		{"src/Cargo.toml", sniff.Text, false},
		{"a.deb!control.tar.xz!postinst", sniff.Text, true},
		{"a.deb!control.tar.zst!./preinst", sniff.ELF, true},
		{"a.deb!control.tar.gz!conffiles", sniff.Text, true},
		{"a.deb!control.tar.gz!md5sums", sniff.Text, false},
		{"a.deb!data.tar.xz!usr/share/postinst", sniff.Text, false},
		{"tree/DEBIAN/prerm", sniff.Text, true},
		{"a.apk!.post-install", sniff.Text, true},
		{"a.pkg.tar.zst!.INSTALL", sniff.Text, true},
		{"a.deb!control.tar.xz!postinst", sniff.Empty, false},
	} {
		a := &analyzers.Artifact{Path: c.path, Format: c.format}
		if got := an.Wants(a); got != c.want {
			t.Errorf("Wants(%s, %s) = %v, want %v", c.path, c.format, got, c.want)
		}
	}
}

func TestPathHook(t *testing.T) {
	for _, c := range []struct {
		path, system, name, when string
		code                     bool
	}{
		{"casemgr-agent_3.2.0_amd64.deb!control.tar.xz!postinst", "deb", "postinst", "after-install", true},
		{"img.tar!var/cache/x.deb!control.tar.gz!./preinst", "deb", "preinst", "before-install", true},
		{"x.deb!control.tar!prerm", "deb", "prerm", "before-remove", true},
		{"x.deb!control.tar.zst!postrm", "deb", "postrm", "after-remove", true},
		{"x.deb!control.tar.xz!config", "deb", "config", "configure", true},
		{"x.deb!control.tar.xz!triggers", "deb", "triggers", "trigger", false},
		{"x.deb!control.tar.xz!conffiles", "deb", "conffiles", "upgrade", false},
		{"build/pkgroot/DEBIAN/postinst", "deb", "postinst", "after-install", true},
		{"alpine.apk!.pre-deinstall", "apk", ".pre-deinstall", "before-remove", true},
		{"arch.pkg.tar.zst!.INSTALL", "pacman", ".INSTALL", "after-install", true},
	} {
		h := pathHook(c.path)
		if h == nil || h.System != c.system || h.Name != c.name || h.When != c.when || h.RunsCode != c.code {
			t.Errorf("%s: hook %+v, want %s %s %s code=%v", c.path, h, c.system, c.name, c.when, c.code)
		}
	}
	for _, p := range []string{"postinst", "x.deb!data.tar.xz!etc/postinst", "x.deb!control.tar.xz!control", "x.tar!dir/.INSTALL"} {
		if h := pathHook(p); h != nil {
			t.Errorf("%s: hook %+v, want none", p, h)
		}
	}
}

func TestPacmanInstall(t *testing.T) {
	content := []byte("post_install() {\n  useradd -r agent\n}\n\npre_remove() {\n  userdel agent\n}\n")
	f, err := analyze(t, "agent-1.0-1-x86_64.pkg.tar.zst!.INSTALL", content)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.InstallHooks) != 2 || f.InstallHooks[0].Name != "post_install" || f.InstallHooks[0].When != "after-install" ||
		f.InstallHooks[1].Name != "pre_remove" || f.InstallHooks[1].When != "before-remove" || f.InstallHooks[0].System != "pacman" {
		t.Errorf("hooks %+v", f.InstallHooks)
	}
	if len(f.Observations) != 1 || f.Observations[0].Kind != obsUserAdd || f.Observations[0].Line != 2 {
		t.Errorf("observations %+v", f.Observations)
	}
}

func TestHookBinary(t *testing.T) {
	content := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...)
	f, err := analyze(t, "x.deb!control.tar.xz!postinst", content)
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != "binary" || len(f.InstallHooks) != 1 || f.InstallHooks[0].Language != "elf" || f.InstallHooks[0].Name != "postinst" {
		t.Errorf("facts %+v", f)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	content := []byte("#!/bin/sh\n" + strings.Repeat("echo hi\n", 5000))
	a := artifact("a/x.sh", content)
	v, err := New().Analyze(ctx, a)
	if err == nil || v == nil {
		t.Errorf("cancelled: facts %v error %v, want facts and the context's error", v, err)
	}
}

func TestSchema(t *testing.T) {
	an := New()
	if an.Name() != "script" {
		t.Errorf("name %q", an.Name())
	}
	if _, ok := an.Schema().(*Facts); !ok {
		t.Errorf("schema %T", an.Schema())
	}
}
