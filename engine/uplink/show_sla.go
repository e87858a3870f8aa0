package uplink

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"failover/engine/config"
)

// timeLayout is how ASA prints times in show sla monitor.
const timeLayout = "15:04:05.000 MST Mon Jan 2 2006"

// octetsPerEntry is what ASA reports as the memory of an echo entry; the
// number has no meaning here but operators' scripts expect the line.
const octetsPerEntry = 1480

// ShowSLAConfig is ASA "show sla monitor configuration [ID]"; id 0 shows
// every SLA.
func (m *Manager) ShowSLAConfig(c *config.Config, id int) string {
	ids := slices.Sorted(maps.Keys(c.SLAs))
	if id != 0 {
		if _, ok := c.SLAs[id]; !ok {
			return fmt.Sprintf("Entry number %d does not exist\n", id)
		}
		ids = []int{id}
	}
	var b strings.Builder
	for _, id := range ids {
		s := c.SLAs[id]
		b.WriteString("SA Agent, Infrastructure Engine-II\n")
		fmt.Fprintf(&b, "Entry number: %d\n", s.ID)
		b.WriteString("Owner: \nTag: \n")
		b.WriteString("Type of operation to perform: echo\n")
		fmt.Fprintf(&b, "Target address: %s\n", s.Target)
		fmt.Fprintf(&b, "Interface: %s\n", s.If)
		fmt.Fprintf(&b, "Number of packets: %d\n", s.NumPackets)
		fmt.Fprintf(&b, "Request size (ARR data portion): %d\n", s.DataSize)
		fmt.Fprintf(&b, "Operation timeout (milliseconds): %d\n", s.EffTimeout())
		fmt.Fprintf(&b, "Threshold (milliseconds): %d\n", s.EffThreshold())
		fmt.Fprintf(&b, "Type Of Service parameters: %#x\n", s.TOS)
		b.WriteString("Verify data: No\n")
		if s.FreqMsec {
			fmt.Fprintf(&b, "Operation frequency (milliseconds): %d\n", s.Frequency)
		} else {
			fmt.Fprintf(&b, "Operation frequency (seconds): %d\n", s.Frequency/1000)
		}
		fmt.Fprintf(&b, "Next Scheduled Start Time: %s\n", m.nextStart(s))
		b.WriteString("Group Scheduled : FALSE\n")
		if s.Life < 0 {
			b.WriteString("Life (seconds): Forever\n")
		} else {
			fmt.Fprintf(&b, "Life (seconds): %d\n", s.Life)
		}
		b.WriteString("Entry Ageout (seconds): never\n")
		b.WriteString("Recurring (Starting Everyday): FALSE\n")
		status := "Active"
		if !s.Typed || !s.Scheduled {
			status = "Not in service"
		}
		fmt.Fprintf(&b, "Status of entry (SNMP RowStatus): %s\n", status)
		b.WriteString("Enhanced History:\n")
	}
	return b.String()
}

func (m *Manager) nextStart(s *config.SLA) string {
	rt := m.slas[s.ID]
	switch {
	case !s.Scheduled || s.StartPending:
		return "Pending trigger"
	case rt == nil || rt.cfg != *s:
		return "Start Time already passed" // not applied yet
	case rt.state == SLAPending:
		return rt.startAt.Format(timeLayout)
	}
	return "Start Time already passed"
}

// ShowSLAOper is ASA "show sla monitor operational-state [ID]"; id 0 shows
// every SLA. RTT values describe the latest operation; the prober reports
// its average RTT, so min and max are that average.
func (m *Manager) ShowSLAOper(id int) string {
	ids := slices.Sorted(maps.Keys(m.slas))
	if id != 0 {
		if _, ok := m.slas[id]; !ok {
			return fmt.Sprintf("Entry number %d does not exist\n", id)
		}
		ids = []int{id}
	}
	now := m.now()
	var b strings.Builder
	for _, id := range ids {
		rt := m.slas[id]
		fmt.Fprintf(&b, "Entry number: %d\n", id)
		fmt.Fprintf(&b, "Modification time: %s\n", rt.modified.Format(timeLayout))
		fmt.Fprintf(&b, "Number of Octets Used by this Entry: %d\n", octetsPerEntry)
		fmt.Fprintf(&b, "Number of operations attempted: %d\n", rt.attempts)
		fmt.Fprintf(&b, "Number of operations skipped: %d\n", rt.skipped)
		fmt.Fprintf(&b, "Current seconds left in Life: %s\n", rt.lifeLeft(now))
		fmt.Fprintf(&b, "Operational state of entry: %s\n", rt.state)
		b.WriteString("Last time this entry was reset: Never\n")
		fmt.Fprintf(&b, "Connection loss occurred: %s\n", upperBool(rt.code == CodeNoConnection))
		fmt.Fprintf(&b, "Timeout occurred: %s\n", upperBool(rt.code == CodeTimeout))
		fmt.Fprintf(&b, "Over thresholds occurred: %s\n", upperBool(rt.code == CodeOverThreshold))
		ms := rt.rtt.Milliseconds()
		n := int64(0)
		if rt.code.Reachable() {
			n = int64(max(rt.recv, 1))
			fmt.Fprintf(&b, "Latest RTT (milliseconds): %d\n", ms)
		} else {
			ms = 0
			b.WriteString("Latest RTT (milliseconds): NoConnection/Busy/Timeout\n")
		}
		if rt.lastStart.IsZero() {
			b.WriteString("Latest operation start time: Never\n")
		} else {
			fmt.Fprintf(&b, "Latest operation start time: %s\n", rt.lastStart.Format(timeLayout))
		}
		fmt.Fprintf(&b, "Latest operation return code: %s\n", rt.code)
		if !rt.code.Reachable() && rt.err != "" {
			fmt.Fprintf(&b, "Latest operation error: %s\n", rt.err)
		}
		b.WriteString("RTT Values:\n")
		fmt.Fprintf(&b, "RTTAvg: %d\tRTTMin: %d\tRTTMax: %d\n", ms, ms, ms)
		fmt.Fprintf(&b, "NumberOfRTT: %d\tRTTSum: %d\tRTTSum2: %d\n", n, ms*n, ms*ms*n)
	}
	return b.String()
}

func (rt *slaRun) lifeLeft(now time.Time) string {
	switch {
	case rt.cfg.Life < 0:
		return "Forever"
	case rt.state == SLAActive && !rt.lifeEnd.IsZero():
		return fmt.Sprint(int(rt.lifeEnd.Sub(now) / time.Second))
	case rt.state == SLAPending:
		return fmt.Sprint(rt.cfg.Life)
	}
	return "0"
}

func upperBool(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}
