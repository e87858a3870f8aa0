package main

// Benchmarks of a large configuration: pasted through fosh script mode,
// and loaded from the startup-config at daemon start. Figures and their
// commands are in BENCHMARKS.md ("Configuration apply").

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"failover/engine/api"
)

// bigConfig is a configuration of about n lines that touches no kernel
// object beyond the first few interface lines: SLA operations (unscheduled,
// so nothing probes) and tracks on them, as a large tracked-route setup
// has them.
func bigConfig(n int) string {
	var b strings.Builder
	b.WriteString("interface outside auto\ninterface inside auto\n" +
		"nameif outside outside security0\nnameif inside inside security100\n" +
		"ip address outside 198.51.100.2 255.255.255.240\nip address inside 192.0.2.1 255.255.255.240\n")
	lines := 6
	for id := 1; lines < n; id++ {
		fmt.Fprintf(&b, "sla monitor %d\n type echo protocol ipIcmpEcho 203.0.113.%d interface outside\n"+
			" num-packets 1\n timeout 1000\n threshold 500\n frequency 5\n", id, id%250+1)
		lines += 6
		if id <= 500 && lines < n {
			fmt.Fprintf(&b, "track %d rtr %d reachability\n delay down 1 up 2\n", id, id)
			lines += 2
		}
	}
	return b.String()
}

// buildFosh builds the fosh binary for the benchmarks.
func buildFosh(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "fosh")
	if out, err := exec.Command("go", "build", "-o", bin, "failover/cmd/fosh").CombinedOutput(); err != nil {
		b.Fatalf("failed to build fosh: %v\n%s", err, out)
	}
	return bin
}

// benchDaemon starts failoverd (log level info, as in service) in a fresh
// namespace with config as its startup-config, and returns it with the
// time from exec until its socket accepted a connection.
func benchDaemon(b *testing.B, config string) (*daemon, time.Duration) {
	b.Helper()
	requireRoot(b)
	ns, del, err := newNetns(defaultLinks)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(del)
	d := newDaemon(ns, b.TempDir())
	d.logLevel = "info"
	b.Cleanup(d.kill)
	if err := os.WriteFile(d.config, []byte(config), 0o600); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if err := d.start(""); err != nil {
		b.Fatal(err)
	}
	return d, time.Since(t0)
}

// peakRSS is a process's peak resident set (VmHWM) in MiB.
func peakRSS(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// cpuSeconds is the CPU time (user + system) a process used so far.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which ends with the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return float64(ut+st) / 100 // clock ticks: 100 per second on Linux
}

func benchPaste(b *testing.B, n int) {
	fosh := buildFosh(b)
	text := "enable\nconfigure terminal\n" + bigConfig(n) + "end\n"
	for b.Loop() {
		d, _ := benchDaemon(b, "")
		cmd := exec.Command(fosh, "-socket", d.sock)
		cmd.Stdin = strings.NewReader(text)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("fosh: %v\n%s", err, stderr.String()[:min(stderr.Len(), 2000)])
		}
		took := time.Since(t0)
		if stderr.Len() > 0 {
			b.Fatalf("paste errors:\n%s", stderr.String()[:min(stderr.Len(), 2000)])
		}
		c, err := api.Dial(d.sock, false)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := c.Do(api.Request{Op: api.OpExec, Line: "enable"})
		if err == nil {
			rep, err = c.Do(api.Request{Op: api.OpExec, Line: "show running-config"})
		}
		c.Close()
		want := strings.Count(text, "\nsla monitor ")
		if got := strings.Count(rep.Output, "\nsla monitor "); err != nil || got != want {
			b.Fatalf("running-config has %d SLAs, want %d (%v)", got, want, err)
		}
		b.ReportMetric(took.Seconds(), "s/paste")
		b.ReportMetric(float64(n)/took.Seconds(), "lines/s")
		b.ReportMetric(peakRSS(d.cmd.Process.Pid), "daemon-MiB")
		b.ReportMetric(cpuSeconds(d.cmd.Process.Pid), "daemon-cpu-s")
		b.ReportMetric(float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)/1024, "fosh-MiB")
		b.ReportMetric((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), "fosh-cpu-s")
		d.kill()
	}
}

// BenchmarkPaste10k and BenchmarkPaste100k paste a configuration through
// fosh script mode ("fosh < file") into a running daemon.
func BenchmarkPaste10k(b *testing.B)  { benchPaste(b, 10_000) }
func BenchmarkPaste100k(b *testing.B) { benchPaste(b, 100_000) }

// BenchmarkStartup100k starts failoverd from a 100,000-line
// startup-config: the time until its socket accepts, and until a session
// is answered (the event loop runs).
func BenchmarkStartup100k(b *testing.B) {
	text := bigConfig(100_000)
	for b.Loop() {
		t0 := time.Now()
		d, sock := benchDaemon(b, text)
		c, err := api.Dial(d.sock, false)
		if err != nil {
			b.Fatal(err)
		}
		answered := time.Since(t0)
		c.Close()
		b.ReportMetric(sock.Seconds(), "s-to-socket")
		b.ReportMetric(answered.Seconds(), "s-to-session")
		b.ReportMetric(peakRSS(d.cmd.Process.Pid), "daemon-MiB")
		d.kill()
	}
}
