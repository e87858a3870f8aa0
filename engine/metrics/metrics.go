// Package metrics exports the daemon's state to Prometheus
// (github.com/prometheus/client_golang). Every value comes from the status
// snapshot the event loop last published: a scrape never touches engine
// state. Names follow Prometheus conventions: the failover_ prefix, base
// units, _total for counters, few label values (states are one-hot gauges
// with every possible state present, so alerts can test "== 1").
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"failover/engine/api"
	"failover/engine/unit"
	"failover/engine/version"
)

// Source returns the latest published status (nil before the first).
type Source func() *api.Status

// Unit and interface states, each exported as one series of a one-hot set.
var (
	unitStates  = unit.StateNames()
	mateStates  = append([]string{"Not Detected"}, unitStates...)
	ifStates    = []string{"Normal", "Waiting", "Testing", "Failed", "No Link", "Link Down", "Unknown"}
	returnCodes = []string{"OK", "Over threshold", "Timeout", "No connection", "Error", "Unknown"}
	roles       = []string{"Primary", "Secondary"}
)

// label turns a display word into a label value: "Sync Config" -> "sync_config".
func label(s string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(s))
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("failover_"+name, help, labels, nil)
}

var (
	dBuild       = desc("build_info", "Build of the running failoverd (always 1).", "version", "revision", "goversion")
	dUp          = desc("status_up", "1 when the event loop has published a status.")
	dAge         = desc("status_age_seconds", "Age of the published status snapshot.")
	dCfgVersion  = desc("config_version", "Accepted configuration changes since the daemon started.")
	dEvents      = desc("events_total", "Events emitted on the event stream.")
	dEnabled     = desc("unit_enabled", "1 when unit failover is on.")
	dRole        = desc("unit_role", "Configured unit role (one-hot).", "role")
	dState       = desc("unit_state", "This unit's failover state (one-hot).", "state")
	dStateSince  = desc("unit_state_change_timestamp_seconds", "When this unit entered its current state (Unix time).")
	dActiveTime  = desc("unit_active_seconds_total", "Time this unit has been active since the daemon started.")
	dReplVersion = desc("unit_replicated_config_version", "Version of the replicated configuration.")
	dMateSeen    = desc("mate_seen", "1 when the mate is heard within the hold time.")
	dMateState   = desc("mate_state", "The mate's announced state (one-hot; not_detected when not heard).", "state")
	dTransitions = desc("unit_transitions_total", "State changes of this unit by target state and reason.", "state", "reason")
	dSent        = desc("messages_sent_total", "Failover protocol messages sent, by type.", "type")
	dSendErr     = desc("message_send_errors_total", "Failover protocol messages that could not be sent, by type.", "type")
	dRecv        = desc("messages_received_total", "Failover protocol messages accepted, by type.", "type")
	dRejected    = desc("messages_rejected_total", "Failover protocol messages dropped, by cause.", "cause")
	dIfState     = desc("interface_state", "Monitoring state of each failover interface (one-hot).", "interface", "state")
	dIfMonitored = desc("interface_monitored", "1 when the interface is monitored for failover.", "interface")
	dSLAUp       = desc("sla_reachable", "1 when the SLA's latest operation reached its target.", "sla")
	dSLACode     = desc("sla_return_code", "The SLA's latest return code (one-hot).", "sla", "code")
	dSLARTT      = desc("sla_rtt_seconds", "Round-trip time of the SLA's latest successful operation.", "sla")
	dSLAOps      = desc("sla_operations_total", "Completed SLA operations by return code.", "sla", "code")
	dTrackUp     = desc("track_up", "1 when the track object is Up.", "track")
	dTrackChg    = desc("track_changes_total", "State changes of the track object.", "track")
	dSyncEnabled = desc("statesync_enabled", "1 when connection replication runs.")
	dSyncEntries = desc("statesync_connections", "Connections in the replicated table, by protocol.", "proto")
	dSyncXlates  = desc("statesync_xlates", "Translated connections in the replicated table.")
	dSyncObjects = desc("statesync_objects_total", "Replicated objects by row (xlate, tcp, udp) and direction (xmit, xerr, rcv, rerr).", "row", "direction")
	dSyncQueue   = desc("statesync_queue_length", "Replication queue lengths: recv (waiting for the kernel), xmit (sent, not acknowledged).", "queue")
	dSyncQueueMx = desc("statesync_queue_max_length", "Longest replication queue seen.", "queue")
	dSyncBulk    = desc("statesync_bulk_syncs_total", "Whole tables sent or received.")
	dSyncBad     = desc("statesync_malformed_total", "Authenticated replication payloads that did not decode.")
	dRoute       = desc("route_selected", "1 when the configured route is the one chosen for its destination.", "destination", "interface", "gateway")
)

