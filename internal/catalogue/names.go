package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// seriesLetters are the letters of the catalogue's series.
const seriesLetters = "GEPAMTZCDROJSBXUW"

func isSeriesLetter(b byte) bool { return strings.IndexByte(seriesLetters, b) >= 0 }

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isUpper(b byte) bool { return 'A' <= b && b <= 'Z' }

// scanID reads an ID-shaped token at s[i:]: a series letter, then one or two digits not
// starting with 0 and not followed by a third. It returns the token and the index after
// it, or "" and i.
func scanID(s string, i int) (string, int) {
	if i+1 >= len(s) || !isSeriesLetter(s[i]) || s[i+1] < '1' || s[i+1] > '9' {
		return "", i
	}
	j := i + 2
	if j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && isDigit(s[j]) {
		return "", i
	}
	return s[i:j], j
}

// NameIDs returns the ID-shaped tokens a Go test name carries, in order, once each.
//
// An ID is a series letter and a number of one or two digits. The name is split at "/"
// into its levels. Within a level an ID may start at the start of the level, right after
// the prefix "Test" or "Fuzz" of the top level, right after "_" or "-", or right after
// another ID; it ends at the end of the level or before "_", "-" or an upper-case letter.
// So TestA1PaddingInsideTable, TestBadInputs/B12_bundle-empty-chain, TestTar/T9_truncated
// and TestT1T2Names carry IDs, TestE10 is E10 (never E1), and TestX509, Test2xx, TestSHA1,
// TestEmpty/E1x and sha256_P256 carry none. Whether a token is a row of the catalogue
// (B99 is not) is for the caller to check.
func NameIDs(name string) []string {
	var ids []string
	seen := map[string]bool{}
	for level, part := range strings.Split(name, "/") {
		starts := map[int]bool{0: true}
		if level == 0 && (strings.HasPrefix(part, "Test") || strings.HasPrefix(part, "Fuzz")) {
			starts[4] = true
		}
		for i := 0; i < len(part); i++ {
			if part[i] == '_' || part[i] == '-' {
				starts[i+1] = true
			}
		}
		for i := 0; i < len(part); i++ {
			if !starts[i] {
				continue
			}
			// a chain of IDs: TestT1T2Names
			for {
				id, j := scanID(part, i)
				if id == "" || (j < len(part) && part[j] != '_' && part[j] != '-' && !isUpper(part[j])) {
					break
				}
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
				i = j
			}
		}
	}
	return ids
}

// maxHeaderLines bounds how much of a script is read for its catalogue header.
const maxHeaderLines = 200

// ScriptIDs returns the IDs a testscript (.txtar) names on its "# catalogue: ID ..."
// lines, which must come in the comment before the first "-- file --" line. An entry that
// is not ID-shaped is an error, so that a typo never counts as coverage.
func ScriptIDs(txtar []byte) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(txtar))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 0; sc.Scan() && n < maxHeaderLines; n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --") {
			break
		}
		rest, ok := strings.CutPrefix(line, "#")
		if !ok {
			continue
		}
		rest, ok = strings.CutPrefix(strings.TrimSpace(rest), "catalogue:")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(rest) {
			id, j := scanID(f, 0)
			if id == "" || j != len(f) {
				return nil, fmt.Errorf("catalogue header: %q is not a catalogue ID (write IDs like T1, separated by spaces)", f)
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the script header: %w", err)
	}
	return ids, nil
}
