package cli

import (
	"fmt"
	"sync"
	"time"
)

// pwGuard slows down password guessing. Checks for one peer (its uid, as
// the kernel reports it: a client cannot change it by reconnecting or by
// claiming another SSH address) run one at a time, and each one waits
// longer the more failures that peer had in a row: a person who mistypes
// waits a second, a guessing program gets one try every 30 s. The count
// is forgotten after a success or 15 minutes without a failure.
type pwGuard struct {
	base, max time.Duration
	forget    time.Duration
	// sleep waits d or until stop is closed (false); tests record it.
	sleep func(d time.Duration, stop <-chan struct{}) bool

	mu    sync.Mutex
	peers map[string]*pwPeer
}

type pwPeer struct {
	turn  chan struct{} // one check at a time
	fails int
	last  time.Time
}

func newPWGuard() *pwGuard {
	return &pwGuard{base: time.Second, max: 30 * time.Second, forget: 15 * time.Minute, sleep: sleepOrStop, peers: map[string]*pwPeer{}}
}

func sleepOrStop(d time.Duration, stop <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// delay is the wait before a check after fails failures in a row.
func (g *pwGuard) delay(fails int) time.Duration {
	if fails <= 0 {
		return 0
	}
	d := g.base
	for i := 1; i < fails && d < g.max; i++ {
		d *= 2
	}
	return min(d, g.max)
}

// check runs ok for the peer after its delay and records the result. It
// returns the peer's failures in a row after this check, or an error when
// stop closed first.
func (g *pwGuard) check(peer string, stop <-chan struct{}, ok func() bool) (bool, int, error) {
	g.mu.Lock()
	p := g.peers[peer]
	if p == nil {
		p = &pwPeer{turn: make(chan struct{}, 1)}
		g.peers[peer] = p
	}
	g.mu.Unlock()
	select {
	case p.turn <- struct{}{}:
	case <-stop:
		return false, 0, fmt.Errorf("failed to check the password: stopping")
	}
	defer func() { <-p.turn }()
	g.mu.Lock()
	if time.Since(p.last) > g.forget {
		p.fails = 0
	}
	wait := g.delay(p.fails)
	g.mu.Unlock()
	if !g.sleep(wait, stop) {
		return false, 0, fmt.Errorf("failed to check the password: stopping")
	}
	good := ok()
	g.mu.Lock()
	defer g.mu.Unlock()
	if good {
		delete(g.peers, peer)
		return true, 0, nil
	}
	p.fails++
	p.last = time.Now()
	return false, p.fails, nil
}
