package archive

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// fixture is a directory tree built for the interoperability tests, and what each path in
// it is.
type fixture struct {
	dir   string
	files map[string]want
	// links groups hard-linked paths.
	links [][]string
}

type want struct {
	typ     Type
	mode    fs.FileMode
	content []byte
	link    string
	xattr   map[string]string
}

const longComponent = "a-component-name-that-is-much-longer-than-one-hundred-bytes-so-that-tar-needs-gnu-or-pax-long-names-for-it-x"

// makeTree builds a tree with regular files (text, binary, empty), setuid, setgid and
// sticky modes, nested and long names, a symbolic link, a hard link pair and, unless
// plain, a FIFO and an extended attribute.
func makeTree(t *testing.T, plain bool) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, files: map[string]want{}}
	rnd := rand.New(rand.NewSource(1))
	bin := make([]byte, 200_000)
	rnd.Read(bin)
	write := func(name string, content []byte, mode fs.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		chmod(t, p, mode)
		f.files[name] = want{typ: Regular, mode: mode, content: content}
	}
	mkdir := func(name string, mode fs.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		chmod(t, p, mode)
		f.files[name] = want{typ: Dir, mode: mode}
	}
	mkdir("bin", 0o755)
	mkdir("dir", 0o750)
	mkdir("dir/sub", 0o755)
	mkdir("tmp", 0o777|fs.ModeSticky)
	mkdir("long", 0o755)
	write("file.txt", []byte("hello, kensa\n"), 0o644)
	write("bin/tool", bin, 0o755)
	write("bin/suid", []byte("#!/bin/sh\necho root\n"), 0o755|fs.ModeSetuid)
	write("bin/sgid", []byte("#!/bin/sh\necho group\n"), 0o2755&0o777|fs.ModeSetgid)
	write("dir/sub/deep.txt", bytes.Repeat([]byte("deep "), 1000), 0o640)
	write("long/"+longComponent, []byte("long name\n"), 0o644)
	write("empty", nil, 0o644)
	write("odd-size", []byte("abc"), 0o600)
	if err := os.Symlink("file.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	f.files["link"] = want{typ: Symlink, mode: 0o777, link: "file.txt"}
	if err := os.Link(filepath.Join(dir, "dir/sub/deep.txt"), filepath.Join(dir, "dir/hard")); err != nil {
		t.Fatal(err)
	}
	f.files["dir/hard"] = f.files["dir/sub/deep.txt"]
	f.links = [][]string{{"dir/hard", "dir/sub/deep.txt"}}
	if !plain {
		if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		chmod(t, filepath.Join(dir, "fifo"), 0o644)
		f.files["fifo"] = want{typ: FIFO, mode: 0o644}
		if err := syscall.Setxattr(filepath.Join(dir, "file.txt"), "user.kensa", []byte("v\x00\x01"), 0); err != nil {
			t.Fatalf("setting an extended attribute in %s: %v (the test needs a file system with user xattrs)", dir, err)
		}
		w := f.files["file.txt"]
		w.xattr = map[string]string{"user.kensa": "v\x00\x01"}
		f.files["file.txt"] = w
	}
	return f
}

