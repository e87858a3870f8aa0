package wire

import (
	"errors"
	"sync"
	"testing"
)

func TestReplayWindow(t *testing.T) {
	a, b := BootID{0xa}, BootID{0xb}
	type step struct {
		boot    BootID
		seq     uint64
		trusted bool
		ok      bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{a, 1, true, true}, {a, 2, true, true}, {a, 3, true, true}}},
		{"duplicate", []step{{a, 1, true, true}, {a, 1, true, false}}},
		{"duplicate below top", []step{{a, 5, true, true}, {a, 3, true, true}, {a, 3, true, false}, {a, 4, true, true}}},
		{"zero never", []step{{a, 0, true, false}, {a, 1, true, true}, {a, 0, true, false}}},
		{"gap then late arrivals", []step{{a, 1, true, true}, {a, 10, true, true}, {a, 2, true, true}, {a, 9, true, true}, {a, 2, true, false}}},
		{"edge of window", []step{{a, 100, true, true}, {a, 100 - WindowSize + 1, true, true}, {a, 100 - WindowSize + 1, true, false}}},
		{"out of window", []step{{a, 100, true, true}, {a, 100 - WindowSize, true, false}, {a, 1, true, false}}},
		{"jump beyond window clears bitmap", []step{{a, 1, true, true}, {a, 1000, true, true}, {a, 999, true, true}, {a, 1000, true, false}, {a, 937, true, true}, {a, 936, true, false}}},
		{"huge sequence", []step{{a, 1, true, true}, {a, ^uint64(0), true, true}, {a, ^uint64(0), true, false}, {a, ^uint64(0) - 1, true, true}}},
		{"restart resets window", []step{{a, 500, true, true}, {b, 1, true, true}, {b, 2, true, true}}},
		{"old boot is refused after restart", []step{{a, 500, true, true}, {b, 1, true, true}, {a, 501, true, false}, {a, 1, true, false}, {b, 2, true, true}}},
		{"untrusted cannot switch boot", []step{{a, 5, true, true}, {b, 1, false, false}, {a, 6, true, true}}},
		{"untrusted cannot start", []step{{a, 1, false, false}, {a, 1, true, true}}},
		{"untrusted same boot is window-checked", []step{{a, 5, true, true}, {a, 6, false, true}, {a, 6, false, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w ReplayWindow
			for i, s := range tt.steps {
				err := w.Check(s.boot, s.seq, s.trusted)
				if s.ok && err != nil {
					t.Fatalf("step %d (%s seq %d): unexpected %v", i, s.boot, s.seq, err)
				}
				if !s.ok && !errors.Is(err, ErrReplay) {
					t.Fatalf("step %d (%s seq %d): got %v, want ErrReplay", i, s.boot, s.seq, err)
				}
			}
		})
	}
}

// TestReplayWindowExhaustive compares the bitmap window with a plain set
// over a fixed pseudo-random sequence of arrivals.
func TestReplayWindowExhaustive(t *testing.T) {
	var w ReplayWindow
	seen := map[uint64]bool{}
	var top uint64
	x := uint64(12345)
	for i := 0; i < 20000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		seq := top + 1 + x>>58 // mostly forward
		if x>>40&3 == 0 && top > 100 {
			seq = top - x>>33%100 // sometimes late
		}
		want := seq != 0 && !seen[seq] && (seq > top || top-seq < WindowSize)
		err := w.Check(BootID{1}, seq, true)
		if (err == nil) != want {
			t.Fatalf("arrival %d seq %d top %d: err %v, want accept=%v", i, seq, top, err, want)
		}
		if err == nil {
			seen[seq] = true
			top = max(top, seq)
		}
	}
}

func TestRetiredBootsAreBounded(t *testing.T) {
	var w ReplayWindow
	for i := 0; i <= RetiredBoots+1; i++ {
		if err := w.Check(BootID{byte(i)}, 1, true); err != nil {
			t.Fatalf("boot %d: %v", i, err)
		}
	}
	// Boot 0 has dropped out of the memory; boot 2 is still remembered.
	if err := w.Check(BootID{2}, 2, true); !errors.Is(err, ErrReplay) {
		t.Errorf("remembered boot: got %v", err)
	}
	if err := w.Check(BootID{0}, 2, true); err != nil {
		t.Errorf("forgotten boot: got %v", err)
	}
	if got, ok := w.Boot(); !ok || got != (BootID{0}) {
		t.Errorf("Boot() = %v, %v", got, ok)
	}
}

func TestSenderReceiver(t *testing.T) {
	key := []byte("shared")
	primary := NewSender(NewCodec(key), RolePrimary, BootID{1})
	secondaryBoot := BootID{2}
	rx := NewReceiver(NewCodec(key), secondaryBoot)

	var msgs [][]byte
	for i := 0; i < 3; i++ {
		b, err := primary.Encode(&Control{Op: OpAckReady, Token: uint32(i)})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	// Delivered out of order: all accepted once.
	for _, i := range []int{0, 2, 1} {
		m, err := rx.Decode(msgs[i])
		if err != nil {
			t.Fatalf("msg %d: %v", i, err)
		}
		if m.Seq != uint64(i+1) || m.Body.(*Control).Token != uint32(i) || !m.Authenticated || m.Role != RolePrimary {
			t.Errorf("msg %d: %+v", i, m)
		}
	}
	if _, err := rx.Decode(msgs[1]); !errors.Is(err, ErrReplay) {
		t.Errorf("replay: got %v", err)
	}
	// Our own message sent back to us authenticates but is refused.
	own, _ := NewSender(NewCodec(key), RoleSecondary, secondaryBoot).Encode(&BulkBegin{})
	if _, err := rx.Decode(own); !errors.Is(err, ErrReflected) {
		t.Errorf("reflection: got %v", err)
	}
	// The primary restarts: its new boot is accepted from seq 1, and the
	// old boot's messages can no longer be replayed.
	restarted := NewSender(NewCodec(key), RolePrimary, BootID{3})
	b, _ := restarted.Encode(&BulkBegin{})
	if _, err := rx.Decode(b); err != nil {
		t.Fatalf("restarted peer: %v", err)
	}
	if _, err := rx.Decode(msgs[0]); !errors.Is(err, ErrReplay) {
		t.Errorf("old boot after restart: got %v", err)
	}
	// A forged restart (wrong key) does not reset the window.
	forged, _ := NewSender(NewCodec([]byte("guess")), RolePrimary, BootID{4}).Encode(&BulkBegin{})
	if _, err := rx.Decode(forged); !errors.Is(err, ErrBadMAC) {
		t.Errorf("forged: got %v", err)
	}
	if boot, _ := rx.Window().Boot(); boot != (BootID{3}) {
		t.Errorf("window follows %s", boot)
	}
}

func TestReceiverConcurrent(t *testing.T) {
	s := NewSender(NewCodec(nil), RolePrimary, BootID{9})
	rx := NewReceiver(NewCodec(nil), BootID{8})
	const n = 200
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i], _ = s.Encode(&IfHello{Name: "inside"})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range msgs { // every goroutine delivers every message
				if _, err := rx.Decode(b); err == nil {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	// Each message is accepted at most once; races may push some out of the
	// window, but never accept one twice.
	if accepted > n || accepted < WindowSize {
		t.Fatalf("accepted %d of %d", accepted, n)
	}
}

func TestNewBootID(t *testing.T) {
	if a, b := NewBootID(), NewBootID(); a == b || a == (BootID{}) {
		t.Fatal("two boot ids are equal")
	}
}
