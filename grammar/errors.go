package grammar

import (
	"fmt"
	"strings"
)

// ErrKind classifies a parse failure; each kind has the PIX/ASA wording.
type ErrKind int

const (
	ErrInvalid    ErrKind = iota // % Invalid input detected at '^' marker.
	ErrIncomplete                // % Incomplete command
	ErrAmbiguous                 // % Ambiguous command: "INPUT"
	ErrValue                     // a value out of range or malformed
)

func (k ErrKind) String() string {
	switch k {
	case ErrInvalid:
		return "invalid"
	case ErrIncomplete:
		return "incomplete"
	case ErrAmbiguous:
		return "ambiguous"
	case ErrValue:
		return "value"
	}
	return fmt.Sprintf("ErrKind(%d)", int(k))
}

// Error is a parse failure. Offset is the byte offset in the line of the
// first offending character (for ErrInvalid and ErrValue).
type Error struct {
	Kind   ErrKind
	Offset int
	Input  string
	Msg    string
}

// Error is the message alone; whoever shows it to the operator puts
// "ERROR: " before it (api.ErrorText), once.
func (e *Error) Error() string {
	switch e.Kind {
	case ErrInvalid:
		return "% Invalid input detected at '^' marker."
	case ErrIncomplete:
		return "% Incomplete command"
	case ErrAmbiguous:
		return fmt.Sprintf("%% Ambiguous command: %q", e.Input)
	}
	return e.Msg
}

// CaretLines are the lines a device prints above an error's message under
// "prefix+line" (the prompt and the typed line, already on the operator's
// screen when echo is false): the line when echo, then a caret under the
// character at off, counted from the start of prefix.
func CaretLines(prefix, line string, off int, echo bool) []string {
	var out []string
	if echo {
		out = append(out, prefix+line)
	}
	return append(out, strings.Repeat(" ", len(prefix)+off)+"^")
}
