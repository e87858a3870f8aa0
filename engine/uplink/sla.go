package uplink

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"failover/engine/config"
	"failover/engine/probe"
)

// probeMargin bounds a probe beyond its own timeout, in case a prober
// overruns (name resolution); the SLA then records the failure.
const probeMargin = 2 * time.Second

// slaRun is the running state of one "sla monitor" operation.
type slaRun struct {
	cfg         config.SLA
	state       SLAState
	modified    time.Time // when this definition took effect
	scheduledAt time.Time // "start-time after" counts from here
	startAt     time.Time // when it became (or becomes) active
	lifeEnd     time.Time // zero: forever
	phase       slot      // pending start or end of life
	tick        slot      // next operation
	nextOp      time.Time

	busy  bool   // an operation is in flight
	opSeq uint64 // results of older operations are dropped
	ready bool   // the uplink's probe table was in place when it started

	attempts, skipped int
	code              ReturnCode
	err               string
	rtt               time.Duration
	recv              int
	lastStart         time.Time
	ops               map[ReturnCode]uint64 // completed operations by outcome (metrics)
}

func (rt *slaRun) countOp(c ReturnCode) {
	if rt.ops == nil {
		rt.ops = map[ReturnCode]uint64{}
	}
	rt.ops[c]++
}

func (m *Manager) sortedSLAs() []*slaRun {
	out := make([]*slaRun, 0, len(m.slas))
	for _, id := range slices.Sorted(maps.Keys(m.slas)) {
		out = append(out, m.slas[id])
	}
	return out
}

