package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// Limits bound what DirTree, GitTree and ReleaseTree read into memory.
type Limits struct {
	// Files bounds the number of entries (files, links, directories) of one tree.
	Files int
	// FileSize bounds one file: a larger one is recorded as an error and not compared.
	FileSize int64
	// TotalSize bounds the bytes of all files of one tree together.
	TotalSize int64
	// PathLength bounds the length of one path.
	PathLength int
}

// DefaultLimits returns the limits used unless told otherwise: 200,000 entries, 256 MiB a
// file, 2 GiB a tree, 4096-byte paths. Source trees and their release tarballs are far
// smaller; a tree past a limit is reported as an error, never as clean.
func DefaultLimits() Limits {
	return Limits{Files: 200_000, FileSize: 256 * limits.MiB, TotalSize: 2 * limits.GiB, PathLength: 4096}
}

// Tree is one side of a comparison: a set of files with their bytes, by path relative to
// the tree's root ("/"-separated, escaped as kensa escapes names: result.EscapeName).
type Tree struct {
	// Name says what the tree was read from ("dir:PATH", "git:PATH@REF (COMMIT)", or the
	// tarball's path).
	Name string
	// Errors are the entries that could not be read; a comparison with errors is never
	// reported as clean.
	Errors []result.Error

	files map[string]*entry
	lim   Limits
	total int64
	full  bool // a count or size limit stopped the reading
}

// entry is one file or link of a tree.
type entry struct {
	path   string
	typ    string // "file" or "symlink"
	link   string // symlink target, as stored
	data   []byte
	digest string // "sha256:HEX"
	size   int64
	read   bool // data holds the content (false: past a limit, or unreadable)
}

// Len returns the number of files and links of the tree.
func (t *Tree) Len() int { return len(t.files) }

func newTree(name string, lim Limits) *Tree {
	if lim.Files <= 0 || lim.FileSize <= 0 || lim.TotalSize <= 0 || lim.PathLength <= 0 {
		d := DefaultLimits()
		if lim.Files <= 0 {
			lim.Files = d.Files
		}
		if lim.FileSize <= 0 {
			lim.FileSize = d.FileSize
		}
		if lim.TotalSize <= 0 {
			lim.TotalSize = d.TotalSize
		}
		if lim.PathLength <= 0 {
			lim.PathLength = d.PathLength
		}
	}
	return &Tree{Name: name, files: map[string]*entry{}, lim: lim}
}

func (t *Tree) errorf(p, kind, format string, args ...any) {
	t.Errors = append(t.Errors, result.Error{Path: p, Kind: kind, Error: fmt.Sprintf(format, args...)})
}

// count charges one entry against the file limit; false means stop.
func (t *Tree) count(p string) bool {
	if t.full {
		return false
	}
	if len(t.files)+1 > t.lim.Files {
		t.full = true
		t.errorf(p, result.KindLimit, "more than %d entries: the rest of the tree was not read (raise the file-count limit)", t.lim.Files)
		return false
	}
	if len(p) > t.lim.PathLength {
		t.errorf(p[:64]+"…", result.KindLimit, "path longer than %d bytes: not read", t.lim.PathLength)
		return false
	}
	return true
}

// addFile reads size bytes from r as the file p.
func (t *Tree) addFile(p string, size int64, r io.Reader) {
	e := &entry{path: p, typ: "file", size: size}
	t.files[p] = e
	if size > t.lim.FileSize {
		t.errorf(p, result.KindLimit, "file of %s is larger than the file-size limit of %s: not compared or inspected", limits.HumanSize(size), limits.HumanSize(t.lim.FileSize))
		return
	}
	if t.total+size > t.lim.TotalSize {
		t.errorf(p, result.KindLimit, "the tree holds more than %s of files: not compared or inspected (raise the total-size limit)", limits.HumanSize(t.lim.TotalSize))
		return
	}
	b, err := io.ReadAll(io.LimitReader(r, t.lim.FileSize+1))
	switch {
	case err != nil:
		t.errorf(p, result.KindIO, "reading: %v", err)
		return
	case int64(len(b)) > t.lim.FileSize:
		t.errorf(p, result.KindLimit, "file grew past the file-size limit of %s while read: not compared", limits.HumanSize(t.lim.FileSize))
		return
	}
	t.total += int64(len(b))
	e.data, e.size, e.read = b, int64(len(b)), true
	h := sha256.Sum256(b)
	e.digest = "sha256:" + hex.EncodeToString(h[:])
}

// addLink records a symbolic link, never following it; one that leaves the tree is an error.
func (t *Tree) addLink(p, target string, reported bool) {
	t.files[p] = &entry{path: p, typ: "symlink", link: target, read: true}
	if !reported && escapes(p, target) {
		t.errorf(p, result.KindUnsafe, "symbolic link to %q points outside the tree: not followed", target)
	}
}

