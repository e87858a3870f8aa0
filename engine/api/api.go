// Package api is the small protocol between operator sessions (fosh, the
// console) and the engine: one JSON object per line each way, one request
// at a time per connection. Each connection is one session with its own
// mode and privilege, held by the engine.
package api

// Ops a client may send.
const (
	OpHello    = "hello"    // first request: says whether the client is interactive
	OpExec     = "exec"     // run a line
	OpHelp     = "help"     // "?" typed after Line
	OpComplete = "complete" // Tab pressed after Line
	OpEnable   = "enable"   // answer to a password prompt
	OpPrompt   = "prompt"   // current prompt
)

// Request is one client message.
type Request struct {
	Op   string `json:"op"`
	Line string `json:"line,omitempty"`
	// Filter is the output filter the client split off Line and applies
	// itself ("| include X"); the session keeps it in its history only.
	Filter      string `json:"filter,omitempty"`
	Password    string `json:"password,omitempty"`
	Interactive bool   `json:"interactive,omitempty"`
	// SSH is the SSH client ("ADDR PORT ...", sshd's SSH_CONNECTION) when
	// the client runs in an SSH login, sent with the hello so the daemon's
	// log says where a session comes from.
	SSH string `json:"ssh,omitempty"`
}

// Reply is the engine's answer.
type Reply struct {
	Output string `json:"output,omitempty"`
	// Err holds error lines. Caret, when non-zero, is 1 + the byte offset
	// in the line the client sent under which the "^" marker goes.
	Err          string   `json:"err,omitempty"`
	Caret        int      `json:"caret,omitempty"`
	Prompt       string   `json:"prompt"`
	Exit         bool     `json:"exit,omitempty"`
	NeedPassword bool     `json:"need_password,omitempty"`
	Pager        int      `json:"pager"` // lines per page for this session, 0 = off
	Completions  []string `json:"completions,omitempty"`
	Status       *Status  `json:"status,omitempty"` // answer to OpStatus
}

// CaretAt sets the "^" marker under byte off of the line.
func (r *Reply) CaretAt(off int) { r.Caret = off + 1 }

// CaretOffset returns the marker's byte offset, if there is one.
func (r Reply) CaretOffset() (int, bool) { return r.Caret - 1, r.Caret > 0 }

// Failed reports whether the line failed.
func (r Reply) Failed() bool { return r.Err != "" }

// MaxLine bounds a request line; longer input is refused, never buffered
// without limit.
const MaxLine = 4096
