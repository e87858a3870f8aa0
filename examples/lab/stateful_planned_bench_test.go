package lab

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"
)

// A planned switchover of a pair carrying the stateful benchmarks' flows
// (statefulBenchTCP connections of each TCP kind, statefulBenchUDP streams
// of each UDP kind), measured the same way for failoverd and for
// keepalived + conntrackd: pairRuns() switchovers in a row in one lab, the
// roles alternating, while the client also pings the server every 10 ms.
// Per switchover: the flows that survive it (a flow dead in one is not
// counted again), the longest silence of each surviving flow, the echo
// requests lost, and the TCP segments the client and the server
// retransmitted (RetransSegs of /proc/net/snmp, from the command until the
// flows were judged).

// plannedPair is one product's planned switchover.
type plannedPair struct {
	// switchOver gives the command that makes active's mate the active unit.
	switchOver func(active string)
	// settle waits until old (the unit that was active) is a standby
	// again, ready for the next switchover.
	settle func(old string)
}

// plannedTally pools the switchovers of one benchmark row.
type plannedTally struct {
	flows                   flowTally
	takeover, lost, retrans []float64
}

func (t *plannedTally) report(b *testing.B) {
	t.flows.report(b)
	if len(t.lost) == 0 {
		return
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(pairMedian(t.takeover), "takeover-ms")
	b.ReportMetric(pairMedian(t.lost), "lost")
	b.ReportMetric(slices.Max(t.lost), "lost-max")
	b.ReportMetric(pairMedian(t.retrans), "retrans")
	b.ReportMetric(slices.Max(t.retrans), "retrans-max")
	b.ReportMetric(float64(len(t.lost)), "switchovers")
	b.Logf("%d switchovers: takeover median %.0f ms (%.0f–%.0f); lost per switchover %v; retransmitted per switchover %v",
		len(t.lost), pairMedian(t.takeover), slices.Min(t.takeover), slices.Max(t.takeover), t.lost, t.retrans)
}

// benchPlanned runs the switchovers in l, primary active first, with flows
// already running through the pair.
func benchPlanned(b *testing.B, name string, l *pairLab, flows []*flow, p plannedPair, t *plannedTally) {
	ping := l.startPing("0.01")
	defer ping.stop()
	l.waitClientPing(10 * time.Second)
	active := "primary"
	alive := flows
	for run := 1; run <= pairRuns(); run++ {
		// the standby has every entry (it acknowledges within ~20 ms) and
		// the ping runs
		time.Sleep(time.Second)
		standby := pairOther(active)
		for _, f := range alive {
			f.maxGap.Store(0)
		}
		before := l.tcpRetrans()
		start := time.Now()
		p.switchOver(active)
		took := l.waitHolds(standby, start, 30*time.Second)
		if _, ok := ping.waitReplyAfter(start.Add(took), 15*time.Second); !ok {
			b.Fatalf("%s run %d: the client's ping did not resume after the takeover by %s", name, run, standby)
		}
		// flows are judged on what they receive from a second after the
		// takeover, as after a failure
		time.Sleep(time.Second)
		dead := aliveFlows(alive, time.Now(), 10*time.Second)
		o := pairSummarise(ping.snapshot(), start)
		r := l.tcpRetrans() - before
		t.flows.add(b, fmt.Sprintf("%s run %d", name, run), alive, dead)
		b.Logf("%s run %d: %s took over in %v; %d echo requests lost (longest silence %v from %s); %d TCP segments retransmitted",
			name, run, standby, took.Round(time.Millisecond), o.lost, o.gap.Round(time.Millisecond), o.gapStart.Format("15:04:05.000"), r)
		t.takeover = append(t.takeover, float64(took.Microseconds())/1000)
		t.lost = append(t.lost, float64(o.lost))
		t.retrans = append(t.retrans, float64(r))
		alive = slices.DeleteFunc(slices.Clone(alive), func(f *flow) bool { _, d := dead[f]; return d })
		p.settle(active)
		active = standby
	}
}

// failoverdPlanned is `no failover active` on the active unit, through fosh.
func failoverdPlanned(l *pairLab) plannedPair {
	return plannedPair{
		switchOver: func(active string) { l.mustFosh(active, "no failover active") },
		settle: func(old string) {
			l.waitState(pairOther(old), "Active", time.Now(), 10*time.Second)
			l.waitState(old, "Standby", time.Now(), 30*time.Second)
		},
	}
}

// keepalivedPlanned is how a keepalived pair is switched over by hand: stop
// keepalived on the master (SIGTERM, as systemctl stop does). It resigns
// with a priority 0 advertisement and removes the virtual addresses; the
// backup becomes master after its skew time ((256 - priority) / 256
// advert intervals) instead of the whole master-down interval, and runs
// notify_master (primary-backup.sh primary: commit conntrackd's external
// cache). conntrackd keeps running on the old master. keepalived is then
// started again there: BACKUP (nopreempt), notify_backup
// (primary-backup.sh backup: shorten the kernel's timers, ask for a resync).
func keepalivedPlanned(k *pairKeepalived) plannedPair {
	l := k.l
	return plannedPair{
		switchOver: func(active string) {
			c := k.procs[active]
			if c == nil {
				l.tb.Fatalf("no keepalived running in %s", active)
			}
			if err := c.Process.Signal(syscall.SIGTERM); err != nil {
				l.tb.Fatalf("SIGTERM keepalived in %s: %v", active, err)
			}
		},
		settle: func(old string) {
			c := k.procs[old]
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				l.tb.Fatalf("keepalived in %s did not stop 10 s after SIGTERM", old)
			}
			delete(k.procs, old)
			k.reboot(old)
			time.Sleep(3 * time.Second) // BACKUP (nopreempt), notify_backup run
			if l.holds(old, "inside", pairSystem) || !l.holds(pairOther(old), "inside", pairSystem) {
				l.tb.Fatalf("after keepalived restarted in %s the VIP is not on %s alone", old, pairOther(old))
			}
		},
	}
}