func chmod(t *testing.T, p string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// linkGroup returns the hard-link group of name, if any.
func (f *fixture) linkGroup(name string) []string {
	for _, g := range f.links {
		for _, n := range g {
			if n == name {
				return g
			}
		}
	}
	return nil
}

type checkOpts struct {
	noDirs       bool // the format does not store directories
	modeMask     fs.FileMode
	xattrs       bool // compare extended attributes
	symlinkMode  bool // compare the mode of symbolic links
	deferredLink bool // newc: the first of a hard-link group may be empty
}

// check compares what a reader returned with the fixture.
func (f *fixture) check(t *testing.T, entries []got, o checkOpts) {
	t.Helper()
	if o.modeMask == 0 {
		o.modeMask = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	}
	seen := map[string]bool{}
	for _, g := range entries {
		if g.ReadErr != nil {
			t.Errorf("%s: read: %v", g.Name, g.ReadErr)
		}
		name, err := CleanName(g.Name, lim())
		if err != nil {
			t.Errorf("%s: CleanName: %v", g.Name, err)
		}
		if name == "." {
			continue
		}
		w, ok := f.files[name]
		if !ok {
			t.Errorf("unexpected entry %q (%s)", g.Name, g.Type)
			continue
		}
		if seen[name] {
			t.Errorf("entry %q twice", name)
		}
		seen[name] = true
		group := f.linkGroup(name)
		switch {
		case g.Type == Hardlink:
			target, _ := CleanName(g.Linkname, lim())
			if group == nil || !contains(group, target) || target == name {
				t.Errorf("%s: hard link to %q, want one of %v", name, g.Linkname, group)
			}
			if len(g.Content) > 0 && !bytes.Equal(g.Content, w.content) {
				t.Errorf("%s: hard link content differs", name)
			}
			continue
		case g.Type != w.typ:
			t.Errorf("%s: type %s, want %s", name, g.Type, w.typ)
			continue
		}
		if g.Type != Symlink || o.symlinkMode {
			if got, want := g.Mode&o.modeMask, w.mode&o.modeMask; got != want {
				t.Errorf("%s: mode %v, want %v", name, got, want)
			}
		}
		switch g.Type {
		case Regular:
			if group != nil && o.deferredLink && len(g.Content) == 0 {
				break
			}
			if !bytes.Equal(g.Content, w.content) {
				t.Errorf("%s: content differs: got %d bytes %q…, want %d bytes", name, len(g.Content), trunc(g.Content), len(w.content))
			}
			if g.Size != int64(len(w.content)) {
				t.Errorf("%s: size %d, want %d", name, g.Size, len(w.content))
			}
		case Symlink:
			if g.Linkname != w.link {
				t.Errorf("%s: link target %q, want %q", name, g.Linkname, w.link)
			}
		}
		if o.xattrs && w.xattr != nil {
			for k, v := range w.xattr {
				if g.Xattrs[k] != v {
					t.Errorf("%s: xattr %s = %q, want %q (all: %q)", name, k, g.Xattrs[k], v, g.Xattrs)
				}
			}
		}
	}
	var missing []string
	for name, w := range f.files {
		if !seen[name] && !(o.noDirs && w.typ == Dir) {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("entries missing: %v", missing)
	}
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func openFile(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// decompressed opens a file and decompresses it by its magic.
func decompressed(t *testing.T, p string) io.Reader {
	t.Helper()
	f := openFile(t, p)
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	rc, err := Decompress(DetectCompression(head[:n]), f, lim(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return rc
}

func TestInteropTar(t *testing.T) {
	need(t, "tar", "gzip", "bzip2", "xz", "lzma", "zstd")
	f := makeTree(t, false)
	out := t.TempDir()
	cases := []struct {
		name, args string
		want       Compression
		xattrs     bool
	}{
		{"gnu.tar", "--format=gnu", NoCompression, false},
		{"pax.tar", "--format=posix --xattrs --xattrs-include=*", NoCompression, true},
		{"oldgnu.tar", "--format=oldgnu", NoCompression, false},
		{"pax.tar.gz", "--format=posix --xattrs --xattrs-include=* -z", Gzip, true},
		{"gnu.tar.bz2", "--format=gnu -j", Bzip2, false},
		{"gnu.tar.xz", "--format=gnu -J", XZ, false},
		{"gnu.tar.lzma", "--format=gnu -I lzma", LZMA, false},
		{"gnu.tar.zst", "--format=gnu --zstd", Zstd, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(out, c.name)
			sh(t, f.dir, fmt.Sprintf("tar %s -cf %s .", c.args, p))
			head := make([]byte, 16)
			n, _ := io.ReadFull(openFile(t, p), head)
			if got := DetectCompression(head[:n]); got != c.want {
				t.Fatalf("DetectCompression = %s, want %s", got, c.want)
			}
			entries, err := readAll(NewTar(decompressed(t, p), lim()), 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			f.check(t, entries, checkOpts{xattrs: c.xattrs})
		})
	}
}

// TestInteropTarSparse reads sparse files written by GNU tar in the old GNU format and in
// PAX format 1.0, and checks that holes read back as zeros.
func TestInteropTarSparse(t *testing.T) {
	need(t, "tar")
	dir := t.TempDir()
	p := filepath.Join(dir, "sparse")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	const size = 8 << 20
	want := make([]byte, size)
	for _, off := range []int64{0, 3 << 20, size - 5} {
		data := []byte(fmt.Sprintf("data@%d", off))[:5]
		copy(want[off:], data)
		if _, err := fh.WriteAt(data, off); err != nil {
			t.Fatal(err)
		}
	}
	fh.Close()
	for _, format := range []string{"gnu", "posix"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "s.tar")
			run(t, dir, "tar", "--format="+format, "--sparse", "-cf", out, "sparse")
			if st, _ := os.Stat(out); st.Size() > 1<<20 {
				t.Fatalf("tar did not store the file as sparse (%d bytes)", st.Size())
			}
			entries, err := readAll(NewTar(openFile(t, out), lim()), 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name != "sparse" || entries[0].Size != size {
				t.Fatalf("entries %+v", entries)
			}
			if !bytes.Equal(entries[0].Content, want) {
				t.Fatal("sparse content differs")
			}
			if !hasAnomaly(entries[0].Entry, "sparse") {
				t.Errorf("no sparse anomaly: %q", entries[0].Anomalies)
			}
		})
	}
}

func TestInteropZip(t *testing.T) {
	need(t, "zip", "unzip")
	f := makeTree(t, true)
	out := t.TempDir()
	for _, c := range []struct{ name, args string }{
		{"deflate.zip", "-r -y"},
		{"store.zip", "-r -y -0"},
		{"bzip2.zip", "-r -y -Z bzip2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(out, c.name)
			sh(t, f.dir, fmt.Sprintf("zip -q %s %s .", c.args, p))
			run(t, out, "unzip", "-tq", p)
			fh := openFile(t, p)
			st, _ := fh.Stat()
			z, err := NewZip(fh, st.Size(), lim(), nil)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := readAll(z, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			// zip stores hard links as two files.
			for i := range entries {
				if entries[i].Type == Hardlink {
					t.Errorf("zip entry %s is a hard link", entries[i].Name)
				}
			}
			f2 := *f
			f2.links = nil
			f2.check(t, entries, checkOpts{})
			if info := z.Info(); info.Prefix != 0 || info.Trailing != 0 || len(info.Anomalies) != 0 || info.Entries != len(entries) {
				t.Errorf("info %+v", info)
			}
		})
	}
	t.Run("comment-sfx-trailing", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.zip")
		sh(t, f.dir, "zip -q -r -y "+p+" file.txt bin")
		sh(t, dir, "echo 'an archive comment' | zip -q -z a.zip")
		stub := bytes.Repeat([]byte("#!/bin/sh\nexit 0\n"), 10)
		zipBytes, _ := os.ReadFile(p)
		// Unadjusted: offsets relative to the zip, as cat makes it.
		raw := append(append([]byte(nil), stub...), zipBytes...)
		check := func(name string, data []byte, trailing int64, notes int) {
			t.Run(name, func(t *testing.T) {
				z, err := NewZip(bytes.NewReader(data), int64(len(data)), lim(), nil)
				if err != nil {
					t.Fatal(err)
				}
				info := z.Info()
				if info.Prefix != int64(len(stub)) || info.Trailing != trailing || info.Comment != "an archive comment" {
					t.Errorf("info %+v", info)
				}
				if len(info.Anomalies) != notes {
					t.Errorf("anomalies %q, want %d", info.Anomalies, notes)
				}
				entries, err := readAll(z, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				g := *f
				g.files = map[string]want{}
				for _, n := range []string{"file.txt", "bin", "bin/tool", "bin/suid", "bin/sgid"} {
					g.files[n] = f.files[n]
				}
				g.links = nil
				g.check(t, entries, checkOpts{})
			})
		}
		check("unadjusted", raw, 0, 1)
		adj := filepath.Join(dir, "sfx.zip")
		if err := os.WriteFile(adj, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, dir, "zip", "-q", "-A", adj)
		adjusted, _ := os.ReadFile(adj)
		check("adjusted", adjusted, 0, 0)
		check("trailing", append(append([]byte(nil), adjusted...), "trailing junk"...), 13, 0)
	})
	t.Run("encrypted", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "e.zip")
		sh(t, f.dir, "zip -q -P secret "+p+" file.txt")
		data, _ := os.ReadFile(p)
		z, err := NewZip(bytes.NewReader(data), int64(len(data)), lim(), nil)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := readAll(z, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("%d entries", len(entries))
		}
		wantFormat(t, entries[0].ReadErr, "zip", ErrEncrypted)
	})
}

func TestInteropCpio(t *testing.T) {
	need(t, "cpio")
	f := makeTree(t, false)
	for _, format := range []string{"newc", "crc", "odc"} {
		t.Run(format, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "a.cpio")
			sh(t, f.dir, "find . | LC_ALL=C sort | cpio --quiet -o -H "+format+" > "+p)
			entries, err := readAll(NewCpio(openFile(t, p), lim()), 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			f.check(t, entries, checkOpts{deferredLink: format != "odc", symlinkMode: true})
			// GNU cpio stores the content of a hard-link group once in newc and crc, with
			// the last link; odc stores it with each.
			for _, g := range entries {
				if g.Name == "./dir/hard" && (g.Type != Regular || len(g.Content) != 0) && format != "odc" {
					t.Errorf("first link: %s with %d bytes", g.Type, len(g.Content))
				}
				if g.Name == "./dir/sub/deep.txt" {
					if g.Type != Hardlink || g.Linkname != "./dir/hard" || len(g.Content) != 5000 {
						t.Errorf("second link: %s → %q with %d bytes", g.Type, g.Linkname, len(g.Content))
					}
				}
			}
		})
	}
}

func TestInteropAr(t *testing.T) {
	need(t, "ar")
	dir := t.TempDir()
	files := map[string][]byte{
		"short.o":                         []byte("short"),
		"odd":                             []byte("odd-size!"),
		"a-name-longer-than-sixteen.o":    bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000),
		"another-very-long-member-name.o": []byte("x"),
		"empty":                           nil,
	}
	var names []string
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), c, 0o640); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, mode := range []string{"rc", "rcD", "rcU"} {
		t.Run(mode, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "lib.a")
			run(t, dir, "ar", append([]string{mode, p}, names...)...)
			listed := strings.Fields(string(run(t, dir, "ar", "t", p)))
			entries, err := readAll(NewAr(openFile(t, p), lim()), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(listed) {
				t.Fatalf("%d entries, ar t lists %d", len(entries), len(listed))
			}
			for i, g := range entries {
				if g.Name != listed[i] {
					t.Errorf("entry %d: %q, ar t says %q", i, g.Name, listed[i])
				}
				if !bytes.Equal(g.Content, files[g.Name]) || g.Size != int64(len(files[g.Name])) {
					t.Errorf("%s: content differs", g.Name)
				}
				if g.Type != Regular || (mode == "rcU" && g.Mode != 0o640) {
					t.Errorf("%s: %s %v", g.Name, g.Type, g.Mode)
				}
			}
		})
	}
}

