package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// FactsJSON writes doc as one indented JSON document.
func FactsJSON(w io.Writer, doc *result.Facts) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// Text form limits: the JSON form has everything.
const (
	textListItems = 12  // items shown of a list
	textString    = 160 // characters shown of a string
)

// FactsText writes doc for people: each artifact, then its facts as "analyzer.field:
// value" lines, long lists and strings shortened (the JSON form has them whole).
func FactsText(w io.Writer, doc *result.Facts) error {
	ew := &errWriter{w: w}
	for _, a := range doc.Artifacts {
		format := a.Format
		if a.Interpreter != "" {
			format += " (" + a.Interpreter + ")"
		}
		fmt.Fprintf(ew, "%s  %s  %s  %s\n", safe(a.Path), safe(format), size(a), short(a.Digest))
		names := make([]string, 0, len(a.Facts))
		for k := range a.Facts {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, name := range names {
			var v any
			b, err := json.Marshal(a.Facts[name])
			if err == nil {
				err = json.Unmarshal(b, &v)
			}
			if err != nil {
				fmt.Fprintf(ew, "  %s: (cannot show: %v)\n", name, err)
				continue
			}
			writeFact(ew, "  "+name, v)
		}
		fmt.Fprintln(ew)
	}
	if len(doc.Errors) > 0 {
		fmt.Fprintf(ew, "ERRORS (%d): these could not be inspected fully\n", len(doc.Errors))
		writeErrors(ew, doc.Errors)
		fmt.Fprintln(ew)
	}
	fmt.Fprintf(ew, "%d artifacts, %d with facts (analyzers: %s), %d errors\n",
		len(doc.Artifacts), withFacts(doc.Artifacts), strings.Join(doc.Analyzers, ", "), len(doc.Errors))
	return ew.err
}

func withFacts(as []result.Artifact) int {
	n := 0
	for _, a := range as {
		if len(a.Facts) > 0 {
			n++
		}
	}
	return n
}

// writeFact writes one decoded JSON value under a dotted key.
func writeFact(w io.Writer, key string, v any) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			writeFact(w, key+"."+k, v[k])
		}
	case []any:
		if len(v) == 0 {
			return
		}
		if scalars(v) {
			parts := make([]string, 0, min(len(v), textListItems))
			for _, x := range v[:min(len(v), textListItems)] {
				parts = append(parts, scalar(x))
			}
			more := ""
			if len(v) > textListItems {
				more = fmt.Sprintf(", … %d more", len(v)-textListItems)
			}
			fmt.Fprintf(w, "%s: [%s%s]\n", key, strings.Join(parts, ", "), more)
			return
		}
		for i, x := range v[:min(len(v), textListItems)] {
			writeFact(w, fmt.Sprintf("%s[%d]", key, i), x)
		}
		if len(v) > textListItems {
			fmt.Fprintf(w, "%s: … %d more (see --format json)\n", key, len(v)-textListItems)
		}
	default:
		fmt.Fprintf(w, "%s: %s\n", key, scalar(v))
	}
}

func scalars(v []any) bool {
	for _, x := range v {
		switch x.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return safe(truncate(v, textString))
	case nil:
		return "null"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
