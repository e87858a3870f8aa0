package statesync

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/conntrack"
	"failover/engine/dataplane"
	"failover/engine/stateguard"
)

// Role is what the unit asks of the replicator.
type Role uint8

// Roles.
const (
	RoleIdle    Role = iota // neither send nor accept (no mate, negotiating, failed, failover off)
	RoleActive              // send this unit's connections to the standby
	RoleStandby             // mirror the active mate's connections into the kernel
)

func (r Role) String() string {
	switch r {
	case RoleIdle:
		return "Idle"
	case RoleActive:
		return "Active"
	case RoleStandby:
		return "Standby"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Timers of the protocol.
const (
	tickEvery   = 10 * time.Millisecond
	ackEvery    = 20 * time.Millisecond  // acknowledge progress at most this often
	heartbeat   = 500 * time.Millisecond // standby: ack even without progress
	peerTimeout = 3 * time.Second        // active: no ack for this long = no standby
	resendAfter = 300 * time.Millisecond // active: unacknowledged batches are resent
	retryBulk   = time.Second            // standby: ask again for the whole table
	bulkSpacing = time.Second            // active: at most one unrequested bulk a second
	nakSpacing  = 100 * time.Millisecond
	maxUnacked  = 4096 // batches kept for resending (about 32 MB)
	// maxPending bounds the records a standby holds for its kernel: past
	// it (the kernel does not keep up) it stops taking batches and asks
	// for the whole table once it has caught up, rather than grow.
	maxPending = 1 << 20
	// bulkPerTick batches of a bulk go out per tick (128 kB): the mate's
	// UDP socket buffer holds about 200 kB, and 1,600 batches a second is
	// still many times what its kernel can write.
	bulkPerTick  = 16
	resendPerNak = 16 // batches resent per tick, for the same reason
	// neighEvery is how often the active reads its neighbour table for
	// new or changed entries.
	neighEvery = 2 * time.Second
	// refreshEvery: the kernel refreshes the timeout of an entry with every
	// packet without an event, so the standby's copy of a busy UDP flow
	// would expire (30 s unreplied, 120 s assured) while the flow lives.
	// Entries with short timeouts are sent again from a fresh read of the
	// table this often.
	refreshEvery = 20 * time.Second
)

// Options wire a replicator to the engine.
type Options struct {
	Log   *slog.Logger
	Clock clock.Clock
	// Post runs f on the engine loop.
	Post func(func())
	// Table is the kernel's connection table; nil turns replication off.
	Table conntrack.Table
	// Send sends a StateUpdate to the mate on the stateful failover link
	// (authenticated and numbered by the failover protocol), after the
	// current call; failed runs on the loop if it could not be sent.
	Send func(kind uint8, payload []byte, failed func())
	// Guard is the firewall table of `failover timeout` (nil: none).
	Guard stateguard.Guard
	// Neigh is the kernel's neighbour table (nil: neighbours are not
	// replicated).
	Neigh NeighborTable
}

// NeighborTable reads and writes learned neighbours (engine/dataplane).
type NeighborTable interface {
	LearnedNeighbors() ([]dataplane.LinkNeighbor, error)
	SetStaleNeighbors(ns []dataplane.LinkNeighbor) []error
}

// sent is a batch kept until the standby acknowledges it.
type sent struct {
	seq     uint64
	payload []byte
	records int
}

type neighKey struct {
	link string
	ip   netip.Addr
}

// applied is what the standby put into its kernel for one key.
type applied struct {
	gen   uint32
	proto uint8
	nat   bool
}

// Replicator is stateful failover's replication. All methods must be
// called on the engine loop.
type Replicator struct {
	o   Options
	log *slog.Logger

	enabled bool
	role    Role
	local   map[netip.Addr]bool // system addresses of this unit
	links   map[string]bool     // data links (HW names): their neighbours are replicated
	work    *worker
	stats   Stats

	listenCancel context.CancelFunc
	listenGen    int
	tick         clock.Timer
	tickGen      int

	// Active side.
	mirror       map[conntrack.Key]conntrack.Entry // what the standby should hold
	loaded       bool                              // mirror seeded from a dump
	dumpGen      int
	sinceDump    map[conntrack.Key]*conntrack.Entry // changes while a dump runs (nil = deleted)
	stream       uint32
	seq          uint64
	out          []Record
	outLen       int
	outFlags     uint8
	unacked      []sent
	peer         bool // a standby follows the stream
	lastAck      time.Time
	lastBulk     time.Time
	bulkWanted   bool            // a bulk is owed once the mirror is loaded
	bulkKeys     []conntrack.Key // keys still to send in the running bulk
	bulkOn       bool            // a bulk is being sent
	dumpOnListen bool            // read the table once the listener is subscribed
	lastResend   time.Time
	resendSeq    uint64               // next batch of a resend in progress (0 = none)
	lastFresh    time.Time            // last refresh of short-timeout entries
	neighSent    map[neighKey][6]byte // neighbours sent in this stream
	lastNeigh    time.Time
	neighBusy    bool
	freshGen     int // dump generation of the refresh read in progress (0 = none)

	// Standby side.
	applied  map[conntrack.Key]applied
	gen      uint32
	rxStream uint32
	rxNext   uint64
	inBulk   bool
	needBulk bool
	lastReq  time.Time
	ackDue   bool
	lastAckT time.Time
	lastNak  time.Time

	// The firewall guard: the mode last asked for, and when the window
	// for connections that were not replicated ends.
	stopped    <-chan struct{} // the worker of the last disable ends
	timeout    time.Duration
	guardMode  stateguard.Mode
	guardClean bool
	windowEnd  time.Time

	// Size of the table of the current role (mirror or applied).
	xlates             int
	maxConns, maxXlate int
}

// New returns a replicator that does nothing until Apply enables it.
func New(o Options) *Replicator {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Post == nil {
		o.Post = func(f func()) { f() }
	}
	if o.Send == nil {
		o.Send = func(_ uint8, _ []byte, failed func()) {
			if failed != nil {
				failed()
			}
		}
	}
	return &Replicator{
		o: o, log: o.Log,
		local: map[netip.Addr]bool{}, mirror: map[conntrack.Key]conntrack.Entry{},
		applied: map[conntrack.Key]applied{},
		// Unknown: the first decision is applied whatever it is, so a
		// table an earlier run left behind goes.
		guardMode: stateguard.Mode(255),
	}
}

// Apply takes the configuration: replication runs while failover is on and
// a stateful failover link is configured.
func (r *Replicator) Apply(c *config.Config) {
	if c == nil {
		return
	}
	local := map[netip.Addr]bool{}
	for _, i := range c.Interfaces {
		if i.Addr.IsValid() {
			local[i.Addr.Addr()] = true
		}
		if i.StandbyIP.IsValid() {
			local[i.StandbyIP] = true
		}
	}
	r.local = local
	links := map[string]bool{}
	for _, i := range c.Interfaces {
		if i.Name != "" && i.Name != c.Failover.LanIf && i.Name != c.Failover.Link {
			links[i.HW] = true
		}
	}
	r.links = links
	on := c.Failover.Enabled && c.Failover.Link != "" && r.o.Table != nil
	r.timeout = time.Duration(c.Failover.Timeout) * time.Second
	if !on && !r.guardClean && r.o.Guard != nil {
		// A table an earlier run left behind goes, once.
		r.guardClean = true
		g, log := r.o.Guard, r.log
		go func() {
			if err := g.Set(stateguard.Off); err != nil {
				log.Warn("failed to remove the stateful firewall table", "err", err)
			}
		}()
	}
	defer r.updateGuard()
	switch {
	case on && !r.enabled:
		r.enabled = true
		r.log.Info("stateful failover replication on", "role", r.role)
		r.work = newWorker(r.o.Table, r.o.Post)
		r.startTick()
		r.enter()
	case !on && r.enabled:
		r.log.Info("stateful failover replication off")
		r.disable()
	}
}

func (r *Replicator) disable() {
	r.enabled = false
	r.updateGuard()
	r.stopListener()
	r.tickGen++
	if r.tick != nil {
		r.tick.Stop()
	}
	r.stopped = r.work.stop()
	r.work = nil
	r.resetTx()
	r.resetRx()
}

// Stop ends all background work. It waits (at most 2 s) for the kernel
// work already queued, the removal of the firewall table included, so that
// a daemon that exits leaves no table behind.
func (r *Replicator) Stop() {
	if r.enabled {
		r.disable()
	}
	if r.stopped != nil {
		select {
		case <-r.stopped:
		case <-time.After(2 * time.Second):
			r.log.Warn("kernel work still pending at stop")
		}
		r.stopped = nil
	}
}

// SetRole is called by the unit on every state change, before it moves
// any address: stopping to send must come before the kernel flushes the
// masqueraded entries of released addresses.
func (r *Replicator) SetRole(active, standby bool) {
	switch {
	case active:
		r.setRole(RoleActive)
	case standby:
		r.setRole(RoleStandby)
	default:
		r.setRole(RoleIdle)
	}
}

func (r *Replicator) setRole(role Role) {
	if role == r.role {
		return
	}
	r.log.Info(fmt.Sprintf("%s -> %s", r.role, role))
	r.role = role
	r.stopListener()
	r.resetTx()
	r.resetRx()
	if role == RoleActive {
		r.windowEnd = r.o.Clock.Now().Add(r.timeout)
	}
	if r.enabled {
		r.enter()
	}
	r.updateGuard()
}

// updateGuard puts the firewall table in the mode of the moment: on the
// active unit with replication on, the window after the takeover, then
// strict; otherwise none.
func (r *Replicator) updateGuard() {
	if r.o.Guard == nil || r.work == nil {
		return
	}
	m := stateguard.Off
	if r.enabled && r.role == RoleActive {
		m = stateguard.Strict
		if r.o.Clock.Now().Before(r.windowEnd) {
			m = stateguard.Window
		}
	}
	if m == r.guardMode {
		return
	}
	r.guardMode = m
	g, log := r.o.Guard, r.log
	log.Info("stateful firewall", "mode", m)
	r.guardClean = true
	r.work.push(job{run: func() error { return g.Set(m) }, done: func(_ []error, _ []conntrack.Entry, err error) {
		if err != nil {
			log.Warn("failed to set the stateful firewall", "mode", m, "err", err)
		}
	}})
}

// enter starts the work of the current role.
func (r *Replicator) enter() {
	switch r.role {
	case RoleActive:
		// Only the active unit listens: on a standby every replica it
		// writes would raise an event to decode and throw away.
		// The table is read once the listener is subscribed (onEvents
		// with no events), so no change falls between the two.
		r.startListener()
		r.stream = rand.Uint32() | 1
		r.dumpOnListen = true
	case RoleStandby:
		// Entries of our own active time would hold NAT ports the
		// replicas need, and nothing refreshes them: start clean.
		local := r.local
		r.work.push(job{flush: func(e *conntrack.Entry) bool { return replicable(local, e) }})
		r.needBulk = true
		r.requestBulk()
	}
}

func (r *Replicator) resetTx() {
	r.xlates = 0
	r.mirror = map[conntrack.Key]conntrack.Entry{}
	r.loaded, r.sinceDump = false, nil
	r.dumpGen++
	r.stream, r.seq = 0, 0
	r.out, r.outLen, r.outFlags = nil, 0, 0
	r.unacked, r.resendSeq = nil, 0
	r.peer, r.bulkWanted, r.bulkOn, r.bulkKeys = false, false, false, nil
	r.freshGen = 0
	r.neighSent = map[neighKey][6]byte{}
}

func (r *Replicator) resetRx() {
	r.xlates = 0
	r.applied = map[conntrack.Key]applied{}
	r.rxStream, r.rxNext = 0, 0
	r.inBulk, r.needBulk, r.ackDue = false, false, false
}

// replicable says whether e is a forwarded connection: it translates, or
// its original tuple touches no address of this unit. The unit's own
// traffic (failover messages, probes, management) stays local.
func replicable(local map[netip.Addr]bool, e *conntrack.Entry) bool {
	if e.NAT() {
		return true
	}
	for _, a := range []netip.Addr{e.Orig.Src, e.Orig.Dst} {
		if local[a] || a.IsLoopback() || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
			a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return false
		}
	}
	return true
}

// --- kernel side ---

func (r *Replicator) stopListener() {
	if r.listenCancel != nil {
		r.listenCancel()
		r.listenCancel = nil
	}
	r.listenGen++
}

func (r *Replicator) startListener() {
	ctx, cancel := context.WithCancel(context.Background())
	r.listenCancel = cancel
	r.listenGen++
	gen := r.listenGen
	tb, post, log := r.o.Table, r.o.Post, r.log
	go func() {
		if err := tb.SetEvents(); err != nil {
			log.Warn("failed to enable conntrack events for existing entries", "err", err)
		}
		for ctx.Err() == nil {
			err := tb.Listen(ctx, func(evs []conntrack.Event) { post(func() { r.onEvents(gen, evs) }) })
			if ctx.Err() != nil {
				return
			}
			log.Warn("conntrack events lost, reading the table again", "err", err)
			post(func() { r.onOverrun(gen) })
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

// onOverrun: events were lost, so neither the mirror nor the standby can
// be trusted any more: read the table again and resend all of it.
func (r *Replicator) onOverrun(gen int) {
	if gen != r.listenGen || r.role != RoleActive {
		return
	}
	// The listener subscribes again; the table is read then.
	r.loaded, r.dumpOnListen = false, true
	if r.peer {
		r.bulkWanted = true
	}
}

func (r *Replicator) startDump() {
	r.dumpGen++
	gen := r.dumpGen
	r.loaded = false
	r.sinceDump = map[conntrack.Key]*conntrack.Entry{}
	r.work.push(job{dump: true, done: func(_ []error, dump []conntrack.Entry, err error) { r.onDump(gen, dump, err) }})
}

func (r *Replicator) onDump(gen int, dump []conntrack.Entry, err error) {
	if gen != r.dumpGen || r.role != RoleActive || !r.enabled {
		return
	}
	if err != nil {
		r.log.Warn("failed to read the connection table, retrying", "err", err)
		r.o.Clock.AfterFunc(time.Second, func() {
			r.o.Post(func() {
				if gen == r.dumpGen && r.role == RoleActive && r.enabled {
					r.startDump()
				}
			})
		})
		return
	}
	m := make(map[conntrack.Key]conntrack.Entry, len(dump))
	for i := range dump {
		if replicable(r.local, &dump[i]) {
			m[dump[i].Key()] = dump[i]
		}
	}
	for k, e := range r.sinceDump {
		if e == nil {
			delete(m, k)
		} else {
			m[k] = *e
		}
	}
	r.mirror, r.sinceDump, r.loaded = m, nil, true
	r.xlates = 0
	for _, e := range m {
		if e.NAT() {
			r.xlates++
		}
	}
	r.noteMax()
	r.log.Info("connection table read", "entries", len(m))
	if r.bulkWanted {
		r.startBulk()
	}
}

// onEvents takes a batch of kernel events on the active unit.
func (r *Replicator) onEvents(gen int, evs []conntrack.Event) {
	if gen != r.listenGen || r.role != RoleActive || !r.enabled {
		return
	}
	if len(evs) == 0 {
		// Subscribed (again).
		if r.dumpOnListen {
			r.dumpOnListen = false
			r.startDump()
		}
		return
	}
	for i := range evs {
		e := evs[i].Entry
		if !replicable(r.local, &e) {
			continue
		}
		k := e.Key()
		if old, ok := r.mirror[k]; ok && old.NAT() {
			r.xlates--
		}
		if evs[i].Type == conntrack.EventDestroy {
			delete(r.mirror, k)
			if r.sinceDump != nil {
				r.sinceDump[k] = nil
			}
			r.queue(Record{Delete: true, Entry: conntrack.Entry{Proto: e.Proto, Zone: e.Zone, Orig: e.Orig}})
			continue
		}
		r.mirror[k] = e
		if e.NAT() {
			r.xlates++
		}
		if r.sinceDump != nil {
			r.sinceDump[k] = &e
		}
		r.queue(Record{Entry: e})
	}
	r.noteMax()
	r.sendBatch()
}

// noteMax records the most connections and translations seen at once.
func (r *Replicator) noteMax() {
	n := len(r.mirror)
	if r.role == RoleStandby {
		n = len(r.applied)
	}
	r.maxConns = max(r.maxConns, n)
	r.maxXlate = max(r.maxXlate, r.xlates)
}

// startRefresh reads the table to send the short-timeout entries again.
func (r *Replicator) startRefresh() {
	r.lastFresh = r.o.Clock.Now()
	r.dumpGen++ // a refresh is a dump too: a running one's result is stale after it
	gen := r.dumpGen
	r.freshGen = gen
	r.work.push(job{dump: true, done: func(_ []error, dump []conntrack.Entry, err error) {
		if r.freshGen == gen {
			r.freshGen = 0
		}
		if err != nil || gen != r.dumpGen || r.role != RoleActive || !r.enabled {
			return
		}
		r.onRefresh(dump)
	}})
}

// onRefresh sends again, with their current timeout, the entries whose
// timeout is short: all but established TCP connections, whose state
// changes are events anyway. Only entries still in the mirror are sent: one
// whose destroy event was handled since the read must not come back.
func (r *Replicator) onRefresh(dump []conntrack.Entry) {
	const tcpEstablished = 3
	n := 0
	for i := range dump {
		e := &dump[i]
		if e.Proto == conntrack.ProtoTCP && e.TCPState == tcpEstablished {
			continue
		}
		k := e.Key()
		if _, ok := r.mirror[k]; !ok {
			continue
		}
		r.mirror[k] = *e
		r.queue(Record{Entry: *e})
		n++
	}
	r.sendBatch()
	r.log.Debug("short-timeout entries refreshed", "entries", n)
}

// readNeighbors reads the neighbour table and sends what is new or changed.
func (r *Replicator) readNeighbors() {
	r.lastNeigh, r.neighBusy = r.o.Clock.Now(), true
	nt := r.o.Neigh
	var got []dataplane.LinkNeighbor
	r.work.push(job{run: func() error {
		var err error
		got, err = nt.LearnedNeighbors()
		return err
	}, done: func(_ []error, _ []conntrack.Entry, err error) {
		r.neighBusy = false
		if err != nil {
			r.log.Debug("failed to read neighbours", "err", err)
			return
		}
		if r.role == RoleActive && r.enabled && r.peer {
			r.onNeighbors(got)
		}
	}})
}

func (r *Replicator) onNeighbors(got []dataplane.LinkNeighbor) {
	for _, n := range got {
		if !r.links[n.Link] || r.local[n.IP] || len(n.MAC) != 6 || len(n.Link) > maxLinkName {
			continue
		}
		k, mac := neighKey{n.Link, n.IP}, [6]byte(n.MAC)
		if old, ok := r.neighSent[k]; ok && old == mac {
			continue
		}
		r.neighSent[k] = mac
		r.queue(Record{Neigh: &Neighbor{Link: n.Link, IP: n.IP, MAC: mac}})
	}
	r.sendBatch()
}

// --- sending (active) ---

// queue adds a record to the batch being built, sending the batch first
// when the record would not fit.
func (r *Replicator) queue(rec Record) {
	if !r.peer {
		return
	}
	n := recordLen(&rec)
	if r.outLen+n > MaxPayload-batchHeaderLen {
		r.sendBatch()
	}
	r.out = append(r.out, rec)
	r.outLen += n
}

// sendBatch sends what is queued (or an empty batch that carries flags).
func (r *Replicator) sendBatch() {
	if len(r.out) == 0 && r.outFlags == 0 {
		return
	}
	r.seq++
	bt := Batch{Stream: r.stream, Seq: r.seq, Flags: r.outFlags, Records: r.out}
	p := AppendBatch(make([]byte, 0, batchHeaderLen+r.outLen), &bt)
	for i := range r.out {
		r.stats.countRec(&r.out[i], dirXmit)
	}
	recs := r.out
	r.o.Send(uint8(KindBatch), p, func() {
		for i := range recs {
			r.stats.countRec(&recs[i], dirXerr)
			r.stats.uncountRec(&recs[i], dirXmit)
		}
	})
	r.stats.XmitTotal += uint64(len(r.out))
	if len(r.unacked) == 0 {
		r.lastAck = r.o.Clock.Now() // the resend timer starts now
	}
	r.unacked = append(r.unacked, sent{seq: r.seq, payload: p, records: len(r.out)})
	if len(r.unacked) > maxUnacked {
		// The standby will see the gap and get the whole table.
		r.unacked = r.unacked[len(r.unacked)-maxUnacked:]
	}
	cur := r.xmitCur()
	r.stats.XmitMax = max(r.stats.XmitMax, cur)
	r.out, r.outLen, r.outFlags = r.out[:0:0], 0, 0
}

func (r *Replicator) xmitCur() uint64 {
	n := 0
	for _, s := range r.unacked {
		n += s.records
	}
	return uint64(n)
}

// startBulk starts sending the whole table in a new stream. The table is
// sent a few batches a tick, each record as it is at that moment, so that
// changes in between are never undone by an older copy.
func (r *Replicator) startBulk() {
	if !r.loaded {
		r.bulkWanted = true
		return
	}
	r.bulkWanted = false
	r.lastBulk = r.o.Clock.Now()
	r.stream = rand.Uint32() | 1
	r.seq, r.unacked, r.out, r.outLen, r.resendSeq = 0, nil, r.out[:0:0], 0, 0
	r.peer = true
	r.lastAck = r.o.Clock.Now()
	r.bulkKeys = make([]conntrack.Key, 0, len(r.mirror))
	for k := range r.mirror {
		r.bulkKeys = append(r.bulkKeys, k)
	}
	r.bulkOn = true
	r.neighSent = map[neighKey][6]byte{}
	r.lastNeigh = time.Time{} // read at the next tick, sent in this stream
	r.outFlags = FlagBulkBegin
	r.stats.BulkSyncs++
	r.log.Info("bulk synchronisation to the standby", "entries", len(r.bulkKeys), "stream", r.stream)
	r.bulkStep()
}

// bulkStep sends up to bulkPerTick batches of the running bulk.
func (r *Replicator) bulkStep() {
	if !r.bulkOn || r.resendSeq != 0 {
		return
	}
	start := r.seq
	for len(r.bulkKeys) > 0 && r.seq-start < bulkPerTick {
		k := r.bulkKeys[len(r.bulkKeys)-1]
		r.bulkKeys = r.bulkKeys[:len(r.bulkKeys)-1]
		if e, ok := r.mirror[k]; ok {
			r.queue(Record{Entry: e})
		}
	}
	if len(r.bulkKeys) == 0 {
		r.outFlags |= FlagBulkEnd
		r.bulkOn = false
		r.sendBatch()
	}
}

// --- receiving ---

// Received takes a StateUpdate from the mate. fromActive says the unit
// believes the sender is the active mate and itself the standby;
// fromStandby that it is active and the sender its standby mate.
func (r *Replicator) Received(kind uint8, payload []byte, fromActive, fromStandby bool) {
	if !r.enabled {
		return
	}
	switch Kind(kind) {
	case KindBatch:
		bt, err := DecodeBatch(payload)
		if err != nil {
			r.stats.Malformed++
			r.log.Debug("rejected state batch", "err", err)
			return
		}
		r.onBatch(bt, fromActive)
	case KindAck:
		a, err := DecodeAck(payload)
		if err != nil || !fromStandby || r.role != RoleActive {
			return
		}
		r.onAck(a)
	case KindBulkRequest:
		if !fromStandby || r.role != RoleActive {
			return
		}
		r.startBulk()
	}
}

func (r *Replicator) onAck(a Ack) {
	now := r.o.Clock.Now()
	if a.Stream != r.stream || !r.peer {
		// The standby follows a stream we no longer send: it needs the
		// whole table (at most one unrequested bulk a second).
		if !r.bulkOn && now.Sub(r.lastBulk) >= bulkSpacing {
			r.startBulk()
		}
		return
	}
	r.lastAck = now
	i := 0
	for i < len(r.unacked) && r.unacked[i].seq <= a.Seq {
		i++
	}
	r.unacked = r.unacked[i:]
	if !a.Nak {
		return
	}
	switch {
	case len(r.unacked) > 0 && r.unacked[0].seq == a.Seq+1:
		r.resend()
	case a.Seq < r.seq:
		// What the standby misses is no longer kept.
		r.startBulk()
	}
}

// resend sends the unacknowledged batches again, oldest first.
// The standby drops what follows a gap, so everything unacknowledged goes
// again, resendPerNak batches a tick (paced like a bulk), and a running
// bulk waits until the resend is through.
func (r *Replicator) resend() {
	r.lastResend = r.o.Clock.Now()
	if len(r.unacked) > 0 {
		r.resendSeq = r.unacked[0].seq
		r.resendStep()
	}
}

// resendStep sends the next unacknowledged batches of a resend.
func (r *Replicator) resendStep() {
	if r.resendSeq == 0 {
		return
	}
	n := 0
	for _, s := range r.unacked {
		if s.seq < r.resendSeq {
			continue
		}
		if n == resendPerNak {
			r.resendSeq = s.seq
			return
		}
		r.o.Send(uint8(KindBatch), s.payload, nil)
		n++
	}
	r.resendSeq = 0
}

// onBatch applies a batch on the standby, strictly in order.
func (r *Replicator) onBatch(bt *Batch, fromActive bool) {
	if r.role != RoleStandby || !fromActive {
		for i := range bt.Records {
			r.stats.countRec(&bt.Records[i], dirRerr)
		}
		return
	}
	switch {
	case bt.Flags&FlagBulkBegin != 0 && bt.Seq == 1:
		r.rxStream, r.rxNext = bt.Stream, 1
		r.gen++
		r.inBulk = true
	case bt.Stream != r.rxStream:
		// A stream whose beginning we missed.
		r.needBulk = true
		r.requestBulk()
		return
	case bt.Seq < r.rxNext:
		return // a resent batch we already have
	case bt.Seq > r.rxNext:
		r.nak()
		return
	}
	if r.work.pending() > maxPending {
		r.log.Warn("the kernel does not keep up with replication; asking for the whole table later")
		r.rxStream, r.needBulk = 0, true
		return
	}
	r.rxNext = bt.Seq + 1
	ops := make([]conntrack.Op, 0, len(bt.Records))
	var neighs []dataplane.LinkNeighbor
	for i := range bt.Records {
		rec := &bt.Records[i]
		if n := rec.Neigh; n != nil {
			r.stats.ARP.Rcv++
			if r.links[n.Link] {
				neighs = append(neighs, dataplane.LinkNeighbor{Link: n.Link, IP: n.IP, MAC: n.MAC[:]})
			} else {
				r.stats.ARP.Rerr++ // not a data link of ours
			}
			continue
		}
		e := &rec.Entry
		k := e.Key()
		r.stats.count(e, dirRcv)
		if old, ok := r.applied[k]; ok && old.nat {
			r.xlates--
		}
		if rec.Delete {
			delete(r.applied, k)
			ops = append(ops, conntrack.Op{Kind: conntrack.OpDelete, Entry: *e})
			continue
		}
		kind := conntrack.OpCreate
		if _, ok := r.applied[k]; ok {
			kind = conntrack.OpUpdate
		}
		r.applied[k] = applied{gen: r.gen, proto: e.Proto, nat: e.NAT()}
		if e.NAT() {
			r.xlates++
		}
		ops = append(ops, conntrack.Op{Kind: kind, Entry: *e})
	}
	r.stats.RecvTotal += uint64(len(bt.Records))
	r.noteMax()
	if bt.Flags&FlagBulkEnd != 0 {
		// Whatever the whole table did not contain is gone on the active.
		for k, a := range r.applied {
			if a.gen != r.gen {
				if a.nat {
					r.xlates--
				}
				delete(r.applied, k)
				ops = append(ops, conntrack.Op{Kind: conntrack.OpDelete, Entry: conntrack.Entry{Proto: k.Proto, Zone: k.Zone, Orig: k.Orig}})
			}
		}
		if r.inBulk {
			r.stats.BulkSyncs++
		}
		r.inBulk, r.needBulk = false, false
		r.log.Info("bulk synchronisation from the active received", "entries", len(r.applied), "stream", r.rxStream)
	}
	if len(ops) > 0 {
		q := r.work.push(job{ops: ops, done: func(errs []error, _ []conntrack.Entry, _ error) { r.onApplied(ops, errs) }})
		r.stats.RecvMax = max(r.stats.RecvMax, q)
	}
	if len(neighs) > 0 && r.o.Neigh != nil {
		nt := r.o.Neigh
		var errs []error
		r.work.push(job{run: func() error { errs = nt.SetStaleNeighbors(neighs); return nil }, done: func([]error, []conntrack.Entry, error) {
			for _, err := range errs {
				if err != nil {
					r.stats.ARP.Rerr++
					r.log.Debug("failed to set a replicated neighbour", "err", err)
				}
			}
		}})
	}
	r.ackDue = true
	if bt.Flags&FlagBulkEnd != 0 {
		r.sendAck(false)
	}
}

// onApplied counts what the kernel refused.
func (r *Replicator) onApplied(ops []conntrack.Op, errs []error) {
	var first error
	n := 0
	for i, err := range errs {
		if err != nil {
			r.stats.count(&ops[i].Entry, dirRerr)
			if first == nil {
				first = err
			}
			n++
		}
	}
	if n > 0 {
		r.log.Warn("kernel refused replicated connections", "count", n, "first", first)
	}
}

func (r *Replicator) requestBulk() {
	r.lastReq = r.o.Clock.Now()
	r.o.Send(uint8(KindBulkRequest), nil, nil)
}

func (r *Replicator) nak() {
	now := r.o.Clock.Now()
	if now.Sub(r.lastNak) < nakSpacing {
		return
	}
	r.lastNak = now
	r.sendAck(true)
}

func (r *Replicator) sendAck(nak bool) {
	r.lastAckT = r.o.Clock.Now()
	r.ackDue = false
	r.o.Send(uint8(KindAck), AppendAck(nil, Ack{Stream: r.rxStream, Seq: r.rxNext - 1, Nak: nak}), nil)
}

// --- timers ---

func (r *Replicator) startTick() {
	r.tickGen++
	gen := r.tickGen
	r.tick = r.o.Clock.AfterFunc(tickEvery, func() { r.o.Post(func() { r.onTick(gen) }) })
}

func (r *Replicator) onTick(gen int) {
	if gen != r.tickGen || !r.enabled {
		return
	}
	now := r.o.Clock.Now()
	switch r.role {
	case RoleActive:
		r.updateGuard() // the window ends
		r.resendStep()
		r.bulkStep()
		switch {
		case r.peer && now.Sub(r.lastAck) >= peerTimeout:
			r.log.Info("standby stopped acknowledging state, replication paused")
			r.peer, r.unacked, r.bulkOn, r.bulkKeys, r.resendSeq = false, nil, false, nil, 0
		case len(r.unacked) > 0 && now.Sub(r.lastAck) >= resendAfter && now.Sub(r.lastResend) >= resendAfter:
			r.resend()
		}
		if r.peer && r.loaded && r.freshGen == 0 && now.Sub(r.lastFresh) >= refreshEvery {
			r.startRefresh()
		}
		if r.peer && r.o.Neigh != nil && !r.neighBusy && now.Sub(r.lastNeigh) >= neighEvery {
			r.readNeighbors()
		}
	case RoleStandby:
		switch {
		case r.needBulk:
			if now.Sub(r.lastReq) >= retryBulk && r.work.pending() < maxPending/2 {
				r.requestBulk()
			}
		case r.ackDue && now.Sub(r.lastAckT) >= ackEvery, now.Sub(r.lastAckT) >= heartbeat:
			r.sendAck(false)
		}
		if r.work != nil {
			r.stats.RecvCur = r.work.pending()
		}
	}
	r.startTick()
}

// --- reports ---

// Stats returns the counters of `show failover`.
func (r *Replicator) Stats() Stats {
	s := r.stats
	s.XmitCur = r.xmitCur()
	if r.work != nil {
		s.RecvCur = r.work.pending()
	}
	return s
}

// Synced says whether the standby holds the whole table in its kernel
// (or there is nothing to synchronise): received whole, and written. The
// unit is in Bulk Sync until it does.
func (r *Replicator) Synced() bool {
	return !r.enabled || r.role != RoleStandby ||
		(!r.needBulk && !r.inBulk && r.rxStream != 0 && r.work.pending() == 0)
}

// Enabled says whether replication runs.
func (r *Replicator) Enabled() bool { return r.enabled }

// Counts returns the replicated table's size: what the active sends, or
// what the standby holds.
func (r *Replicator) Counts() Counts {
	var c Counts
	add := func(proto uint8, nat bool) {
		c.Conns++
		if nat {
			c.Xlates++
		}
		switch proto {
		case conntrack.ProtoTCP:
			c.TCP++
		case conntrack.ProtoUDP:
			c.UDP++
		default:
			c.ICMP++
		}
	}
	if r.role == RoleStandby {
		for k, a := range r.applied {
			add(k.Proto, a.nat)
		}
	} else {
		for k, e := range r.mirror {
			add(k.Proto, e.NAT())
		}
	}
	return c
}