// debPackage builds a binary package with dpkg-deb from a tree.
func debPackage(t *testing.T, f *fixture, compression string) string {
	t.Helper()
	root := t.TempDir()
	sh(t, f.dir, "cp -a . "+root)
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: kensa-test\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Test <test@example.org>\nDescription: test package\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "postinst"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "p.deb")
	run(t, root, "dpkg-deb", "--root-owner-group", "-Z"+compression, "--build", root, out)
	return out
}

func TestInteropDeb(t *testing.T) {
	need(t, "dpkg-deb", "tar")
	f := makeTree(t, true)
	for _, c := range []struct {
		z, ext string
		comp   Compression
	}{
		{"xz", ".xz", XZ}, {"gzip", ".gz", Gzip}, {"zstd", ".zst", Zstd}, {"none", "", NoCompression},
	} {
		t.Run(c.z, func(t *testing.T) {
			p := debPackage(t, f, c.z)
			r := NewDeb(openFile(t, p), lim())
			var names []string
			var data []byte
			for {
				e, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(e.Anomalies) > 0 {
					t.Errorf("%s: anomalies %q", e.Name, e.Anomalies)
				}
				names = append(names, e.Name)
				b, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case e.Name == "debian-binary" && string(b) != "2.0\n":
					t.Errorf("debian-binary %q", b)
				case strings.HasPrefix(e.Name, "data.tar"):
					data = b
				case strings.HasPrefix(e.Name, "control.tar"):
					// The control archive holds control and postinst.
					rc, err := Decompress(DetectCompression(b), bytes.NewReader(b), lim(), nil)
					if err != nil {
						t.Fatal(err)
					}
					ctl, err := readAll(NewTar(rc, lim()), 1<<20)
					if err != nil {
						t.Fatal(err)
					}
					var cn []string
					for _, g := range ctl {
						cn = append(cn, g.Name)
					}
					if !contains(cn, "./control") || !contains(cn, "./postinst") {
						t.Errorf("control.tar holds %q", cn)
					}
				}
			}
			want := []string{"debian-binary", "control.tar" + c.ext, "data.tar" + c.ext}
			if c.z == "none" {
				want[1] = "control.tar.xz" // dpkg-deb compresses the control member with xz regardless
				if strings.Join(names, " ") != strings.Join(want, " ") {
					want[1] = "control.tar"
				}
			}
			if strings.Join(names, " ") != strings.Join(want, " ") {
				t.Fatalf("members %q, want %q", names, want)
			}
			if got := DetectCompression(data); got != c.comp {
				t.Fatalf("data.tar compression %s, want %s", got, c.comp)
			}
			rc, err := Decompress(c.comp, bytes.NewReader(data), lim(), nil)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := readAll(NewTar(rc, lim()), 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			// --root-owner-group makes every owner root; dpkg-deb keeps the modes.
			for _, g := range entries {
				if g.UID != 0 || g.GID != 0 {
					t.Errorf("%s: owner %d:%d", g.Name, g.UID, g.GID)
				}
			}
			f.check(t, entries, checkOpts{})
		})
	}
}
