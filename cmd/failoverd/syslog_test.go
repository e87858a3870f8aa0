package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// collector is a real rsyslogd in its own namespace, writing what it
// receives to a file: one line per message, "INPUT RAW-MESSAGE".
type collector struct {
	t    *testing.T
	ns   string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

const rsyslogConf = `global(workDirectory="%[1]s")
module(load="imudp")
input(type="imudp" address="192.0.2.10" port="514")
module(load="imtcp")
input(type="imtcp" address="192.0.2.11" port="1514")
template(name="raw" type="string" string="%%inputname%% %%rawmsg%%\n")
*.* action(type="omfile" file="%[1]s/received.log" template="raw")
`

func (c *collector) start() {
	c.t.Helper()
	conf := filepath.Join(c.dir, "rsyslog.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(rsyslogConf, c.dir)), 0o644)
	c.cmd = exec.Command("ip", "netns", "exec", c.ns, "rsyslogd", "-n", "-f", conf, "-i", filepath.Join(c.dir, "rsyslogd.pid"))
	out, _ := os.OpenFile(filepath.Join(c.dir, "rsyslogd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	c.cmd.Stdout, c.cmd.Stderr = out, out
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	out.Close()
	c.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(c.cmd, c.done)
	// Listening once ss shows both sockets.
	for i := 0; ; i++ {
		out, _ := exec.Command("ip", "netns", "exec", c.ns, "ss", "-Hlnu", "sport", "= 514").Output()
		out2, _ := exec.Command("ip", "netns", "exec", c.ns, "ss", "-Hlnt", "sport", "= 1514").Output()
		if len(out) > 0 && len(out2) > 0 {
			return
		}
		if i > 100 {
			b, _ := os.ReadFile(filepath.Join(c.dir, "rsyslogd.out"))
			c.t.Fatalf("rsyslogd not listening after 10 s:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *collector) stop() {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
}

func (c *collector) received() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "received.log"))
	return string(b)
}

// wait waits until the collector has n lines containing each of want.
func (c *collector) wait(n int, want ...string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := c.received()
		ok := true
		for _, w := range want {
			ok = ok && countLines(got, w) >= n
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("collector did not receive %d of each of %q in 20 s; it has:\n%s", n, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func countLines(s, sub string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// The messages of a takeover reach a real collector although the unit
// holds no address when it sends them (it is negotiating), over UDP and
// TCP; a TCP collector that restarts gets what was said while it was
// down; an address change of the interface does not stop the target.
func TestSyslogToRsyslog(t *testing.T) {
	if _, err := exec.LookPath("rsyslogd"); err != nil {
		t.Skip("needs rsyslogd (Debian package rsyslog)")
	}
	ns := testNetns(t)
	col := &collector{t: t, ns: ns + "-col", dir: t.TempDir()}
	if out, err := exec.Command("ip", "netns", "add", col.ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { col.stop(); exec.Command("ip", "netns", "del", col.ns).Run() })
	for _, args := range [][]string{
		{"-n", ns, "link", "add", "inside", "type", "veth", "peer", "name", "col0", "netns", col.ns},
		{"-n", ns, "link", "set", "inside", "up"},
		{"-n", col.ns, "link", "set", "lo", "up"},
		{"-n", col.ns, "addr", "add", "192.0.2.10/28", "dev", "col0"},
		{"-n", col.ns, "addr", "add", "192.0.2.11/28", "dev", "col0"},
		{"-n", col.ns, "link", "set", "col0", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	col.start()

	bin := buildDaemon(t)
	d := startDaemon(t, ns, bin, `hostname sltest
interface lanfo auto
interface inside auto
nameif lanfo failover security0
nameif inside inside security100
ip address failover 192.0.2.33 255.255.255.252
ip address inside 192.0.2.1 255.255.255.240
failover ip address failover 192.0.2.34
failover ip address inside 192.0.2.2
failover lan unit primary
failover lan interface failover
failover polltime unit msec 200 holdtime msec 800
logging on
logging trap informational
logging host inside 192.0.2.10
logging host inside 192.0.2.11 tcp/1514
failover
`, nil, "--hooks", "")
	sock := d.sock
	fosh := func(lines ...string) string {
		t.Helper()
		args := []string{"netns", "exec", ns, bin + "-fosh", "--socket", sock, "-c", "enable", "-c", "configure terminal"}
		for _, l := range lines {
			args = append(args, "-c", l)
		}
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("fosh %q: %v\n%s", lines, err, out)
		}
		return string(out)
	}
	if out, err := exec.Command("go", "build", "-o", bin+"-fosh", "failover/cmd/fosh").CombinedOutput(); err != nil {
		t.Fatalf("go build fosh: %v\n%s", err, out)
	}

	// Boot: 105002 is sent while negotiating, without any address on
	// inside; 104001 as the unit takes the system address.
	col.wait(1, "imudp <161>%PIX-1-105002: (Primary) Enabling failover.", "imtcp <161>%PIX-1-105002: (Primary) Enabling failover.")
	col.wait(1, "imudp <161>%PIX-1-104001: (Primary) Switching to ACTIVE", "imtcp <161>%PIX-1-104001: (Primary) Switching to ACTIVE")
	if i, j := strings.Index(col.received(), "imtcp <161>%PIX-1-105002"), strings.Index(col.received(), "imtcp <161>%PIX-1-104001"); i > j {
		t.Errorf("TCP messages out of order:\n%s", col.received())
	}

	// The collector restarts; what is said meanwhile reaches it over TCP.
	col.stop()
	fosh("no failover")
	col.start()
	col.wait(1, "imtcp <161>%PIX-1-105001: (Primary) Disabling failover.")

	// The interface's address changes; the targets keep working.
	fosh("ip address inside 192.0.2.5 255.255.255.240", "failover")
	col.wait(2, "imudp <161>%PIX-1-104001: (Primary) Switching to ACTIVE", "imtcp <161>%PIX-1-104001: (Primary) Switching to ACTIVE")
	out := fosh("show logging")
	if !strings.Contains(out, "Logging to inside 192.0.2.11 tcp/1514\n") || !strings.Contains(out, ", connected") {
		t.Errorf("show logging:\n%s", out)
	}
}
