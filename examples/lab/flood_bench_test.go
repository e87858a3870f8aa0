package lab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"failover/engine/api"
)

// BenchmarkSessionFlood measures what unprivileged clients of the control
// socket can make failoverd hold (results: BENCHMARKS.md):
//
//	go test -run XXX -bench SessionFlood -benchtime 1x ./examples/lab/
//
// FLOOD_CONNS (default 500) clients connect at once; each fills its
// history with 100 lines of 4,000 characters, then asks `show history` 100
// times without ever reading a reply. It reports failoverd's peak RSS
// (VmHWM), its RSS while the clients hang (once it has grown by less than
// 1 MB in 30 s, at most FLOOD_HOLD, default 120 s, after the flood), its
// RSS 10 s after they closed, and how many clients got a session.
func BenchmarkSessionFlood(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchFlood(b)
	}
}

func benchFlood(b *testing.B) {
	l := NewLab(b)
	l.StartDaemon()
	pid := l.daemon.Process.Pid
	conns := envInt("FLOOD_CONNS", 500)
	hold := time.Duration(envInt("FLOOD_HOLD", 120)) * time.Second
	before := procKB(b, pid, "VmRSS")

	line := strings.Repeat("x", 4000)
	var req []byte
	add := func(r api.Request) {
		j, _ := json.Marshal(r)
		req = append(append(req, j...), '\n')
	}
	add(api.Request{Op: api.OpHello})
	for range 100 {
		add(api.Request{Op: api.OpExec, Line: line})
	}
	for range 100 {
		add(api.Request{Op: api.OpExec, Line: "show history"})
	}
	type client struct {
		c        net.Conn
		admitted chan bool
	}
	var cs []client
	for range conns {
		c, err := net.Dial("unix", l.Sock)
		if err != nil {
			b.Fatalf("connect: %v", err)
		}
		cl := client{c, make(chan bool, 1)}
		cs = append(cs, cl)
		go func() {
			// Read the first reply only (the hello's or a refusal), then
			// nothing more: the client never reads again.
			go func() {
				r, err := bufio.NewReaderSize(cl.c, 4096).ReadBytes('\n')
				var rep api.Reply
				cl.admitted <- err == nil && json.Unmarshal(r, &rep) == nil && !rep.Exit
			}()
			cl.c.Write(req)
		}()
	}
	// Wait for the daemon to have taken in what it will take.
	start, last, lastAt := time.Now(), 0, time.Now()
	for time.Since(start) < hold {
		time.Sleep(time.Second)
		if rss := procKB(b, pid, "VmRSS"); rss > last+1024 {
			last, lastAt = rss, time.Now()
		} else if time.Since(lastAt) >= 30*time.Second {
			break
		}
	}
	loaded := procKB(b, pid, "VmRSS")
	peak := procKB(b, pid, "VmHWM")
	admitted := 0
	for _, cl := range cs {
		select {
		case ok := <-cl.admitted:
			if ok {
				admitted++
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
	for _, cl := range cs {
		cl.c.Close()
	}
	time.Sleep(10 * time.Second)
	after := procKB(b, pid, "VmRSS")
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		b.Fatalf("failoverd died under the flood")
	}
	b.ReportMetric(float64(before)/1024, "rss_start_MB")
	b.ReportMetric(float64(peak)/1024, "rss_peak_MB")
	b.ReportMetric(float64(loaded)/1024, "rss_loaded_MB")
	b.ReportMetric(float64(after)/1024, "rss_after_MB")
	b.ReportMetric(float64(admitted), "sessions")
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// procKB reads a kB figure of /proc/PID/status.
func procKB(b *testing.B, pid int, field string) int {
	b.Helper()
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("failoverd status: %v", err)
	}
	for l := range strings.SplitSeq(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
