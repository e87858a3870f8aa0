package engine

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"sync"
)

// MACStore keeps the burned-in MAC of each interface in a small JSON file,
// so a restarted daemon knows its own MAC even when it was killed while
// wearing its mate's. The file belongs beside the control socket on tmpfs
// (/run): it is forgotten at reboot, exactly when NICs get their burned-in
// MACs back. Entries are keyed by name and ifindex, so a recreated
// interface is learned afresh.
type MACStore struct {
	path string
	log  *slog.Logger
	mu   sync.Mutex
	macs map[string]string
	// submit hands the file write to the engine's file goroutine, so the
	// loop that calls BurnedIn never waits on the disk; nil writes at once.
	submit func(job func()) error
}

// NewMACStore opens (or starts) the store at path.
func NewMACStore(path string, log *slog.Logger) *MACStore {
	s := &MACStore{path: path, log: log, macs: map[string]string{}}
	if b, err := readRegular(path); err == nil {
		if err := json.Unmarshal(b, &s.macs); err != nil {
			log.Warn("ignoring unreadable MAC store", "path", path, "err", err)
			s.macs = map[string]string{}
		}
	}
	return s
}

// BurnedIn implements unit.MACStore.
func (s *MACStore) BurnedIn(link string, index int, current net.HardwareAddr) net.HardwareAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := fmt.Sprintf("%s#%d", link, index)
	if v, ok := s.macs[key]; ok {
		if mac, err := net.ParseMAC(v); err == nil && len(mac) == 6 {
			return mac
		}
	}
	s.macs[key] = current.String()
	b, _ := json.Marshal(s.macs)
	save := func() {
		if err := writeAtomic(s.path, string(b)+"\n"); err != nil {
			s.log.Warn("failed to save the MAC store", "path", s.path, "err", err)
		}
	}
	if s.submit == nil {
		save()
	} else if err := s.submit(save); err != nil {
		s.log.Warn("failed to save the MAC store", "path", s.path, "err", err)
	}
	return current
}
