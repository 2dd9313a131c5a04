package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Test statuses, as go test -json reports them. A test that started and never ended
// (a panic, a timeout) is Failed.
const (
	Passed  = "pass"
	Failed  = "fail"
	Skipped = "skip"
)

// Test is one Go test (or subtest) of one package, with its outcome.
type Test struct {
	Package string
	Name    string
	Status  string
	// TreePeak is the largest memory of kensa's whole process tree (kensa and its
	// workers) the test measured and logged as "process tree peak: N bytes (bound B)",
	// and TreeBound the bound it held that figure to; both 0 when it logged none.
	TreePeak, TreeBound int64
}

// treePeakLine is how a test logs the memory of kensa's process tree.
var treePeakLine = regexp.MustCompile(`process tree peak: ([0-9]+) bytes \(bound ([0-9]+)\)`)

// String names the test as "package TestName/sub".
func (t Test) String() string { return t.Package + " " + t.Name }

// maxEventLine bounds one line of go test -json output.
const maxEventLine = 64 << 20

// ReadEvents reads go test -json output and returns each test's outcome, in the order the
// tests started. A test run more than once (-count) keeps its worst outcome: fail, then
// skip, then pass. Lines that are not JSON events (build output on stderr merged into the
// stream) are ignored.
func ReadEvents(r io.Reader) ([]Test, error) {
	type event struct {
		Action  string
		Package string
		Test    string
		Output  string
	}
	var order []Test
	index := map[[2]string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Test == "" {
			continue
		}
		key := [2]string{e.Package, e.Test}
		i, ok := index[key]
		if !ok {
			i = len(order)
			index[key] = i
			order = append(order, Test{Package: e.Package, Name: e.Test})
		}
		t := &order[i]
		switch e.Action {
		case "output":
			if m := treePeakLine.FindStringSubmatch(e.Output); m != nil {
				peak, _ := strconv.ParseInt(m[1], 10, 64)
				bound, _ := strconv.ParseInt(m[2], 10, 64)
				if peak > t.TreePeak {
					t.TreePeak, t.TreeBound = peak, bound
				}
			}
		case "run":
			// a rerun that never ends is a failure; one that ends keeps the worst outcome
			if t.Status == "" || t.Status == Passed {
				t.Status = "running"
			}
		case Passed:
			if t.Status == "" || t.Status == "running" {
				t.Status = Passed
			}
		case Skipped:
			if t.Status != Failed {
				t.Status = Skipped
			}
		case Failed:
			t.Status = Failed
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("a line of the go test -json output is longer than %d MiB", maxEventLine>>20)
		}
		return nil, err
	}
	for i := range order {
		if order[i].Status == "running" || order[i].Status == "" {
			order[i].Status = Failed
		}
	}
	return order, nil
}

// RowResult is what the census found for one catalogue row.
type RowResult struct {
	Row Row
	// Tests are the tests that cover the row; a subtest is left out when a test above it
	// covers the row too (its outcome is part of its parent's).
	Tests []Test
	// NotApplicable, when set, says why the row's attack does not apply to kensa
	// (notapplicable.tsv); such a row has no test to count.
	NotApplicable string
}

// Status is "as specified" when the row has tests and all passed, "failed" when one
// failed, "skipped" when none failed but one was skipped, and "no test".
func (r RowResult) Status() string {
	if len(r.Tests) == 0 {
		if r.NotApplicable != "" {
			return "not applicable: " + r.NotApplicable
		}
		return "no test"
	}
	status := "as specified"
	for _, t := range r.Tests {
		switch t.Status {
		case Failed:
			return "failed"
		case Skipped:
			status = "skipped"
		}
	}
	return status
}

// AsSpecified reports whether the row has tests and all of them passed.
func (r RowResult) AsSpecified() bool { return r.Status() == "as specified" }

// SeriesResult is the census of one series.
type SeriesResult struct {
	Series Series
	Rows   []RowResult
}

