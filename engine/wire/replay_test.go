package wire

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestReplayWindow(t *testing.T) {
	type step struct {
		seq uint64
		ok  bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{1, true}, {2, true}, {3, true}}},
		{"duplicate", []step{{1, true}, {1, false}}},
		{"duplicate below top", []step{{5, true}, {3, true}, {3, false}, {4, true}}},
		{"zero never", []step{{0, false}, {1, true}, {0, false}}},
		{"gap then late arrivals", []step{{1, true}, {10, true}, {2, true}, {9, true}, {2, false}}},
		{"edge of window", []step{{100, true}, {100 - WindowSize + 1, true}, {100 - WindowSize + 1, false}}},
		{"out of window", []step{{100, true}, {100 - WindowSize, false}, {1, false}}},
		{"jump beyond window clears bitmap", []step{{1, true}, {1000, true}, {999, true}, {1000, false}, {937, true}, {936, false}}},
		{"huge sequence", []step{{1, true}, {^uint64(0), true}, {^uint64(0), false}, {^uint64(0) - 1, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w ReplayWindow
			for i, s := range tt.steps {
				err := w.Check(s.seq)
				if s.ok && err != nil {
					t.Fatalf("step %d (seq %d): unexpected %v", i, s.seq, err)
				}
				if !s.ok && !errors.Is(err, ErrReplay) {
					t.Fatalf("step %d (seq %d): got %v, want ErrReplay", i, s.seq, err)
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
		err := w.Check(seq)
		if (err == nil) != want {
			t.Fatalf("arrival %d seq %d top %d: err %v, want accept=%v", i, seq, top, err, want)
		}
		if err == nil {
			seen[seq] = true
			top = max(top, seq)
		}
	}
}

var (
	lanIn     = Ingress{Iface: "eth3", Name: "failover", LAN: true}
	insideIn  = Ingress{Iface: "eth1", Name: "inside"}
	outsideIn = Ingress{Iface: "eth0", Name: "outside"}
)

// node is one daemon run: its sender and receiver share a boot id.
type node struct {
	tx *Sender
	rx *Receiver
}

func newNode(key []byte, role Role) *node {
	boot := NewBootID()
	return &node{tx: NewSender(NewCodec(key), role, boot), rx: NewReceiver(NewCodec(key), boot)}
}

func (n *node) msg(t *testing.T, body Body) []byte {
	t.Helper()
	b, err := n.tx.Encode(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// introduce makes to follow from: a message of from is refused as
// unverified with a challenge, which from answers; the answer is accepted.
func introduce(t *testing.T, from, to *node, in Ingress, now time.Time) {
	t.Helper()
	_, ch, err := to.rx.Decode(in, from.msg(t, &Hello{State: UnitActive}), now)
	if !errors.Is(err, ErrUnverified) || ch == nil {
		t.Fatalf("first message of a new boot: got %v, challenge %v; want ErrUnverified and a challenge", err, ch)
	}
	answerChallenge(t, from, to, in, ch, now)
}

func answerChallenge(t *testing.T, from, to *node, in Ingress, ch Body, now time.Time) {
	t.Helper()
	chb, err := to.tx.Encode(ch)
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := from.rx.Decode(in, chb, now)
	if err != nil || resp == nil {
		t.Fatalf("challenge not answered: %v %v", err, resp)
	}
	m, _, err := to.rx.Decode(in, from.msg(t, resp), now)
	if err != nil || m.Type() != TypeResponse {
		t.Fatalf("response not accepted: %v", err)
	}
	if p, ok := to.rx.Peer(); !ok || p != from.tx.BootID() {
		t.Fatalf("receiver follows %s (%v), want %s", p, ok, from.tx.BootID())
	}
}

// The defect this package once had: one recorded datagram of an earlier
// run of the mate, replayed after both daemons restarted, made the receiver
// follow the dead boot and refuse its live mate for good.
func TestRecordedDatagramNeverDisplacesLiveBoot(t *testing.T) {
	key := []byte("lab-key")
	now := time.Unix(1000, 0)
	oldPri, oldSec := newNode(key, RolePrimary), newNode(key, RoleSecondary)
	introduce(t, oldPri, oldSec, lanIn, now)
	// The attacker records hellos, interface hellos, a shutdown hello.
	recorded := [][]byte{
		oldPri.msg(t, &Hello{State: UnitActive}),
		oldPri.msg(t, &Hello{State: UnitActive, Flags: HelloShuttingDown}),
	}
	recIf := oldPri.msg(t, &IfHello{Name: "outside", State: IfNormal})
	recProbe := oldPri.msg(t, &Control{Op: OpProbe, Token: 1})

	// Maintenance: both daemons restart (new boot ids, no memory).
	pri, sec := newNode(key, RolePrimary), newNode(key, RoleSecondary)

	// A replay before the secondary has heard its live mate: refused,
	// whatever it is, and the challenge it causes is never answered by a
	// dead boot. The live primary may answer it: that proves only itself.
	for i, b := range append(recorded, recIf, recProbe) {
		in := lanIn
		if i >= len(recorded) {
			in = outsideIn
		}
		m, _, err := sec.rx.Decode(in, b, now.Add(time.Duration(i)*time.Second))
		if !errors.Is(err, ErrUnverified) {
			t.Fatalf("replay %d before the mate is known: got %v, want ErrUnverified", i, err)
		}
		if m == nil || m.BootID != oldPri.tx.BootID() {
			t.Fatalf("replay %d: unverified message not handed back", i)
		}
		if _, ok := sec.rx.Peer(); ok {
			t.Fatalf("replay %d: receiver follows a boot nobody proved", i)
		}
	}

	now = now.Add(time.Minute)
	introduce(t, pri, sec, lanIn, now)
	// Replays against a live mate: refused, counted by the caller, and the
	// live mate's messages still flow.
	for i, b := range append(recorded, recIf, recProbe) {
		in := lanIn
		if i >= len(recorded) {
			in = outsideIn
		}
		now = now.Add(time.Second)
		_, ch, err := sec.rx.Decode(in, b, now)
		if !errors.Is(err, ErrUnverified) {
			t.Fatalf("replay %d against a live mate: got %v", i, err)
		}
		if ch != nil {
			// The live primary hears the broadcast challenge and answers
			// with its own boot: nothing changes.
			answerChallenge(t, pri, sec, in, ch, now)
		}
		if p, _ := sec.rx.Peer(); p != pri.tx.BootID() {
			t.Fatalf("replay %d moved the receiver to %s", i, p)
		}
		if _, _, err := sec.rx.Decode(lanIn, pri.msg(t, &Hello{State: UnitActive}), now); err != nil {
			t.Fatalf("live mate's hello after replay %d: %v", i, err)
		}
	}
}

func TestResponsesMustAnswerAFreshPendingNonce(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1000, 0)
	a, b := newNode(key, RolePrimary), newNode(key, RoleSecondary)
	_, ch, err := b.rx.Decode(lanIn, a.msg(t, &Hello{}), now)
	if !errors.Is(err, ErrUnverified) || ch == nil {
		t.Fatal(err)
	}
	c := ch.(*Challenge)
	// An answer to another nonce, or after the challenge expired, proves
	// nothing.
	wrong := *c
	wrong.Nonce[0] ^= 1
	if _, _, err := b.rx.Decode(lanIn, a.msg(t, &Response{Nonce: wrong.Nonce}), now); !errors.Is(err, ErrReplay) {
		t.Fatalf("response to an unknown nonce: %v", err)
	}
	if _, _, err := b.rx.Decode(lanIn, a.msg(t, &Response{Nonce: c.Nonce}), now.Add(ChallengeTTL)); !errors.Is(err, ErrReplay) {
		t.Fatalf("late response: %v", err)
	}
	// A fresh challenge, answered in time: accepted once.
	_, ch, _ = b.rx.Decode(lanIn, a.msg(t, &Hello{}), now.Add(ChallengeTTL))
	if ch == nil {
		t.Fatal("no new challenge")
	}
	resp := a.msg(t, &Response{Nonce: ch.(*Challenge).Nonce})
	if _, _, err := b.rx.Decode(lanIn, resp, now.Add(ChallengeTTL)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.rx.Decode(lanIn, resp, now.Add(ChallengeTTL)); !errors.Is(err, ErrReplay) {
		t.Fatalf("replayed response: %v", err)
	}
	// An unauthenticated "response" from a would-be boot is refused by the
	// codec before any of this.
	forger := newNode([]byte("guess"), RolePrimary)
	if _, _, err := b.rx.Decode(lanIn, forger.msg(t, &Response{Nonce: ch.(*Challenge).Nonce}), now); !errors.Is(err, ErrBadMAC) {
		t.Fatalf("forged response: %v", err)
	}
}

func TestOwnBootsAreNeverTheMate(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1000, 0)
	me := newNode(key, RoleSecondary)
	// Our own message looped back or replayed to us.
	if _, _, err := me.rx.Decode(lanIn, me.msg(t, &Hello{}), now); !errors.Is(err, ErrReflected) {
		t.Fatalf("own boot: %v", err)
	}
	// Our own challenge looped back is not answered.
	if _, _, err := me.rx.Decode(lanIn, me.msg(t, &Challenge{}), now); !errors.Is(err, ErrReflected) {
		t.Fatalf("own challenge: %v", err)
	}
	// Our previous run's messages (same role, dead boot): never accepted,
	// since that boot cannot answer a challenge.
	old := me.msg(t, &Hello{State: UnitActive})
	restarted := newNode(key, RoleSecondary)
	for i := range 3 {
		if _, _, err := restarted.rx.Decode(lanIn, old, now.Add(time.Duration(i)*time.Second)); !errors.Is(err, ErrUnverified) {
			t.Fatalf("own previous boot: %v", err)
		}
	}
	if _, ok := restarted.rx.Peer(); ok {
		t.Fatal("own previous boot taken as the mate")
	}
}

func TestRetiredBootRefusedWithoutChallenge(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1000, 0)
	rx := newNode(key, RoleSecondary)
	first := newNode(key, RolePrimary)
	introduce(t, first, rx, lanIn, now)
	late := first.msg(t, &Hello{})
	second := newNode(key, RolePrimary)
	introduce(t, second, rx, lanIn, now.Add(time.Second))
	_, ch, err := rx.rx.Decode(lanIn, late, now.Add(2*time.Second))
	if !errors.Is(err, ErrReplay) || ch != nil {
		t.Fatalf("message of a replaced boot: %v, challenge %v", err, ch)
	}
}

func TestLinks(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1000, 0)
	a, b := newNode(key, RolePrimary), newNode(key, RoleSecondary)
	introduce(t, a, b, lanIn, now)
	tests := []struct {
		name string
		in   Ingress
		body Body
		want error
	}{
		{"hello on a data interface", outsideIn, &Hello{}, ErrWrongLink},
		{"config on a data interface", insideIn, &ConfigLine{Line: "hostname x"}, ErrWrongLink},
		{"control on a data interface", insideIn, &Control{Op: OpBecomeActive}, ErrWrongLink},
		{"interface hello on the LAN", lanIn, &IfHello{Name: "failover"}, ErrWrongLink},
		{"interface hello for another interface", outsideIn, &IfHello{Name: "inside"}, ErrWrongLink},
		{"probe on the LAN", lanIn, &Control{Op: OpProbe}, ErrWrongLink},
		{"interface hello", outsideIn, &IfHello{Name: "outside"}, nil},
		{"probe", insideIn, &Control{Op: OpProbe}, nil},
		{"probe reply", outsideIn, &Control{Op: OpProbeReply}, nil},
		{"control on the LAN", lanIn, &Control{Op: OpWriteMemory}, nil},
	}
	for _, tt := range tests {
		_, _, err := b.rx.Decode(tt.in, a.msg(t, tt.body), now)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	// A probe sent on inside and recorded there is refused on outside: it
	// must not make outside look alive.
	probe := a.msg(t, &Control{Op: OpProbe, Token: 9})
	if _, _, err := b.rx.Decode(insideIn, probe, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.rx.Decode(outsideIn, probe, now); !errors.Is(err, ErrReplay) {
		t.Fatalf("probe replayed on another link: %v", err)
	}
}

// A bulk configuration copy on the LAN link must not push the interface
// hellos sent in the middle of it out of their window.
func TestStreamsHaveTheirOwnWindows(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1000, 0)
	a, b := newNode(key, RolePrimary), newNode(key, RoleSecondary)
	introduce(t, a, b, lanIn, now)
	ifh := a.msg(t, &IfHello{Name: "inside", State: IfNormal})
	for i := range 3 * WindowSize {
		if _, _, err := b.rx.Decode(lanIn, a.msg(t, &BulkLine{Line: "!"}), now); err != nil {
			t.Fatalf("bulk line %d: %v", i, err)
		}
	}
	if _, _, err := b.rx.Decode(insideIn, ifh, now); err != nil {
		t.Fatalf("interface hello sent during a bulk copy: %v", err)
	}
	if _, _, err := b.rx.Decode(insideIn, ifh, now); !errors.Is(err, ErrReplay) {
		t.Fatalf("interface hello twice: %v", err)
	}
}

func TestChallengeAndAnswerLimits(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1000, 0)
	a, b := newNode(key, RolePrimary), newNode(key, RoleSecondary)
	// A flood of unverified messages: one challenge per ChallengeGap.
	challenges := 0
	for i := range 100 {
		_, ch, err := b.rx.Decode(lanIn, a.msg(t, &Hello{}), now.Add(time.Duration(i)*time.Millisecond))
		if !errors.Is(err, ErrUnverified) {
			t.Fatal(err)
		}
		if ch != nil {
			challenges++
		}
	}
	if challenges != 1 {
		t.Errorf("%d challenges in 100 ms, want 1", challenges)
	}
	// The gap is per link: the LAN link's challenge is not held back by
	// one on a data interface, where the mate may not answer yet.
	if _, ch, _ := b.rx.Decode(insideIn, a.msg(t, &IfHello{Name: "inside"}), now.Add(50*time.Millisecond)); ch == nil {
		t.Error("no challenge on another link")
	}
	// A challenge is answered once, and at most ResponsesPerSecond a second.
	c := b.msg(t, &Challenge{Nonce: Nonce{1}})
	if _, r, _ := a.rx.Decode(lanIn, c, now); r == nil {
		t.Fatal("challenge not answered")
	}
	if _, r, _ := a.rx.Decode(lanIn, c, now); r != nil {
		t.Fatal("same challenge answered twice")
	}
	answers := 0
	for i := range 2 * ResponsesPerSecond {
		if _, r, _ := a.rx.Decode(lanIn, b.msg(t, &Challenge{Nonce: Nonce{2, byte(i)}}), now); r != nil {
			answers++
		}
	}
	if answers != ResponsesPerSecond-1 {
		t.Errorf("%d answers in one second, want %d", answers, ResponsesPerSecond-1)
	}
	if _, r, _ := a.rx.Decode(lanIn, b.msg(t, &Challenge{Nonce: Nonce{3}}), now.Add(time.Second)); r == nil {
		t.Error("no answer after the budget renewed")
	}
}

func TestReceiverConcurrent(t *testing.T) {
	now := time.Unix(1000, 0)
	a, b := newNode(nil, RolePrimary), newNode(nil, RoleSecondary)
	introduce(t, a, b, lanIn, now)
	const n = 200
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = a.msg(t, &IfHello{Name: "inside"})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, m := range msgs { // every goroutine delivers every message
				if _, _, err := b.rx.Decode(insideIn, m, now); err == nil {
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

// FuzzReceiver: any datagram on any link never panics the receiver, an
// error never comes with a message (except an unverified one, handed back
// on purpose), and nothing but a live answer to a challenge moves it to a
// boot id: the corpus entries are recordings of a mate that never answers.
func FuzzReceiver(f *testing.F) {
	key := []byte("fuzz-key")
	old := newNode(key, RolePrimary)
	for _, body := range samples() {
		b, err := old.tx.Encode(body)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte("FO"), uint8(1))
	ins := []Ingress{lanIn, insideIn, outsideIn}
	rx := newNode(key, RoleSecondary)
	now := time.Unix(1000, 0)
	f.Fuzz(func(t *testing.T, b []byte, link uint8) {
		now = now.Add(time.Millisecond)
		m, reply, err := rx.rx.Decode(ins[int(link)%len(ins)], b, now)
		switch {
		case err == nil && m == nil:
			t.Fatal("no message and no error")
		case err != nil && m != nil && !errors.Is(err, ErrUnverified):
			t.Fatalf("message returned with %v", err)
		case err != nil && reply != nil && !errors.Is(err, ErrUnverified):
			t.Fatalf("reply returned with %v", err)
		}
		if p, ok := rx.rx.Peer(); ok {
			t.Fatalf("receiver follows %s, which never answered a challenge", p)
		}
	})
}

// A receiver that restarts has empty windows: messages its live mate sent
// before it proved itself (recorded while the receiver was down, never
// seen) must not be accepted as news.
func TestNothingFromBeforeTheProof(t *testing.T) {
	key := []byte("k")
	now := time.Unix(1000, 0)
	mate := newNode(key, RolePrimary)
	early := [][]byte{mate.msg(t, &Hello{State: UnitNegotiation}), mate.msg(t, &IfHello{Name: "inside"})}
	rx := newNode(key, RoleSecondary)
	introduce(t, mate, rx, lanIn, now)
	for i, in := range []Ingress{lanIn, insideIn} {
		if _, _, err := rx.rx.Decode(in, early[i], now); !errors.Is(err, ErrReplay) {
			t.Errorf("message %d from before the proof: %v", i, err)
		}
	}
	if _, _, err := rx.rx.Decode(insideIn, mate.msg(t, &IfHello{Name: "inside"}), now); err != nil {
		t.Errorf("message after the proof: %v", err)
	}
}
