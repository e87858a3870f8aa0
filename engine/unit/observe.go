package unit

import (
	"maps"
	"slices"
	"strings"

	"failover/engine/api"
	"failover/engine/event"
	"failover/engine/wire"
)

// transitionKey counts state changes by where they went and why.
type transitionKey struct{ to, reason string }

// noteTransition counts a state change and puts it on the event stream
// (called from setState, the one place the state changes).
func (u *Unit) noteTransition(from, to State, reason string) {
	if u.transitions == nil {
		u.transitions = map[transitionKey]uint64{}
	}
	u.transitions[transitionKey{to.String(), reason}]++
	if to == Disabled {
		u.mateUp = false
	}
	u.o.Events.Emit(event.Event{Kind: event.UnitState, Role: roleWord(u.role), From: from.String(), To: to.String(), Reason: reason})
}

// noteMate reports the mate found or lost when that changes. While the
// probes wait for an answer the mate is not lost yet, as for decide.
func (u *Unit) noteMate(f facts) {
	up := f.lanFresh || f.dataHeard || f.probing
	if !f.participating || up == u.mateUp {
		return
	}
	u.mateUp = up
	ev := event.Event{Kind: event.MateFound, Role: roleWord(u.role), Reason: "mate heard"}
	if !up {
		ev.Kind, ev.Reason = event.MateLost, "HELLO not heard from mate"
		if f.mateShutdown {
			ev.Reason = "Other unit powered off"
		}
	}
	u.o.Events.Emit(ev)
}

// noteIfTest reports the result of an interface test.
func (u *Unit) noteIfTest(f *ifc, passed bool) {
	res := "Failed"
	if passed {
		res = "Passed"
	}
	u.o.Events.Emit(event.Event{Kind: event.IfTest, Role: roleWord(u.role), Interface: f.cfg.Name, To: res})
}

// Status is the failover part of the machine-readable status, a copy
// that may leave the event loop.
func (u *Unit) Status() *api.FailoverStat {
	v := u.look()
	s := &api.FailoverStat{
		Enabled: u.participating(), Role: roleWord(u.role), State: u.state.String(),
		StateSince: u.stateSince, LastFailover: u.lastFailover,
		ActiveSeconds: int64(u.activeTime().Seconds()), Cable: u.cableStatus(v),
		ReplicatedVer: u.cfgVersion,
		Interfaces:    []api.IfStat{}, Transitions: []api.Transition{},
		Messages: api.MessageCounts{
			Sent: maps.Clone(u.stats.sent), SendErrors: maps.Clone(u.stats.sendErr),
			Received: maps.Clone(u.stats.recvd), Rejected: maps.Clone(u.stats.rejected),
		},
	}
	mate := api.MateStat{Role: roleWord(otherRole(u.role)), State: "Not Detected"}
	if u.mate.heard {
		mate.Role = roleWord(u.mate.role)
	}
	if u.participating() && (v.lanFresh || (u.mate.heard && v.dataHeard)) {
		mate.Seen, mate.State = true, mateHelloWord(u.mate.hello)
	}
	s.Mate = mate
	for _, f := range u.ifs {
		st := api.IfStat{
			Name: f.cfg.Name, Device: f.cfg.HW, Address: addrText(u.heldAddr(f, u.state).Addr()),
			Status: ifStatusWord(u.ifStatus(f)), Monitored: f.monitored, FailoverIf: f.lan || f.stateLink,
			MateStatus: ifStatusWord(wire.IfUnknown),
		}
		for _, e := range u.mate.hello.Interfaces {
			if e.Name == f.cfg.Name && v.lanFresh {
				st.MateStatus = ifStatusWord(e.Status)
			}
		}
		s.Interfaces = append(s.Interfaces, st)
	}
	keys := slices.SortedFunc(maps.Keys(u.transitions), func(a, b transitionKey) int {
		if c := strings.Compare(a.to, b.to); c != 0 {
			return c
		}
		return strings.Compare(a.reason, b.reason)
	})
	for _, k := range keys {
		s.Transitions = append(s.Transitions, api.Transition{To: k.to, Reason: k.reason, Count: u.transitions[k]})
	}
	return s
}

// StateNames are the words of every state, in order (the metrics export
// one series per state).
func StateNames() []string { return slices.Clone(stateNames[:]) }
