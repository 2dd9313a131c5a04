package archive

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const rpmSpec = `Name: kensa-test
Version: 1.2.3
Release: 4
Epoch: 2
Summary: test package
License: MIT
Vendor: Kensa Test
BuildArch: noarch
%description
test
%pre
echo pre
%post -p /bin/sh
echo post
%preun -p <lua>
print("preun")
%postun
echo postun
%posttrans
echo posttrans
%triggerin -- bash
echo trigger
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc/kensa %{buildroot}/usr/share/kensa
printf 'binary\n' > %{buildroot}/usr/bin/tool
printf 'suid\n' > %{buildroot}/usr/bin/suid
ln -s tool %{buildroot}/usr/bin/link
printf 'shared content\n' > %{buildroot}/usr/share/kensa/a
ln %{buildroot}/usr/share/kensa/a %{buildroot}/usr/share/kensa/b
echo conf > %{buildroot}/etc/kensa/conf
head -c 300000 /dev/urandom > %{buildroot}/usr/share/kensa/random
%files
/usr/bin/tool
%attr(4755,root,root) /usr/bin/suid
/usr/bin/link
/usr/share/kensa
%config /etc/kensa/conf
%dir /etc/kensa
%ghost /var/log/kensa.log
`

// buildRPM builds the test package with rpmbuild, with the given payload setting
// (w9.gzdio, w6.xzdio, …).
func buildRPM(t testing.TB, payload string) string {
	t.Helper()
	top := t.TempDir()
	spec := filepath.Join(top, "k.spec")
	if err := os.WriteFile(spec, []byte(rpmSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, top, "rpmbuild", "-bb", "--quiet",
		"--define", "_topdir "+top,
		"--define", "_binary_payload "+payload,
		"--define", "__os_install_post %{nil}",
		"--define", "_build_id_links none",
		spec)
	return filepath.Join(top, "RPMS", "noarch", "kensa-test-1.2.3-4.noarch.rpm")
}

func TestInteropRPM(t *testing.T) {
	need(t, "rpmbuild", "rpm", "rpm2cpio", "cpio")
	for _, c := range []struct {
		payload string
		comp    Compression
		tag     string
	}{
		{"w9.gzdio", Gzip, "gzip"},
		{"w6.xzdio", XZ, "xz"},
		{"w19.zstdio", Zstd, "zstd"},
		{"w9.bzdio", Bzip2, "bzip2"},
		{"w6.lzdio", LZMA, "lzma"},
		{"w.ufdio", NoCompression, ""},
	} {
		t.Run(c.payload, func(t *testing.T) {
			p := buildRPM(t, c.payload)
			r, h, err := NewRPM(openFile(t, p), lim(), nil)
			if err != nil {
				t.Fatal(err)
			}
			q := func(format string) string {
				return string(run(t, ".", "rpm", "-qp", "--qf", format, p))
			}
			if got, want := fmt.Sprintf("%s|%s|%s|%d|%s|%s|%s|%s|%s|%s", h.Name, h.Version, h.Release, h.Epoch, h.Arch, h.OS, h.License, h.Vendor, h.SourceRPM, h.PayloadFormat),
				q("%{NAME}|%{VERSION}|%{RELEASE}|%{EPOCH}|%{ARCH}|%{OS}|%{LICENSE}|%{VENDOR}|%{SOURCERPM}|%{PAYLOADFORMAT}"); got != want {
				t.Errorf("header %q, rpm says %q", got, want)
			}
			if !h.HasEpoch || h.LeadName != "kensa-test-2:1.2.3-4" {
				t.Errorf("epoch %v, lead name %q", h.HasEpoch, h.LeadName)
			}
			tag := strings.TrimSpace(q("%{PAYLOADCOMPRESSOR}"))
			if tag == "(none)" {
				tag = ""
			}
			if h.PayloadCompression != c.comp || h.PayloadCompressor != tag || tag != c.tag {
				t.Errorf("payload %s, tag %q", h.PayloadCompression, h.PayloadCompressor)
			}
			if h.PayloadDigest == "" || h.PayloadDigest != q("%{PAYLOADDIGEST}") || h.PayloadDigestAlgo != 8 {
				t.Errorf("payload digest %q algo %d, rpm says %q", h.PayloadDigest, h.PayloadDigestAlgo, q("%{PAYLOADDIGEST}"))
			}
			if h.HeaderSHA256 != strings.TrimSpace(q("%{SHA256HEADER}")) {
				t.Errorf("header SHA-256 %s, rpm says %s", h.HeaderSHA256, q("%{SHA256HEADER}"))
			}
			if len(h.Anomalies) != 0 {
				t.Errorf("anomalies %q", h.Anomalies)
			}

			// File list, as rpm prints it.
			var files []string
			for _, f := range h.Files {
				mode := uint32(f.Mode.Perm())
				if f.Mode&fs.ModeSetuid != 0 {
					mode |= 0o4000
				}
				files = append(files, fmt.Sprintf("%s|%o|%d|%s|%s|%d|%s:%s", f.Path, mode, f.Size, f.Digest, f.LinkTo, f.Flags, f.User, f.Group))
			}
			rpmFiles := strings.Split(strings.TrimSpace(q(`[%{FILENAMES}|%{FILEMODES:octal}|%{FILESIZES}|%{FILEDIGESTS}|%{FILELINKTOS}|%{FILEFLAGS}|%{FILEUSERNAME}:%{FILEGROUPNAME}\n]`)), "\n")
			for i := range rpmFiles {
				// rpm prints the type bits too; keep the permission bits.
				fields := strings.Split(rpmFiles[i], "|")
				var m uint32
				fmt.Sscanf(fields[1], "%o", &m)
				fields[1] = fmt.Sprintf("%o", m&0o7777)
				rpmFiles[i] = strings.Join(fields, "|")
			}
			if strings.Join(files, "\n") != strings.Join(rpmFiles, "\n") {
				t.Errorf("files:\n%s\nrpm says:\n%s", strings.Join(files, "\n"), strings.Join(rpmFiles, "\n"))
			}
			if h.FileDigestAlgo != 8 {
				t.Errorf("file digest algorithm %d", h.FileDigestAlgo)
			}

			// Scriptlets.
			want := map[string][2]string{
				"prein":     {"/bin/sh", "echo pre"},
				"postin":    {"/bin/sh", "echo post"},
				"preun":     {"<lua>", `print("preun")`},
				"postun":    {"/bin/sh", "echo postun"},
				"posttrans": {"/bin/sh", "echo posttrans"},
				"trigger":   {"/bin/sh", "echo trigger"},
			}
			for _, s := range h.Scriptlets {
				w, ok := want[s.Name]
				if !ok {
					t.Errorf("unexpected scriptlet %s", s.Name)
					continue
				}
				delete(want, s.Name)
				if strings.Join(s.Interpreter, " ") != w[0] || strings.TrimSpace(s.Body) != w[1] {
					t.Errorf("%s: %q %q, want %q", s.Name, s.Interpreter, s.Body, w)
				}
			}
			if len(want) > 0 {
				t.Errorf("scriptlets missing: %v", want)
			}
			if body := strings.TrimSpace(q("%{POSTIN}")); body != "echo post" {
				t.Errorf("rpm says POSTIN %q", body)
			}

			// Payload, against rpm2cpio and the header.
			entries, err := readAll(r, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			listed := strings.Fields(string(sh(t, ".", "rpm2cpio "+p+" | cpio --quiet -t")))
			var names []string
			content := map[string][]byte{}
			for _, g := range entries {
				names = append(names, g.Name)
				content[g.Name] = g.Content
				if g.ReadErr != nil {
					t.Errorf("%s: %v", g.Name, g.ReadErr)
				}
				if len(g.Anomalies) > 0 && g.Name != "./usr/share/kensa/a" && g.Name != "./usr/share/kensa/b" {
					t.Errorf("%s: anomalies %q", g.Name, g.Anomalies)
				}
			}
			if strings.Join(names, " ") != strings.Join(listed, " ") {
				t.Errorf("payload %q, rpm2cpio %q", names, listed)
			}
			for name, want := range map[string]string{
				"./usr/bin/tool": "binary\n", "./usr/bin/suid": "suid\n", "./usr/bin/link": "tool",
				"./usr/share/kensa/b": "shared content\n", "./etc/kensa/conf": "conf\n",
			} {
				if string(content[name]) != want {
					t.Errorf("%s: content %q, want %q", name, content[name], want)
				}
			}
			if len(content["./usr/share/kensa/random"]) != 300000 {
				t.Errorf("random: %d bytes", len(content["./usr/share/kensa/random"]))
			}
			cpioBytes := sh(t, ".", "rpm2cpio "+p)
			ref, err := readAll(NewCpio(bytes.NewReader(cpioBytes), lim()), 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range ref {
				if !bytes.Equal(g.Content, content[g.Name]) {
					t.Errorf("%s: content differs from rpm2cpio's", g.Name)
				}
			}
		})
	}
}
