package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/rogpeppe/go-internal/testscript"

	"kensa.dev/kensa/analyzers/worker"
	"kensa.dev/kensa/internal/fixture"
)

// The scripts in testdata/script run the kensa command end to end. Besides testscript's
// own commands they have:
//
//	hostile NAME             write the hostile delivery NAME of internal/fixture to $WORK
//	example DIR [VERSION]    build the example delivery (release 3.2.0, or VERSION) into DIR
//	mkimage FMT OUT DIR...   write an image whose layers are the given directories,
//	                         as docker-archive, oci-dir or oci-archive
//	registry                 serve a registry on 127.0.0.1 for this script; sets $REGISTRY
//	push ARCHIVE REF         push the image in a docker-archive to REF
//	snapshot                 record every path under $WORK's parent and in $TMPDIR
//	contained [PATH...]      check nothing appeared since snapshot but the given paths,
//	                         and that the scratch directory was removed
//	validjson stdout|FILE    check that the output is one JSON document
//	shared NAME DIR          copy ../shared/testdata/NAME (outside the repository) to DIR
//	cosigncli                build the cosign CLI pinned in go.mod and put it on $PATH
//	kmsplugin                build a sigstore KMS plugin serving PEM files
//	                         (kensatest://PATH) and put it on $PATH
//	digest VAR REF           set $VAR to the manifest digest of REF in the registry
//	                         (sha256:HEX) and $VAR_TAG to cosign's tag form (sha256-HEX)
//	retag SRC DST            copy the manifest SRC to the tag DST in the registry
//	validjson FILE           check FILE (or stdout) is one valid JSON document
//	memwithin FILE W K T     check the analysis workers' summary in FILE (or stderr):
//	                         no worker used more than W MiB, kensa itself not K MiB,
//	                         kensa and its workers together not T MiB
func TestMain(m *testing.M) {
	// Tests that call cli.Run in this process start workers from this binary.
	if len(os.Args) > 1 && os.Args[len(os.Args)-1] == worker.Arg {
		os.Exit(worker.Serve())
	}
	testscript.Main(m, map[string]func(){"kensa": main})
}

func TestScripts(t *testing.T) {
	t.Cleanup(func() {
		for _, d := range examples.dirs {
			os.RemoveAll(d)
		}
		for _, d := range tools.dirs {
			os.RemoveAll(d)
		}
	})
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// testscript points TMPDIR at $WORK/.tmp, so kensa's scratch space is there.
			env.Setenv("HOME", filepath.Join(env.WorkDir, ".home"))
			env.Setenv("DOCKER_CONFIG", filepath.Join(env.WorkDir, ".docker"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"hostile":   cmdHostile,
			"example":   cmdExample,
			"mkimage":   cmdMkimage,
			"registry":  cmdRegistry,
			"push":      cmdPush,
			"snapshot":  cmdSnapshot,
			"contained": cmdContained,
			"validjson": cmdValidJSON,
			"memwithin": cmdMemWithin,
			"shared":    cmdShared,
			"cosigncli": cmdCosignCLI,
			"kmsplugin": cmdKMSPlugin,
			"digest":    cmdDigest,
			"retag":     cmdRetag,
		},
	})
}

func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hostile NAME")
	}
	c, ok := fixture.Hostile[args[0]]
	if !ok {
		ts.Fatalf("no hostile case %q; have %s", args[0], strings.Join(fixture.HostileNames(), ", "))
	}
	ts.Check(os.WriteFile(ts.MkAbs(c.File), c.Make(), 0o644))
}

// examples are the example delivery's releases, each built once for all scripts.
var examples struct {
	sync.Mutex
	dirs map[string]string
}

