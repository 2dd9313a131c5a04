package sbom

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/anchore/syft/syft/file"
)

// Most filesystems syft catalogs in an image are the inside of a compressed file: one
// manual page, one changelog. Syft chooses and builds its hundred catalogers anew for
// each (a millisecond of CPU) and each asks the filesystem for its own files, by path,
// glob or media type; on such a filesystem every answer is nothing. Catalogers decide
// what to ask from the answers they had: a filesystem that gives the same answers to the
// same questions gets the same SBOM. So the questions asked of one filesystem of a single
// file are recorded, and another filesystem of a single file that answers every one of
// them with nothing (the answers of the first, when nothing was found there) yields what
// the first did, an SBOM of nothing, without cataloging it.

// question is one question a cataloger asked a filesystem.
type question struct {
	kind string // "path", "glob", "mime", "has" or "all"
	args []string
}

// recorder is a file.Resolver that records the questions asked of a filesystem and
// whether any answer was something (a file, a metadata, content, a listing).
type recorder struct {
	*fsys
	mu        sync.Mutex
	questions []question
	asked     map[string]bool // the questions recorded, each once: several catalogers ask alike
	found     bool
}

func (r *recorder) note(kind string, args []string, found bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.found = r.found || found
	key := kind + "\x00" + strings.Join(args, "\x00")
	if r.asked[key] {
		return
	}
	if r.asked == nil {
		r.asked = map[string]bool{}
	}
	r.asked[key] = true
	r.questions = append(r.questions, question{kind, append([]string(nil), args...)})
}

func (r *recorder) FileContentsByLocation(loc file.Location) (io.ReadCloser, error) {
	r.note("", nil, true)
	return r.fsys.FileContentsByLocation(loc)
}

func (r *recorder) FileMetadataByLocation(loc file.Location) (file.Metadata, error) {
	r.note("", nil, true)
	return r.fsys.FileMetadataByLocation(loc)
}

func (r *recorder) HasPath(p string) bool {
	ok := r.fsys.HasPath(p)
	r.note("has", []string{p}, ok)
	return ok
}

func (r *recorder) FilesByPath(paths ...string) ([]file.Location, error) {
	locs, err := r.fsys.FilesByPath(paths...)
	r.note("path", paths, len(locs) > 0 || err != nil)
	return locs, err
}

func (r *recorder) FilesByGlob(patterns ...string) ([]file.Location, error) {
	locs, err := r.fsys.FilesByGlob(patterns...)
	r.note("glob", patterns, len(locs) > 0 || err != nil)
	return locs, err
}

func (r *recorder) FilesByMIMEType(types ...string) ([]file.Location, error) {
	locs, err := r.fsys.FilesByMIMEType(types...)
	r.note("mime", types, len(locs) > 0 || err != nil)
	return locs, err
}

func (r *recorder) RelativeFileByPath(loc file.Location, p string) *file.Location {
	l := r.fsys.RelativeFileByPath(loc, p)
	r.note("path", []string{p}, l != nil)
	return l
}

func (r *recorder) AllLocations(ctx context.Context) <-chan file.Location {
	// Only filesystems of one file at the top are recorded and replayed: the one
	// cataloger that lists every file (nix's store, by path) finds nothing in
	// "/<name>" whatever the name (TestReplayedFilesystemsYieldTheSame).
	r.note("all", nil, false)
	return r.fsys.AllLocations(ctx)
}

// answersNothing reports whether fs answers every question with nothing.
func answersNothing(fs *fsys, questions []question) bool {
	for _, q := range questions {
		var found bool
		switch q.kind {
		case "has":
			found = fs.HasPath(q.args[0])
		case "path":
			locs, err := fs.FilesByPath(q.args...)
			found = len(locs) > 0 || err != nil
		case "glob":
			locs, err := fs.FilesByGlob(q.args...)
			found = len(locs) > 0 || err != nil
		case "mime":
			locs, err := fs.FilesByMIMEType(q.args...)
			found = len(locs) > 0 || err != nil
		case "all":
		default:
			return false
		}
		if found {
			return false
		}
	}
	return true
}
