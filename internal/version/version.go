// Package version says which build of kensa is running. The Makefile sets Version and
// Commit with -ldflags; a plain `go build` reports the module version when there is one.
package version

import "runtime/debug"

// Set at link time: -X kensa.dev/kensa/internal/version.Version=… and …Commit=….
var (
	Version = ""
	Commit  = ""
)

// Get returns the version and commit of this build.
func Get() (version, commit string) {
	version, commit = Version, Commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && commit == "" {
				commit = s.Value
			}
		}
	}
	if version == "" {
		version = "devel"
	}
	return version, commit
}
