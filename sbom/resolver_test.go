package sbom

import (
	"slices"
	"testing"

	"github.com/anchore/stereoscope/pkg/filetree"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/internal/result"
)

// The resolver answers paths and globs whose last element names no entry without
// searching the file tree; its answers must be the tree's.
func TestResolverSkipsUnnamedPathsWithTheSameAnswers(t *testing.T) {
	for _, entries := range [][]result.Artifact{
		{ // the inside of a compressed manual page
			{Path: "python3.1", Type: "file", Mode: "0644", Size: 10},
		},
		{ // a small filesystem with links and implicit directories
			{Path: "etc/os-release", Type: "symlink", LinkTarget: "../usr/lib/os-release"},
			{Path: "usr/lib/os-release", Type: "file", Mode: "0644", Size: 10},
			{Path: "usr/lib/libc.so.6", Type: "symlink", LinkTarget: "libc-2.36.so"},
			{Path: "usr/lib/libc-2.36.so", Type: "file", Mode: "0755", Size: 10},
			{Path: "lib", Type: "symlink", LinkTarget: "usr/lib"},
			{Path: "app/lib/x.jar", Type: "file", Mode: "0644", Size: 10},
			{Path: "app/package.json", Type: "file", Mode: "0644", Size: 10},
			{Path: "var/lib/dpkg/status", Type: "file", Mode: "0644", Size: 10},
		},
	} {
		r := newFsys("/a.tar", nil)
		for i := range entries {
			if err := r.add("/"+entries[i].Path, &entries[i], inventory.Stored{File: "/dev/null", Size: 10}); err != nil {
				t.Fatal(err)
			}
		}
		r.finish()
		skipped := 0
		for _, glob := range []string{
			"**/python*", "**/python3.1", "**/*.jar", "**/package.json", "**/var/lib/dpkg/status",
			"**/os-release", "**/etc/os-release", "/lib/libc.so.6", "**/libc*.so*", "**/*.{jar,war}",
			"**/[Pp]ackage.json", "**/go.mod", "**/*.gemspec", "**/lib", "/*", "**/*", "**/node", "**/node_modules/**",
		} {
			if !r.mayMatch(glob) {
				skipped++
			}
			got, err := r.FilesByGlob(glob)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			results, err := r.search.SearchByGlob(glob, filetree.FollowBasenameLinks)
			if glob == "/*" {
				results, err = r.tree.FilesByGlob(glob, filetree.FollowBasenameLinks)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range results {
				if !res.HasReference() {
					continue
				}
				if e, err := r.index.Get(*res.Reference); err == nil && !e.IsDir() {
					want = append(want, r.location(res).FullNestedPath())
				}
			}
			var gotPaths []string
			for _, l := range got {
				gotPaths = append(gotPaths, l.FullNestedPath())
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if !slices.Equal(gotPaths, want) {
				t.Errorf("%d entries, glob %q: %q, the tree finds %q", len(entries), glob, gotPaths, want)
			}
		}
		for _, p := range []string{"/etc/os-release", "/lib/libc.so.6", "/usr/lib/os-release", "/python3.1", "/etc/lsb-release", "/bin/busybox"} {
			got, _ := r.FilesByPath(p)
			res, err := r.search.SearchByPath(p, filetree.FollowBasenameLinks)
			found := err == nil && res != nil && res.HasReference()
			if found {
				if e, err := r.index.Get(*res.Reference); err != nil || e.IsDir() {
					found = false
				}
			}
			if (len(got) == 1) != found {
				t.Errorf("%d entries, path %s: %d locations, the tree finds it: %v", len(entries), p, len(got), found)
			}
		}
		if skipped == 0 {
			t.Errorf("%d entries: no glob was answered without the tree", len(entries))
		}
	}
}