func cmdExample(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: example DIR [VERSION]")
	}
	version := fixture.ExampleReleases[0]
	if len(args) == 2 {
		version = args[1]
	}
	examples.Lock()
	dir, ok := examples.dirs[version]
	if !ok {
		var err error
		dir, err = os.MkdirTemp("", "kensa-example-test-")
		ts.Check(err)
		if err := fixture.ExampleRelease(context.Background(), "../../testdata/example", dir, version); err != nil {
			examples.Unlock()
			ts.Fatalf("building the example %s: %v", version, err)
		}
		if examples.dirs == nil {
			examples.dirs = map[string]string{}
		}
		examples.dirs[version] = dir
	}
	examples.Unlock()
	ts.Check(os.CopyFS(ts.MkAbs(args[0]), os.DirFS(dir)))
}

func cmdMkimage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: mkimage docker-archive|oci-dir|oci-archive OUT LAYERDIR...")
	}
	var layers [][]byte
	for _, d := range args[2:] {
		b, err := fixture.TarDir(ts.MkAbs(d))
		ts.Check(err)
		layers = append(layers, b)
	}
	img, err := fixture.Image(layers...)
	ts.Check(err)
	ts.Check(fixture.WriteImage(args[0], ts.MkAbs(args[1]), img))
}

func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: registry")
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	ts.Defer(srv.Close)
	ts.Setenv("REGISTRY", strings.TrimPrefix(srv.URL, "http://"))
}

func cmdPush(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: push ARCHIVE REF")
	}
	img, err := tarball.ImageFromPath(ts.MkAbs(args[0]), nil)
	ts.Check(err)
	ref, err := name.ParseReference(args[1])
	ts.Check(err)
	ts.Check(remote.Write(ref, img))
}

// snapshots holds, per script, the paths seen by snapshot.
var snapshots sync.Map

func listTree(root string) []string {
	var paths []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	return paths
}

func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	snapshots.Store(ts.Getenv("WORK"), listTree(ts.Getenv("WORK")))
}

// cmdContained checks that a run wrote nothing but its outputs: no new path in the work
// directory, an empty scratch area, and none of the files the hostile fixtures try to
// plant (each is named kensa-escape-*) next to the work
// directory, in the system temporary directory or at the root.
func cmdContained(ts *testscript.TestScript, neg bool, args []string) {
	before, ok := snapshots.Load(ts.Getenv("WORK"))
	if !ok {
		ts.Fatalf("contained needs a snapshot first")
	}
	allowed := map[string]bool{}
	for _, a := range args {
		allowed[ts.MkAbs(a)] = true
	}
	old := map[string]bool{}
	for _, p := range before.([]string) {
		old[p] = true
	}
	var extra []string
	for _, p := range listTree(ts.Getenv("WORK")) {
		if !old[p] && !allowed[p] {
			extra = append(extra, p)
		}
	}
	for _, dir := range []string{filepath.Dir(ts.Getenv("WORK")), filepath.Dir(filepath.Dir(ts.Getenv("WORK"))), os.TempDir(), "/", "/tmp", "/etc"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "kensa-escape-") {
				extra = append(extra, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, p := range []string{"/etc/cron.d/kensa-escape-evil", "/etc/kensa-escape-passwd"} {
		if _, err := os.Lstat(p); err == nil {
			extra = append(extra, p)
		}
	}
	if len(extra) > 0 {
		ts.Fatalf("paths appeared outside what kensa may write:\n%s", strings.Join(extra, "\n"))
	}
	entries, err := os.ReadDir(ts.Getenv("TMPDIR"))
	ts.Check(err)
	if len(entries) > 0 {
		ts.Fatalf("the scratch area was not cleaned up: %v", entries)
	}
}

func cmdValidJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: validjson FILE|stdout")
	}
	data := []byte(ts.ReadFile(args[0]))
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = fmt.Errorf("trailing data after the document")
	}
	if neg {
		if err == nil {
			ts.Fatalf("%s is valid JSON", args[0])
		}
		return
	}
	ts.Check(err)
}

