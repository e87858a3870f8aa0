package api

import "time"

// More ops a client may send.
const (
	OpStatus    = "status"    // reply's Status holds the machine-readable state
	OpSubscribe = "subscribe" // the connection becomes a stream of JSON event lines
)

// Status is the daemon's state for programs: what show failover, show
// track, show sla monitor and show route tell an operator, as data. The
// field names are part of the interface (fosh --json status, SNMP, scripts).
type Status struct {
	Version       string         `json:"version"`
	Hostname      string         `json:"hostname"`
	Time          time.Time      `json:"time"`
	ConfigVersion uint64         `json:"config_version"` // running-config changes since start
	EventSeq      uint64         `json:"event_seq"`      // last event emitted
	Failover      *FailoverStat  `json:"failover,omitempty"`
	StateSync     *StateSyncStat `json:"state_sync,omitempty"`
	SLAs          []SLAStat      `json:"slas"`
	Tracks        []TrackStat    `json:"tracks"`
	Routes        []RouteStat    `json:"routes"`
}

// FailoverStat is the unit failover state (show failover).
type FailoverStat struct {
	Enabled       bool          `json:"enabled"`
	Role          string        `json:"role"`  // Primary|Secondary
	State         string        `json:"state"` // Disabled|Negotiation|Sync Config|Standby|Active|Failed
	StateSince    time.Time     `json:"state_since"`
	LastFailover  time.Time     `json:"last_failover,omitzero"`
	ActiveSeconds int64         `json:"active_seconds"`
	Cable         string        `json:"cable"`
	Mate          MateStat      `json:"mate"`
	Interfaces    []IfStat      `json:"interfaces"`
	Transitions   []Transition  `json:"transitions"` // counts since start
	Messages      MessageCounts `json:"messages"`
	ReplicatedVer uint64        `json:"replicated_config_version"`
}

// MateStat is what this unit knows of the other one.
type MateStat struct {
	Seen  bool   `json:"seen"`  // heard (LAN link or data interfaces) within the hold time
	Role  string `json:"role"`  // announced role, or the expected one
	State string `json:"state"` // as announced; "Not Detected" when not seen
}

// IfStat is one interface of the pair.
type IfStat struct {
	Name       string `json:"name"`
	Device     string `json:"device"`
	Address    string `json:"address"` // what this unit holds now
	Status     string `json:"status"`  // Normal|Waiting|Testing|Failed|No Link|Link Down
	Monitored  bool   `json:"monitored"`
	FailoverIf bool   `json:"failover_link"`
	MateStatus string `json:"mate_status"`
}

// Transition counts state changes into To for Reason.
type Transition struct {
	To     string `json:"to"`
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// MessageCounts are failover protocol messages by type (hello, if_hello,
// config_line, ...) and rejected ones by cause (bad_mac, replay, ...).
type MessageCounts struct {
	Sent       map[string]uint64 `json:"sent"`
	SendErrors map[string]uint64 `json:"send_errors"`
	Received   map[string]uint64 `json:"received"`
	Rejected   map[string]uint64 `json:"rejected"`
}

// SLAStat is one sla monitor operation.
type SLAStat struct {
	ID         int               `json:"id"`
	Target     string            `json:"target"`
	Interface  string            `json:"interface"`
	State      string            `json:"state"` // Active|Pending|Inactive
	ReturnCode string            `json:"return_code"`
	RTTSeconds float64           `json:"rtt_seconds"`
	Operations map[string]uint64 `json:"operations"` // completed operations by return code
}

// TrackStat is one track object.
type TrackStat struct {
	ID         int       `json:"id"`
	SLA        int       `json:"sla,omitempty"`  // rtr tracks
	List       string    `json:"list,omitempty"` // and|or for list tracks
	Objects    []int     `json:"objects,omitempty"`
	State      string    `json:"state"` // Up|Down
	Changes    int       `json:"changes"`
	LastChange time.Time `json:"last_change"`
}

// RouteStat is one configured static route.
type RouteStat struct {
	Interface   string `json:"interface"`
	Destination string `json:"destination"` // prefix
	Gateway     string `json:"gateway"`
	Distance    int    `json:"distance"`
	Track       int    `json:"track,omitempty"`
	Selected    bool   `json:"selected"`  // chosen for its destination
	Installed   bool   `json:"installed"` // in the kernel as far as the engine knows
}

// StateSyncStat is stateful failover (connection replication): the table
// this unit sends (active) or holds (standby), objects by row and
// direction, and the queues of show failover.
type StateSyncStat struct {
	Enabled   bool              `json:"enabled"`
	Conns     int               `json:"conns"`
	Xlates    int               `json:"xlates"`
	ByProto   map[string]int    `json:"by_proto"` // tcp, udp, icmp
	Objects   map[string]uint64 `json:"objects"`  // "tcp/xmit", "udp/rerr", "xlate/rcv", ...
	RecvQueue uint64            `json:"recv_queue"`
	RecvMax   uint64            `json:"recv_queue_max"`
	XmitQueue uint64            `json:"xmit_queue"`
	XmitMax   uint64            `json:"xmit_queue_max"`
	BulkSyncs uint64            `json:"bulk_syncs"`
	Malformed uint64            `json:"malformed"`
}
