package uplink

// TrackState is the state of a track object.
type TrackState int

const (
	TrackDown TrackState = iota
	TrackUp
)

func (s TrackState) String() string {
	if s == TrackUp {
		return "Up"
	}
	return "Down"
}

// SLAState is the operational state of an SLA operation.
type SLAState int

const (
	SLAInactive SLAState = iota // not scheduled, or its life is over
	SLAPending                  // start-time pending, or before start-time after
	SLAActive                   // probing
)

func (s SLAState) String() string {
	switch s {
	case SLAPending:
		return "Pending"
	case SLAActive:
		return "Active"
	}
	return "Inactive"
}

// ReturnCode is the outcome of an SLA's latest operation.
type ReturnCode int

const (
	CodeUnknown       ReturnCode = iota // no operation completed yet
	CodeOK                              // replies within the threshold
	CodeOverThreshold                   // replies, but slower than the threshold
	CodeTimeout                         // probes sent, no reply in time
	CodeNoConnection                    // the uplink has no carrier
	CodeError                           // the probe could not be sent (e.g. DNS failure)
)

func (c ReturnCode) String() string {
	switch c {
	case CodeOK:
		return "OK"
	case CodeOverThreshold:
		return "Over threshold"
	case CodeTimeout:
		return "Timeout"
	case CodeNoConnection:
		return "No connection"
	case CodeError:
		return "Error"
	}
	return "Unknown"
}

// Reachable says whether the code makes a reachability track Up: OK and
// Over threshold both mean the target answered.
func (c ReturnCode) Reachable() bool {
	return c == CodeOK || c == CodeOverThreshold
}
