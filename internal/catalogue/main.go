// Command catalogue measures how much of the bad-input catalogue kensa's tests cover and
// how much of it behaves as specified, from the output of go test -json, and writes the
// result into docs/security.md.
//
// The catalogue (series G, E, P, A, M, T, Z, C, D, R, O, J, S, B, X, U, W; one row per
// hostile input with the behaviour it must get) is embedded in catalogue.tsv.
//
// # Which test covers which row
//
// A Go test covers row X when its name, at any level, carries X as a token. An ID is a
// series letter and a number of one or two digits (no leading zero). It may start at the
// start of a level, right after the "Test" or "Fuzz" of the top level, right after "_" or
// "-", or right after another ID; it must end at the end of the level or before "_", "-"
// or an upper-case letter:
//
//	TestA1PaddingInsideTable               A1
//	TestBadInputs/B12_bundle-empty-chain   B12 (t.Run("B12 bundle-empty-chain", …))
//	TestTar/T9_truncated                   T9
//	TestT1T2Names, TestX/T1_T2_names       T1 and T2
//	TestE10, TestX/E10                     E10, never E1
//	TestX509, Test2xx, TestSHA1, TestE1x   none
//
// Tokens shaped like an ID that are no row of the catalogue (B99) are listed on stderr and
// otherwise ignored. A subtest is not counted on its own when a test above it carries the
// same ID, since the parent's outcome includes it.
//
// A testscript covers the rows listed on its "# catalogue: ID ..." lines, which come in
// the comment before the first "-- file --" line:
//
//	# catalogue: T1
//	# T1: names that leave the root are errors; the run goes on and lists the rest.
//
// Its test is named after the file without .txtar under the test function that runs the
// scripts: TestScripts/hostile_traversal for cmd/kensa/testdata/script/hostile_traversal.txtar.
//
// A row is "as specified" when it has at least one test and all of its tests passed; a
// failed test, a skipped one, or one that started and never ended (a panic, a timeout)
// makes it not so. A package that does not build has no test events, so its rows count as
// untested.
//
// # Running the census
//
// From the repository root (the packages that hold catalogue tests; cmd/kensa only for its
// hostile scripts, since its whole suite takes about ten minutes):
//
//	go test -json ./attest/authenticode/ ./attest/sigstore/ ./attest/provenance/ \
//	    ./attest/publish/ ./analyzers/archive/ ./analyzers/elf/ ./analyzers/pe/ \
//	    ./analyzers/macho/ ./analyzers/image/ ./sbom/ > /tmp/catalogue-packages.json
//	go test -json -run 'TestScripts/hostile_' ./cmd/kensa/ > /tmp/catalogue-scripts.json
//	go run ./internal/catalogue -json /tmp/catalogue-packages.json \
//	    -json /tmp/catalogue-scripts.json -scripts cmd/kensa/testdata/script \
//	    -doc docs/security.md
//
// The first takes about three minutes on two cores, the second three to four. go test
// exits non-zero when a test fails; run the census on its output all the same (in make,
// prefix the go test lines with "-"): it shows the failure as rows not as specified. The command rewrites only what lies between the lines
// <!-- catalogue:begin --> and <!-- catalogue:end --> of the document (creating the
// document with a heading and the markers when it does not exist), and prints the series
// table on stdout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxScriptSize bounds a testscript read for its header.
const maxScriptSize = 16 << 20

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "catalogue:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("catalogue", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var jsonFiles []string
	fl.Func("json", "`FILE` of go test -json output (repeat for several; - for stdin)", func(s string) error {
		jsonFiles = append(jsonFiles, s)
		return nil
	})
	scripts := fl.String("scripts", "", "`DIR` of testscripts (.txtar) whose \"# catalogue:\" lines name rows")
	scriptTest := fl.String("script-test", "TestScripts", "`NAME` of the test function that runs the scripts of -scripts")
	doc := fl.String("doc", "docs/security.md", "Markdown `FILE` whose catalogue table is rewritten")
	module := fl.String("module", "kensa.dev/kensa", "module `PATH` left out of package names")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if len(jsonFiles) == 0 || fl.NArg() > 0 {
		return errors.New("usage: go run ./internal/catalogue -json FILE [-json FILE...] [-scripts DIR] [-doc docs/security.md]")
	}
	cat, err := Embedded()
	if err != nil {
		return err
	}
	var tests []Test
	for _, f := range jsonFiles {
		ts, err := readEventsFile(f)
		if err != nil {
			return err
		}
		tests = append(tests, ts...)
	}
	scriptIDs := map[string][]string{}
	if *scripts != "" {
		if scriptIDs, err = readScripts(*scripts, *scriptTest); err != nil {
			return err
		}
	}
	census, err := Count(cat, tests, scriptIDs)
	if err != nil {
		return err
	}
	var unknown []string
	for id, t := range census.Unknown {
		unknown = append(unknown, fmt.Sprintf("%s (in %s)", id, t))
	}
	sort.Strings(unknown)
	for _, u := range unknown {
		fmt.Fprintf(stderr, "catalogue: %s is shaped like a catalogue ID but no row of it; ignored\n", u)
	}
	table := Render(census, *module)
	old, err := os.ReadFile(*doc)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	updated, err := Splice(old, table)
	if err != nil {
		return fmt.Errorf("%s: %w", *doc, err)
	}
	if err := writeFile(*doc, updated); err != nil {
		return err
	}
	summary, _, _ := strings.Cut(table, "\n\n")
	fmt.Fprintln(stdout, summary)
	return nil
}

func readEventsFile(name string) ([]Test, error) {
	if name == "-" {
		return ReadEvents(os.Stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ts, err := ReadEvents(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ts, nil
}

// readScripts maps "<testFunc>/<script name without .txtar>" to the IDs of the script's
// catalogue header, for every .txtar in dir that has one.
func readScripts(dir, testFunc string) (map[string][]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s holds no .txtar scripts; give the directory of the testscripts with -scripts", dir)
	}
	out := map[string][]string{}
	for _, p := range paths {
		data, err := readBounded(p, maxScriptSize)
		if err != nil {
			return nil, err
		}
		ids, err := ScriptIDs(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(ids) > 0 {
			out[testFunc+"/"+strings.TrimSuffix(filepath.Base(p), ".txtar")] = ids
		}
	}
	return out, nil
}

func readBounded(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB, too large for a testscript", name, limit>>20)
	}
	return data, nil
}

// writeFile replaces name with data through a temporary file in the same directory.
func writeFile(name string, data []byte) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".catalogue-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