// Collector turns the published status into metrics at each scrape.
type Collector struct {
	src Source
	now func() time.Time
}

// NewCollector returns a collector reading src.
func NewCollector(src Source) *Collector { return &Collector{src: src, now: time.Now} }

// Describe sends every metric description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dBuild, dUp, dAge, dCfgVersion, dEvents, dEnabled, dRole, dState,
		dStateSince, dActiveTime, dReplVersion, dMateSeen, dMateState, dTransitions, dSent, dSendErr, dRecv,
		dRejected, dIfState, dIfMonitored, dSLAUp, dSLACode, dSLARTT, dSLAOps, dTrackUp, dTrackChg, dRoute,
		dSyncEnabled, dSyncEntries, dSyncXlates, dSyncObjects, dSyncQueue, dSyncQueueMx, dSyncBulk, dSyncBad} {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect sends the metrics of the latest snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	oneHot := func(d *prometheus.Desc, all []string, cur string, pre ...string) {
		for _, s := range all {
			gauge(d, b2f(s == cur), append(append([]string{}, pre...), label(s))...)
		}
	}
	bi := version.Get()
	gauge(dBuild, 1, bi.Version, bi.Revision, bi.GoVersion)
	s := c.src()
	gauge(dUp, b2f(s != nil))
	if s == nil {
		return
	}
	gauge(dAge, c.now().Sub(s.Time).Seconds())
	gauge(dCfgVersion, float64(s.ConfigVersion))
	counter(dEvents, float64(s.EventSeq))
	if f := s.Failover; f != nil {
		gauge(dEnabled, b2f(f.Enabled))
		oneHot(dRole, roles, f.Role)
		oneHot(dState, unitStates, f.State)
		gauge(dStateSince, float64(f.StateSince.UnixNano())/1e9)
		counter(dActiveTime, float64(f.ActiveSeconds))
		gauge(dReplVersion, float64(f.ReplicatedVer))
		gauge(dMateSeen, b2f(f.Mate.Seen))
		oneHot(dMateState, mateStates, f.Mate.State)
		for _, t := range f.Transitions {
			counter(dTransitions, float64(t.Count), label(t.To), t.Reason)
		}
		for typ, n := range f.Messages.Sent {
			counter(dSent, float64(n), typ)
		}
		for typ, n := range f.Messages.SendErrors {
			counter(dSendErr, float64(n), typ)
		}
		for typ, n := range f.Messages.Received {
			counter(dRecv, float64(n), typ)
		}
		for cause, n := range f.Messages.Rejected {
			counter(dRejected, float64(n), cause)
		}
		for _, i := range f.Interfaces {
			oneHot(dIfState, ifStates, i.Status, i.Name)
			gauge(dIfMonitored, b2f(i.Monitored), i.Name)
		}
	}
	if r := s.StateSync; r != nil {
		gauge(dSyncEnabled, b2f(r.Enabled))
		for p, n := range r.ByProto {
			gauge(dSyncEntries, float64(n), p)
		}
		gauge(dSyncXlates, float64(r.Xlates))
		for k, n := range r.Objects {
			row, dir, _ := strings.Cut(k, "/")
			counter(dSyncObjects, float64(n), row, dir)
		}
		gauge(dSyncQueue, float64(r.RecvQueue), "recv")
		gauge(dSyncQueue, float64(r.XmitQueue), "xmit")
		gauge(dSyncQueueMx, float64(r.RecvMax), "recv")
		gauge(dSyncQueueMx, float64(r.XmitMax), "xmit")
		counter(dSyncBulk, float64(r.BulkSyncs))
		counter(dSyncBad, float64(r.Malformed))
	}
	for _, a := range s.SLAs {
		id := fmt.Sprint(a.ID)
		gauge(dSLAUp, b2f(a.ReturnCode == "OK" || a.ReturnCode == "Over threshold"), id)
		oneHot(dSLACode, returnCodes, a.ReturnCode, id)
		gauge(dSLARTT, a.RTTSeconds, id)
		for code, n := range a.Operations {
			counter(dSLAOps, float64(n), id, label(code))
		}
	}
	for _, t := range s.Tracks {
		id := fmt.Sprint(t.ID)
		gauge(dTrackUp, b2f(t.State == "Up"), id)
		counter(dTrackChg, float64(t.Changes), id)
	}
	for _, r := range s.Routes {
		gauge(dRoute, b2f(r.Selected), r.Destination, r.Interface, r.Gateway)
	}
}

// Handler is the /metrics handler: these metrics plus the Go runtime's and
// the process's.
func Handler(src Source) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(src), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// Listen opens addr (host:port) at once, so that a bad address stops the
// daemon at start rather than later, and serves /metrics until ctx ends.
func Listen(ctx context.Context, addr string, src Source, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(src))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server failed", "err", err)
		}
	}()
	return nil
}
