package script

import (
	"bytes"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxShebang bounds the #! line read; Linux reads at most 256 bytes of it.
const maxShebang = 1024

// shebangLine is a parsed #! line.
type shebangLine struct {
	prog string   // the program as written
	args []string // the words after it, as written
	name string   // the program that runs the script, env looked through ("python3.11")
}

// parseShebang parses the #! line at the start of text; ok is false without one.
func parseShebang(text []byte) (sb shebangLine, ok bool) {
	if !bytes.HasPrefix(text, []byte("#!")) {
		return sb, false
	}
	line := text[2:min(len(text), maxShebang)]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, "\r")
	fields := strings.Fields(strings.ToValidUTF8(string(line), "\uFFFD"))
	if len(fields) == 0 {
		return sb, true
	}
	sb.prog = fields[0]
	if len(fields) > 1 {
		sb.args = fields[1:]
	}
	sb.name = path.Base(sb.prog)
	words := sb.args
	if sb.name == "env" {
		sb.name = ""
		for i := 0; i < len(words); i++ {
			w := words[i]
			switch {
			case w == "-S" || w == "--split-string":
				continue // the rest is the command, already split into words
			case strings.HasPrefix(w, "--split-string="):
				if rest := strings.TrimPrefix(w, "--split-string="); rest != "" {
					sb.name = path.Base(rest)
				}
			case strings.HasPrefix(w, "-S"):
				sb.name = path.Base(w[2:])
			case w == "-u" || w == "--unset" || w == "-C" || w == "--chdir":
				i++ // option with an argument
			case strings.HasPrefix(w, "-"), strings.Contains(w, "="):
				continue
			default:
				sb.name = path.Base(w)
			}
			if sb.name != "" {
				break
			}
		}
	} else if sb.name == "busybox" && len(words) > 0 {
		sb.name = path.Base(words[0])
	}
	return sb, true
}

// versionSuffix matches the version a program name carries: python3.11, perl5.36.0,
// lua5.4, php8.2, ruby3.1, tclsh8.6, python3-dbg.
var versionSuffix = regexp.MustCompile(`[0-9][0-9.]*(-[a-z0-9]+)?$`)

// interpreters maps program base names, without version, to languages.
var interpreters = map[string]string{
	"sh": "sh", "bash": "bash", "dash": "dash", "zsh": "zsh", "ksh": "ksh", "mksh": "ksh",
	"pdksh": "ksh", "ash": "sh", "csh": "csh", "tcsh": "csh", "fish": "fish", "rbash": "bash",
	"python": "python", "pypy": "python", "jython": "python", "ipython": "python",
	"perl": "perl", "ruby": "ruby", "jruby": "ruby",
	"node": "node", "nodejs": "node", "deno": "node", "bun": "node", "ts-node": "node",
	"pwsh": "powershell", "powershell": "powershell",
	"lua": "lua", "luajit": "lua", "<lua>": "lua",
	"php": "php", "php-cgi": "php",
	"tclsh": "tcl", "wish": "tcl", "expect": "expect",
	"awk": "awk", "gawk": "awk", "mawk": "awk", "nawk": "awk",
	"cmd": "batch", "cmd.exe": "batch", "cscript": "vbscript", "wscript": "vbscript",
}

// languageOf maps an interpreter's base name ("python3.11", "/usr/bin/lua") to a language;
// "other" for a program none of the known ones, "" for an empty name.
func languageOf(prog string) string {
	if prog == "" {
		return ""
	}
	name := strings.ToLower(path.Base(prog))
	if l, ok := interpreters[name]; ok {
		return l
	}
	if l, ok := interpreters[versionSuffix.ReplaceAllString(name, "")]; ok {
		return l
	}
	return "other"
}

// extensions maps file name extensions to languages.
var extensions = map[string]string{
	".sh": "sh", ".bash": "bash", ".zsh": "zsh", ".ksh": "ksh", ".csh": "csh", ".fish": "fish",
	".py": "python", ".pyw": "python", ".pl": "perl", ".pm": "perl", ".rb": "ruby",
	".js": "node", ".mjs": "node", ".cjs": "node",
	".ps1": "powershell", ".psm1": "powershell", ".psd1": "powershell",
	".bat": "batch", ".cmd": "batch", ".vbs": "vbscript", ".vbe": "vbscript",
	".php": "php", ".lua": "lua", ".tcl": "tcl", ".exp": "expect", ".awk": "awk",
}

// languageByName is the language a file name's extension says, or "".
func languageByName(name string) string {
	return extensions[strings.ToLower(path.Ext(name))]
}

// contentHints are keywords, in the order they are tried, that tell a language apart when
// neither a #! line nor the name does. Each needs two distinct hits in the first bytes.
var contentHints = []struct {
	lang  string
	words []string
}{
	{"php", []string{"<?php"}},
	{"batch", []string{"@echo off", "setlocal", "%~dp0", "goto :eof", "errorlevel"}},
	{"powershell", []string{"param(", "write-host", "$env:", "[cmdletbinding()]", "get-childitem", "-erroraction", "$psscriptroot", "invoke-webrequest"}},
	{"vbscript", []string{"wscript.", "createobject(", "dim ", "end sub", "option explicit"}},
	{"python", []string{"import ", "def ", "from ", "__name__", "elif ", "print("}},
	{"perl", []string{"use strict", "use warnings", "my $", "sub ", "$_"}},
	{"ruby", []string{"require '", "puts ", "def ", "end\n", ".each do"}},
	{"node", []string{"require(", "const ", "function ", "module.exports", "console.log", "=> "}},
	{"sh", []string{"fi\n", "then\n", "esac", "set -e", "echo ", "exit 0", "; then", "$1", "${"}},
}

// contentWindow bounds the bytes content hints look at.
const contentWindow = 16 << 10

// languageByContent guesses a language from keywords in the first bytes of text, or "".
func languageByContent(text []byte) string {
	w := bytes.ToLower(text[:min(len(text), contentWindow)])
	if !utf8.Valid(w) && bytes.IndexByte(w, 0) >= 0 {
		return ""
	}
	for _, h := range contentHints {
		hits := 0
		for _, k := range h.words {
			if bytes.Contains(w, []byte(k)) {
				hits++
			}
		}
		if hits >= 2 || (hits == 1 && h.lang == "php") {
			return h.lang
		}
	}
	return ""
}

// shellLike reports whether lang is a Bourne- or C-shell family language.
func shellLike(lang string) bool {
	switch lang {
	case "sh", "bash", "dash", "zsh", "ksh", "csh", "fish":
		return true
	}
	return false
}
