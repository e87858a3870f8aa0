package syslogfwd

import (
	"bufio"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Messages to a collector that is not there yet are kept, in order, and
// delivered when it comes; beyond the queue the oldest are dropped and
// counted.
func TestQueuedUntilTheCollectorListens(t *testing.T) {
	// A free port, closed again: nobody listens there yet.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()

	f := New(slog.New(slog.DiscardHandler))
	f.QueueLen, f.RetryEvery = 5, 50*time.Millisecond
	defer f.Close()
	tg := Target{Name: "lo", IP: addr.Addr(), Proto: "tcp", Port: int(addr.Port())}
	f.Configure([]Target{tg})
	for _, m := range []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7"} {
		f.Send(m)
	}
	deadline := time.Now().Add(5 * time.Second)
	for st := f.Stats(tg); st.Queued != 5 || st.Dropped != 2 || st.LastErr == ""; st = f.Stats(tg) {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, want 5 queued, 2 dropped and the error", st)
		}
		time.Sleep(10 * time.Millisecond)
	}

	ln, err = net.Listen("tcp4", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewScanner(c)
	for _, want := range []string{"m3", "m4", "m5", "m6", "m7"} {
		if !r.Scan() || r.Text() != want {
			t.Fatalf("got %q (%v), want %q", r.Text(), r.Err(), want)
		}
	}
	for st := f.Stats(tg); st.Sent != 5 || st.Queued != 0 || !st.Connected; st = f.Stats(tg) {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("stats after delivery %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUDPAndReconfigure(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ap := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	f := New(slog.New(slog.DiscardHandler))
	defer f.Close()
	tg := Target{IP: netip.MustParseAddr("127.0.0.1"), Proto: "udp", Port: int(ap.Port())}
	f.Configure([]Target{tg})
	f.Send("<161>%PIX-1-104001: one")
	f.Send("<161>%PIX-1-104001: two")
	buf := make([]byte, 512)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{"<161>%PIX-1-104001: one", "<161>%PIX-1-104001: two"} {
		n, _, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("got %q (%v), want %q", buf[:n], err, want)
		}
	}
	f.Configure(nil)
	if st := f.Stats(tg); st != (Stats{}) {
		t.Errorf("removed target still has stats %+v", st)
	}
	f.Send("three")
	pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := pc.ReadFrom(buf); err == nil {
		t.Errorf("removed target still sends: %q", buf[:n])
	}
}
