package engine

import (
	"net"
	"path/filepath"
	"testing"
)

// A daemon restarted after being killed while wearing its mate's MAC gets
// its own MAC back from the store; a recreated interface is learned afresh.
func TestMACStoreSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fo.sock.macs")
	own, _ := net.ParseMAC("02:00:00:00:00:01")
	mate, _ := net.ParseMAC("02:00:00:00:00:02")
	if got := NewMACStore(path, discard()).BurnedIn("inside", 5, own); got.String() != own.String() {
		t.Fatalf("first sight: %v", got)
	}
	again := NewMACStore(path, discard())
	if got := again.BurnedIn("inside", 5, mate); got.String() != own.String() {
		t.Fatalf("after restart wearing the mate's MAC: got %v, want %v", got, own)
	}
	if got := again.BurnedIn("inside", 9, mate); got.String() != mate.String() {
		t.Fatalf("recreated interface: got %v, want %v", got, mate)
	}
}
