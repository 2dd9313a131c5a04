package archive

// IsDebControlMember reports whether name is the member of a Debian binary package that
// holds its control files (control.tar, control.tar.gz, control.tar.xz, control.tar.zst).
func IsDebControlMember(name string) bool {
	_, ok := debControlExt[name]
	return ok
}

// StanzaCounter counts the stanzas (paragraphs separated by blank lines) of a Debian
// control file written to it, in constant memory. A package's control file must hold
// exactly one: dpkg refuses more, while other readers take the first or the last, so a
// second stanza can make tools disagree on what the package is.
type StanzaCounter struct {
	n       int
	open    bool // a stanza has started and no blank line ended it
	content bool // the current line has a character other than space, tab or CR
}

// Write counts the stanzas in p; it never fails.
func (c *StanzaCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		switch b {
		case '\n':
			c.endLine()
		case ' ', '\t', '\r':
		default:
			c.content = true
		}
	}
	return len(p), nil
}

func (c *StanzaCounter) endLine() {
	switch {
	case !c.content:
		c.open = false
	case !c.open:
		c.n++
		c.open = true
	}
	c.content = false
}

// Stanzas returns how many stanzas were written, counting a last line without a newline.
func (c *StanzaCounter) Stanzas() int {
	n := c.n
	if c.content && !c.open {
		n++
	}
	return n
}
