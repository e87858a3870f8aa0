package lab

// End-to-end test of SNMP monitoring: a real snmpd (net-snmp) in each
// unit's namespace, serving the hardware status table of
// CISCO-FIREWALL-MIB through failover-snmp (pass_persist), polled with
// snmpwalk and snmpget as a monitoring system would, before and after a
// takeover and after the old active unit's daemon comes back.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	snmpTable = ".1.3.6.1.4.1.9.9.147.1.2.1.1"
	snmpEntry = snmpTable + ".1"
	// cfwHardwareStatusValue of the primaryUnit and secondaryUnit rows.
	snmpPrimaryValue   = snmpEntry + ".3.6"
	snmpSecondaryValue = snmpEntry + ".3.7"
	snmpAddr           = "udp:127.0.0.1:1161" // each unit namespace has its own loopback
)

var snmpBin struct {
	once sync.Once
	path string
	err  error
}

// snmpBuild builds failover-snmp once per test binary, next to the
// daemon pairBuild made (a fixed directory per source tree, replaced
// atomically: nothing piles up in the temporary directory).
func snmpBuild(tb testing.TB) string {
	tb.Helper()
	failoverd, _ := pairBuild(tb)
	snmpBin.once.Do(func() {
		dir := filepath.Dir(failoverd)
		tmp, err := os.MkdirTemp(dir, "build-")
		if err != nil {
			snmpBin.err = err
			return
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("go", "build", "-o", tmp+string(os.PathSeparator), "./cmd/failover-snmp")
		cmd.Dir = pairRoot(tb)
		if out, err := cmd.CombinedOutput(); err != nil {
			snmpBin.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		snmpBin.path = filepath.Join(dir, "failover-snmp")
		snmpBin.err = os.Rename(filepath.Join(tmp, "failover-snmp"), snmpBin.path)
	})
	if snmpBin.err != nil {
		tb.Fatal(snmpBin.err)
	}
	return snmpBin.path
}

// snmpAgent is a running snmpd in a unit's namespace.
type snmpAgent struct {
	l         *pairLab
	unit      string
	community string
	env       []string
	log       string
}

// startSNMPD starts snmpd in unit's namespace with pass_persist to
// failover-snmp on the unit's control socket, and stops it in Cleanup.
func (l *pairLab) startSNMPD(unit, prog string) *snmpAgent {
	l.tb.Helper()
	dir := filepath.Join(l.dir, "snmp-"+unit)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		l.tb.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	a := &snmpAgent{l: l, unit: unit, community: hex.EncodeToString(b[:]), log: filepath.Join(dir, "snmpd.log")}
	// No configuration of the host's: snmp.conf from dir only (none), no
	// MIB files (numeric OIDs), persistent state in dir.
	a.env = append(os.Environ(), "SNMPCONFPATH="+dir, "SNMP_PERSISTENT_DIR="+dir, "MIBS=", "MIBDIRS="+dir)
	// The example configuration, with the paths of this lab, and a
	// community limited to its view.
	example, err := os.ReadFile(filepath.Join(pairRoot(l.tb), "examples", "snmpd.conf"))
	if err != nil {
		l.tb.Fatal(err)
	}
	text := strings.NewReplacer("/usr/bin/failover-snmp", prog, "/run/failoverd.sock", filepath.Join(l.dir, "lab", unit+".sock")).Replace(string(example))
	if !strings.Contains(text, prog) {
		l.tb.Fatalf("examples/snmpd.conf does not run /usr/bin/failover-snmp:\n%s", example)
	}
	conf := filepath.Join(dir, "snmpd.conf")
	text = fmt.Sprintf("agentAddress %s\nrocommunity %s 127.0.0.1 -V systemonly\n", snmpAddr, a.community) + text
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		l.tb.Fatal(err)
	}
	logf, err := os.Create(a.log)
	if err != nil {
		l.tb.Fatal(err)
	}
	// -f: foreground, -C: only this configuration, -Lo: log to stdout.
	cmd := exec.Command("ip", "netns", "exec", l.unitNS(unit), "snmpd", "-f", "-C", "-c", conf, "-Lo", "-p", filepath.Join(dir, "snmpd.pid"))
	cmd.Env = a.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		l.tb.Fatalf("starting snmpd in %s: %v", unit, err)
	}
	l.tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		stopped := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
		cmd.Wait()
		stopped.Stop()
		logf.Close()
		if l.tb.Failed() {
			if b, err := os.ReadFile(a.log); err == nil {
				l.tb.Logf("snmpd of %s (tail):\n%s", unit, tail(string(b), 30))
			}
		}
	})
	return a
}

