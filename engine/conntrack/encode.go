package conntrack

import (
	"encoding/binary"
	"net/netip"
)

// Netlink and ctnetlink constants (linux/netlink.h,
// linux/netfilter/nfnetlink.h, linux/netfilter/nfnetlink_conntrack.h).
const (
	nlmsgHdrLen  = 16
	nlmsgError   = 2
	nlmsgDone    = 3
	nlmFRequest  = 0x1
	nlmFAck      = 0x4
	nlmFExcl     = 0x200
	nlmFCreate   = 0x400
	nlaFNested   = 0x8000
	nfnlSubsysCT = 1
	ctMsgNew     = 0
	ctMsgDelete  = 2

	ctaTupleOrig  = 1
	ctaTupleReply = 2
	ctaStatus     = 3
	ctaProtoinfo  = 4
	ctaNATSrc     = 6
	ctaTimeout    = 7
	ctaMark       = 8
	ctaNATDst     = 13
	ctaZone       = 18

	ctaTupleIP    = 1
	ctaTupleProto = 2

	ctaIPv4Src = 1
	ctaIPv4Dst = 2
	ctaIPv6Src = 3
	ctaIPv6Dst = 4

	ctaProtoNum     = 1
	ctaProtoSrcPort = 2
	ctaProtoDstPort = 3
	ctaProtoICMPID  = 4
	ctaProtoICMPTyp = 5
	ctaProtoICMPCod = 6
	ctaProtoICMP6ID = 7
	ctaProtoICMP6Ty = 8
	ctaProtoICMP6Co = 9

	ctaProtoinfoTCP        = 1
	ctaProtoinfoTCPState   = 1
	ctaProtoinfoTCPWScaleO = 2
	ctaProtoinfoTCPWScaleR = 3
	ctaProtoinfoTCPFlagsO  = 4
	ctaProtoinfoTCPFlagsR  = 5

	ctaNATV4MinIP = 1
	ctaNATV4MaxIP = 2
	ctaNATProto   = 3
	ctaNATV6MinIP = 4
	ctaNATV6MaxIP = 5

	ctaProtoNATPortMin = 1
	ctaProtoNATPortMax = 2

	tcpConntrackMax = 10 // TCP_CONNTRACK_MAX on current kernels; larger states are refused
)

// statusNeverSent are bits a create or update must not carry: the kernel
// sets them itself or refuses a change of them (EBUSY).
const statusNeverSent = StatusExpected | StatusDying | StatusTemplate | StatusUntracked

// attrs builds netlink attributes (4-byte aligned TLVs).
type attrs struct{ b []byte }

func (a *attrs) put(typ uint16, data []byte) {
	n := 4 + len(data)
	a.b = binary.NativeEndian.AppendUint16(a.b, uint16(n))
	a.b = binary.NativeEndian.AppendUint16(a.b, typ)
	a.b = append(a.b, data...)
	for len(a.b)%4 != 0 {
		a.b = append(a.b, 0)
	}
}

func (a *attrs) u8(typ uint16, v uint8) { a.put(typ, []byte{v}) }
func (a *attrs) be16(typ uint16, v uint16) {
	a.put(typ, binary.BigEndian.AppendUint16(nil, v))
}
func (a *attrs) be32(typ uint16, v uint32) {
	a.put(typ, binary.BigEndian.AppendUint32(nil, v))
}

// nest appends a nested attribute whose children fn writes.
func (a *attrs) nest(typ uint16, fn func(*attrs)) {
	start := len(a.b)
	a.b = append(a.b, 0, 0, 0, 0)
	fn(a)
	binary.NativeEndian.PutUint16(a.b[start:], uint16(len(a.b)-start))
	binary.NativeEndian.PutUint16(a.b[start+2:], typ|nlaFNested)
}

func (a *attrs) addr(typ uint16, ip netip.Addr) {
	s := ip.AsSlice()
	a.put(typ, s)
}

func (a *attrs) tuple(typ uint16, proto uint8, t Tuple) {
	a.nest(typ, func(a *attrs) {
		a.nest(ctaTupleIP, func(a *attrs) {
			if t.Src.Is4() {
				a.addr(ctaIPv4Src, t.Src)
				a.addr(ctaIPv4Dst, t.Dst)
			} else {
				a.addr(ctaIPv6Src, t.Src)
				a.addr(ctaIPv6Dst, t.Dst)
			}
		})
		a.nest(ctaTupleProto, func(a *attrs) {
			a.u8(ctaProtoNum, proto)
			switch proto {
			case ProtoICMP:
				a.be16(ctaProtoICMPID, t.SrcPort)
				a.u8(ctaProtoICMPTyp, uint8(t.DstPort>>8))
				a.u8(ctaProtoICMPCod, uint8(t.DstPort))
			case ProtoICMPv6:
				a.be16(ctaProtoICMP6ID, t.SrcPort)
				a.u8(ctaProtoICMP6Ty, uint8(t.DstPort>>8))
				a.u8(ctaProtoICMP6Co, uint8(t.DstPort))
			default:
				a.be16(ctaProtoSrcPort, t.SrcPort)
				a.be16(ctaProtoDstPort, t.DstPort)
			}
		})
	})
}

