package lab

import (
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
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
// flows were judged), and the same over a window as long without a
// switchover just before it (the control). Reported: %survived (of the
// flows alive before a switchover, the share alive after it, pooled over
// the switchovers), %alive-end (flows alive after the last one), the
// median and worst of the surviving flows' longest silences, and per
// switchover the median and worst of the lost echo requests and of the
// retransmissions (all, and those the receiver did not report as
// duplicates: the ones whose original was really lost).

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
	control                 []float64 // retransmitted in a window as long without a switchover
	// retransmissions the receiver did not report as duplicates (D-SACK):
	// those whose original was lost, in the switchover and control windows
	real, controlReal []float64
	// flows started, and those alive after the last switchover
	started, alive int
}

func (t *plannedTally) report(b *testing.B) {
	t.flows.report(b)
	if len(t.lost) == 0 {
		return
	}
	b.ReportMetric(100*float64(t.alive)/float64(t.started), "%alive-end")
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(pairMedian(t.takeover), "takeover-ms")
	b.ReportMetric(pairMedian(t.lost), "lost")
	b.ReportMetric(slices.Max(t.lost), "lost-max")
	b.ReportMetric(pairMedian(t.retrans), "retrans")
	b.ReportMetric(slices.Max(t.retrans), "retrans-max")
	b.ReportMetric(pairMedian(t.control), "retrans-control")
	b.ReportMetric(slices.Max(t.control), "retrans-control-max")
	b.ReportMetric(slices.Max(t.real), "retrans-notdup-max")
	b.ReportMetric(slices.Max(t.controlReal), "retrans-notdup-control-max")
	b.ReportMetric(float64(len(t.lost)), "switchovers")
	b.Logf("%d switchovers: takeover median %.0f ms (%.0f–%.0f); lost per switchover %v; retransmitted per switchover %v (not duplicates %v), in the control windows %v (not duplicates %v)",
		len(t.lost), pairMedian(t.takeover), slices.Min(t.takeover), slices.Max(t.takeover), t.lost, t.retrans, t.real, t.control, t.controlReal)
}

