package result

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapeName makes one stored name safe to print and to join with "!": bytes that are not
// valid UTF-8 and control characters become \xNN; bidirectional-text controls (which can
// make "gpj.exe" read as "exe.jpg") and other format characters become \uNNNN; "!" and "\"
// become \x21 and \x5c so that nesting and escapes stay unambiguous. hostile is true when
// the name held anything but "!" and "\" that had to be escaped.
func EscapeName(name string) (escaped string, hostile bool) {
	clean := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c >= 0x7f || c == '!' || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return name, false
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, name[i])
			hostile = true
		case r == '!' || r == '\\':
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
			hostile = true
		case unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
			hostile = true
		default:
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	return b.String(), hostile
}