// Counts returns the series' figures: rows in the catalogue, rows with at least one test,
// rows whose tests all passed, and the number of distinct tests covering its rows.
func (s SeriesResult) Counts() (rows, tested, asSpecified, tests int) {
	distinct := map[Test]bool{}
	for _, r := range s.Rows {
		if r.NotApplicable != "" && len(r.Tests) == 0 {
			continue
		}
		rows++
		if len(r.Tests) > 0 {
			tested++
		}
		if r.AsSpecified() {
			asSpecified++
		}
		for _, t := range r.Tests {
			distinct[t] = true
		}
	}
	return rows, tested, asSpecified, len(distinct)
}

// TreePeak returns the largest memory of kensa's process tree measured by a test of the
// series, with the bound that test held it to, and how many of its tests measured it.
func (s SeriesResult) TreePeak() (peak, bound int64, measured int) {
	seen := map[Test]bool{}
	for _, r := range s.Rows {
		for _, t := range r.Tests {
			if seen[t] || t.TreePeak == 0 {
				continue
			}
			seen[t] = true
			measured++
			if t.TreePeak > peak {
				peak, bound = t.TreePeak, t.TreeBound
			}
		}
	}
	return peak, bound, measured
}

// Census is the catalogue with the tests found for each row.
type Census struct {
	Series []SeriesResult
	// Unknown lists ID-shaped tokens in test names that are no row of the catalogue,
	// with a test carrying each, for the caller to show.
	Unknown map[string]Test
}

// Count maps tests to catalogue rows. A Go test covers the rows whose IDs its name
// carries (NameIDs); scripts maps the test name of a testscript (e.g.
// "TestScripts/hostile_traversal") to the IDs of its catalogue header, and such a test
// covers those rows in whichever package it ran. An ID in scripts that is no row of the
// catalogue is an error.
func Count(cat *Catalogue, tests []Test, scripts map[string][]string) (*Census, error) {
	for name, ids := range scripts {
		for _, id := range ids {
			if !cat.Has(id) {
				return nil, fmt.Errorf("%s names %s, which is no row of the catalogue", name, id)
			}
		}
	}
	covering := map[string][]Test{}
	carries := map[Test]map[string]bool{}
	unknown := map[string]Test{}
	for _, t := range tests {
		ids := append(NameIDs(t.Name), scripts[t.Name]...)
		for _, id := range ids {
			if !cat.Has(id) {
				if _, seen := unknown[id]; !seen {
					unknown[id] = t
				}
				continue
			}
			if carries[t] == nil {
				carries[t] = map[string]bool{}
			}
			if carries[t][id] {
				continue
			}
			carries[t][id] = true
			covering[id] = append(covering[id], t)
		}
	}
	// drop a subtest whose parent covers the same row: the parent's outcome includes it
	covers := map[[3]string]bool{}
	for t, ids := range carries {
		for id := range ids {
			covers[[3]string{t.Package, t.Name, id}] = true
		}
	}
	c := &Census{Unknown: unknown}
	for _, s := range cat.Series {
		sr := SeriesResult{Series: s}
		for _, row := range s.Rows {
			rr := RowResult{Row: row, NotApplicable: cat.NotApplicable[row.ID]}
			for _, t := range covering[row.ID] {
				if !ancestorCovers(covers, t, row.ID) {
					rr.Tests = append(rr.Tests, t)
				}
			}
			sort.Slice(rr.Tests, func(i, j int) bool {
				a, b := rr.Tests[i], rr.Tests[j]
				if a.Package != b.Package {
					return a.Package < b.Package
				}
				return a.Name < b.Name
			})
			sr.Rows = append(sr.Rows, rr)
		}
		c.Series = append(c.Series, sr)
	}
	return c, nil
}

func ancestorCovers(covers map[[3]string]bool, t Test, id string) bool {
	name := t.Name
	for {
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return false
		}
		name = name[:i]
		if covers[[3]string{t.Package, name, id}] {
			return true
		}
	}
}
