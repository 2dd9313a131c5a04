package checksums

import (
	"errors"
	"strings"
	"testing"
)

const (
	d256a = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	d256b = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
	d512a = "ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff"
)

// TestParseForms checks each accepted line form and what it yields.
func TestParseForms(t *testing.T) {
	for _, tc := range []struct {
		name, manifest, text string
		want                 []Entry
	}{
		{"gnu text", "SHA256SUMS", d256a + "  a.txt\n", []Entry{{"a.txt", SHA256, d256a, 1}}},
		{"gnu binary", "SHA256SUMS", d256a + " *bin/a.exe\n", []Entry{{"bin/a.exe", SHA256, d256a, 1}}},
		{"bsd reversed", "SHA256SUMS", d256a + " a.txt\n" + d256b + " b.txt", []Entry{{"a.txt", SHA256, d256a, 1}, {"b.txt", SHA256, d256b, 2}}},
		{"upper hex, crlf, comments", "SHA256SUMS", "# release 1.0\r\n\r\n" + strings.ToUpper(d256a) + "  ./a.txt\r\n", []Entry{{"a.txt", SHA256, d256a, 3}}},
		{"escaped", "SHA256SUMS", `\` + d256a + `  a\nb\\c\rd` + "\n", []Entry{{"a\nb\\c\rd", SHA256, d256a, 1}}},
		{"unescaped backslash is literal", "SHA256SUMS", d256a + `  dir\file.exe`, []Entry{{`dir\file.exe`, SHA256, d256a, 1}}},
		{"sha512 by length", "SHA512SUMS", d512a + "  a.txt\n", []Entry{{"a.txt", SHA512, d512a, 1}}},
		{"tagged mix", "CHECKSUMS", "SHA256 (a.txt) = " + d256a + "\nSHA512 (a.txt) = " + d512a + "\n", []Entry{{"a.txt", SHA256, d256a, 1}, {"a.txt", SHA512, d512a, 2}}},
		{"tagged escaped, odd name", "CHECKSUMS", `\SHA256 (x) = (y\n) = ` + d256a, []Entry{{"x) = (y\n", SHA256, d256a, 1}}},
		{"openssl", "checksums.txt", "SHA2-256(a.txt)= " + d256a, []Entry{{"a.txt", SHA256, d256a, 1}}},
		{"same line twice", "SHA256SUMS", d256a + "  a\n" + d256a + " *a\n", []Entry{{"a", SHA256, d256a, 1}}},
		{"inner dotdot", "SHA256SUMS", d256a + "  a/../b", []Entry{{"b", SHA256, d256a, 1}}},
		{"bare digest", "app.tar.gz.sha256", d256a + "\n", []Entry{{"app.tar.gz", SHA256, d256a, 1}}},
		{"bare sha512", "app.tar.gz.SHA512", strings.ToUpper(d512a), []Entry{{"app.tar.gz", SHA512, d512a, 1}}},
		{"clearsigned", "SHA256SUMS.asc", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + d256a + "  a\n- " + d256b + "  b\n-----BEGIN PGP SIGNATURE-----\n\nwnUEARYKAB0WIQQ=\n=AAAA\n-----END PGP SIGNATURE-----\n",
			[]Entry{{"a", SHA256, d256a, 1}, {"b", SHA256, d256b, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.manifest, []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Entries) != len(tc.want) {
				t.Fatalf("entries %+v, want %+v", m.Entries, tc.want)
			}
			for i := range tc.want {
				if m.Entries[i] != tc.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, m.Entries[i], tc.want[i])
				}
			}
		})
	}
}

// TestParseRejects checks that each malformed or dangerous manifest is refused with an
// error naming the offending line.
func TestParseRejects(t *testing.T) {
	long := d256a + "  " + strings.Repeat("a", MaxLineLength)
	for _, tc := range []struct {
		name, manifest, text string
		line                 int
		msg                  string
	}{
		{"dotdot", "SHA256SUMS", d256a + "  a\n" + d256b + "  ../etc/passwd\n", 2, `leaves the manifest's directory`},
		{"dotdot inner", "SHA256SUMS", d256a + "  a/../../b\n", 1, `leaves the manifest's directory`},
		{"absolute", "SHA256SUMS", d256a + "  /etc/passwd\n", 1, "absolute path"},
		{"windows absolute", "SHA256SUMS", d256a + `  C:\Windows\x.dll`, 1, "absolute Windows path"},
		{"tagged dotdot", "CHECKSUMS", "SHA256 (../x) = " + d256a, 1, `leaves the manifest's directory`},
		{"escaped dotdot", "SHA256SUMS", `\` + d256a + `  a\nb/../../x`, 1, `leaves`},
		{"duplicate differs", "SHA256SUMS", d256a + "  a\n# c\n" + d256b + "  ./a\n", 3, "different sha256 digest (first on line 1)"},
		{"mixed untagged", "CHECKSUMS", d256a + "  a\n" + d512a + "  b\n", 2, "only the tagged form"},
		{"named for sha256", "SHA256SUMS", "SHA512 (a) = " + d512a, 1, "named for sha256"},
		{"md5", "CHECKSUMS", "MD5 (a) = d41d8cd98f00b204e9800998ecf8427e", 1, `"MD5" is not accepted`},
		{"sha1 by length", "SHA256SUMS", "da39a3ee5e6b4b0d3255bfef95601890afd80709  a", 1, "malformed line"},
		{"short digest", "CHECKSUMS", "SHA256 (a) = " + d256a[:63], 1, "not 64 hex digits"},
		{"no name", "SHA256SUMS", d256a + " ", 1, "no file name"},
		{"garbage", "SHA256SUMS", d256a + "  a\nhello world\n", 2, "malformed line"},
		{"bad escape", "SHA256SUMS", `\` + d256a + `  a\tb`, 1, `unknown escape`},
		{"lone backslash", "SHA256SUMS", `\` + d256a + `  a\`, 1, "lone backslash"},
		{"nul", "SHA256SUMS", d256a + "  a\x00b", 1, "NUL"},
		{"dot", "SHA256SUMS", d256a + "  ./", 1, "names the manifest's directory"},
		{"reversed mixed", "SHA256SUMS", d256a + "  a\n" + d256b + " b\n", 2, "mixes"},
		{"long line", "SHA256SUMS", d256a + "  a\n" + long, 2, "longer than"},
		{"empty", "SHA256SUMS", "# nothing\n\n", 0, "lists no files"},
		{"bare digest elsewhere", "SHA256SUMS", d256a, 1, "malformed line"},
		{"clearsign trailer", "SHA256SUMS", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + d256a + "  a\n-----BEGIN PGP SIGNATURE-----\n\nwnUEARYKAB0WIQQ=\n=AAAA\n-----END PGP SIGNATURE-----\n" + d256b + "  evil\n", 0, "data after the end"},
		{"clearsign bad header", "SHA256SUMS", "-----BEGIN PGP SIGNED MESSAGE-----\nComment: x\n\n" + d256a + "  a\n-----BEGIN PGP SIGNATURE-----\n\nwnUEARYKAB0WIQQ=\n=AAAA\n-----END PGP SIGNATURE-----\n", 0, "malformed OpenPGP clearsigned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.manifest, []byte(tc.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %+v, %v; want a ParseError", m, err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Error(), tc.msg) || !strings.Contains(pe.Error(), tc.manifest) {
				t.Fatalf("error %q (line %d), want line %d and %q", pe.Error(), pe.Line, tc.line, tc.msg)
			}
		})
	}
}

// TestParseLimits checks the size and entry bounds.
func TestParseLimits(t *testing.T) {
	if _, err := Parse("SHA256SUMS", make([]byte, MaxManifestSize+1)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized manifest: %v", err)
	}
	var b strings.Builder
	for i := 0; i <= MaxEntries; i++ {
		b.WriteString(d256a)
		b.WriteString("  f")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteByte(byte('a' + i%26))
		b.WriteString("/")
		b.WriteString(itoa(i))
		b.WriteByte('\n')
	}
	if b.Len() > MaxManifestSize {
		t.Fatalf("test manifest of %d bytes is over the size limit; the entry limit is unreachable", b.Len())
	}
	_, err := Parse("SHA256SUMS", []byte(b.String()))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != MaxEntries+1 || !strings.Contains(pe.Msg, "entries") {
		t.Fatalf("too many entries: %v", err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}

// TestManifestNames checks which file names are recognised as manifests and signatures.
func TestManifestNames(t *testing.T) {
	for _, n := range []string{"SHA256SUMS", "dist/SHA512SUMS", "sha256sum.txt", "SHA256SUMS.txt", "app.tar.gz.sha256",
		"app.tar.gz.sha512", "app.sha256sum", "CHECKSUMS", "checksums.txt", "tool_1.2.3_checksums.txt", "tool_1.2.3_SHA256SUMS",
		"Fedora-Workstation-40-x86_64-CHECKSUM", "x.tar!rel/SHA256SUMS", "x.tar!SHA256SUMS", "x.zip!CHECKSUMS", "app.SHA256", "my-checksums-v2.txt"} {
		if !IsManifestName(n) {
			t.Errorf("%s not recognised as a manifest", n)
		}
	}
	for _, n := range []string{"SHA256SUMS.asc", "SHA256SUMS.sig", "README", "sha256.c", "checksum.go", "checksums.json", "app.exe", "mysha256sums"} {
		if IsManifestName(n) {
			t.Errorf("%s recognised as a manifest", n)
		}
	}
	for sig, want := range map[string]string{"SHA256SUMS.asc": "SHA256SUMS", "a/SHA256SUMS.gpg": "a/SHA256SUMS", "SHA256SUMS.sign": "SHA256SUMS",
		"t_1.0_SHA256SUMS.72D7468F.sig": "t_1.0_SHA256SUMS", "t_1.0_SHA256SUMS.sig": "t_1.0_SHA256SUMS"} {
		if got, ok := signatureOf(sig); !ok || got != want {
			t.Errorf("signatureOf(%s) = %s, %v; want %s", sig, got, ok, want)
		}
	}
	if _, ok := signatureOf(".asc"); ok {
		t.Error("signatureOf(.asc) named a manifest")
	}
}