// cmdShared copies a folder of the shared verification material (real signatures and
// attestations from public projects, kept outside the repository: see
// ../shared/testdata/README.md) into the script's work directory.
func cmdShared(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: shared NAME DIR")
	}
	src := filepath.Join("..", "..", "..", "shared", "testdata", args[0])
	if _, err := os.Stat(src); err != nil {
		ts.Fatalf("the shared test material is missing (%v): it lives beside the repository, in ../shared/testdata", err)
	}
	ts.Check(os.CopyFS(ts.MkAbs(args[1]), os.DirFS(src)))
}

// cmdCosignCLI builds the cosign command pinned by go.mod's tool directive, once per test
// binary, and puts it first on the script's $PATH.
func cmdCosignCLI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: cosigncli")
	}
	onPath(ts, "cosign", "github.com/sigstore/cosign/v3/cmd/cosign")
}

func cmdKMSPlugin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: kmsplugin")
	}
	onPath(ts, "sigstore-kms-kensatest", "kensa.dev/kensa/internal/fixture/kmsplugin")
}

// tools are the programs the scripts build from the module (once each) and put on PATH.
var tools struct {
	sync.Mutex
	dirs map[string]string
}

func onPath(ts *testscript.TestScript, name, pkg string) {
	tools.Lock()
	dir, ok := tools.dirs[name]
	if !ok {
		var err error
		dir, err = os.MkdirTemp("", "kensa-tool-")
		ts.Check(err)
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
			tools.Unlock()
			ts.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
		if tools.dirs == nil {
			tools.dirs = map[string]string{}
		}
		tools.dirs[name] = dir
	}
	tools.Unlock()
	ts.Setenv("PATH", dir+string(os.PathListSeparator)+ts.Getenv("PATH"))
}

func cmdDigest(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: digest VAR REF")
	}
	ref, err := name.ParseReference(args[1])
	ts.Check(err)
	d, err := remote.Head(ref)
	ts.Check(err)
	ts.Setenv(args[0], d.Digest.String())
	ts.Setenv(args[0]+"_TAG", d.Digest.Algorithm+"-"+d.Digest.Hex)
}

func cmdRetag(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: retag SRC DST")
	}
	src, err := name.ParseReference(args[0])
	ts.Check(err)
	dst, err := name.NewTag(args[1])
	ts.Check(err)
	desc, err := remote.Get(src)
	ts.Check(err)
	ts.Check(remote.Put(dst, desc))
}

// workerSummary is the line kensa writes about its analysis workers.
var workerSummary = regexp.MustCompile(`peak memory of a worker ([0-9.]+ [KMG]?i?B) \(own pages\), of kensa itself ([0-9.]+ [KMG]?i?B) \(resident\), of kensa and its workers together ([0-9.]+ [KMG]?i?B)`)

func cmdMemWithin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: memwithin FILE|stderr WORKER_MIB KENSA_MIB TREE_MIB")
	}
	m := workerSummary.FindStringSubmatch(ts.ReadFile(args[0]))
	if m == nil {
		ts.Fatalf("no analysis workers' summary in %s", args[0])
	}
	for i, what := range []string{"a worker", "kensa itself", "the process tree"} {
		var v float64
		var unit string
		if _, err := fmt.Sscanf(m[i+1], "%g %s", &v, &unit); err != nil {
			ts.Fatalf("reading %q: %v", m[i+1], err)
		}
		mib := v * map[string]float64{"B": 1.0 / (1 << 20), "KiB": 1.0 / 1024, "MiB": 1, "GiB": 1024}[unit]
		var limit float64
		fmt.Sscanf(args[i+1], "%g", &limit)
		ts.Logf("peak memory of %s: %.1f MiB (bound %g MiB)", what, mib, limit)
		if i == 2 { // for the census of docs/security.md
			ts.Logf("process tree peak: %d bytes (bound %d)", int64(mib*(1<<20)), int64(limit*(1<<20)))
		}
		if mib > limit {
			ts.Fatalf("peak memory of %s is %.1f MiB, more than %g MiB", what, mib, limit)
		}
	}
}