// applySLAs keeps SLAs whose definition is unchanged and restarts the
// others, so that an unrelated configuration change does not reset them.
func (m *Manager) applySLAs() {
	now := m.now()
	for id, rt := range m.slas {
		if s, ok := m.cfg.SLAs[id]; !ok || *s != rt.cfg {
			m.stopSLA(rt)
			delete(m.slas, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.cfg.SLAs)) {
		if _, ok := m.slas[id]; ok {
			continue
		}
		rt := &slaRun{cfg: *m.cfg.SLAs[id], modified: now, scheduledAt: now}
		m.slas[id] = rt
		m.schedule(rt)
	}
}

// schedule puts the SLA in the state its schedule gives at this moment and
// arms the timer for the next schedule change.
func (m *Manager) schedule(rt *slaRun) {
	now := m.now()
	s := &rt.cfg
	switch {
	case !s.Typed || !s.Scheduled:
		m.setSLAState(rt, SLAInactive, "not scheduled")
		return
	case s.StartPending:
		m.setSLAState(rt, SLAPending, "start-time pending")
		return
	}
	rt.startAt = rt.scheduledAt.Add(time.Duration(s.StartAfter) * time.Second)
	if now.Before(rt.startAt) {
		m.setSLAState(rt, SLAPending, "start-time after")
		m.arm(&rt.phase, rt.startAt.Sub(now), func() { m.scheduleAndRefresh(rt) })
		return
	}
	rt.lifeEnd = time.Time{}
	if s.Life >= 0 {
		rt.lifeEnd = rt.startAt.Add(time.Duration(s.Life) * time.Second)
		if !now.Before(rt.lifeEnd) {
			m.setSLAState(rt, SLAInactive, "life expired")
			return
		}
		m.arm(&rt.phase, rt.lifeEnd.Sub(now), func() { m.scheduleAndRefresh(rt) })
	}
	if rt.state != SLAActive {
		m.setSLAState(rt, SLAActive, "scheduled")
		rt.nextOp = now
		m.runOp(rt)
	}
}

func (m *Manager) scheduleAndRefresh(rt *slaRun) {
	if m.slas[rt.cfg.ID] != rt {
		return
	}
	m.schedule(rt)
	m.evalTracks(nil)
	m.refresh(false)
}

// setSLAState is the one place SLA states change, so every change is logged.
func (m *Manager) setSLAState(rt *slaRun, to SLAState, why string) {
	if rt.state == to {
		return
	}
	m.log.Info("sla state", "sla", rt.cfg.ID, "transition", fmt.Sprintf("%s -> %s", rt.state, to), "cause", why)
	rt.state = to
	if to != SLAActive {
		m.disarm(&rt.tick)
		rt.opSeq++
		rt.busy = false
	}
}

func (m *Manager) stopSLA(rt *slaRun) {
	m.setSLAState(rt, SLAInactive, "removed")
	m.disarm(&rt.phase)
	m.disarm(&rt.tick)
}

// hasCarrier says whether the SLA's interface can carry probes.
func (m *Manager) hasCarrier(ifName string) bool {
	f := m.cfg.IfByName(ifName)
	if f == nil || f.Shutdown {
		return false
	}
	return m.links[f.HW].Carrier
}

// runOp starts one operation and arms the next one. Operations keep their
// phase (next = previous + frequency) so that they do not drift.
func (m *Manager) runOp(rt *slaRun) {
	now := m.now()
	freq := time.Duration(max(rt.cfg.Frequency, 1)) * time.Millisecond
	rt.nextOp = rt.nextOp.Add(freq)
	if !rt.nextOp.After(now) {
		rt.nextOp = now.Add(freq)
	}
	m.arm(&rt.tick, rt.nextOp.Sub(now), func() { m.runOp(rt) })

	if !m.hasCarrier(rt.cfg.If) || rt.busy {
		rt.skipped++
		return
	}
	rt.attempts++
	rt.busy = true
	rt.opSeq++
	rt.lastStart = now
	if f := m.cfg.IfByName(rt.cfg.If); f != nil {
		rt.ready = m.probeReady[f.HW]
	}
	seq := rt.opSeq
	spec := probe.Spec{
		Target:     rt.cfg.Target,
		Mark:       m.markOf(rt.cfg.If),
		NumPackets: max(rt.cfg.NumPackets, 1),
		Timeout:    time.Duration(rt.cfg.EffTimeout()) * time.Millisecond,
		Threshold:  time.Duration(rt.cfg.EffThreshold()) * time.Millisecond,
		Size:       rt.cfg.DataSize,
		TOS:        rt.cfg.TOS,
	}
	if spec.Timeout <= 0 { // pro-bing waits forever without one
		spec.Timeout = time.Duration(config.DefaultSLATimeout) * time.Millisecond
	}
	m.inflight++
	go func() {
		ctx, cancel := context.WithTimeout(m.ctx, spec.Timeout+probeMargin)
		defer cancel()
		res := m.o.Prober.Probe(ctx, spec)
		m.o.Post(func() {
			m.inflight--
			m.onResult(rt, seq, res)
		})
	}()
}

// unsentRetry is how soon an operation that could not leave the box is
// tried again, when its frequency is longer.
const unsentRetry = time.Second

func (m *Manager) onResult(rt *slaRun, seq uint64, res probe.Result) {
	if m.stopped || m.slas[rt.cfg.ID] != rt || seq != rt.opSeq {
		return
	}
	rt.busy = false
	if res.Unsent && !rt.ready {
		// Sent before this box had a way out through the uplink (a unit
		// that does not hold its addresses yet, a table not installed
		// yet): a measurement of this box, not of the uplink, so it is
		// no result and the track waits for a real one.
		rt.skipped++
		m.log.Debug("sla operation not sent", "sla", rt.cfg.ID, "error", res.Err)
		// Try again soon rather than a whole frequency later: at
		// frequency 60 the track would wait a minute for its first
		// real result, with no route meanwhile.
		if now := m.now(); now.Add(unsentRetry).Before(rt.nextOp) {
			rt.nextOp = now.Add(unsentRetry)
			m.arm(&rt.tick, unsentRetry, func() { m.runOp(rt) })
		}
		return
	}
	code := classify(res)
	if code != rt.code {
		m.log.Info("sla result", "sla", rt.cfg.ID, "transition", fmt.Sprintf("%s -> %s", rt.code, code), "error", res.Err)
	}
	rt.code, rt.err, rt.rtt, rt.recv = code, res.Err, res.RTT, res.Recv
	rt.countOp(code)
	m.evalTracks(nil)
	m.refresh(false)
}

func classify(res probe.Result) ReturnCode {
	switch {
	case res.OK && res.OverThreshold:
		return CodeOverThreshold
	case res.OK:
		return CodeOK
	case res.Sent == 0 && res.Err != "":
		return CodeError
	}
	return CodeTimeout
}

// carrierLost fails an active SLA at once: its in-flight operation is
// dropped (it may have left before the cable was pulled) and the result
// becomes No connection. It reports whether the SLA was active.
func (m *Manager) carrierLost(rt *slaRun, ifName string) bool {
	if rt.state != SLAActive {
		return false
	}
	rt.opSeq++
	rt.busy = false
	if rt.code != CodeNoConnection {
		m.log.Info("sla result", "sla", rt.cfg.ID, "transition", fmt.Sprintf("%s -> %s", rt.code, CodeNoConnection), "cause", "carrier lost on "+ifName)
	}
	rt.code, rt.err, rt.rtt, rt.recv = CodeNoConnection, "carrier lost on "+ifName, 0, 0
	return true
}

// carrierBack probes at once rather than after up to a whole frequency.
func (m *Manager) carrierBack(rt *slaRun) {
	if rt.state != SLAActive {
		return
	}
	rt.nextOp = m.now()
	m.runOp(rt)
}
