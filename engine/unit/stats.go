package unit

// counter is one row of the `show failover` statistics.
type counter struct{ xmit, xerr, rcv, rerr uint64 }

// stats are this unit's failover traffic counters (SPEC §4). Rows that
// stateful failover will fill (xlate, tcp/udp conn, ARP, RIP) stay zero
// until it exists; they are printed as zero rather than invented.
type stats struct {
	general, sysCmd, upTime, xlate, tcpConn, udpConn, arp, rip counter

	recvCur, recvMax, recvTotal uint64
	xmitMax, xmitTotal          uint64
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
