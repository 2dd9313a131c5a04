package render

import (
	"bytes"
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
				v, err = decodeOrdered(json.NewDecoder(bytes.NewReader(b)))
			}
			if err != nil {
				fmt.Fprintf(ew, "  %s: (cannot show: %s)\n", safe(name), safe(err.Error()))
				continue
			}
			writeFact(ew, "  "+safe(name), v)
		}
		fmt.Fprintln(ew)
	}
	if len(doc.Errors) > 0 {
		fmt.Fprintf(ew, "ERRORS (%d): these could not be inspected fully\n", len(doc.Errors))
		writeErrors(ew, doc.Errors)
		fmt.Fprintln(ew)
	}
	fmt.Fprintf(ew, "%d artifacts, %d with facts (analyzers: %s), %d errors\n",
		len(doc.Artifacts), withFacts(doc.Artifacts), safe(strings.Join(doc.Analyzers, ", ")), len(doc.Errors))
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

// object is a JSON object with its keys in document order (the facts struct's order).
type object []member

type member struct {
	key   string
	value any
}

// decodeOrdered decodes one JSON value, keeping the order of object keys.
func decodeOrdered(d *json.Decoder) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		var o object
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(d)
			if err != nil {
				return nil, err
			}
			o = append(o, member{k.(string), v})
		}
		_, err = d.Token()
		return o, err
	case json.Delim('['):
		l := []any{}
		for d.More() {
			v, err := decodeOrdered(d)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err = d.Token()
		return l, err
	}
	return t, nil
}

// writeFact writes one decoded JSON value under a dotted key: scalars as "key: value",
// lists of scalars and flat objects on one line, the rest one line per member.
func writeFact(w io.Writer, key string, v any) {
	switch v := v.(type) {
	case object:
		if zero(v) {
			return // nothing observed: "urls: occurrences 0, truncated false"
		}
		for _, m := range v {
			writeFact(w, key+"."+safe(m.key), m.value)
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
			if o, ok := x.(object); ok && flat(o) {
				fmt.Fprintf(w, "%s[%d]: %s\n", key, i, inline(o))
				continue
			}
			writeFact(w, fmt.Sprintf("%s[%d]", key, i), x)
		}
		if len(v) > textListItems {
			fmt.Fprintf(w, "%s: … %d more (see --format json)\n", key, len(v)-textListItems)
		}
	default:
		fmt.Fprintf(w, "%s: %s\n", key, scalar(v))
	}
}

// zero reports an object whose members are all zero, false, empty or null.
func zero(o object) bool {
	for _, m := range o {
		switch x := m.value.(type) {
		case object:
			if !zero(x) {
				return false
			}
		case []any:
			if len(x) > 0 {
				return false
			}
		case string:
			if x != "" {
				return false
			}
		case bool:
			if x {
				return false
			}
		case float64:
			if x != 0 {
				return false
			}
		case nil:
		default:
			return false
		}
	}
	return true
}

// flat reports an object whose members are all scalars or lists of scalars.
func flat(o object) bool {
	for _, m := range o {
		switch x := m.value.(type) {
		case object:
			return false
		case []any:
			if !scalars(x) {
				return false
			}
		}
	}
	return true
}

// inline writes a flat object on one line, leaving out empty and false members.
func inline(o object) string {
	var parts []string
	for _, m := range o {
		switch x := m.value.(type) {
		case []any:
			if len(x) == 0 {
				continue
			}
			s := make([]string, len(x))
			for i, e := range x {
				s[i] = scalar(e)
			}
			parts = append(parts, safe(m.key)+"=["+strings.Join(s, ", ")+"]")
		case string:
			if strings.ContainsAny(x, " \t=\"") {
				parts = append(parts, safe(m.key)+"="+safe(strconv.Quote(truncate(x, textString))))
			} else if x != "" {
				parts = append(parts, safe(m.key)+"="+scalar(x))
			}
		case bool:
			if x {
				parts = append(parts, safe(m.key))
			}
		default:
			parts = append(parts, safe(m.key)+"="+scalar(x))
		}
	}
	return strings.Join(parts, " ")
}

func scalars(v []any) bool {
	for _, x := range v {
		switch x.(type) {
		case object, []any:
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
	return safe(fmt.Sprint(v))
}
