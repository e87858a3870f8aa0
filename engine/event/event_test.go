package event

import (
	"testing"
	"time"
)

func TestOrderAndOverflow(t *testing.T) {
	b := NewBus(func() time.Time { return time.Unix(100, 0) })
	fast := b.Subscribe(10)
	slow := b.Subscribe(2)
	for i := range 5 {
		b.Emit(Event{Kind: Track, Track: i + 1})
	}
	for want := uint64(1); want <= 5; want++ {
		ev := <-fast.C
		if ev.Seq != want || ev.Track != int(want) || !ev.Time.Equal(time.Unix(100, 0)) {
			t.Fatalf("fast got %+v, want seq %d", ev, want)
		}
	}
	var got []uint64
	for ev := range slow.C { // closed when cut off
		got = append(got, ev.Seq)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("slow got %v, want [1 2] then closed", got)
	}
	if n, ok := slow.Overflowed(); !ok || n != 1 {
		t.Errorf("slow Overflowed = %d, %v; want 1 missed at the cut", n, ok)
	}
	if _, ok := fast.Overflowed(); ok {
		t.Error("fast subscriber reported overflow")
	}
	b.Emit(Event{Kind: Config})
	if ev := <-fast.C; ev.Seq != 6 {
		t.Errorf("after the cut, fast got seq %d, want 6", ev.Seq)
	}
	fast.Close()
	fast.Close() // idempotent
	if _, ok := <-fast.C; ok {
		t.Error("closed subscription still delivers")
	}
	if b.Seq() != 6 {
		t.Errorf("Seq = %d, want 6", b.Seq())
	}
	var nb *Bus
	nb.Emit(Event{}) // a nil bus drops events
}
