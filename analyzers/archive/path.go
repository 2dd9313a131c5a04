package archive

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"kensa.dev/kensa/internal/limits"
)

// UnsafePathError reports a member name that does not stay inside the archive root, or
// that another system could read as leaving it.
type UnsafePathError struct {
	// Name is the member name as stored.
	Name string
	// Reason says why the name is unsafe: "empty name", "absolute path", "Windows drive
	// path", "UNC path", "climbs above the archive root", "NUL byte in name", …
	Reason string
}

// Error quotes the name (escaped and shortened) and says why it is unsafe.
func (e *UnsafePathError) Error() string {
	return fmt.Sprintf("unsafe member name %s: %s", quoteName(e.Name), e.Reason)
}

// CleanName turns a member name as stored in an archive into a slash-separated path
// relative to the archive root: "./" prefixes, "." components, duplicate and trailing
// slashes are removed, and ".." components that stay inside the root are resolved
// lexically ("a/../b" is "b"). The archive root itself is ".".
//
// It returns an *UnsafePathError for an empty name, an absolute path ("/etc/x"), a Windows
// drive or UNC path ("C:\x", "C:/x", "\\host\x", "\x"), a name with a NUL byte, and any
// ".." that climbs above the root ("../x", "a/../../x", "..\x": backslash counts as a
// separator for this check, as it does on Windows). It returns a *limits.Error for a name
// longer than lim.PathLength bytes or with more than lim.PathComponents components. Both
// kinds can be present at once (errors.Join); test with errors.As.
//
// Even with an error, the returned name is a best-effort safe form that a caller can list
// or store the entry under: roots, drive letters and escaping ".." are removed, NUL bytes
// become "_", and over-long names are cut to the limits. The returned name is never empty,
// never absolute and never climbs: filepath.IsLocal holds for it, and CleanName returns it
// unchanged and without error.
func CleanName(raw string, lim *limits.Limits) (string, error) {
	var reason string
	unsafe := func(r string) {
		if reason == "" {
			reason = r
		}
	}
	if raw == "" {
		return ".", &UnsafePathError{Name: raw, Reason: "empty name"}
	}
	s := raw
	if strings.IndexByte(s, 0) >= 0 {
		unsafe("NUL byte in name")
		s = strings.ReplaceAll(s, "\x00", "_")
	}
	if s[0] == '/' {
		unsafe("absolute path")
	}
	comps := sanitize(s, unsafe)

	var errs []error
	if reason != "" {
		errs = append(errs, &UnsafePathError{Name: raw, Reason: reason})
	}
	if lim != nil && len(comps) > lim.PathComponents {
		errs = append(errs, &limits.Error{Limit: "path-components", Value: int64(lim.PathComponents),
			What: fmt.Sprintf("member name with %d components", len(comps))})
		comps = comps[:lim.PathComponents]
	}
	out := strings.Join(comps, "/")
	if lim != nil && len(raw) > lim.PathLength {
		errs = append(errs, &limits.Error{Limit: "path-length", Value: int64(lim.PathLength),
			What: fmt.Sprintf("member name of %d bytes", len(raw))})
		out = truncatePath(comps, lim.PathLength)
		// A cut can leave a last component that reads differently ("a\..\..b" cut to
		// "a\..\.."); clean once more, which never makes the name longer.
		out = strings.Join(sanitize(out, func(string) {}), "/")
	}
	if out == "" {
		out = "."
	}
	switch len(errs) {
	case 0:
		return out, nil
	case 1:
		return out, errs[0]
	}
	return out, errors.Join(errs...)
}

// sanitize splits s into components, resolves "." and "..", and removes what would make
// the path rooted or climbing, here or on Windows; unsafe is told why.
func sanitize(s string, unsafe func(string)) []string {
	const winReason = "climbs above the archive root (backslash as separator)"
	if strings.IndexByte(s, '\\') >= 0 {
		if _, climbs := normalize(splitBoth(s)); climbs {
			unsafe(winReason)
			s = strings.ReplaceAll(s, `\`, "/")
		}
	}
	comps, climbs := normalize(strings.Split(s, "/"))
	if climbs {
		unsafe("climbs above the archive root")
	}
	for {
		comps = unroot(comps, unsafe)
		if !hasBackslash(comps) {
			return comps
		}
		// Windows reads a backslash as a separator: if the name climbs as Windows sees it,
		// rebuild it from the components Windows would see.
		all := splitBoth(strings.Join(comps, "/"))
		if _, winClimbs := normalize(all); !winClimbs {
			return comps
		}
		unsafe(winReason)
		comps, _ = normalize(all)
	}
}

// splitBoth splits s at slashes and backslashes.
func splitBoth(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' })
}

// normalize drops empty and "." components and resolves ".."; it reports whether a ".."
// would have climbed above the root (such components are dropped).
func normalize(parts []string) ([]string, bool) {
	out := make([]string, 0, len(parts))
	climbs := false
	for _, p := range parts {
		switch p {
		case "", ".":
		case "..":
			if len(out) == 0 {
				climbs = true
			} else {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, p)
		}
	}
	return out, climbs
}

// unroot removes from the first component what would make the path rooted on Windows: a
// leading backslash (root of the current drive, or a UNC "\\host"), and a drive letter
// ("C:", "C:x"). It repeats until the first component is plain.
func unroot(comps []string, unsafe func(string)) []string {
	for len(comps) > 0 {
		c := comps[0]
		switch {
		case strings.HasPrefix(c, `\\`):
			unsafe("UNC path")
			c = strings.TrimLeft(c, `\`)
		case strings.HasPrefix(c, `\`):
			unsafe("absolute path (backslash)")
			c = strings.TrimLeft(c, `\`)
		case len(c) >= 2 && c[1] == ':' && isASCIILetter(c[0]):
			unsafe("Windows drive path")
			c = c[2:]
		default:
			return comps
		}
		if c == "" || c == "." {
			comps = comps[1:]
			continue
		}
		if c == ".." {
			// "C:.." and the like: a climb once the drive is gone.
			unsafe("climbs above the archive root")
			comps = comps[1:]
			continue
		}
		comps[0] = c
	}
	return comps
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

func hasBackslash(comps []string) bool {
	for _, c := range comps {
		if strings.IndexByte(c, '\\') >= 0 {
			return true
		}
	}
	return false
}

// truncatePath joins as many leading components as fit in max bytes; a first component
// longer than max is cut at a character boundary.
func truncatePath(comps []string, max int) string {
	var b strings.Builder
	for i, c := range comps {
		extra := len(c)
		if i > 0 {
			extra++
		}
		if b.Len()+extra > max {
			if i == 0 {
				cut := c[:max]
				for len(cut) > 0 && !utf8.RuneStart(c[len(cut)]) {
					cut = cut[:len(cut)-1]
				}
				cut = strings.TrimRight(cut, `\`)
				if cut == "" || cut == "." || cut == ".." {
					cut = "_"
				}
				return cut
			}
			break
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(c)
	}
	return b.String()
}