// escapes reports whether a link at p with target leaves the tree root.
func escapes(p, target string) bool {
	if target == "" || path.IsAbs(target) || strings.HasPrefix(target, "\\") || (len(target) > 1 && target[1] == ':') {
		return true
	}
	j := path.Join(path.Dir(p), target)
	return j == ".." || strings.HasPrefix(j, "../")
}

// name escapes a stored name the way the inventory does.
func name(p string) string {
	s, _ := result.EscapeName(p)
	return s
}

// DirTree reads a source checkout. The .git directory at the root is skipped; symbolic
// links are recorded as links, never followed; special files are errors.
func DirTree(dir string, lim Limits) (t *Tree, err error) {
	defer recoverTo(&err)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("source directory: %w", err)
	}
	defer root.Close()
	t = newTree("dir:"+dir, lim)
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if p == "." {
			return err
		}
		rel := name(p)
		if err != nil {
			t.errorf(rel, result.KindIO, "reading: %v", err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() && p == ".git" {
			return fs.SkipDir
		}
		if !t.count(rel) {
			if t.full {
				return fs.SkipAll
			}
			return nil
		}
		switch m := d.Type(); {
		case m.IsDir():
			return nil
		case m&fs.ModeSymlink != 0:
			target, err := root.Readlink(p)
			if err != nil {
				t.errorf(rel, result.KindIO, "reading the link: %v", err)
				return nil
			}
			t.addLink(rel, target, false)
		case m.IsRegular():
			t.readDirFile(root, p, rel)
		default:
			t.errorf(rel, result.KindUnsupported, "a %s, not a regular file: not read", m.Type())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return t, nil
}

// readDirFile reads a regular file, making sure what is opened is still that file.
func (t *Tree) readDirFile(root *os.Root, p, rel string) {
	fi, err := root.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.errorf(rel, result.KindIO, "changed while read: not compared")
		return
	}
	f, err := root.Open(p)
	if err != nil {
		t.errorf(rel, result.KindIO, "opening: %v", err)
		return
	}
	defer f.Close()
	if fi2, err := f.Stat(); err != nil || !os.SameFile(fi, fi2) {
		t.errorf(rel, result.KindUnsafe, "replaced while read: not compared")
		return
	}
	t.addFile(rel, fi.Size(), f)
}

// GitTree reads the tree of a commit, branch or tag of the git repository at repoDir (a
// work tree holding .git, or a bare repository), without running git. Submodules are
// errors: their files are not part of the tree.
func GitTree(repoDir, ref string, lim Limits) (t *Tree, err error) {
	defer recoverTo(&err)
	repo, err := git.PlainOpen(repoDir)
	if err != nil {
		return nil, fmt.Errorf("opening git repository %s: %w", repoDir, err)
	}
	h, err := repo.ResolveRevision(plumbing.Revision(ref))
	if err != nil {
		return nil, fmt.Errorf("%s: no commit named %q: %w (name a tag, branch or commit of the repository)", repoDir, ref, err)
	}
	commit, err := repo.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("%s: reading commit %s: %w", repoDir, h, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the tree of %s: %w", repoDir, h, err)
	}
	t = newTree(fmt.Sprintf("git:%s@%s (%s)", repoDir, ref, h), lim)
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		p, e, err := w.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.errorf(name(p), result.KindMalformed, "reading the git tree: %v", err)
			break
		}
		rel := name(p)
		if !t.count(rel) {
			if t.full {
				break
			}
			continue
		}
		switch e.Mode {
		case filemode.Dir:
		case filemode.Submodule:
			t.errorf(rel, result.KindUnsupported, "a git submodule (commit %s): its files are not in this tree; compare a checkout with --source", e.Hash)
		case filemode.Symlink:
			b, err := repo.BlobObject(e.Hash)
			if err != nil {
				t.errorf(rel, result.KindMalformed, "reading the link: %v", err)
				continue
			}
			if b.Size > int64(t.lim.PathLength) {
				t.errorf(rel, result.KindLimit, "link target longer than %d bytes: not read", t.lim.PathLength)
				continue
			}
			target, err := readBlob(b, int64(t.lim.PathLength))
			if err != nil {
				t.errorf(rel, result.KindMalformed, "reading the link: %v", err)
				continue
			}
			t.addLink(rel, string(target), false)
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			b, err := repo.BlobObject(e.Hash)
			if err != nil {
				t.errorf(rel, result.KindMalformed, "reading the blob: %v", err)
				continue
			}
			r, err := b.Reader()
			if err != nil {
				t.errorf(rel, result.KindMalformed, "reading the blob: %v", err)
				continue
			}
			t.addFile(rel, b.Size, r)
			r.Close()
		default:
			t.errorf(rel, result.KindUnsupported, "git entry of mode %s: not read", e.Mode)
		}
	}
	return t, nil
}

func readBlob(b *object.Blob, max int64) ([]byte, error) {
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, max))
}

