package snmp

import (
	"log/slog"
	"time"

	"failover/engine/api"
)

// StatusClient is the part of an api.Client a Source uses.
type StatusClient interface {
	Status() (*api.Status, error)
	Close() error
}

// Source keeps the table built from the daemon's status. A walk is a
// getnext per variable: the status fetched for the first one serves the
// following ones for MaxAge, so a walk reads one consistent status and
// costs the daemon one request, not one per variable. Its session stays
// open between requests; it reconnects when the daemon restarted.
type Source struct {
	Dial   func() (StatusClient, error)
	MaxAge time.Duration
	Log    *slog.Logger
	Now    func() time.Time // time.Now when nil

	client StatusClient
	vars   []Var
	at     time.Time
	failed bool // the last fetch failed (logged once until it works again)
}

// Vars returns the table, fetching a fresh status when the last one is
// older than MaxAge. While the daemon cannot be reached the table is
// empty: every get is answered NONE (noSuchInstance), which a monitoring
// system shows as an unknown state rather than a stale one.
func (s *Source) Vars() []Var {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if s.vars != nil && now().Sub(s.at) < s.MaxAge {
		return s.vars
	}
	st, err := s.fetch()
	if err != nil {
		if !s.failed {
			s.Log.Error("failed to get the status of failoverd", "err", err)
		}
		s.failed, s.vars = true, nil
		return nil
	}
	if s.failed {
		s.Log.Info("status of failoverd available again")
	}
	s.failed, s.vars, s.at = false, Table(st), now()
	return s.vars
}

// fetch asks for the status on the open session, or on a new one when
// there is none or the old one broke (the daemon restarted).
func (s *Source) fetch() (*api.Status, error) {
	for attempt := 0; ; attempt++ {
		if s.client == nil {
			c, err := s.Dial()
			if err != nil {
				return nil, err
			}
			s.client = c
		}
		st, err := s.client.Status()
		if err == nil {
			return st, nil
		}
		s.client.Close()
		s.client = nil
		if attempt == 1 {
			return nil, err
		}
	}
}

// Close ends the session with the daemon.
func (s *Source) Close() {
	if s.client != nil {
		s.client.Close()
		s.client = nil
	}
}
