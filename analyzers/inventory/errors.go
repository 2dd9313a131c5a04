package inventory

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// unsafeError is input that tried to leave its root or disguise itself.
type unsafeError struct{ msg string }

func (e *unsafeError) Error() string { return e.msg }

func unsafef(format string, args ...any) error {
	return &unsafeError{msg: fmt.Sprintf(format, args...)}
}

// kindOf classifies an error for the result.
func kindOf(err error) string {
	var (
		ue  *unsafeError
		pe  *archive.UnsafePathError
		pne *fs.PathError
	)
	switch {
	case limits.IsLimit(err):
		return result.KindLimit
	case errors.As(err, &ue), errors.As(err, &pe):
		return result.KindUnsafe
	case errors.As(err, &pne):
		return result.KindIO
	case errors.Is(err, archive.ErrUnsupported):
		return result.KindUnsupported
	case errors.Is(err, io.ErrUnexpectedEOF):
		return result.KindMalformed
	}
	return result.KindMalformed
}

// panicError is a recovered panic of a parser.
type panicError struct{ value any }

func (e *panicError) Error() string {
	return fmt.Sprintf("internal error while reading this entry (recovered panic: %v); please report it", e.value)
}
