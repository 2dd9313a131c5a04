// Command corpuscheck reports how often the built-in rules fire on ordinary software: it
// reads the JSON result of `kensa scan` over system directories and prints, per severity
// and per rule, the findings, and the share of executable files with a high or critical
// finding. It exits 1 when that share passes -max (percent), so that `make corpus-check`
// fails on a rule that would flood acceptance testers with false alarms.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"

	"kensa.dev/kensa/internal/result"
)

func main() {
	max := flag.Float64("max", 1, "largest acceptable share (percent) of executables with a high or critical finding")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: corpuscheck [-max PERCENT] RESULT.json\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var res result.Result
	if err := json.Unmarshal(b, &res); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", flag.Arg(0), err)
		os.Exit(2)
	}
	exec := map[string]bool{}
	for _, a := range res.Artifacts {
		switch a.Format {
		case "elf", "pe", "macho", "macho-fat":
			exec[a.Path] = true
		}
	}
	type key struct {
		rule string
		sev  result.Severity
	}
	perRule := map[key]int{}
	perSev := map[result.Severity]int{}
	flagged := map[string]bool{}
	files := map[result.Severity]map[string]bool{}
	for _, f := range res.Findings {
		perRule[key{f.Rule, f.Severity}]++
		perSev[f.Severity]++
		if files[f.Severity] == nil {
			files[f.Severity] = map[string]bool{}
		}
		files[f.Severity][f.Path] = true
		if exec[f.Path] && f.Severity.Rank() >= result.High.Rank() {
			flagged[f.Path] = true
		}
	}
	fmt.Printf("%d files, %d executables, %d findings\n\n", res.Summary.Files, len(exec), len(res.Findings))
	fmt.Printf("%-9s %9s %9s\n", "severity", "findings", "files")
	for _, s := range []result.Severity{result.Critical, result.High, result.Medium, result.Low, result.Info} {
		fmt.Printf("%-9s %9d %9d\n", s, perSev[s], len(files[s]))
	}
	keys := make([]key, 0, len(perRule))
	for k := range perRule {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if perRule[keys[i]] != perRule[keys[j]] {
			return perRule[keys[i]] > perRule[keys[j]]
		}
		return keys[i].rule < keys[j].rule
	})
	fmt.Printf("\n%-9s %6s  %s\n", "severity", "count", "rule")
	for _, k := range keys {
		fmt.Printf("%-9s %6d  %s\n", k.sev, perRule[k], k.rule)
	}
	share := 0.0
	if len(exec) > 0 {
		share = 100 * float64(len(flagged)) / float64(len(exec))
	}
	fmt.Printf("\nexecutables with a high or critical finding: %d of %d (%.3f%%; at most %.2f%% accepted)\n", len(flagged), len(exec), share, *max)
	if share > *max {
		var list []string
		for p := range flagged {
			list = append(list, p)
		}
		sort.Strings(list)
		for _, p := range list {
			fmt.Println("  " + p)
		}
		os.Exit(1)
	}
}
