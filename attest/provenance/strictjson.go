package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// decodeStrict parses one JSON document that security decisions depend on. Unlike
// encoding/json alone it rejects invalid UTF-8, nesting deeper than MaxDepth, duplicate
// keys in one object (also keys that differ only in case, since encoding/json matches
// struct fields case-insensitively and the last one wins), and anything after the
// top-level value. Numbers are kept as json.Number so that large ones are not an error.
func decodeStrict(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	if err := validateStrict(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

type frame struct {
	object    bool
	expectKey bool
	keys      map[string]string // folded key -> key as written
}

// validateStrict walks the token stream of data once and enforces the rules of
// decodeStrict.
func validateStrict(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	started := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !started {
				return errors.New("empty document")
			}
			if len(stack) != 0 {
				return errors.New("unexpected end of document")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if started && len(stack) == 0 {
			return errors.New("trailing data after the top-level JSON value")
		}
		started = true
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				valueDone(stack)
				continue
			}
			key, ok := tok.(string)
			if !ok {
				return errors.New("object key is not a string")
			}
			folded := foldKey(key)
			if prev, dup := top.keys[folded]; dup {
				if prev == key {
					return fmt.Errorf("duplicate key %s", quote(key))
				}
				return fmt.Errorf("keys %s and %s differ only in case", quote(prev), quote(key))
			}
			if len(top.keys) >= maxObjectKeys {
				return fmt.Errorf("object has more than %d keys", maxObjectKeys)
			}
			top.keys[folded] = key
			top.expectKey = false
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= MaxDepth {
					return fmt.Errorf("JSON nested deeper than %d levels", MaxDepth)
				}
				f := &frame{object: t == '{', expectKey: t == '{'}
				if f.object {
					f.keys = map[string]string{}
				}
				stack = append(stack, f)
			case ']':
				stack = stack[:len(stack)-1]
				valueDone(stack)
			default:
				return errors.New("malformed JSON")
			}
		default:
			valueDone(stack)
		}
	}
}

// valueDone records that a value of the innermost object ended, so a key comes next.
func valueDone(stack []*frame) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].expectKey = true
	}
}

// foldKey maps a key to a canonical case-folded form: two keys with the same form are
// the same field to encoding/json (which also folds the Kelvin sign and long s).
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		return min
	}, s)
}

// quote renders a value taken from the input for a message: quoted, escaped, and cut to
// a readable length.
func quote(s string) string {
	const max = 200
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// Accessors over decoded JSON that tell a missing field from one of the wrong type.

func field(obj map[string]any, key string) (any, bool) {
	v, ok := obj[key]
	return v, ok
}

func optString(obj map[string]any, key, where string) (string, error) {
	v, ok := field(obj, key)
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s.%s is a %s, not a string", where, key, kind(v))
	}
	return s, nil
}

func optObject(obj map[string]any, key, where string) (map[string]any, error) {
	v, ok := field(obj, key)
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s.%s is a %s, not an object", where, key, kind(v))
	}
	return m, nil
}

func optArray(obj map[string]any, key, where string) ([]any, error) {
	v, ok := field(obj, key)
	if !ok || v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s.%s is a %s, not an array", where, key, kind(v))
	}
	return a, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
