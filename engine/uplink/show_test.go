package uplink

import (
	"strings"
	"testing"
	"time"

	"failover/engine/config"
	"failover/engine/probe"
)

// showAll is every show command's output, as an operator would read them.
func showAll(h *harness) string {
	var b strings.Builder
	for _, s := range []struct{ cmd, out string }{
		{"show route", h.m.ShowRoute(h.cfg, nil)},
		{"show track", h.m.ShowTrack(0)},
		{"show sla monitor configuration", h.m.ShowSLAConfig(h.cfg, 0)},
		{"show sla monitor operational-state", h.m.ShowSLAOper(0)},
	} {
		b.WriteString("# " + s.cmd + "\n" + s.out + "\n")
	}
	return b.String()
}

// showConfig adds, to the sample configuration, an unscheduled SLA on the backup with a
// millisecond frequency and a list track, to cover the other output forms.
func showConfig() *config.Config {
	c := seedConfig()
	c.SLAs[20] = &config.SLA{ID: 20, Typed: true, Target: backupTgt, If: "backup", NumPackets: 3,
		Frequency: 500, FreqMsec: true, TOS: 0x10, DataSize: 64, Life: -1}
	c.Tracks[2] = &config.Track{ID: 2, SLA: 20}
	c.Tracks[3] = &config.Track{ID: 3, List: "or", Objects: []int{1, 2}}
	return c
}

func TestShowOnPrimary(t *testing.T) {
	h := newHarness(t, showConfig())
	h.start()
	h.advance(62 * time.Second)
	h.wantMain(viaPrimary)
	golden(t, "show_on_primary.golden", showAll(h))
}

func TestShowDelayPendingAndOnBackup(t *testing.T) {
	h := newHarness(t, showConfig())
	h.start()
	h.advance(10 * time.Second)
	// The name no longer resolves: the probe cannot even be sent.
	h.pr.SetResult(primaryTgt, probe.Result{Err: "lookup isp.example: no such host"})
	h.advance(2 * time.Second)
	pending := h.m.ShowTrack(1)
	if !strings.Contains(pending, "Reachability is Up, delayed Down (2 secs remaining)") {
		t.Errorf("show track 1 while the down delay runs:\n%s", pending)
	}
	h.advance(3 * time.Second)
	h.wantMain(viaBackup)
	golden(t, "show_on_backup.golden", pending+"\n"+showAll(h))
}

func TestShowUnknownIDs(t *testing.T) {
	h := newHarness(t, seedConfig())
	h.start()
	for _, got := range []string{h.m.ShowTrack(9), h.m.ShowSLAOper(9), h.m.ShowSLAConfig(h.cfg, 9)} {
		if !strings.Contains(got, "9 does not exist") {
			t.Errorf("unknown id: %q", got)
		}
	}
}