// run runs an SNMP client tool of net-snmp against the agent: numeric
// OIDs (-On), SNMPv2c, one try of 2 s (failover-snmp answers at once or
// after its own 2 s timeout).
func (a *snmpAgent) run(tool string, oids ...string) (map[string]string, error) {
	args := append([]string{"netns", "exec", a.l.unitNS(a.unit), tool, "-v2c", "-c", a.community, "-On", "-t", "3", "-r", "0", snmpAddr}, oids...)
	cmd := exec.Command("ip", args...)
	cmd.Env = a.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", tool, err, out)
	}
	// ".1.3...3.6 = INTEGER: 9", ".1.3...4.6 = STRING: "Active unit"",
	// ".1.3...3.6 = No Such Instance currently exists at this OID"; a walk
	// ends with the end of the view, printed with the last OID.
	vals := map[string]string{}
	for _, line := range nonEmptyLines(string(out)) {
		oid, val, ok := strings.Cut(line, " = ")
		if !ok {
			return nil, fmt.Errorf("%s: unexpected line %q", tool, line)
		}
		if strings.HasPrefix(val, "No more variables left in this MIB View") {
			continue
		}
		vals[oid] = val
	}
	return vals, nil
}

// wait polls snmpget until every OID has its wanted value.
func (a *snmpAgent) wait(want map[string]string, timeout time.Duration) map[string]string {
	a.l.tb.Helper()
	var oids []string
	for o := range want {
		oids = append(oids, o)
	}
	deadline := time.Now().Add(timeout)
	for {
		got, err := a.run("snmpget", oids...)
		ok := err == nil
		for o, w := range want {
			ok = ok && got[o] == w
		}
		if ok {
			return got
		}
		if time.Now().After(deadline) {
			a.l.tb.Fatalf("snmpget on %s: got %v (err %v), want %v", a.unit, got, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestSNMPHardwareStatusAcrossTakeover(t *testing.T) {
	for _, c := range []string{"snmpd", "snmpget", "snmpwalk"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("needs %s (Debian snmpd, snmp): %v", c, err)
		}
	}
	prog := snmpBuild(t)
	l := newPairLab(t, "")
	l.waitPair("primary", "secondary", 20*time.Second)
	pri, sec := l.startSNMPD("primary", prog), l.startSNMPD("secondary", prog)

	// Both agents show the pair as it is: the primary active (9), the
	// secondary standby (10); each marks its own row "(this device)".
	pri.wait(map[string]string{snmpPrimaryValue: "INTEGER: 9", snmpSecondaryValue: "INTEGER: 10"}, 10*time.Second)
	for _, c := range []struct {
		a    *snmpAgent
		self string
	}{{pri, "6"}, {sec, "7"}} {
		walk, err := c.a.run("snmpwalk", snmpTable)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			snmpEntry + ".2.4": `STRING: "Failover LAN Interface"`,
			snmpEntry + ".2.6": `STRING: "Primary unit"`,
			snmpEntry + ".2.7": `STRING: "Secondary unit"`,
			snmpEntry + ".3.4": "INTEGER: 2",
			snmpEntry + ".3.6": "INTEGER: 9",
			snmpEntry + ".3.7": "INTEGER: 10",
			snmpEntry + ".4.4": `STRING: "failover failover: Normal"`,
			snmpEntry + ".4.6": `STRING: "Active unit"`,
			snmpEntry + ".4.7": `STRING: "Standby unit"`,
		}
		self := snmpEntry + ".2." + c.self
		want[self] = strings.TrimSuffix(want[self], `"`) + ` (this device)"`
		if len(walk) != len(want) {
			t.Errorf("walk of %s: %d variables, want %d: %v", c.a.unit, len(walk), len(want), walk)
		}
		for o, w := range want {
			if walk[o] != w {
				t.Errorf("walk of %s: %s = %q, want %q", c.a.unit, o, walk[o], w)
			}
		}
	}
	// The values are the daemon's: its JSON status says the same.
	if st := l.obsStatus("secondary"); st.Failover == nil || st.Failover.State != "Standby" || st.Failover.Mate.State != "Active" {
		t.Fatalf("status of the secondary before: %+v", st.Failover)
	}

	// Takeover: the primary's daemon dies, the secondary becomes active.
	start := time.Now()
	l.mustLab("kill", "primary")
	l.waitState("secondary", "Active", start, pairHold+10*time.Second)
	sec.wait(map[string]string{
		snmpSecondaryValue: "INTEGER: 9",
		snmpPrimaryValue:   "INTEGER: 3", // down: not detected
		snmpEntry + ".4.6": `STRING: "Not Detected"`,
		snmpEntry + ".4.7": `STRING: "Active unit"`,
	}, 10*time.Second)
	if st := l.obsStatus("secondary"); st.Failover == nil || st.Failover.State != "Active" || st.Failover.Mate.Seen {
		t.Fatalf("status of the secondary after: %+v", st.Failover)
	}
	// The primary's agent cannot reach its daemon: no value rather than a
	// stale one.
	pri.wait(map[string]string{snmpPrimaryValue: "No Such Instance currently exists at this OID"}, 10*time.Second)

	// The primary's daemon comes back and joins as standby: its agent
	// answers again (failover-snmp reconnects) with the new roles.
	l.mustLab("start", "primary")
	l.waitState("primary", "Standby", time.Now(), 30*time.Second)
	want := map[string]string{snmpPrimaryValue: "INTEGER: 10", snmpSecondaryValue: "INTEGER: 9"}
	pri.wait(want, 10*time.Second)
	sec.wait(want, 10*time.Second)
}