// nat appends a CTA_NAT_SRC or CTA_NAT_DST binding to ip:port (for ICMP
// the port is the echo identifier).
func (a *attrs) nat(typ uint16, ip netip.Addr, port uint16) {
	a.nest(typ, func(a *attrs) {
		if ip.Is4() {
			a.addr(ctaNATV4MinIP, ip)
			a.addr(ctaNATV4MaxIP, ip)
		} else {
			a.addr(ctaNATV6MinIP, ip)
			a.addr(ctaNATV6MaxIP, ip)
		}
		a.nest(ctaNATProto, func(a *attrs) {
			a.be16(ctaProtoNATPortMin, port)
			a.be16(ctaProtoNATPortMax, port)
		})
	})
}

// tcpFlags is struct nf_ct_tcp_flags: the flags to set and the mask of
// flags the message sets. The kernel does not keep window history for a
// created entry, so it must not judge segments by their window: BE_LIBERAL.
func tcpFlags(f uint8) []byte { return []byte{f | TCPFlagBeLiberal, 0xff} }

// family is the nfgenmsg address family of e.
func family(e *Entry) uint8 {
	if e.Orig.Src.Is4() {
		return 2 // AF_INET
	}
	return 10 // AF_INET6
}

// untranslated is the reply tuple e would have without NAT. A create
// carries it and the NAT binding, and the kernel's NAT setup derives the
// translated reply tuple from both. Given the translated tuple instead, the
// setup finds nothing to translate, leaves IPS_SRC_NAT unset, and the
// entry matches the server's packets without translating them back.
func untranslated(e *Entry) Tuple {
	r := Tuple{Src: e.Orig.Dst, Dst: e.Orig.Src, SrcPort: e.Orig.DstPort, DstPort: e.Orig.SrcPort}
	if e.Proto == ProtoICMP || e.Proto == ProtoICMPv6 {
		// Same identifier; the reply's type and code (echo reply).
		r.SrcPort, r.DstPort = e.Orig.SrcPort, e.Reply.DstPort
	}
	return r
}

// appendMsg appends one ctnetlink request for op to b. create says whether
// to send a create (with the reply tuple and the NAT binding, which the
// kernel accepts only for a new entry) or an update.
func appendMsg(b []byte, seq uint32, kind OpKind, e *Entry) []byte {
	start := len(b)
	typ, flags := uint16(nfnlSubsysCT<<8|ctMsgNew), uint16(nlmFRequest|nlmFAck)
	switch kind {
	case OpCreate:
		flags |= nlmFCreate | nlmFExcl
	case OpDelete:
		typ = nfnlSubsysCT<<8 | ctMsgDelete
	}
	b = append(b, make([]byte, nlmsgHdrLen)...)
	binary.NativeEndian.PutUint16(b[start+4:], typ)
	binary.NativeEndian.PutUint16(b[start+6:], flags)
	binary.NativeEndian.PutUint32(b[start+8:], seq)
	b = append(b, family(e), 0, 0, 0) // nfgenmsg: family, version 0, res_id 0
	a := attrs{b: b}
	a.tuple(ctaTupleOrig, e.Proto, e.Orig)
	if e.Zone != 0 {
		a.be16(ctaZone, e.Zone)
	}
	if kind != OpDelete {
		status := e.Status&^statusNeverSent | StatusConfirmed
		if kind == OpCreate {
			a.tuple(ctaTupleReply, e.Proto, untranslated(e))
			if e.SrcNAT() {
				port := e.Reply.DstPort
				if e.Proto == ProtoICMP || e.Proto == ProtoICMPv6 {
					port = e.Reply.SrcPort
				}
				a.nat(ctaNATSrc, e.Reply.Dst, port)
			}
			if e.DstNAT() {
				a.nat(ctaNATDst, e.Reply.Src, e.Reply.SrcPort)
			}
		}
		a.be32(ctaStatus, status)
		a.be32(ctaTimeout, max(e.Timeout, 1))
		if e.Mark != 0 {
			a.be32(ctaMark, e.Mark)
		}
		if e.Proto == ProtoTCP && e.TCPState < tcpConntrackMax {
			a.nest(ctaProtoinfo, func(a *attrs) {
				a.nest(ctaProtoinfoTCP, func(a *attrs) {
					a.u8(ctaProtoinfoTCPState, e.TCPState)
					if kind == OpCreate {
						a.u8(ctaProtoinfoTCPWScaleO, e.TCPWScaleOrig)
						a.u8(ctaProtoinfoTCPWScaleR, e.TCPWScaleRep)
					}
					a.put(ctaProtoinfoTCPFlagsO, tcpFlags(e.TCPFlagsOrig))
					a.put(ctaProtoinfoTCPFlagsR, tcpFlags(e.TCPFlagsRep))
				})
			})
		}
	}
	b = a.b
	binary.NativeEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}
