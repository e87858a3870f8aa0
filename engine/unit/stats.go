package unit

import (
	"errors"

	"failover/engine/wire"
)

// counter is one row of the `show failover` statistics.
type counter struct{ xmit, xerr, rcv, rerr uint64 }

// stats are this unit's failover traffic counters, as `show failover` prints them. Rows that
// stateful failover will fill (xlate, tcp/udp conn, ARP, RIP) stay zero
// until it exists; they are printed as zero rather than invented.
type stats struct {
	general, sysCmd, upTime, xlate, tcpConn, udpConn, arp, rip counter

	recvCur, recvMax, recvTotal uint64
	xmitMax, xmitTotal          uint64

	// By message type and rejection cause, for the metrics and status.
	sent, sendErr, recvd, rejected map[string]uint64
}

// countType records one message by its type: sent (or failed to send)
// when tx, received otherwise.
func (s *stats) countType(typ string, tx, bad bool) {
	s.makeMaps()
	switch {
	case tx && bad:
		s.sendErr[typ]++
	case tx:
		s.sent[typ]++
	default:
		s.recvd[typ]++
	}
}

// countRejected records a received message dropped for cause err.
func (s *stats) countRejected(err error) {
	s.makeMaps()
	s.rejected[rejectCause(err)]++
}

func (s *stats) makeMaps() {
	if s.sent == nil {
		s.sent, s.sendErr, s.recvd, s.rejected = map[string]uint64{}, map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
	}
}

// rejectCause names why a message was dropped, in a few stable words.
func rejectCause(err error) string {
	switch {
	case errors.Is(err, wire.ErrBadMAC):
		return "bad_mac"
	case errors.Is(err, wire.ErrReplay):
		return "replay"
	case errors.Is(err, wire.ErrUnauthenticated):
		return "unauthenticated"
	case errors.Is(err, wire.ErrUnexpectedAuth):
		return "unexpected_auth"
	case errors.Is(err, wire.ErrVersion):
		return "version"
	case errors.Is(err, wire.ErrUnverified):
		return "unverified"
	case errors.Is(err, wire.ErrWrongLink):
		return "wrong_link"
	}
	return "malformed"
}

// count records one message: sys says whether it is a hello or control
// message, tx whether sent or received, bad whether it failed or was
// rejected. A rejected message is only counted under General: its type
// cannot be trusted.
func (s *stats) count(sys, tx, bad bool) {
	switch {
	case tx && bad:
		s.general.xerr++
		if sys {
			s.sysCmd.xerr++
		}
	case tx:
		s.general.xmit++
		s.xmitTotal++
		// Sends are synchronous, so the transmit queue never holds more
		// than the message being sent.
		s.xmitMax = max(s.xmitMax, 1)
		if sys {
			s.sysCmd.xmit++
		}
	case bad:
		s.general.rerr++
	default:
		s.general.rcv++
		s.recvTotal++
		if sys {
			s.sysCmd.rcv++
		}
	}
}

// recvQueued records the receive queue depth seen when a packet is taken.
func (s *stats) recvQueued(behind int) {
	s.recvCur = uint64(max(behind, 0))
	s.recvMax = max(s.recvMax, s.recvCur+1)
}
