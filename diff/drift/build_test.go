package drift

import (
	"os"
	"strings"
	"testing"

	"kensa.dev/kensa/diff/drift/internal/m4serial"
)

func TestFindDecodeAndRun(t *testing.T) {
	flagged := []string{
		// the xz backdoor's build-to-host.m4 (5.6.0) and its second stage
		`    gl_[$1]_config='sed \"r\n\" $gl_am_configmake | eval $gl_path_map | $gl_[$1]_prefix -d 2>/dev/null'`,
		`xz -dc $srcdir/tests/files/good-large_compressed.lzma | eval $i | tail -c +31233 | tr "\114-\321\322-\377\35-\47\14-\34\0-\13\50-\113" "\0-\377" | xz -F raw --lzma1 -dc | /bin/sh`,
		`tail -c +4097 "$f" | xz -d 2>/dev/null | sh`,
		`cat payload.b64 | base64 -d | bash -s`,
		`eval "$(base64 --decode < blob)"`,
		`sh -c "$(gzip -dc data.gz)"`,
		`head -c 1024 f | $SHELL`,
		`tr 'A-Za-z' 'N-ZA-Mn-zm-a' < x | sh`,
		`openssl enc -aes-256-cbc -d -in x -k k | sh`,
		"dd if=blob bs=1 skip=99 2>/dev/null | \\\n  sh",
		`. <(zcat setup.gz)`,
	}
	for _, l := range flagged {
		if got := FindDecodeAndRun([]byte(l + "\n")); len(got) != 1 {
			t.Errorf("not flagged: %s", l)
		}
	}
	clean := []string{
		// automake's distcheck rule: eval runs the decompressor, tar reads its output
		`	case '$(DIST_ARCHIVES)' in \
	*.tar.gz*) \
	  eval GZIP= gzip $(GZIP_ENV) -dc $(distdir).tar.gz | $(am__untar) ;;\
	*.tar.bz2*) \
	  bzip2 -dc $(distdir).tar.bz2 | $(am__untar) ;;\
	esac`,
		`as_tr_sh="eval sed 'y%*+%pp%;s%[^_$as_cr_alnum]%_%g'"`,
		`ac_tmp=$(echo "$x" | tr 'a-z' 'A-Z')`,
		`xz -d file.xz; sh ./configure`,
		`gl_path_map='tr "\t \-_" " \t_\-"'`,
		`eval $gl_config_dir_config | $SHELL 2>/dev/null`,
	}
	for _, l := range clean {
		if got := FindDecodeAndRun([]byte(l + "\n")); len(got) != 0 {
			t.Errorf("flagged: %s: %+v", l, got)
		}
	}
	got := FindDecodeAndRun([]byte("a\nb \\\nc\ntail -c +9 f | \\\n xz -d | sh\n"))
	if len(got) != 1 || got[0].Line != 4 || got[0].Decode != "tail -c +9" || got[0].Run != "| sh" {
		t.Errorf("line numbers and parts: %+v", got)
	}
}

func TestM4Serial(t *testing.T) {
	cases := map[string]m4serial.Serial{
		"# pkg.m4 - x\n# serial 12 (pkg-config-0.29.2)\n": {Number: "12", Line: 2},
		"#serial 31\n":                        {Number: "31", Line: 1},
		"# build-to-host.m4 serial 30\n":      {Name: "build-to-host.m4", Number: "30", Line: 1},
		"dnl serial 11 (pkg-config-0.29)\r\n": {Number: "11", Line: 1},
		"# serial 1.2.3 foo\n":                {Number: "1.2.3", Line: 1},
		"x\n#   serial   7\n# serial 8\n":     {Number: "7", Line: 2},
	}
	for in, want := range cases {
		got, ok := m4serial.Find([]byte(in))
		if !ok || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "serial 3\n", "# serial\n", "# serial x1\n", "# serial 1..2\n", "dnlserial 3\n", "# foo serial 3\n", "# serial 1.\n"} {
		if got, ok := m4serial.Find([]byte(in)); ok {
			t.Errorf("%q: %+v", in, got)
		}
	}
}

func TestM4Table(t *testing.T) {
	k, err := m4Known()
	if err != nil {
		t.Fatal(err)
	}
	contents, err := m4Contents()
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, fs := range k {
		for _, f := range fs {
			rows++
			b, ok := contents[f.SHA256]
			if !ok {
				t.Fatalf("%s serial %s: no content in the store", f.Name, f.Serial)
			}
			// Every upstream file is known as itself.
			fs, err := checkM4("m4/"+f.Name, b)
			if err != nil || len(fs) != 0 {
				t.Fatalf("%s serial %s: %v %+v", f.Name, f.Serial, err, fs)
			}
		}
	}
	// automake's and autoconf's own m4 files have no serial lines: aclocal never copies them.
	for _, origin := range []string{"libtool ", "gettext ", "autopoint ", "pkgconf ", "autoconf-archive "} {
		if !strings.Contains(m4Table, "\t"+origin) {
			t.Errorf("the table has no file of %s", origin)
		}
	}
	t.Logf("%d upstream m4 files, %d names, %d distinct contents", rows, len(k), len(contents))

	// One changed byte is a mismatch that names the line; an unknown serial is info.
	pkg := []byte(nil)
	for _, f := range KnownM4("pkg.m4") {
		if f.Serial == "12" {
			pkg = contents[f.SHA256]
		}
	}
	if pkg == nil {
		t.Fatal("pkg.m4 serial 12 is not in the table")
	}
	changed := []byte(strings.Replace(string(pkg), "PKG_CONFIG=\"\"", "PKG_CONFIG=\"/tmp/x\"", 1))
	fs, err := checkM4("m4/pkg.m4", changed)
	if err != nil || len(fs) != 1 || fs[0].Rule != RuleM4SerialMismatch || !strings.Contains(strings.Join(fs[0].Evidence, "\n"), `"\t\tPKG_CONFIG=\"/tmp/x\""`) {
		t.Fatalf("changed pkg.m4: %v %+v", err, fs)
	}
	fs, err = checkM4("m4/build-to-host.m4", []byte("# build-to-host.m4 serial 30\n"))
	if err != nil || len(fs) != 1 || fs[0].Rule != RuleM4UnknownSerial || fs[0].Severity != "info" {
		t.Fatalf("unknown serial: %v %+v", err, fs)
	}
}

func FuzzM4Serial(f *testing.F) {
	for _, s := range []string{"# serial 12 (pkg-config-0.29.2)\n", "#serial 31", "# gettext.m4 serial 71 (gettext-0.20.2)\n", "dnl serial 1.2\r\n"} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("testdata/project/configure.ac"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, ok := m4serial.Find(b)
		if ok && (s.Number == "" || s.Line < 1) {
			t.Fatalf("%+v", s)
		}
		if _, err := checkM4("m4/pkg.m4", b); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzFindDecodeAndRun(f *testing.F) {
	for _, s := range []string{"tail -c +4097 f | xz -d | sh\n", "eval \"$(base64 -d x)\"", "a \\\nb | $p -d | eval x", "x || y && z; |"} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("testdata/project/Makefile.am"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range FindDecodeAndRun(b) {
			if c.Line < 1 || c.Decode == "" || c.Run == "" {
				t.Fatalf("%+v", c)
			}
		}
	})
}
