// Package glob matches kensa paths ("app.tar!usr/bin/agentd") against the patterns users
// write on the command line, in policies and in waivers.
//
// In a pattern, a single star matches any run of characters within one path element
// (not "/" or "!"), a double star any run of characters across elements and nested
// archives, "?" one character within an element, "[a-z]" one character of a class and
// "[!a-z]" or "[^a-z]" one not in it, and a backslash makes the next character literal.
//
// A pattern with neither "/" nor "!" matches the last element of a path, so "*.so"
// matches every shared object at any depth. Any other pattern matches the whole path.
package glob

import (
	"fmt"
	"regexp"
	"strings"
)

// Pattern is a compiled glob.
type Pattern struct {
	text     string
	re       *regexp.Regexp
	baseOnly bool
}

// Compile checks a pattern and prepares it for matching.
func Compile(pattern string) (*Pattern, error) {
	if pattern == "" {
		return nil, fmt.Errorf("empty path pattern")
	}
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				b.WriteString(`.*`)
				i++
			} else {
				b.WriteString(`[^/!]*`)
			}
		case '?':
			b.WriteString(`[^/!]`)
		case '\\':
			if i+1 == len(pattern) {
				return nil, fmt.Errorf("path pattern %q ends with a lone backslash", pattern)
			}
			i++
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end == 0 { // "[]…]": a class starting with ]
				end = 1 + strings.IndexByte(pattern[i+2:], ']')
			}
			if end < 0 {
				return nil, fmt.Errorf("path pattern %q: [ without a closing ]", pattern)
			}
			class := pattern[i+1 : i+1+end]
			i += end + 1
			neg := strings.HasPrefix(class, "!") || strings.HasPrefix(class, "^")
			if neg {
				class = class[1:]
			}
			if class == "" {
				return nil, fmt.Errorf("path pattern %q: empty character class", pattern)
			}
			class = strings.ReplaceAll(class, `\`, `\\`)
			class = strings.ReplaceAll(class, `[`, `\[`)
			if neg {
				b.WriteString(`[^/!` + class + `]`)
			} else {
				b.WriteString(`[` + class + `]`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("path pattern %q: %v", pattern, err)
	}
	return &Pattern{text: pattern, re: re, baseOnly: !strings.ContainsAny(pattern, "/!")}, nil
}

// Match reports whether path matches the pattern.
func (p *Pattern) Match(path string) bool {
	if p.baseOnly {
		if i := strings.LastIndexAny(path, "/!"); i >= 0 {
			path = path[i+1:]
		}
	}
	return p.re.MatchString(path)
}

// String is the pattern as written.
func (p *Pattern) String() string { return p.text }
