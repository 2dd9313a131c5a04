// Package analyzers defines what an analyzer is: something that looks at the bytes of one
// artifact of a delivery and reports facts about it (the sections of an ELF file, the
// imports of a PE file, the URLs in a script). Analyzers observe; they never judge. Rules
// and policy judge, from the facts.
//
// One package per format implements Analyzer (analyzers/elf, analyzers/pe, …) and
// analyzers/registry lists them all. The inventory runs the analyzers that want an
// artifact while it walks a delivery, with the artifact's bytes spooled for random access.
package analyzers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"

	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// Artifact is one file of a delivery as an analyzer sees it.
type Artifact struct {
	// Path is the path within the target, nested archives joined with "!"
	// ("pkg.deb!data.tar.xz!usr/bin/agentd").
	Path string
	// Format is what the bytes were sniffed to be, and Interpreter the interpreter a
	// script names in its #! line.
	Format      sniff.Format
	Interpreter string
	// Mode is the permission and special bits in octal ("0755", "4755").
	Mode string
	// Size is the length of Content. In Wants it is -1 when the size is not known before
	// the bytes are read (a file inside a compressed stream).
	Size int64
	// Content holds exactly Size bytes. It is hostile: every offset and count read from
	// it must be checked before it is used.
	Content io.ReaderAt
	// Limits bound what an analyzer may read, allocate and report.
	Limits *limits.Limits
}

// Analyzer reports facts about artifacts.
type Analyzer interface {
	// Name keys the analyzer's facts in the output and in rule conditions ("elf", "pe",
	// "strings"). It is lower case and stable.
	Name() string
	// Wants reports, cheaply and without reading Content, whether Analyze applies to a.
	Wants(a *Artifact) bool
	// Analyze returns the facts about a: a pointer to the analyzer's facts struct, whose
	// JSON form is what users and rules see. On malformed input it returns the facts it
	// could gather together with the error, or nil facts and the error.
	Analyze(ctx context.Context, a *Artifact) (any, error)
	// Schema returns a nil pointer of the facts type; docs/facts.md is generated from it.
	Schema() any
}

// Lister is an analyzer whose facts leave out a long listing that few readers need (the
// strings analyzer's every printable string): Listing returns the analyzer that fills
// it, in the field of the facts ListField names. The rule engine runs Listing when a
// rule reads that field.
type Lister interface {
	ListField() string
	Listing() Analyzer
}

// Scanner marks an analyzer that is kensa's own scanner of bytes, with no parser of a
// structured format in it and its memory and time bounded by its design (chunked reads,
// capped lists): the strings analyzer. It runs in the process that holds the bytes (the
// walk worker, itself confined and bounded) rather than in an analysis worker, where
// each file would cost a hand-off between processes. A panic in it costs the file one
// error, as anywhere; a fatal fault would stop the walk of the target, not one file's
// analysis, which is why parsers are not Scanners.
type Scanner interface {
	ScansBytes()
}

// Outcome is what one analyzer made of one artifact.
type Outcome struct {
	Analyzer string
	Facts    any
	Err      error
}

// Run runs every analyzer of list that wants a, one after the other, and returns their
// outcomes in list order. A panic in an analyzer becomes that analyzer's error: hostile
// input must never take the process down.
func Run(ctx context.Context, list []Analyzer, a *Artifact) []Outcome {
	var out []Outcome
	for _, an := range list {
		if ctx.Err() != nil {
			break
		}
		if !an.Wants(a) {
			continue
		}
		facts, err := runOne(ctx, an, a)
		if isNil(facts) {
			facts = nil
		}
		if facts == nil && err == nil {
			continue
		}
		out = append(out, Outcome{Analyzer: an.Name(), Facts: facts, Err: err})
	}
	return out
}

func runOne(ctx context.Context, an Analyzer, a *Artifact) (facts any, err error) {
	defer func() {
		if v := recover(); v != nil {
			facts = nil
			err = &PanicError{Analyzer: an.Name(), Value: v, Stack: debug.Stack()}
		}
	}()
	return an.Analyze(ctx, a)
}

// isNil reports whether v is nil or a nil pointer, map or slice in an interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return r.IsNil()
	}
	return false
}

// ErrUnsupported is returned (wrapped) by an analyzer for input it recognises but cannot
// read: a format version or feature it does not implement.
var ErrUnsupported = errors.New("unsupported")

// ErrBound is returned (wrapped) by an analyzer that stopped at one of its own work
// bounds, so that its facts are incomplete: the file is reported as not fully inspected.
var ErrBound = errors.New("stopped at a work bound; the facts are incomplete")

// PanicError is a recovered panic of an analyzer.
type PanicError struct {
	Analyzer string
	Value    any
	Stack    []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("the analyzer failed on this file (recovered panic: %v); please report it with the file", e.Value)
}

// Wanted reports whether any analyzer of list wants a.
func Wanted(list []Analyzer, a *Artifact) bool {
	for _, an := range list {
		if an.Wants(a) {
			return true
		}
	}
	return false
}
