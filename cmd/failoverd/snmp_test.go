package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// failover-snmp under a real snmpd: snmpget and snmpwalk read
// cfwHardwareStatusTable of a daemon that became active without a mate.
func TestSNMPPassPersist(t *testing.T) {
	for _, c := range []string{"snmpd", "snmpget", "snmpwalk"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("needs %s (Debian packages snmpd, snmp)", c)
		}
	}
	ns := testNetns(t)
	bin := buildDaemon(t)
	dir := t.TempDir()
	helper := filepath.Join(dir, "failover-snmp")
	if out, err := exec.Command("go", "build", "-o", helper, "failover/cmd/failover-snmp").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sock := startDaemon(t, ns, bin, `interface lanfo auto
nameif lanfo failover security0
ip address failover 192.0.2.1 255.255.255.252
failover ip address failover 192.0.2.2
failover lan unit secondary
failover lan interface failover
failover polltime unit msec 200 holdtime msec 800
failover
`, nil, "--hooks", "").sock

	conf := filepath.Join(dir, "snmpd.conf")
	os.WriteFile(conf, []byte("agentaddress udp:127.0.0.1:16161\nrocommunity public 127.0.0.1\npass_persist .1.3.6.1.4.1.9.9.147 "+helper+" --socket "+sock+"\n"), 0o600)
	snmpd := exec.Command("ip", "netns", "exec", ns, "snmpd", "-f", "-Lf", filepath.Join(dir, "snmpd.log"), "-C", "-c", conf, "-p", filepath.Join(dir, "snmpd.pid"))
	if err := snmpd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		snmpd.Process.Kill()
		snmpd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "snmpd.log"))
			t.Logf("snmpd log:\n%s", b)
		}
	}()

	snmp := func(tool string, oid string) (string, error) {
		out, err := exec.Command("ip", "netns", "exec", ns, tool, "-v2c", "-c", "public", "-On", "-r", "1", "-t", "2", "127.0.0.1:16161", oid).CombinedOutput()
		return string(out), err
	}
	const value = ".1.3.6.1.4.1.9.9.147.1.2.1.1.1.3"
	// The secondary alone becomes active: active(9) for the secondary
	// unit (index 7), down(3) for the primary it does not hear.
	var out string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		out, err = snmp("snmpget", value+".7")
		if err == nil && strings.Contains(out, value+".7 = INTEGER: 9") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snmpget cfwHardwareStatusValue.secondaryUnit: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	walk, err := snmp("snmpwalk", ".1.3.6.1.4.1.9.9.147")
	if err != nil {
		t.Fatalf("snmpwalk: %v\n%s", err, walk)
	}
	e := ".1.3.6.1.4.1.9.9.147.1.2.1.1.1"
	// Rows 4 (the failover LAN interface: down, no mate on the link),
	// 6 (primary) and 7 (secondary) of each column.
	want := []string{
		e + `.2.4 = STRING: "Failover LAN Interface"`,
		e + `.2.6 = STRING: "Primary unit"`,
		e + `.2.7 = STRING: "Secondary unit (this device)"`,
		e + `.3.4 = INTEGER: 3`,
		e + `.3.6 = INTEGER: 3`,
		e + `.3.7 = INTEGER: 9`,
		e + `.4.4 = STRING: "failover lanfo: Other side is not connected"`,
		e + `.4.6 = STRING: "Not Detected"`,
		e + `.4.7 = STRING: "Active unit"`,
	}
	if got := strings.Split(strings.TrimSpace(walk), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("snmpwalk:\n%s\nwant:\n%s", walk, strings.Join(want, "\n"))
	}
}