// benchPlanned runs the switchovers in l, primary active first, with flows
// already running through the pair.
func benchPlanned(b *testing.B, name string, l *pairLab, flows []*flow, p plannedPair, t *plannedTally) {
	ping := l.startPing("0.01")
	defer ping.stop()
	l.waitClientPing(10 * time.Second)
	active := "primary"
	alive := flows
	window := 1500 * time.Millisecond // the previous switchover's measurement
	for run := 1; run <= pairRuns(); run++ {
		// the standby has every entry (it acknowledges within ~20 ms) and
		// the ping runs
		time.Sleep(time.Second)
		// Control: the same counters over as long a window without a
		// switchover. On a loaded machine a TCP sender whose ACK comes
		// a few ms late sends a tail loss probe (a retransmission the
		// receiver reports as a duplicate) with or without a switchover.
		counters := l.switchCounters()
		time.Sleep(window)
		after := l.switchCounters()
		rc := retransDiff(counters, after)
		b.Logf("%s run %d: control window of %v without a switchover: %d TCP segments retransmitted (%d not reported as duplicates); counters that moved: %s",
			name, run, window.Round(time.Millisecond), rc, retransNotDup(counters, after), counterDiff(counters, after))
		t.control = append(t.control, float64(rc))
		t.controlReal = append(t.controlReal, float64(retransNotDup(counters, after)))

		standby := pairOther(active)
		for _, f := range alive {
			f.maxGap.Store(0)
		}
		counters = l.switchCounters()
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
		after = l.switchCounters()
		r := retransDiff(counters, after)
		window = time.Since(start)
		t.flows.add(b, fmt.Sprintf("%s run %d", name, run), alive, dead)
		b.Logf("%s run %d: counters that moved: %s", name, run, counterDiff(counters, after))
		t.real = append(t.real, float64(retransNotDup(counters, after)))
		b.Logf("%s run %d: %s took over in %v; %d echo requests lost (longest silence %v from %s); %d TCP segments retransmitted (%d not reported as duplicates)",
			name, run, standby, took.Round(time.Millisecond), o.lost, o.gap.Round(time.Millisecond), o.gapStart.Format("15:04:05.000"), r, retransNotDup(counters, after))
		t.takeover = append(t.takeover, float64(took.Microseconds())/1000)
		t.lost = append(t.lost, float64(o.lost))
		t.retrans = append(t.retrans, float64(r))
		alive = slices.DeleteFunc(slices.Clone(alive), func(f *flow) bool { _, d := dead[f]; return d })
		p.settle(active)
		active = standby
	}
	t.started += len(flows)
	t.alive += len(alive)
	b.Logf("%s: %d of %d flows alive after %d switchovers", name, len(alive), len(flows), pairRuns())
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

// switchCounters are the counters that say where a switchover loses or
// delays packets: the client's and the server's TCP (retransmissions,
// timeouts, duplicate segments they received or were told of, resets),
// and each unit's conntrack statistics, interface drops and the drops of
// failoverd's nftables table (inet failoverd_state, on the active only).
func (l *pairLab) switchCounters() map[string]int {
	l.tb.Helper()
	m := map[string]int{}
	for _, ns := range []string{"client", "inet"} {
		for k, v := range l.netCounters(ns) {
			if tcpLossCounter(k) {
				m[ns+" "+k] = v
			}
		}
	}
	for _, u := range []string{"primary", "secondary"} {
		for k, v := range l.unitDropCounters(u) {
			m[u+" "+k] = v
		}
	}
	return m
}

func tcpLossCounter(k string) bool {
	switch k {
	case "Tcp:RetransSegs", "Tcp:OutRsts", "Tcp:EstabResets", "Tcp:InErrs":
		return true
	}
	if !strings.HasPrefix(k, "TcpExt:") {
		return false
	}
	for _, w := range []string{"Retrans", "DSACK", "Timeout", "Loss", "Spurious", "Reset", "Abort", "OFO", "Drop"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// unitDropCounters: /proc/net/stat/nf_conntrack (summed over the CPUs),
// rx/tx_dropped of the data interfaces, and the packets counted by each
// rule of failoverd's nftables table.
func (l *pairLab) unitDropCounters(unit string) map[string]int {
	l.tb.Helper()
	m := map[string]int{}
	ns := l.unitNS(unit)
	files := []string{"/proc/net/stat/nf_conntrack"}
	for _, dev := range []string{"inside", "outside"} {
		for _, c := range []string{"rx_dropped", "tx_dropped"} {
			files = append(files, "/sys/class/net/"+dev+"/statistics/"+c)
		}
	}
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "cat"}, files...)...).Output()
	if err != nil {
		l.tb.Fatalf("read counters of %s: %v", unit, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	head := strings.Fields(lines[0])
	n := len(lines) - 1 - (len(files) - 1)
	for _, line := range lines[1 : 1+n] {
		for i, f := range strings.Fields(line) {
			if v, err := strconv.ParseInt(f, 16, 64); err == nil && i < len(head) && ctLossColumn[head[i]] {
				m["ct:"+head[i]] += int(v)
			}
		}
	}
	for i, line := range lines[1+n:] {
		v, _ := strconv.Atoi(strings.TrimSpace(line))
		m[strings.TrimPrefix(files[1+i], "/sys/class/net/")] = v
	}
	nft, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "failoverd_state").Output()
	for _, line := range strings.Split(string(nft), "\n") {
		rule, cnt, ok := strings.Cut(strings.TrimSpace(line), " counter packets ")
		if !ok {
			continue
		}
		v, _ := strconv.Atoi(strings.Fields(cnt)[0])
		m["nft:"+rule] = v
	}
	return m
}

// ctLossColumn: the columns of /proc/net/stat/nf_conntrack that count
// packets conntrack refused or could not track.
var ctLossColumn = map[string]bool{"invalid": true, "drop": true, "insert_failed": true, "early_drop": true, "clashres": true, "icmp_error": true}

// retransDiff is the TCP segments the client and the server retransmitted
// between two switchCounters snapshots.
func retransDiff(before, after map[string]int) int {
	n := 0
	for _, ns := range []string{"client", "inet"} {
		n += after[ns+" Tcp:RetransSegs"] - before[ns+" Tcp:RetransSegs"]
	}
	return n
}

// retransNotDup is the TCP segments the client and the server
// retransmitted between two switchCounters snapshots that the receiver did
// not report as duplicates (RetransSegs less TCPDSACKRecvSegs): the
// retransmissions of segments really lost, give or take a D-SACK lost too.
func retransNotDup(before, after map[string]int) int {
	n := 0
	for _, ns := range []string{"client", "inet"} {
		d := after[ns+" Tcp:RetransSegs"] - before[ns+" Tcp:RetransSegs"]
		d -= after[ns+" TcpExt:TCPDSACKRecvSegs"] - before[ns+" TcpExt:TCPDSACKRecvSegs"]
		n += max(d, 0)
	}
	return n
}

// counterDiff lists the counters that changed between two snapshots.
func counterDiff(before, after map[string]int) string {
	var out []string
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out = append(out, fmt.Sprintf("%s %+d", k, d))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
