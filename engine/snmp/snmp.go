// Package snmp answers net-snmp's pass_persist protocol for the part of
// CISCO-UNIFIED-FIREWALL-MIB that monitoring systems poll on ASA pairs:
// cfwHardwareStatusTable, with one row for the primary unit and one for the
// secondary (cfwHardwareInformation, cfwHardwareStatusValue,
// cfwHardwareStatusDetail). No SNMP agent library for Go is available to
// this project, so snmpd does SNMP and this package only maps the daemon's
// JSON status to the table; the protocol (lines on stdin/stdout) is small
// and written here.
package snmp

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"failover/engine/api"
)

// Table is cfwHardwareStatusTable's entry, 1.3.6.1.4.1.9.9.147.1.2.1.1.1;
// the subtree snmpd hands over is Root.
const (
	Root  = ".1.3.6.1.4.1.9.9.147"
	entry = Root + ".1.2.1.1.1"
)

// Columns of the entry and the cfwHardwareType index of each unit.
const (
	colInformation  = 2
	colStatusValue  = 3
	colStatusDetail = 4
	primaryUnit     = 6
	secondaryUnit   = 7
)

// HardwareStatus values (CISCO-FIREWALL-TC).
const (
	statusOther   = 1
	statusDown    = 3
	statusError   = 4
	statusActive  = 9
	statusStandby = 10
)

// row is one unit's status.
type row struct {
	info, detail string
	value        int
}

// rows maps a status to the two table rows, keyed by cfwHardwareType.
func rows(s *api.Status) map[int]row {
	out := map[int]row{
		primaryUnit:   {info: "Failover Primary Unit", value: statusDown, detail: "Failover Off"},
		secondaryUnit: {info: "Failover Secondary Unit", value: statusDown, detail: "Failover Off"},
	}
	f := s.Failover
	if f == nil || !f.Enabled {
		return out
	}
	me, mate := primaryUnit, secondaryUnit
	if f.Role == "Secondary" {
		me, mate = secondaryUnit, primaryUnit
	}
	out[me] = row{info: out[me].info, value: stateValue(f.State), detail: f.State + " unit (this unit)"}
	if f.Mate.Seen {
		out[mate] = row{info: out[mate].info, value: stateValue(f.Mate.State), detail: f.Mate.State + " unit"}
	} else {
		out[mate] = row{info: out[mate].info, value: statusDown, detail: "Not Detected (this unit does not hear its mate)"}
	}
	return out
}

func stateValue(state string) int {
	switch state {
	case "Active":
		return statusActive
	case "Standby":
		return statusStandby
	case "Failed":
		return statusError
	case "Disabled":
		return statusDown
	}
	return statusOther // negotiating or synchronising
}

// object is one OID with its type and value in pass_persist form.
type object struct {
	oid   []int
	typ   string
	value string
}

// objects lists the table in lexicographic OID order (column, then index).
func objects(s *api.Status) []object {
	r := rows(s)
	base := parseOID(entry)
	var out []object
	for _, col := range []int{colInformation, colStatusValue, colStatusDetail} {
		for _, idx := range []int{primaryUnit, secondaryUnit} {
			o := object{oid: append(slices.Clone(base), col, idx)}
			switch col {
			case colInformation:
				o.typ, o.value = "string", r[idx].info
			case colStatusValue:
				o.typ, o.value = "integer", strconv.Itoa(r[idx].value)
			case colStatusDetail:
				o.typ, o.value = "string", r[idx].detail
			}
			out = append(out, o)
		}
	}
	return out
}

func parseOID(s string) []int {
	var out []int
	for _, p := range strings.Split(strings.Trim(s, "."), ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil
		}
		out = append(out, n)
	}
	return out
}

func oidString(o []int) string {
	var b strings.Builder
	for _, n := range o {
		b.WriteString("." + strconv.Itoa(n))
	}
	return b.String()
}

// Source returns the daemon's status (or an error when it cannot be had).
type Source func() (*api.Status, error)

// Serve runs the pass_persist dialogue on r/w until r ends. The status is
// fetched at most once per maxAge, so a walk asks the daemon once.
func Serve(r io.Reader, w io.Writer, src Source, maxAge time.Duration) error {
	var cached *api.Status
	var at time.Time
	status := func() *api.Status {
		if cached == nil || time.Since(at) > maxAge {
			if s, err := src(); err == nil {
				cached, at = s, time.Now()
			} else {
				cached = nil
			}
		}
		return cached
	}
	in := bufio.NewScanner(r)
	out := bufio.NewWriter(w)
	next := func() (string, bool) {
		if !in.Scan() {
			return "", false
		}
		return strings.TrimSpace(in.Text()), true
	}
	for {
		cmd, ok := next()
		if !ok {
			return in.Err()
		}
		switch strings.ToLower(cmd) {
		case "ping":
			fmt.Fprintln(out, "PONG")
		case "get", "getnext":
			oid, ok := next()
			if !ok {
				return in.Err()
			}
			answer(out, status(), parseOID(oid), cmd == "getnext")
		case "set":
			next() // the OID
			next() // type and value
			fmt.Fprintln(out, "not-writable")
		case "":
		default:
			fmt.Fprintln(out, "NONE")
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// answer writes the object at oid (get) or after it (getnext), or NONE.
func answer(w io.Writer, s *api.Status, oid []int, after bool) {
	if s == nil || oid == nil {
		fmt.Fprintln(w, "NONE")
		return
	}
	for _, o := range objects(s) {
		c := slices.Compare(o.oid, oid)
		if (!after && c == 0) || (after && c > 0) {
			fmt.Fprintf(w, "%s\n%s\n%s\n", oidString(o.oid), o.typ, o.value)
			return
		}
	}
	fmt.Fprintln(w, "NONE")
}
