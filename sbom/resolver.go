package sbom

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	stfile "github.com/anchore/stereoscope/pkg/file"
	"github.com/anchore/stereoscope/pkg/filetree"
	"github.com/anchore/syft/syft/file"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/result"
)

// fsys is one filesystem of a delivery as syft's catalogers see it: the target itself
// (a directory, or the squashed filesystem of an image), or the inside of one archive
// found in it. It is a file.Resolver over the inventory's entries, indexed in a
// stereoscope file tree (the index syft's own resolvers search), whose bytes are read
// from where the inventory kept them. Nothing is extracted again.
//
// Locations name a file inside an archive the way syft does: RealPath is the outermost
// archive's path on the scanned filesystem and FullPath the "!/"-joined chain
// ("/delivery.tar.gz!/usr/bin/tool").
type fsys struct {
	// prefix is the full path of the archive this filesystem is the inside of ("" for the
	// target itself): "/delivery.tar.gz" or "/delivery.tar.gz!/inner.tar".
	prefix string
	// realPath is the outermost archive's path ("" for the target itself).
	realPath string
	// layers maps image layer indexes to the FileSystemID syft uses for them (diff IDs).
	layers map[int]string

	tree    *filetree.FileTree
	index   filetree.Index
	search  filetree.Searcher
	content map[stfile.ID]inventory.Stored
	layerOf map[stfile.ID]string
	kensa   map[stfile.ID]string // the inventory path of each entry
	// names holds the base name of every entry: a path or glob whose last element names
	// none of them matches nothing, which most of syft's questions to the inside of a
	// small archive come to (2,900 such filesystems in a Debian image, a hundred
	// catalogers each), and is answered without the file tree's search.
	names map[string]struct{}
	files int  // entries added: regular files, links and directories
	top   bool // the only entry added is directly under the root
}

var _ file.Resolver = (*fsys)(nil)

func newFsys(prefix string, layers map[int]string) *fsys {
	real, _, _ := strings.Cut(prefix, file.ArchivePathSeparator)
	return &fsys{
		prefix: prefix, realPath: real, layers: layers,
		tree: filetree.New(), index: filetree.NewIndex(),
		content: map[stfile.ID]inventory.Stored{}, layerOf: map[stfile.ID]string{}, kensa: map[stfile.ID]string{},
		names: map[string]struct{}{},
	}
}

// add indexes one inventory entry at local, its rooted path in this filesystem.
func (r *fsys) add(local string, a *result.Artifact, s inventory.Stored) error {
	p := stfile.Path(local)
	var (
		ref *stfile.Reference
		err error
		typ stfile.Type
	)
	mode := parseMode(a.Mode)
	switch a.Type {
	case "dir":
		ref, err = r.tree.AddDir(p)
		typ, mode = stfile.TypeDirectory, mode|fs.ModeDir
	case "symlink":
		ref, err = r.tree.AddSymLink(p, stfile.Path(a.LinkTarget))
		typ, mode = stfile.TypeSymLink, mode|fs.ModeSymlink
	case "file", "hardlink":
		// A hard link is indexed as the file it shares bytes with; its content was kept
		// under its digest.
		ref, err = r.tree.AddFile(p)
		typ = stfile.TypeRegular
	default:
		// Devices, fifos, sockets and whiteouts: nothing a cataloger reads.
		return nil
	}
	if err != nil {
		return err
	}
	if ref == nil {
		return nil
	}
	r.index.Add(*ref, stfile.Metadata{
		FileInfo:        stfile.ManualInfo{NameValue: path.Base(local), SizeValue: a.Size, ModeValue: mode},
		Path:            local,
		LinkDestination: a.LinkTarget,
		Type:            typ,
		MIMEType:        s.MIME,
	})
	if typ == stfile.TypeRegular && s.File != "" {
		r.content[ref.ID()] = s
	}
	if a.Layer != nil {
		r.layerOf[ref.ID()] = r.layers[*a.Layer]
	}
	r.kensa[ref.ID()] = a.Path
	r.names[path.Base(local)] = struct{}{}
	r.files++
	r.top = r.files == 1 && path.Dir(local) == "/"
	return nil
}

