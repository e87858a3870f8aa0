package lab

import (
	"strings"
	"testing"
	"time"
)

// `failover` typed on a standalone router that has no unit role and no
// failover LAN interface does not make it a pair: it keeps its addresses
// and keeps routing, and the show commands say so.
func TestStandaloneFailoverKeepsAddresses(t *testing.T) {
	t.Parallel()
	l := startConfigured(t, isp1Tracked("frequency 1", "delay down 2 up 3"))
	l.Configure("failover")
	time.Sleep(3 * time.Second) // longer than the default unit hold time would need to matter
	out, err := l.Exec("pri", "ip", "-4", "-o", "addr", "show", "dev", "inside")
	if err != nil || !strings.Contains(out, " 192.0.2.1/28 ") {
		t.Fatalf("after failover the standalone router lost its inside address: %v\n%s", err, out)
	}
	ip := l.Show("show ip address")
	if !strings.Contains(ip[strings.Index(ip, "Current IP Addresses:"):], "ip address inside 192.0.2.1 255.255.255.240") {
		t.Errorf("show ip address:\n%s", ip)
	}
	if fo := l.Show("show failover"); !strings.HasPrefix(fo, "Failover Off\n") {
		t.Errorf("show failover on a unit without role or LAN interface:\n%s", fo)
	}
	if out, ok := l.Ping("-c", "3", "-W", "1"); !ok {
		t.Errorf("client lost the server after failover on a standalone router:\n%s", out)
	}
}
