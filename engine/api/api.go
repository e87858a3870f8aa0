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
	// OpBatch runs Lines as consecutive OpExec requests would, in one
	// request (a pasted configuration): the reply's Replies has one reply
	// per line run. The run stops after a line whose reply asks for a
	// password or ends the session; the client sends the rest again.
	OpBatch = "batch"
)

// MaxBatch bounds the lines of one OpBatch request, and MaxBatchBytes
// their JSON-encoded size, well under the daemon's bound on a request
// (MaxRequest).
const (
	MaxBatch      = 1000
	MaxBatchBytes = 48 << 10
	MaxRequest    = 64 << 10
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
	// Lines are the lines of an OpBatch request, and Filters their
	// output filters as Filter is for OpExec (missing = none).
	Lines   []string `json:"lines,omitempty"`
	Filters []string `json:"filters,omitempty"`
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
	// Replies answer an OpBatch request, one per line run, in order.
	Replies []Reply `json:"replies,omitempty"`
	// Batches, in the reply to OpHello, says the daemon takes OpBatch.
	Batches bool `json:"batches,omitempty"`
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

// ErrorText is how an error shows to the operator: its message after
// "ERROR: ". It is the one place the prefix is added; error values never
// carry it.
func ErrorText(err error) string { return "ERROR: " + err.Error() }
