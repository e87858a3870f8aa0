package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"failover/engine/api"
)

// Scrape parses the exposition of h with the Prometheus text parser.
func Scrape(t *testing.T, src Source) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(src).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, rec.Body.String())
	}
	return fams
}

// value is Sample that fails the test when there is no such sample.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := Sample(fams, name, labels...)
	if !ok {
		t.Fatalf("no sample %s%v", name, labels)
	}
	return v
}

func TestCollectorFromStatus(t *testing.T) {
	st := &api.Status{
		Time: time.Now(), ConfigVersion: 7, EventSeq: 12,
		Failover: &api.FailoverStat{
			Enabled: true, Role: "Secondary", State: "Active", ActiveSeconds: 42,
			Mate: api.MateStat{Role: "Primary", State: "Not Detected"},
			Interfaces: []api.IfStat{{Name: "inside", Status: "Normal", Monitored: true},
				{Name: "outside", Status: "No Link", Monitored: true}},
			Transitions: []api.Transition{{To: "Active", Reason: "HELLO not heard from mate", Count: 1},
				{To: "Standby", Reason: "Configuration synchronized", Count: 2}},
			Messages: api.MessageCounts{Sent: map[string]uint64{"hello": 30}, Received: map[string]uint64{"hello": 25},
				Rejected: map[string]uint64{"bad_mac": 3}},
		},
		StateSync: &api.StateSyncStat{Enabled: true, Conns: 12, Xlates: 3, ByProto: map[string]int{"tcp": 10, "udp": 2, "icmp": 0},
			Objects: map[string]uint64{"tcp/xmit": 40, "tcp/rcv": 0}, XmitQueue: 2, RecvMax: 5, BulkSyncs: 1},
		SLAs:   []api.SLAStat{{ID: 10, State: "Active", ReturnCode: "Timeout", Operations: map[string]uint64{"OK": 5, "Timeout": 2}}},
		Tracks: []api.TrackStat{{ID: 1, SLA: 10, State: "Down", Changes: 3}},
		Routes: []api.RouteStat{{Interface: "backup", Destination: "0.0.0.0/0", Gateway: "198.51.100.17", Selected: true},
			{Interface: "outside", Destination: "0.0.0.0/0", Gateway: "198.51.100.1", Track: 1}},
	}
	f := Scrape(t, func() *api.Status { return st })
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"failover_status_up", nil, 1},
		{"failover_config_version", nil, 7},
		{"failover_events_total", nil, 12},
		{"failover_unit_state", []string{"state", "active"}, 1},
		{"failover_unit_state", []string{"state", "standby"}, 0},
		{"failover_unit_state", []string{"state", "sync_config"}, 0},
		{"failover_unit_role", []string{"role", "secondary"}, 1},
		{"failover_unit_role", []string{"role", "primary"}, 0},
		{"failover_mate_seen", nil, 0},
		{"failover_mate_state", []string{"state", "not_detected"}, 1},
		{"failover_unit_active_seconds_total", nil, 42},
		{"failover_unit_transitions_total", []string{"state", "standby", "reason", "Configuration synchronized"}, 2},
		{"failover_messages_sent_total", []string{"type", "hello"}, 30},
		{"failover_messages_received_total", []string{"type", "hello"}, 25},
		{"failover_messages_rejected_total", []string{"cause", "bad_mac"}, 3},
		{"failover_interface_state", []string{"interface", "outside", "state", "no_link"}, 1},
		{"failover_interface_state", []string{"interface", "outside", "state", "normal"}, 0},
		{"failover_interface_state", []string{"interface", "inside", "state", "normal"}, 1},
		{"failover_sla_reachable", []string{"sla", "10"}, 0},
		{"failover_sla_return_code", []string{"sla", "10", "code", "timeout"}, 1},
		{"failover_sla_operations_total", []string{"sla", "10", "code", "ok"}, 5},
		{"failover_track_up", []string{"track", "1"}, 0},
		{"failover_track_changes_total", []string{"track", "1"}, 3},
		{"failover_route_selected", []string{"interface", "backup"}, 1},
		{"failover_route_selected", []string{"interface", "outside"}, 0},
		{"failover_build_info", nil, 1},
		{"failover_statesync_enabled", nil, 1},
		{"failover_statesync_connections", []string{"proto", "tcp"}, 10},
		{"failover_statesync_xlates", nil, 3},
		{"failover_statesync_objects_total", []string{"row", "tcp", "direction", "xmit"}, 40},
		{"failover_statesync_queue_length", []string{"queue", "xmit"}, 2},
		{"failover_statesync_queue_max_length", []string{"queue", "recv"}, 5},
		{"failover_statesync_bulk_syncs_total", nil, 1},
	}
	for _, c := range checks {
		if got := value(t, f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for name, fam := range f {
		if strings.HasSuffix(name, "_total") != (fam.GetType() == dto.MetricType_COUNTER) && strings.HasPrefix(name, "failover_") {
			t.Errorf("%s is a %s: counters and only counters end in _total", name, fam.GetType())
		}
	}
}

// Before the loop has published anything only the build info and
// failover_status_up 0 are exported.
func TestCollectorBeforeFirstSnapshot(t *testing.T) {
	f := Scrape(t, func() *api.Status { return nil })
	if v := value(t, f, "failover_status_up"); v != 0 {
		t.Errorf("failover_status_up = %v, want 0", v)
	}
	if _, ok := f["failover_unit_state"]; ok {
		t.Error("unit state exported without a status")
	}
}
