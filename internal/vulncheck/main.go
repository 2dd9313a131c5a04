// Command vulncheck reads `govulncheck -format json` from standard input and fails when
// kensa's code reaches a known vulnerability that is not accepted in the file named by
// -accepted (one "GO-ID  reason" per line, # comments). An accepted ID that is no longer
// reported is an error too, so that the list cannot go stale.
//
//	govulncheck -db file://… -format json ./... | go run ./internal/vulncheck -accepted vuln-accepted.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	accepted := flag.String("accepted", "", "file of accepted vulnerability IDs with the reason each is accepted")
	flag.Parse()
	allow, err := readAccepted(*accepted)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(2)
	}
	reached, err := reachedVulns(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(2)
	}
	os.Exit(report(os.Stdout, reached, allow))
}

// reachedVulns returns the IDs whose findings reach a vulnerable function, with where.
func reachedVulns(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	dec := json.NewDecoder(bufio.NewReader(r))
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		if f := m.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			t := f.Trace[0]
			out[f.OSV] = fmt.Sprintf("%s %s.%s (fixed in %s)", t.Module, t.Package, t.Function, cmp(f.FixedVersion, "no release"))
		}
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func readAccepted(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: %s is accepted without a reason", path, i+1, id)
		}
		out[id] = strings.TrimSpace(reason)
	}
	return out, nil
}

// report prints what was found and returns the exit code: 1 for a reached vulnerability
// that is not accepted, or an accepted one no longer reported.
func report(w io.Writer, reached, allow map[string]string) int {
	code := 0
	ids := make([]string, 0, len(reached))
	for id := range reached {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if reason, ok := allow[id]; ok {
			fmt.Fprintf(w, "accepted  %s: %s\n          %s\n", id, reached[id], reason)
			continue
		}
		fmt.Fprintf(w, "REACHED   %s: %s\n", id, reached[id])
		code = 1
	}
	for id := range allow {
		if _, ok := reached[id]; !ok {
			fmt.Fprintf(w, "STALE     %s is accepted but no longer reported: remove it from the list\n", id)
			code = 1
		}
	}
	if code == 0 {
		fmt.Fprintf(w, "no reachable vulnerability beyond the %d accepted\n", len(allow))
	}
	return code
}
