package statesync

import "fmt"

// ShowConnCount renders `show conn count`: the forwarded connections this
// unit passes (active) or holds for a takeover (standby).
func (r *Replicator) ShowConnCount() string {
	if !r.enabled {
		return "0 in use, 0 most used\n"
	}
	n := len(r.mirror)
	if r.role == RoleStandby {
		n = len(r.applied)
	}
	return fmt.Sprintf("%d in use, %d most used\n", n, r.maxConns)
}

// ShowXlateCount renders `show xlate count`: the translated connections.
func (r *Replicator) ShowXlateCount() string {
	if !r.enabled {
		return "0 in use, 0 most used\n"
	}
	return fmt.Sprintf("%d in use, %d most used\n", r.xlates, r.maxXlate)
}
