package uplink

import (
	"net/netip"
	"testing"
	"time"

	"failover/engine/config"
)

const secondTgt = "198.51.100.101"

// listConfig tracks the primary with "list boolean op" over two rtr tracks
// (say a host name and an address), with the delay on the list.
func listConfig(op string, objects ...int) *config.Config {
	c := seedConfig()
	s := *c.SLAs[10]
	s.ID, s.Target = 11, secondTgt
	c.SLAs[11] = &s
	c.Tracks = map[int]*config.Track{
		2: {ID: 2, SLA: 10},
		3: {ID: 3, SLA: 11},
		1: {ID: 1, List: op, Objects: objects, DelayDown: 3, DelayUp: 10},
	}
	return c
}

func TestListOrUpWhileAnyObjectUp(t *testing.T) {
	h := newHarness(t, listConfig("or", 2, 3))
	h.pr.Set(secondTgt, true)
	h.start()
	h.wantMain(viaPrimary)

	h.pr.Set(primaryTgt, false)
	h.advance(10 * time.Second)
	h.wantMain(viaPrimary) // object 3 still up
	if got := h.m.tracks[2].state; got != TrackDown {
		t.Fatalf("track 2 = %s, want Down", got)
	}

	h.takeLogs()
	h.pr.Set(secondTgt, false)
	h.advance(3900 * time.Millisecond) // fails at +1s, list delay 3s
	h.wantMain(viaPrimary)
	h.advance(100 * time.Millisecond)
	h.wantMain(viaBackup)
	wantLogs(t, h.takeLogs(),
		"%PIX-5-622100: Track 3 reachability Up -> Down (SLA 11: Timeout)",
		"%PIX-5-622100: Track 1 list boolean or Up -> Down (object 2 Down, object 3 Down)",
		delPrimary, addBackup)
}

func TestListOrMissingObjectCountsDown(t *testing.T) {
	h := newHarness(t, listConfig("or", 2, 9))
	h.start()
	h.wantMain(viaPrimary) // object 2 up is enough
	h.pr.Set(primaryTgt, false)
	h.advance(4 * time.Second)
	h.wantMain(viaBackup) // object 9 does not exist: down
}

func TestListAndNeedsEveryObject(t *testing.T) {
	h := newHarness(t, listConfig("and", 2, 3))
	h.pr.Set(secondTgt, true)
	h.start()
	h.wantMain(viaPrimary)
	h.pr.Set(secondTgt, false)
	h.advance(4 * time.Second)
	h.wantMain(viaBackup)
}

func TestMissingTrackRouteIsDown(t *testing.T) {
	c := seedConfig()
	c.Routes[0].Track = 7
	h := newHarness(t, c)
	h.start()
	h.wantMain(viaBackup)
}

func TestApplyKeepsUnchangedTrackState(t *testing.T) {
	h := startOnPrimary(t)
	h.pr.Set(primaryTgt, false)
	h.advance(4 * time.Second)
	h.wantMain(viaBackup)
	tr := h.m.tracks[1]

	// An unrelated change (a new route) keeps the track and the SLA.
	c := h.cfg.Clone()
	c.Routes = append(c.Routes, config.Route{If: "inside", Dst: netip.MustParsePrefix("192.0.2.128/25"),
		Gw: netip.MustParseAddr("192.0.2.2"), Distance: 1})
	h.cfg = c
	h.m.Apply(c)
	h.drain()
	if h.m.tracks[1] != tr || tr.state != TrackDown || tr.changes != 2 {
		t.Errorf("track 1 reset by an unrelated change: %+v", tr)
	}
	h.wantMain(viaBackup + "\nroute 192.0.2.128/25 via 192.0.2.2 dev eth2 table main metric 0 proto 250")

	// A shorter delay up takes effect on the pending change.
	h.pr.Set(primaryTgt, true)
	h.advance(time.Second) // up since now
	c = c.Clone()
	c.Tracks[1].DelayUp = 2
	h.cfg = c
	h.m.Apply(c)
	h.drain()
	h.advance(1900 * time.Millisecond)
	h.wantMain(viaBackup + "\nroute 192.0.2.128/25 via 192.0.2.2 dev eth2 table main metric 0 proto 250")
	h.advance(100 * time.Millisecond)
	h.wantMain(viaPrimary + "\nroute 192.0.2.128/25 via 192.0.2.2 dev eth2 table main metric 0 proto 250")
}
