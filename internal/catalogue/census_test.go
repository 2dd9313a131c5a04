package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNameIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"TestA1PaddingInsideTable", []string{"A1"}},
		{"TestBadInputs/B12_bundle-empty-chain", []string{"B12"}},
		{"TestTar/T9_truncated", []string{"T9"}},
		{"TestTar/T9", []string{"T9"}},
		{"TestTar/T9-truncated", []string{"T9"}},
		{"TestE10", []string{"E10"}},
		{"TestE10Sections", []string{"E10"}},
		{"TestT1T2Names", []string{"T1", "T2"}},
		{"TestX/T1_T2_names", []string{"T1", "T2"}},
		{"TestConformance/B10_B16_trust-root-tlog-validity-end-inclusive", []string{"B10", "B16"}},
		{"TestAgainstOsslsigncode/A8_expired_with_time_stamp", []string{"A8"}},
		{"TestA5NestedIdentity/A5", []string{"A5"}},
		{"FuzzT7Sparse", []string{"T7"}},
		// ID-shaped but no row: the caller drops it
		{"TestB99Later", []string{"B99"}},
		// no IDs
		{"TestX509", nil},
		{"TestX509Chain/P256", nil},
		{"Test2xx", nil},
		{"TestSHA1", nil},
		{"TestE1x", nil},
		{"TestE01", nil},
		{"TestEmpty", nil},
		{"TestScripts/hostile_traversal", nil},
		{"TestParse/sha256_P256", nil},
		{"TestParse/xT1", nil},
		{"TestParse/T1x", nil},
		{"TestSubT1", nil},
		{"ExampleT1", nil},
		{"TestParse/level_E5x", nil},
		{"", nil},
	} {
		if got := NameIDs(tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("NameIDs(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestScriptIDs(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		want         []string
		err          string
	}{
		{"one line", "# catalogue: T1 T3\n# T1: names that leave the root\nhostile traversal\n", []string{"T1", "T3"}, ""},
		{"two lines, repeats", "# catalogue: C2\n#catalogue:   C2   Z5\nexec kensa\n", []string{"C2", "Z5"}, ""},
		{"none", "# T1: a comment naming the row is not a header\nexec kensa\n", nil, ""},
		{"after the files", "exec kensa\n-- a.txt --\n# catalogue: T1\n", nil, ""},
		{"typo", "# catalogue: T1, T3\n", nil, `"T1," is not a catalogue ID`},
		{"lower case", "# catalogue: t1\n", nil, `"t1" is not a catalogue ID`},
		{"three digits", "# catalogue: T100\n", nil, `"T100" is not a catalogue ID`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ScriptIDs([]byte(tc.script))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ScriptIDs = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestEmbeddedCatalogue checks the embedded catalogue holds exactly the rows of section 7
// of the bad-inputs reference: G1–G9, E1–E9, P1–P10, A1–A12, M1–M4, T1–T13, Z1–Z10,
// C1–C6, D1–D4, R1–R5, O1–O13, J1–J6, S1–S13, B1–B17, X1–X5, U1–U5, W1–W5.
func TestEmbeddedCatalogue(t *testing.T) {
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		letter string
		n      int
	}{{"G", 9}, {"E", 9}, {"P", 10}, {"A", 12}, {"M", 4}, {"T", 13}, {"Z", 10}, {"C", 6}, {"D", 4}, {"R", 5}, {"O", 13}, {"J", 6}, {"S", 13}, {"B", 17}, {"X", 5}, {"U", 5}, {"W", 5}}
	if len(cat.Series) != len(want) {
		t.Fatalf("%d series, want %d", len(cat.Series), len(want))
	}
	total := 0
	for i, w := range want {
		s := cat.Series[i]
		var ids, wantIDs []string
		for _, r := range s.Rows {
			ids = append(ids, r.ID)
			if r.Input == "" || r.Expected == "" {
				t.Errorf("%s: empty input or expectation", r.ID)
			}
		}
		for n := 1; n <= w.n; n++ {
			wantIDs = append(wantIDs, fmt.Sprintf("%s%d", w.letter, n))
		}
		if s.Letter != w.letter || s.Name == "" || !reflect.DeepEqual(ids, wantIDs) {
			t.Errorf("series %d: %s %q rows %q, want %s rows %q", i, s.Letter, s.Name, ids, w.letter, wantIDs)
		}
		total += len(ids)
	}
	if total != 146 || len(cat.byID) != 146 {
		t.Errorf("%d rows (%d indexed), want 146", total, len(cat.byID))
	}
	if r, ok := cat.Row("T9"); !ok || !strings.Contains(r.Input, "truncated tar") || !strings.Contains(r.Expected, "ErrUnexpectedEOF") {
		t.Errorf("T9 = %+v", r)
	}
}

func TestParseCatalogueErrors(t *testing.T) {
	for _, text := range []string{
		"T1\tinput\texpected\n",                            // row before its series
		"T\ttar\nZ1\tinput\texpected\n",                    // row in the wrong series
		"T\ttar\nT1\ta\tb\nT1\tc\td\n",                     // duplicate row
		"T\ttar\nT\ttar again\n",                           // duplicate series
		"Q\tnot a series\n",                                // unknown letter
		"T\ttar\nT1\tonly input\texpected\textra field\n",  // too many fields
		"T\ttar\nT01\tinput\texpected\n",                   // not an ID
		"T\ttar\nT1 input expected with spaces, no tabs\n", // one field
	} {
		if _, err := parseCatalogue(text); err == nil {
			t.Errorf("parseCatalogue(%q) accepted", text)
		}
	}
}

const events = `{"Action":"start","Package":"kensa.dev/kensa/analyzers/archive"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestTar"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestTar/T9_truncated"}
{"Action":"output","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestTar/T9_truncated","Output":"--- PASS\n"}
{"Action":"pass","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestTar/T9_truncated"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestTar/T1_names"}
{"Action":"fail","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestTar/T1_names"}
{"Action":"fail","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestTar"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT3Links"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT3Links/T3_absolute"}
{"Action":"pass","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT3Links/T3_absolute"}
{"Action":"pass","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT3Links"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT6PAX"}
{"Action":"skip","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT6PAX"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT7Sparse"}
{"Action":"output","Package":"kensa.dev/kensa/analyzers/archive","Test":"TestT7Sparse","Output":"panic: boom\n"}
this line is not JSON
{"Action":"run","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ2Count"}
{"Action":"pass","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ2Count"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ2Count"}
{"Action":"fail","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ2Count"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ3Dir"}
{"Action":"pass","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ3Dir"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ3Dir"}
{"Action":"pass","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ3Dir"}
{"Action":"run","Package":"kensa.dev/kensa/cmd/kensa","Test":"TestScripts/hostile_traversal"}
{"Action":"output","Package":"kensa.dev/kensa/cmd/kensa","Test":"TestScripts/hostile_traversal","Output":"        process tree peak: 157286400 bytes (bound 905969664)\n"}
{"Action":"output","Package":"kensa.dev/kensa/cmd/kensa","Test":"TestScripts/hostile_traversal","Output":"        process tree peak: 209715200 bytes (bound 1073741824)\n"}
{"Action":"output","Package":"kensa.dev/kensa/cmd/kensa","Test":"TestScripts/hostile_traversal","Output":"        process tree peak: 104857600 bytes (bound 905969664)\n"}
{"Action":"pass","Package":"kensa.dev/kensa/cmd/kensa","Test":"TestScripts/hostile_traversal"}
{"Action":"run","Package":"kensa.dev/kensa/cmd/kensa","Test":"TestScripts/hostile_bomb_entry"}
{"Action":"fail","Package":"kensa.dev/kensa/cmd/kensa","Test":"TestScripts/hostile_bomb_entry"}
{"Action":"run","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ10G5Content"}
{"Action":"pass","Package":"kensa.dev/kensa/analyzers/zip","Test":"TestZ10G5Content"}
{"Action":"run","Package":"kensa.dev/kensa/sbom","Test":"TestB99Later"}
{"Action":"pass","Package":"kensa.dev/kensa/sbom","Test":"TestB99Later"}
`

func TestReadEvents(t *testing.T) {
	tests, err := ReadEvents(strings.NewReader(events))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tt := range tests {
		got[strings.TrimPrefix(tt.Package, "kensa.dev/kensa/")+" "+tt.Name] = tt.Status
	}
	want := map[string]string{
		"analyzers/archive TestTar":                 Failed,
		"analyzers/archive TestTar/T9_truncated":    Passed,
		"analyzers/archive TestTar/T1_names":        Failed,
		"analyzers/archive TestT3Links":             Passed,
		"analyzers/archive TestT3Links/T3_absolute": Passed,
		"analyzers/archive TestT6PAX":               Skipped,
		"analyzers/archive TestT7Sparse":            Failed, // started, never ended
		"analyzers/zip TestZ2Count":                 Failed, // passed once, failed on the rerun
		"analyzers/zip TestZ3Dir":                   Passed,
		"cmd/kensa TestScripts/hostile_traversal":   Passed,
		"cmd/kensa TestScripts/hostile_bomb_entry":  Failed,
		"analyzers/zip TestZ10G5Content":            Passed,
		"sbom TestB99Later":                         Passed,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadEvents = %v\nwant %v", got, want)
	}
	if tests[0].Name != "TestTar" || tests[1].Name != "TestTar/T9_truncated" {
		t.Errorf("not in start order: %v", tests[:2])
	}
	// the largest of the tree peaks a test logged, with its own bound
	for _, tt := range tests {
		want := [2]int64{}
		if tt.Name == "TestScripts/hostile_traversal" {
			want = [2]int64{200 << 20, 1 << 30}
		}
		if got := [2]int64{tt.TreePeak, tt.TreeBound}; got != want {
			t.Errorf("%s: tree peak and bound %v, want %v", tt.Name, got, want)
		}
	}
}

func TestReadEventsLongLine(t *testing.T) {
	long := `{"Action":"output","Output":"` + strings.Repeat("x", maxEventLine) + `"}` + "\n"
	if _, err := ReadEvents(strings.NewReader(long)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("err = %v", err)
	}
}

func census(t *testing.T, scripts map[string][]string) *Census {
	t.Helper()
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	tests, err := ReadEvents(strings.NewReader(events))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Count(cat, tests, scripts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func row(c *Census, id string) RowResult {
	for _, s := range c.Series {
		for _, r := range s.Rows {
			if r.Row.ID == id {
				return r
			}
		}
	}
	return RowResult{}
}

func series(c *Census, letter string) SeriesResult {
	for _, s := range c.Series {
		if s.Series.Letter == letter {
			return s
		}
	}
	return SeriesResult{}
}

func TestCount(t *testing.T) {
	c := census(t, map[string][]string{
		"TestScripts/hostile_traversal":  {"T1"},
		"TestScripts/hostile_bomb_entry": {"C2"},
		"TestScripts/hostile_unrun":      {"C3"},
	})
	for _, tc := range []struct {
		id, status string
		tests      []string
	}{
		{"T9", "as specified", []string{"TestTar/T9_truncated"}},
		// a failing test makes its row not as specified, whatever else passed
		{"T1", "failed", []string{"TestTar/T1_names", "TestScripts/hostile_traversal"}},
		// the subtest carrying the same ID is part of its parent
		{"T3", "as specified", []string{"TestT3Links"}},
		{"T6", "skipped", []string{"TestT6PAX"}},
		{"T7", "failed", []string{"TestT7Sparse"}},
		{"Z2", "failed", []string{"TestZ2Count"}},
		{"Z3", "as specified", []string{"TestZ3Dir"}},
		{"C2", "failed", []string{"TestScripts/hostile_bomb_entry"}},
		// a script that did not run covers nothing
		{"C3", "no test", nil},
		{"G1", "no test", nil},
	} {
		r := row(c, tc.id)
		var names []string
		for _, tt := range r.Tests {
			names = append(names, tt.Name)
		}
		if r.Status() != tc.status || !reflect.DeepEqual(names, tc.tests) {
			t.Errorf("%s: %s %q, want %s %q", tc.id, r.Status(), names, tc.status, tc.tests)
		}
		if r.AsSpecified() != (tc.status == "as specified") {
			t.Errorf("%s: AsSpecified = %v", tc.id, r.AsSpecified())
		}
	}
	for _, tc := range []struct {
		letter                     string
		rows, tested, ok, numTests int
	}{
		{"T", 13, 5, 2, 6}, // T1 (2 tests), T3, T6, T7, T9
		{"Z", 10, 3, 2, 3}, // Z2, Z3, Z10
		{"C", 6, 1, 0, 1},
		{"G", 9, 1, 1, 1}, // G5, by the test that covers Z10 too
	} {
		rows, tested, ok, n := series(c, tc.letter).Counts()
		if rows != tc.rows || tested != tc.tested || ok != tc.ok || n != tc.numTests {
			t.Errorf("series %s: %d rows, %d tested, %d as specified, %d tests; want %d, %d, %d, %d",
				tc.letter, rows, tested, ok, n, tc.rows, tc.tested, tc.ok, tc.numTests)
		}
	}
	if u, ok := c.Unknown["B99"]; !ok || u.Name != "TestB99Later" || len(c.Unknown) != 1 {
		t.Errorf("Unknown = %v", c.Unknown)
	}
}

func TestCountScriptUnknownID(t *testing.T) {
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Count(cat, nil, map[string][]string{"TestScripts/x": {"T14"}}); err == nil || !strings.Contains(err.Error(), "T14") {
		t.Errorf("err = %v", err)
	}
}

func TestRender(t *testing.T) {
	c := census(t, map[string][]string{"TestScripts/hostile_traversal": {"T1"}})
	out := Render(c, "kensa.dev/kensa")
	for _, want := range []string{
		"| T — tar (docker-archive, OCI layers, deb data.tar, rpm cpio analogue) | 13 | 5 | 2 | 6 | 0 | 200.0 MiB of 1.0 GiB (1 tests) |\n",
		// TestZ10G5Content counts once in all; B6 and U1-U5 do not apply
		"| all | 140 | 9 | 5 | 9 | 6 | |\n",
		"| U — TUF / trust material | 0 | 0 | 0 | 0 | 5 | not measured: no test runs kensa on this series |\n",
		"| B6 |", "| not applicable: kensa never asks for more than one transparency-log entry",
		"| T1 | names `../x`",
		"analyzers/archive `TestTar/T1_names` (failed)<br>cmd/kensa `TestScripts/hostile_traversal` | failed |\n",
		"| T6 |", "analyzers/archive `TestT6PAX` (skipped) | skipped |\n",
		"| G1 | any parser panic", "|  | no test |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// after the first line: 17 series, the total, the rows' header, 146 rows
	if n := strings.Count(out, "\n| "); n != 17+1+1+146 {
		t.Errorf("%d table lines after the first, want %d", n, 17+1+1+146)
	}
	if got := cell("a | b\n  c"); got != `a \| b c` {
		t.Errorf("cell = %q", got)
	}
}

func TestSplice(t *testing.T) {
	doc := []byte("# Security\n\nProse.\n\n" + BeginMarker + "\nold table\n" + EndMarker + "\n\nMore prose.\n")
	got, err := Splice(doc, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Security\n\nProse.\n\n" + BeginMarker + "\nnew table\n" + EndMarker + "\n\nMore prose.\n"
	if string(got) != want {
		t.Errorf("Splice = %q, want %q", got, want)
	}
	again, err := Splice(got, "new table\n")
	if err != nil || !bytes.Equal(again, got) {
		t.Errorf("second Splice changed the document: %q, %v", again, err)
	}
	fresh, err := Splice(nil, "t\n")
	if err != nil || string(fresh) != "# Security\n\n"+BeginMarker+"\nt\n"+EndMarker+"\n" {
		t.Errorf("Splice(nil) = %q, %v", fresh, err)
	}
	for _, bad := range []string{
		"no markers",
		EndMarker + "\n" + BeginMarker + "\n",
		BeginMarker + "\n" + EndMarker + "\n" + BeginMarker + "\n" + EndMarker + "\n",
		BeginMarker + "\nonly the start\n",
	} {
		if _, err := Splice([]byte(bad), "t\n"); err == nil {
			t.Errorf("Splice(%q) accepted", bad)
		}
	}
}

// TestRun runs the command on files: go test -json output, a script directory and a
// document with prose around the markers.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "test.json")
	scripts := filepath.Join(dir, "script")
	doc := filepath.Join(dir, "docs", "security.md")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(jsonFile, events)
	write(filepath.Join(scripts, "hostile_traversal.txtar"), "# catalogue: T1\n# T1: names\nhostile traversal\n")
	write(filepath.Join(scripts, "hostile_bomb_entry.txtar"), "# catalogue: C2\nhostile bomb-entry\n")
	write(filepath.Join(scripts, "plain.txtar"), "exec kensa\n")
	write(doc, "# Security\n\nBefore.\n\n"+BeginMarker+"\n"+EndMarker+"\n\nAfter.\n")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-json", jsonFile, "-scripts", scripts, "-doc", doc}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	got, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Security\n\nBefore.\n\n" + BeginMarker + "\n| series |", "| C — compression streams | 6 | 1 | 0 | 1 | 0 |", "cmd/kensa `TestScripts/hostile_bomb_entry` (failed) | failed |", EndMarker + "\n\nAfter.\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("document lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(stdout.String(), "| all | 140 | 10 | 5 | 10 | 6 |") || strings.Contains(stdout.String(), "| T1 |") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "B99 (in kensa.dev/kensa/sbom TestB99Later) is shaped like a catalogue ID") {
		t.Errorf("stderr: %s", stderr.String())
	}

	// a script header naming no row, a document without markers, no -json: errors
	write(filepath.Join(scripts, "typo.txtar"), "# catalogue: T99\n")
	if err := run([]string{"-json", jsonFile, "-scripts", scripts, "-doc", doc}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "T99") {
		t.Errorf("script naming T99: %v", err)
	}
	os.Remove(filepath.Join(scripts, "typo.txtar"))
	write(doc, "# Security\n")
	if err := run([]string{"-json", jsonFile, "-doc", doc}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), BeginMarker) {
		t.Errorf("document without markers: %v", err)
	}
	if err := run([]string{"-doc", doc}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("no -json: %v", err)
	}
	if err := run([]string{"-json", jsonFile, "-scripts", filepath.Join(dir, "none"), "-doc", doc}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "no .txtar") {
		t.Errorf("empty script directory: %v", err)
	}
	// a missing document is created with a heading and the markers
	fresh := filepath.Join(dir, "new", "security.md")
	if err := run([]string{"-json", jsonFile, "-doc", fresh}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(fresh); err != nil || !strings.HasPrefix(string(got), "# Security\n\n"+BeginMarker+"\n| series |") {
		t.Errorf("new document: %q, %v", got, err)
	}
}

// TestRepositoryScripts checks the testscripts of cmd/kensa the census reads: every
// hostile_*.txtar names at least one row of the catalogue on a "# catalogue:" line, and
// the scripts run under the test function the command assumes by default.
func TestRepositoryScripts(t *testing.T) {
	dir := filepath.Join("..", "..", "cmd", "kensa", "testdata", "script")
	scripts, err := readScripts(dir, "TestScripts")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	hostile, err := filepath.Glob(filepath.Join(dir, "hostile_*.txtar"))
	if err != nil || len(hostile) == 0 {
		t.Fatalf("no hostile scripts in %s: %v", dir, err)
	}
	for _, p := range hostile {
		name := "TestScripts/" + strings.TrimSuffix(filepath.Base(p), ".txtar")
		ids := scripts[name]
		if len(ids) == 0 {
			t.Errorf("%s has no # catalogue: line", p)
		}
		for _, id := range ids {
			if !cat.Has(id) {
				t.Errorf("%s names %s, no row of the catalogue", p, id)
			}
		}
	}
	main, err := os.ReadFile(filepath.Join("..", "..", "cmd", "kensa", "main_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(main, []byte("func TestScripts(t *testing.T)")) || !bytes.Contains(main, []byte(`"testdata/script"`)) {
		t.Error("cmd/kensa no longer runs testdata/script from TestScripts: update the -script-test default and the package comment")
	}
}

// FuzzNameIDs checks that whatever a test name or script holds, the parsers do not panic
// and every ID they return is ID-shaped and taken from the input.
func FuzzNameIDs(f *testing.F) {
	for _, s := range []string{"TestA1PaddingInsideTable", "TestBadInputs/B12_bundle-empty-chain", "TestT1T2Names", "TestX509", "TestE10/E1_x",
		"# catalogue: T1 T3\nhostile traversal\n", "-- a --\n# catalogue: T1\n", "# catalogue: T100\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ids := range [][]string{NameIDs(s), func() []string { ids, _ := ScriptIDs([]byte(s)); return ids }()} {
			for _, id := range ids {
				if got, n := scanID(id, 0); got != id || n != len(id) || !strings.Contains(s, id) {
					t.Fatalf("%q gave the ID %q", s, id)
				}
			}
		}
	})
}

// TestNotApplicableList: the list names rows of the catalogue, each with a reason.
func TestNotApplicableList(t *testing.T) {
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if c.NotApplicable["U1"] == "" || c.NotApplicable["G3"] != "" {
		t.Errorf("not applicable: %v", c.NotApplicable)
	}
	for _, bad := range []string{"Q9\tno such row", "U1", "U1\t  "} {
		if err := c.readNotApplicable(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