// oneFileAtTop reports a filesystem of one entry, directly under the root: the inside of
// a compressed file.
func (r *fsys) oneFileAtTop() bool { return r.files == 1 && r.top }

// maxNameScan is the number of names up to which a glob's last element is tried against
// each of them (mayMatch); a larger filesystem is searched directly.
const maxNameScan = 64

// mayMatch reports false only when nothing in this filesystem can match the rooted path
// or glob: every match ends in an entry's name, so its last element must match one.
// Elements with a character class, alternatives or escapes are not tried here.
func (r *fsys) mayMatch(rooted string) bool {
	last := rooted[strings.LastIndexByte(rooted, '/')+1:]
	if last == "" || last == "." || last == ".." || strings.Contains(last, "**") || strings.ContainsAny(last, "[]{}\\") {
		return true
	}
	if !strings.ContainsAny(last, "*?") {
		_, ok := r.names[last]
		return ok
	}
	if len(r.names) > maxNameScan {
		return true
	}
	for name := range r.names {
		if ok, err := path.Match(last, name); ok || err != nil {
			return true
		}
	}
	return false
}

// finish builds the search index once every entry is in.
func (r *fsys) finish() { r.search = filetree.NewSearchContext(r.tree, r.index) }

// parseMode reads the inventory's octal mode ("0755", "4755").
func parseMode(m string) fs.FileMode {
	v, err := strconv.ParseUint(m, 8, 32)
	if err != nil {
		return 0
	}
	mode := fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// fullPath is how a rooted path leaves this filesystem.
func (r *fsys) fullPath(rooted string) string {
	if r.prefix == "" {
		return rooted
	}
	return r.prefix + file.ArchivePathSeparator + strings.TrimPrefix(rooted, "/")
}

// rooted turns a path a cataloger asks for into a path of this filesystem: a full path
// into this archive is cut to its entry path; anything else is taken as rooted already.
func (r *fsys) rooted(userPath string) (string, bool) {
	if r.prefix != "" {
		if rest, ok := strings.CutPrefix(userPath, r.prefix+file.ArchivePathSeparator); ok {
			return path.Clean("/" + rest), true
		}
		if rest, ok := strings.CutPrefix(userPath, r.realPath); ok && strings.HasPrefix(rest, file.ArchivePathSeparator) {
			return "", false // a full path into another archive of the scan
		}
	}
	return path.Clean("/" + userPath), true
}

func (r *fsys) coordinates(ref stfile.Reference) file.Coordinates {
	rooted := string(ref.RealPath)
	if r.prefix == "" {
		return file.Coordinates{RealPath: rooted, FileSystemID: r.layerOf[ref.ID()]}
	}
	return file.Coordinates{RealPath: r.realPath, FileSystemID: r.layerOf[ref.ID()], FullPath: r.fullPath(rooted)}
}

func (r *fsys) location(res stfile.Resolution) file.Location {
	c := r.coordinates(*res.Reference)
	if res.RequestPath == "" || res.RequestPath == res.RealPath {
		return file.NewLocationFromCoordinates(c)
	}
	return file.NewVirtualLocationFromCoordinates(c, r.fullPath(string(res.RequestPath)))
}

// resolve finds the file a path names, following links inside this filesystem only.
func (r *fsys) resolve(userPath string) (*stfile.Resolution, bool) {
	rooted, ok := r.rooted(userPath)
	if !ok || !r.mayMatch(rooted) {
		return nil, false
	}
	res, err := r.search.SearchByPath(rooted, filetree.FollowBasenameLinks)
	if err != nil || res == nil || !res.HasReference() {
		return nil, false
	}
	e, err := r.index.Get(*res.Reference)
	if err != nil || e.IsDir() {
		return nil, false
	}
	return res, true
}

// FileContentsByLocation opens the kept bytes of a file.
func (r *fsys) FileContentsByLocation(loc file.Location) (io.ReadCloser, error) {
	res, ok := r.resolve(loc.FullNestedPath())
	if !ok {
		return nil, fmt.Errorf("no file at %q", loc.FullNestedPath())
	}
	st, ok := r.content[res.ID()]
	if !ok {
		return nil, fmt.Errorf("the bytes of %q were not kept", loc.FullNestedPath())
	}
	return st.Open()
}

// FileMetadataByLocation describes a file.
func (r *fsys) FileMetadataByLocation(loc file.Location) (file.Metadata, error) {
	rooted, ok := r.rooted(loc.FullNestedPath())
	if !ok {
		return file.Metadata{}, fmt.Errorf("no file at %q", loc.FullNestedPath())
	}
	exists, res, err := r.tree.File(stfile.Path(rooted))
	if err != nil || !exists || !res.HasReference() {
		return file.Metadata{}, fmt.Errorf("no file at %q", loc.FullNestedPath())
	}
	e, err := r.index.Get(*res.Reference)
	if err != nil {
		return file.Metadata{}, err
	}
	m := e.Metadata
	m.Path = r.fullPath(rooted)
	return m, nil
}

// HasPath reports whether a path names anything in this filesystem.
func (r *fsys) HasPath(userPath string) bool {
	rooted, ok := r.rooted(userPath)
	return ok && r.tree.HasPath(stfile.Path(rooted))
}

// FilesByPath finds files by path, following links.
func (r *fsys) FilesByPath(paths ...string) ([]file.Location, error) {
	var out []file.Location
	var seen []stfile.ID
	for _, p := range paths {
		res, ok := r.resolve(p)
		if !ok || slices.Contains(seen, res.ID()) {
			continue
		}
		seen = append(seen, res.ID())
		out = append(out, r.location(*res))
	}
	return out, nil
}

// FilesByGlob finds files whose path matches any of the patterns.
func (r *fsys) FilesByGlob(patterns ...string) ([]file.Location, error) {
	var out []file.Location
	seen := stfile.NewFileReferenceSet()
	for _, pattern := range patterns {
		rooted, ok := r.rooted(pattern)
		if !ok || !r.mayMatch(rooted) {
			continue
		}
		var results []stfile.Resolution
		var err error
		if strings.TrimPrefix(rooted, "/") == "*" {
			// stereoscope answers "<dir>/*" through the directory's own entry, and the
			// root has none.
			results, err = r.tree.FilesByGlob("/*", filetree.FollowBasenameLinks)
		} else {
			results, err = r.search.SearchByGlob(rooted, filetree.FollowBasenameLinks)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid glob %q: %w", pattern, err)
		}
		for _, res := range results {
			if !res.HasReference() || seen.Contains(*res.Reference) {
				continue
			}
			e, err := r.index.Get(*res.Reference)
			if err != nil || e.IsDir() {
				continue
			}
			seen.Add(*res.Reference)
			out = append(out, r.location(res))
		}
	}
	sortLocations(out)
	return out, nil
}

// FilesByMIMEType finds files by the media type of their first bytes.
func (r *fsys) FilesByMIMEType(types ...string) ([]file.Location, error) {
	results, err := r.search.SearchByMIMEType(types...)
	if err != nil {
		return nil, err
	}
	var out []file.Location
	for _, res := range results {
		if res.HasReference() {
			out = append(out, r.location(res))
		}
	}
	sortLocations(out)
	return out, nil
}

// RelativeFileByPath resolves against this filesystem's root: the squashed view has no
// layers to be relative to.
func (r *fsys) RelativeFileByPath(_ file.Location, p string) *file.Location {
	locs, _ := r.FilesByPath(p)
	if len(locs) == 0 {
		return nil
	}
	return &locs[0]
}

// AllLocations lists every file and link.
func (r *fsys) AllLocations(ctx context.Context) <-chan file.Location {
	out := make(chan file.Location)
	go func() {
		defer close(out)
		refs := r.tree.AllFiles(stfile.TypeRegular, stfile.TypeSymLink, stfile.TypeHardLink)
		sort.Slice(refs, func(i, j int) bool { return refs[i].RealPath < refs[j].RealPath })
		for _, ref := range refs {
			select {
			case out <- r.location(stfile.Resolution{RequestPath: ref.RealPath, Reference: &ref}):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// sortLocations orders answers by path, which decides how locations group into packages.
func sortLocations(locs []file.Location) {
	sort.Slice(locs, func(i, j int) bool {
		if a, b := locs[i].FullNestedPath(), locs[j].FullNestedPath(); a != b {
			return a < b
		}
		return locs[i].AccessPath < locs[j].AccessPath
	})
}
