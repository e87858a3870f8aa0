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

func (e *Error) Error() string {
	switch e.Kind {
	case ErrInvalid:
		return "ERROR: % Invalid input detected at '^' marker."
	case ErrIncomplete:
		return "ERROR: % Incomplete command"
	case ErrAmbiguous:
		return fmt.Sprintf("ERROR: %% Ambiguous command: %q", e.Input)
	}
	return "ERROR: " + e.Msg
}

// Lines renders the error as a device prints it under "prefix+line" (the
// prompt and the typed line, already on the operator's screen when echo is
// false): for an invalid input or a wrong value a caret under the offending
// character, counted from the start of prefix, comes first.
func (e *Error) Lines(prefix, line string, echo bool) []string {
	if e.Kind != ErrInvalid && e.Kind != ErrValue {
		return []string{e.Error()}
	}
	var out []string
	if echo {
		out = append(out, prefix+line)
	}
	out = append(out, strings.Repeat(" ", len(prefix)+e.Offset)+"^", e.Error())
	return out
}
