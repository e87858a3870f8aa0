package clock

import (
	"testing"
	"time"
)

// Timers fire in deadline order, each seeing Now at its deadline; a timer
// armed by a firing timer fires in the same Advance when it falls due;
// stopped timers never fire.
func TestFakeAdvance(t *testing.T) {
	c := NewFake()
	start := c.Now()
	var got []time.Duration
	rec := func() { got = append(got, c.Now().Sub(start)) }
	c.AfterFunc(3*time.Second, rec)
	c.AfterFunc(time.Second, func() {
		rec()
		c.AfterFunc(time.Second, rec) // due at 2 s
	})
	stopped := c.AfterFunc(1500*time.Millisecond, rec)
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	c.AfterFunc(10*time.Second, rec)
	c.Advance(5 * time.Second)
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("fired at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fired at %v, want %v", got, want)
		}
	}
	if c.Now().Sub(start) != 5*time.Second {
		t.Fatalf("now is %v after Advance(5s)", c.Now().Sub(start))
	}
}
