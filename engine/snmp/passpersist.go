package snmp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
)

// Commands snmpd sends a pass_persist program, one per line, each
// followed by its arguments on lines of their own.
const (
	OpPing    = "PING"    // answered "PONG": snmpd checks the program is alive
	OpGet     = "get"     // then an OID
	OpGetNext = "getnext" // then an OID
	OpSet     = "set"     // then an OID, then "TYPE VALUE"
)

// MaxLine bounds a line read from snmpd. OIDs of at most MaxArcs arcs fit
// easily; a longer line is read to its end and discarded, never buffered.
const MaxLine = 2048

// ErrLineTooLong says a line went over MaxLine.
var ErrLineTooLong = errors.New("line too long")

// Request is one command read from snmpd.
type Request struct {
	Op string
	// OID is the requested OID of get, getnext and set; nil when its line
	// did not parse (OIDErr says why), which is answered NONE.
	OID    OID
	OIDErr error
	Value  string // "TYPE VALUE" of a set
}

// ReadRequest reads the next command and its argument lines. Blank lines
// are skipped. It returns io.EOF when snmpd closed the pipe between
// commands, io.ErrUnexpectedEOF when it closed it within one.
func ReadRequest(r *bufio.Reader) (Request, error) {
	var req Request
	for req.Op == "" {
		line, err := readLine(r)
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			return req, err
		}
		req.Op = strings.TrimSpace(line)
		if errors.Is(err, ErrLineTooLong) {
			req.Op = "?"
		}
	}
	switch req.Op {
	case OpGet, OpGetNext, OpSet:
	default:
		return req, nil
	}
	line, err := readLine(r)
	if err != nil && !errors.Is(err, ErrLineTooLong) {
		return req, eofIsUnexpected(err)
	}
	if err != nil {
		req.OIDErr = err
	} else {
		req.OID, req.OIDErr = ParseOID(strings.TrimSpace(line))
	}
	if req.Op == OpSet {
		line, err := readLine(r)
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			return req, eofIsUnexpected(err)
		}
		req.Value = line
	}
	return req, nil
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readLine reads one line without its end ("\n" or "\r\n"). A last line
// without "\n" counts as a line. Past MaxLine it discards the rest of the
// line and returns ErrLineTooLong.
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(b)+len(frag) > MaxLine+2 { // room for "\r\n"
			if err := discardLine(r, err); err != nil && err != io.EOF {
				return "", err
			}
			return "", ErrLineTooLong
		}
		b = append(b, frag...)
		switch {
		case err == nil:
			return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(b) > 0:
			return strings.TrimSuffix(string(b), "\r"), nil
		default:
			return "", err
		}
	}
}

// discardLine skips to the end of a line whose start was read with err.
func discardLine(r *bufio.Reader, err error) error {
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = r.ReadSlice('\n')
	}
	return err
}

// Answer writes the reply to req from vars (sorted by OID). Commands
// snmpd does not send get no reply: a reply nobody reads would answer
// the next request.
func Answer(w io.Writer, req Request, vars func() []Var) error {
	var err error
	switch req.Op {
	case OpPing:
		_, err = io.WriteString(w, "PONG\n")
	case OpSet:
		// The table is read-only: the state comes from the daemon.
		_, err = io.WriteString(w, "not-writable\n")
	case OpGet, OpGetNext:
		v, ok := lookup(vars(), req)
		if !ok {
			_, err = io.WriteString(w, "NONE\n")
			break
		}
		_, err = fmt.Fprintf(w, "%s\n%s\n%s\n", v.OID, v.Type, v.Value)
	}
	return err
}

// lookup finds the variable of a get (the same OID) or a getnext (the
// first OID after it).
func lookup(vars []Var, req Request) (Var, bool) {
	if req.OID == nil {
		return Var{}, false
	}
	i := sort.Search(len(vars), func(i int) bool { return vars[i].OID.Compare(req.OID) >= 0 })
	if req.Op == OpGetNext && i < len(vars) && vars[i].OID.Compare(req.OID) == 0 {
		i++
	}
	if i >= len(vars) || (req.Op == OpGet && vars[i].OID.Compare(req.OID) != 0) {
		return Var{}, false
	}
	return vars[i], true
}

// Serve answers snmpd's commands from r on w until snmpd closes r. Each
// get and getnext asks vars for the table, which may change between
// requests.
func Serve(r io.Reader, w io.Writer, vars func() []Var, log *slog.Logger) error {
	br := bufio.NewReaderSize(r, 512)
	bw := bufio.NewWriter(w)
	for {
		req, err := ReadRequest(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to read from snmpd: %w", err)
		}
		switch {
		case req.OIDErr != nil:
			log.Warn("bad OID from snmpd", "op", req.Op, "err", req.OIDErr)
		case req.Op != OpPing && req.Op != OpGet && req.Op != OpGetNext && req.Op != OpSet:
			log.Warn("unknown command from snmpd ignored", "command", truncate(req.Op, 64))
			continue
		}
		if err := Answer(bw, req, vars); err != nil {
			return fmt.Errorf("failed to answer snmpd: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("failed to answer snmpd: %w", err)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