// ReleaseTree reads a release tarball (or any archive the inventory reads) with kensa's
// inventory, so that every limit of opts applies, and strips the single top-level
// directory a release tarball has (xz-5.6.1/…). Files of archives nested inside it are
// not part of the tree (the archive itself is). opts.Keep is set.
func ReleaseTree(ctx context.Context, tarball string, opts inventory.Options, lim Limits) (t *Tree, err error) {
	defer recoverTo(&err)
	opts.Keep = true
	if opts.Limits == (limits.Limits{}) {
		opts.Limits = limits.Default()
	}
	// Archives inside the release (xz's test files are .xz streams, many corrupt on
	// purpose) are files to compare, not trees to open: the walk stops at depth 1 and the
	// depth errors it records for them are not errors of the comparison.
	opts.Limits.Depth = 1
	depthErr := (&limits.Error{Limit: "depth", Value: 1, What: "archive nesting"}).Error()
	inv, err := inventory.Take(ctx, []string{"file:" + tarball}, opts)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", tarball, err)
	}
	defer inv.Close()
	t = newTree(tarball, lim)
	// The archive's own entries are "ARCHIVE!PATH"; deeper "!" are nested archives.
	prefix := ""
	for _, a := range inv.Artifacts {
		if i := strings.IndexByte(a.Path, '!'); i >= 0 {
			prefix = a.Path[:i+1]
			break
		}
	}
	if prefix == "" {
		t.Errors = append(t.Errors, inv.Errors...)
		t.errorf(tarball, result.KindMalformed, "the release holds no files")
		if len(inv.Artifacts) == 1 && inv.Artifacts[0].Format != "tar" && !strings.HasPrefix(inv.Artifacts[0].Format, "tar.") && inv.Artifacts[0].Format != "zip" {
			return nil, fmt.Errorf("release %s: not an archive (%s): give the release tarball", tarball, inv.Artifacts[0].Format)
		}
		return t, nil
	}
	// Entries the inventory found unsafe (a name climbing out of the archive) are errors,
	// not files of the tree.
	unsafe := map[string]bool{}
	for _, e := range inv.Errors {
		if e.Kind == result.KindUnsafe {
			unsafe[e.Path] = true
		}
	}
	var idx []int
	tops := map[string]bool{}
	for i, a := range inv.Artifacts {
		rest, ok := strings.CutPrefix(a.Path, prefix)
		if !ok || strings.Contains(rest, "!") || (unsafe[a.Path] && a.Type != "symlink") {
			continue
		}
		idx = append(idx, i)
		top, _, _ := strings.Cut(rest, "/")
		tops[top] = strings.Contains(rest, "/") || tops[top]
	}
	strip := ""
	if len(tops) == 1 {
		for top, dir := range tops {
			if dir {
				strip = top + "/"
			}
		}
	}
	rel := func(p string) string {
		p = strings.TrimPrefix(p, prefix)
		return strings.TrimPrefix(p, strip)
	}
	reported := map[string]bool{}
	for _, e := range inv.Errors {
		if e.Kind == result.KindLimit && e.Error == depthErr {
			continue
		}
		e.Path = rel(e.Path)
		reported[e.Path] = true
		t.Errors = append(t.Errors, e)
	}
	hard := map[string]string{}
	for _, i := range idx {
		a := inv.Artifacts[i]
		p := rel(a.Path)
		if p == "" || p == strings.TrimSuffix(strip, "/") {
			continue
		}
		if !t.count(p) {
			if t.full {
				break
			}
			continue
		}
		switch a.Type {
		case "file":
			st := inv.Stored[i]
			if st.File == "" {
				t.files[p] = &entry{path: p, typ: "file", size: a.Size, digest: a.Digest}
				t.errorf(p, result.KindIO, "the inventory kept no copy of the file: not compared")
				continue
			}
			r, err := st.Open()
			if err != nil {
				t.errorf(p, result.KindIO, "reading the kept copy: %v", err)
				continue
			}
			t.addFile(p, a.Size, r)
			r.Close()
			if e := t.files[p]; e.read && a.Digest != "" && e.digest != a.Digest {
				t.errorf(p, result.KindInternal, "the kept copy does not match the digest the inventory recorded")
			}
		case "symlink":
			t.addLink(p, a.LinkTarget, reported[p])
		case "hardlink":
			hard[p] = rel(prefix + a.LinkTarget)
		default:
			t.errorf(p, result.KindUnsupported, "a %s entry in a release tarball: not compared", a.Type)
		}
	}
	// A hard link is a second name of a file already in the tarball.
	names := make([]string, 0, len(hard))
	for p := range hard {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		if e, ok := t.files[hard[p]]; ok && e.typ == "file" {
			c := *e
			c.path = p
			t.files[p] = &c
		} else {
			t.errorf(p, result.KindMalformed, "hard link to %q, which is not a file of the tarball", hard[p])
		}
	}
	if len(t.files) == 0 {
		t.errorf(tarball, result.KindMalformed, "the release holds no files")
	}
	return t, nil
}

// recoverTo turns a panic of a parser into an error.
func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = errors.Join(*err, fmt.Errorf("internal error (please report it): %v", r))
	}
}
