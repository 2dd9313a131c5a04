// Package pattern is the content-pattern engine of kensa rule packs: the named
// literal, hex and regex patterns of every rule are compiled into one Set and matched
// against a file in a single pass, in the manner of YARA strings.
//
// # Pattern kinds
//
// A literal is a text string. The rule loader decodes its escapes (\n \t \xNN \\ \");
// the engine matches the resulting bytes exactly.
//
// A hex pattern is a YARA hex string. Whitespace between tokens is ignored.
//
//	4D 5A 90 00        bytes, two hex digits each (upper or lower case)
//	4D ?? 00           ?? matches any byte
//	4? ?A              a nibble wildcard matches any value of that half-byte
//	4D [4] 00          a jump: exactly 4 bytes of anything
//	4D [2-8] 00        between 2 and 8 bytes of anything
//	4D [2-] 00         2 bytes or more, up to MaxJump (4096) bytes
//	4D [-] 00          any number of bytes, up to MaxJump (4096) bytes
//	4D ( 01 02 | 03 ) 00   alternatives, tried left to right; they may nest
//	                       (16 levels) and contain bounded jumps
//
// A hex pattern cannot start or end with a jump, two jumps cannot follow each other,
// jumps are limited to MaxJump bytes, and negation (~XX) is not supported. A malformed
// hex pattern is refused with the 1-based column of the fault.
//
// A regex pattern is a Go RE2 regular expression (https://golang.org/s/re2syntax)
// matched against bytes, in linear time. Differences from text regexes:
//   - every byte is one character: '.' matches any byte but '\n' (any byte with (?s)),
//     \xNN matches the byte NN, and a non-ASCII character written in the pattern
//     matches its UTF-8 bytes one by one, as in YARA;
//   - \d, \w, \s and their negations are ASCII classes (\s includes \v, as in YARA);
//     Unicode classes (\pL) are not available;
//   - the anchors ^ $ \A \z and the word boundaries \b \B are refused: a match is
//     verified in a window around its atom, without the surrounding text; express
//     position constraints in the rule condition;
//   - alternatives are tried left to right and repetitions are greedy unless followed
//     by '?' (leftmost-first, like Perl and YARA).
//
// # Options
//
// nocase makes ASCII letters match either case in literals and regexes (bytes above
// 0x7F never fold). wide matches the UTF-16LE form of an ASCII text: every byte of
// the pattern followed by 0x00; for a regex every byte-matching element is followed
// by \x00, so /ab+/ wide matches "a\0b\0b\0". With wide, add ascii to match the plain
// form too. Hex patterns take neither option.
//
// # Atoms and refused patterns
//
// From every pattern the engine takes an atom: up to 4 bytes that every match must
// contain at a known distance from its start (for nocase, each case variant; for a
// class of up to 16 bytes or an alternative, each choice, at most 64 variants). All
// atoms of all patterns go into one Aho-Corasick automaton that reads each byte of the
// file once; a pattern is verified only around its atom hits. The best atom is the
// longest and rarest (0x00, 0x20, 0x90, 0xCC and 0xFF count as common) run of fixed
// bytes: for a hex pattern, adjacent fixed bytes (or such a run in every branch of
// an alternative); for a regex, a literal string that every match must contain (in
// the top-level sequence, or in every branch of an alternation).
//
// A pattern whose best atom is shorter than MinAtomLen (2) bytes is refused, because
// it would have to be tried at every offset: regex "." or "a.b", hex "?? ??" or
// "4D ?? 5A", the literal "a". Add fixed bytes to such a pattern.
//
// # Matches and limits
//
// A pattern matches at every start offset where it matches, overlapping matches
// included (as YARA reports them), with one match per start offset: its length is
// that of the leftmost-first match from there (jumps take the fewest bytes that let
// the rest match, alternatives the first branch that does, regex repetitions as many
// as they can). When both the ascii and wide forms match at one offset, the first
// form's match is kept.
//
// Hex patterns may describe matches of up to MaxPatternLen (64 KiB) bytes. A regex
// match may span at most RegexWindow (4096) bytes, and must start at most RegexWindow
// bytes before its atom: a longer match of an unbounded regex (/ab.*/) is cut at the
// window's end, and a match that needs more is not found. YARA allows 4096 bytes on
// each side of its own atom, so a regex match longer than 4096 bytes can differ; YARA
// also does not bound [-] jumps, which kensa caps at MaxJump, and does not find hex
// matches that extend more than 4096 bytes from its atom, which kensa reports. A regex with an
// unbounded repetition (x* x+ x{n,}) costs up to a window of work per candidate, and
// one that starts with a repetition of a broad class (.+foo, [^x]*foo) is a candidate
// at every offset up to RegexWindow before each atom hit; prefer bounded repetitions.
//
// A Scan reads the file in chunks (1 MiB by default) with the overlap the longest
// pattern needs, never the whole file. It keeps the first
// ScanOptions.MaxMatchesPerPattern (default 100) matches of each pattern, each with
// up to MaxEvidence (64) matched bytes, and counts all of them. Verification work is
// bounded by 64 MiB + ScanOptions.WorkFactor (default 256) × file size steps (a byte
// compared, a hex instruction run; a regex attempt counts 32 steps plus an eighth of
// its window plus its match length, an estimate: the bytes a failed attempt examined
// are not known); a scan that reaches the bound stops, marks its result Incomplete and
// returns ErrWorkBound.
//
// Besides Set.Scan over an io.ReaderAt, Set.NewStream returns an io.Writer form that
// takes the file in pieces, so that matching can share a single read with hashing.
package pattern
