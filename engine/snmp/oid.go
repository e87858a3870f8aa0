// Package snmp answers SNMP monitoring systems for failoverd through
// net-snmp's snmpd: a pass_persist program (cmd/failover-snmp) that snmpd
// starts and talks to over stdin/stdout, which reads the daemon's JSON
// status on the control socket and serves it as the hardware status table
// of CISCO-FIREWALL-MIB, the table monitoring systems poll on ASA pairs.
// It runs under snmpd, never inside failoverd: a slow or stuck SNMP
// manager cannot reach the daemon's event loop except through one status
// request at a time.
package snmp

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// OID is an object identifier, one number per arc.
type OID []uint32

// MaxArcs bounds an OID, as SNMP does (RFC 3416: at most 128 sub-identifiers).
const MaxArcs = 128

var errEmptyOID = errors.New("empty OID")

// ParseOID reads the numeric form snmpd sends (".1.3.6.1.4.1.9"); the
// leading dot is optional.
func ParseOID(s string) (OID, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, errEmptyOID
	}
	parts := strings.Split(s, ".")
	if len(parts) > MaxArcs {
		return nil, fmt.Errorf("OID has %d arcs, at most %d", len(parts), MaxArcs)
	}
	o := make(OID, len(parts))
	for i, p := range parts {
		// ParseUint accepts no sign and no spaces; "+1" or " 1" is not an arc.
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad OID arc %q", p)
		}
		o[i] = uint32(n)
	}
	return o, nil
}

// String is the numeric form with a leading dot, as snmpd expects it.
func (o OID) String() string {
	var b strings.Builder
	for _, n := range o {
		b.WriteByte('.')
		b.WriteString(strconv.FormatUint(uint64(n), 10))
	}
	return b.String()
}

// Compare orders OIDs as SNMP walks them (lexicographically by arc, a
// prefix before what extends it).
func (o OID) Compare(p OID) int { return slices.Compare(o, p) }

// Append returns o followed by arcs, in a new slice.
func (o OID) Append(arcs ...uint32) OID {
	return append(slices.Clip(o), arcs...)
}
