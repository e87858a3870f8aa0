package snmp

import (
	"slices"
	"strconv"
	"strings"

	"failover/engine/api"
)

// HardwareStatusTable is cfwHardwareStatusTable of CISCO-FIREWALL-MIB
// (ciscoFirewallMIB 147 . cfwSystem 1.2 . cfwStatus 1 . table 1); its
// entry is .1, its columns below, its index the Hardware type below.
var HardwareStatusTable = OID{1, 3, 6, 1, 4, 1, 9, 9, 147, 1, 2, 1, 1}

// Columns of cfwHardwareStatusEntry (column 1, the index, is
// not-accessible).
const (
	ColInformation  = 2 // cfwHardwareInformation: what the row describes
	ColStatusValue  = 3 // cfwHardwareStatusValue: a HardwareStatus
	ColStatusDetail = 4 // cfwHardwareStatusDetail: the state in words
)

// Rows: values of the MIB's Hardware textual convention served here.
const (
	RowNetInterface  = 4 // netInterface: the failover LAN interface
	RowPrimaryUnit   = 6 // primaryUnit
	RowSecondaryUnit = 7 // secondaryUnit
)

// HardwareStatus is the MIB's HardwareStatus textual convention.
type HardwareStatus int

// The values the table uses.
const (
	StatusOther   HardwareStatus = 1
	StatusUp      HardwareStatus = 2
	StatusDown    HardwareStatus = 3
	StatusError   HardwareStatus = 4
	StatusActive  HardwareStatus = 9
	StatusStandby HardwareStatus = 10
)

func (s HardwareStatus) String() string {
	switch s {
	case StatusOther:
		return "other"
	case StatusUp:
		return "up"
	case StatusDown:
		return "down"
	case StatusError:
		return "error"
	case StatusActive:
		return "active"
	case StatusStandby:
		return "standby"
	}
	return "HardwareStatus(" + strconv.Itoa(int(s)) + ")"
}

// Type is a pass_persist value type, as snmpd names them.
type Type string

// The types the table uses.
const (
	TypeInteger Type = "integer"
	TypeString  Type = "string"
)

// Var is one variable binding.
type Var struct {
	OID   OID
	Type  Type
	Value string
}

// unitStatus maps a unit state word of the status (the unit's own, or
// the mate's as announced) to the MIB's value and the detail ASA shows.
func unitStatus(state string) (HardwareStatus, string) {
	switch state {
	case "Active":
		return StatusActive, "Active unit"
	case "Standby":
		return StatusStandby, "Standby unit"
	case "Failed":
		return StatusError, "Failed unit"
	case "Disabled":
		return StatusDown, "Failover Off"
	case "Not Detected":
		return StatusDown, "Not Detected"
	}
	// Negotiation, Sync Config, Bulk Sync: on the way to a role.
	return StatusOther, state
}

// row is one row of the table before it becomes variables.
type row struct {
	index  uint32
	info   string
	status HardwareStatus
	detail string
}

// Table turns the daemon's status into the table's variables, in walk
// order (column by column, row by row). A status without unit failover
// shows both units as "Failover Off", as ASA does.
func Table(st *api.Status) []Var {
	rows := []row{
		{RowNetInterface, "Failover LAN Interface", StatusDown, "not Configured"},
		{RowPrimaryUnit, "Primary unit", StatusDown, "Failover Off"},
		{RowSecondaryUnit, "Secondary unit", StatusDown, "Failover Off"},
	}
	if f := st.Failover; f != nil && f.Enabled {
		self, mate := &rows[1], &rows[2]
		if f.Role == "Secondary" {
			self, mate = mate, self
		}
		self.info += " (this device)"
		self.status, self.detail = unitStatus(f.State)
		mateState := f.Mate.State
		if !f.Mate.Seen {
			mateState = "Not Detected"
		}
		mate.status, mate.detail = unitStatus(mateState)
		for _, ifs := range f.Interfaces {
			if !ifs.FailoverIf {
				continue
			}
			lan := &rows[0]
			lan.status = StatusDown
			if f.Cable == "Normal" {
				lan.status = StatusUp
			}
			lan.detail = ifs.Name + " " + ifs.Device + ": " + f.Cable
			break
		}
	}
	entry := HardwareStatusTable.Append(1)
	var vars []Var
	for _, col := range []uint32{ColInformation, ColStatusValue, ColStatusDetail} {
		for _, r := range rows {
			v := Var{OID: entry.Append(col, r.index), Type: TypeString}
			switch col {
			case ColInformation:
				v.Value = oneLine(r.info)
			case ColStatusValue:
				v.Type, v.Value = TypeInteger, strconv.Itoa(int(r.status))
			case ColStatusDetail:
				v.Value = oneLine(r.detail)
			}
			vars = append(vars, v)
		}
	}
	slices.SortFunc(vars, func(a, b Var) int { return a.OID.Compare(b.OID) })
	return vars
}

// oneLine keeps a value on its line of the protocol: the daemon's names
// cannot hold line breaks, but the protocol must not depend on that.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
