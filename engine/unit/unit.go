package unit

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/event"
	"failover/engine/transport"
	"failover/engine/wire"
)

// Hooks are the requests the unit makes of the engine. They are called on
// the engine event loop, and each is only queued there: the engine acts on
// it after the unit's current call has returned, so nothing the engine does
// in answer (applying a replicated line, which hands the unit a new
// configuration) re-enters the unit half-way through a decision.
type Hooks interface {
	ApplyReplicated(line string)                 // a line from the active mate
	ReplaceConfig(text string)                   // bulk copy from the active mate
	WriteMemory()                                // the active mate saved its configuration
	ExecShow(cmd string, reply func(out string)) // for "failover exec mate"
	RoutingChanged(on bool)                      // true while this unit holds its data addresses (every state but Negotiation)
	Console(msg string)                          // console messages such as "Beginning configuration replication: Sending to mate."
	// Reconcile makes the kernel hold DesiredAddrs, then calls done, so
	// that gratuitous ARPs sent from done announce addresses really held.
	Reconcile(done func())
}

// Options wires a Unit to the engine.
type Options struct {
	Log   *slog.Logger
	Clock clock.Clock
	DP    interface {
		dataplane.Links
		dataplane.Neighbors
	}
	Transport transport.Listener
	// Post runs f on the engine event loop. Received packets and timers
	// come back through it, so the Unit itself needs no locks.
	Post   func(func())
	Syslog func(msg string)
	Hooks  Hooks
	// MACs remembers each interface's burned-in MAC across daemon restarts
	// (nil: the MAC found at start is taken as burned-in).
	MACs MACStore
	// Events receives state transitions, mate lost/found and interface
	// test results (nil: none).
	Events *event.Bus

	// BeforeTakeover runs just before this unit starts to serve (takes
	// the system addresses), AfterRelease just after it stopped serving;
	// both on the event loop, nil for nothing. They are where connection
	// state replication installs and drops what it replicated.
	BeforeTakeover func()
	AfterRelease   func()
	// StateSync is stateful failover's connection replication; nil = none.
	StateSync StateSync

	// manualRecv leaves the Recv channel to the test, which drains it
	// itself; that makes the two-unit tests deterministic.
	manualRecv bool
}

// Unit is one side of an active/standby failover pair. All methods must be
// called on the engine event loop.
type Unit struct {
	o   Options
	log *slog.Logger

	cfg         *config.Config
	fo          config.Failover
	talking     bool      // role and LAN interface configured: hellos, listening, timers
	listenSince time.Time // when talking started
	role        wire.Role

	codec  *wire.Codec
	sender *wire.Sender
	recv   *wire.Receiver

	state        State
	stateSince   time.Time
	activeSince  time.Time     // valid while Active
	activeAccum  time.Duration // time spent active before activeSince
	lastFailover time.Time
	history      []histEntry

	ifs       []*ifc // named interfaces, LAN first
	listening map[string]bool

	mate mateInfo

	cfgVersion uint64
	bulk       *bulkRx   // bulk configuration being received
	lastBulkTx time.Time // when a bulk copy was last sent

	switchover *switchover
	muted      bool // the data interfaces send from other MACs than they wear (muteMACs)
	nextToken  uint32
	execs      map[uint32]*execReq
	nextExec   uint32

	stats       stats
	transitions map[transitionKey]uint64 // state changes by target and reason
	mateUp      bool                     // last mate found/lost reported

	tick           clock.Timer
	tickGen        int
	tickEvery      time.Duration
	nextHello      time.Time
	nextIfHello    time.Time
	nextRefresh    time.Time
	garpGen        int
	preemptAt      time.Time
	conflictLogged bool
	splitBrain     bool        // both were active; re-announce when the mate yields
	probe          *probeRound // data-interface check while the mate's LAN hellos are overdue

	// What `show failover state` and the event syslogs need.
	myFailure, mateFailure failure
	synced                 bool // a full configuration copy from the active mate was applied
	lanQuiet, mateLost     bool // 105005 and 103001 sent for the current silence

	// Taking the addresses over from a lost mate (claim.go).
	claim           *claimRound
	claimGen        int
	claimWarned     bool
	claimWaitLogged bool
	claimQuiet      int  // rounds in a row nobody answered
	claimHeard      bool // the lost mate's box answered in this silence
	arpWatch        map[string]context.CancelFunc

	// The fence (fence.go).
	started      bool // the first configuration was applied and evaluated
	fencePresent bool // the table may be in the kernel (a killed earlier run may have left it)
	fenceOK      bool // armed and renewed: the hellos say HelloFenced
	fenceWarned  bool
	lastFence    time.Time // last renewal
	fenceEnd     time.Time // when the fence trips unless renewed
	hello0       time.Time // when the last hello was due: the fence trips a hold time later
	nextFence    time.Time
	verdictTimer clock.Timer
	verdictGen   int
	claimDefer   time.Time // a claim round waits for the mate's fence until then

	desired []dataplane.Addr // what the last Reconcile applied
	stopped bool
	done    chan struct{}
}

// ifc is one named interface as the unit sees it.
type ifc struct {
	cfg       config.Interface
	lan       bool // the failover LAN interface: addresses never move
	stateLink bool // a separate stateful failover link: also unit-local
	monitored bool
	adminUp   bool
	carrier   bool
	ownMAC    net.HardwareAddr // burned-in MAC, recorded before we ever change it

	heard     bool      // mate heard on it since failover was enabled
	lastHeard time.Time // last IfHello (or LAN Hello) from the mate
	testing   bool
	testEnd   time.Time
	rx0       uint64
	failed    bool
	// failedBoth: our test failed while the mate's side of the segment
	// was not Normal either.
	failedBoth bool
	passed     bool // last test passed while the mate is still not heard here
	nextTest   time.Time
	monStatus  wire.IfStatus // last status reported by 105003/105004
}

// mateInfo is what we know of the other unit.
type mateInfo struct {
	heard    bool // heard on the LAN link since failover was enabled
	boot     wire.BootID
	helloSeq uint64 // sequence number of the newest hello
	role     wire.Role
	hello    wire.Hello
	lastLAN  time.Time
	firstLAN time.Time
	shutdown bool // announced a clean shutdown
	mismatch int  // consecutive hellos from a standby with another config version
}

// New returns a unit in state Disabled. Nothing is sent until Apply
// enables failover.
func New(o Options) *Unit {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Post == nil {
		o.Post = func(f func()) { f() }
	}
	if o.Syslog == nil {
		o.Syslog = func(string) {}
	}
	if o.Hooks == nil {
		o.Hooks = nopHooks{}
	}
	boot := wire.NewBootID()
	u := &Unit{
		o:         o,
		log:       o.Log,
		cfg:       config.New(),
		role:      wire.RolePrimary,
		codec:     wire.NewCodec(nil),
		listening: map[string]bool{},
		execs:     map[uint32]*execReq{},
		arpWatch:  map[string]context.CancelFunc{},
		state:     Disabled,
		done:      make(chan struct{}),
		// A run killed while active left its fence, tripped: until it is
		// removed this box sends no ARP and its frames leave muted.
		fencePresent: true,
	}
	u.fo = u.cfg.Failover
	u.stateSince = o.Clock.Now()
	u.sender = wire.NewSender(u.codec, u.role, boot)
	u.recv = wire.NewReceiver(u.codec, boot)
	if o.Transport != nil && !o.manualRecv {
		go u.recvLoop(o.Transport.Recv())
	}
	return u
}

// State returns the current state.
func (u *Unit) State() State { return u.state }

// PromptTags gives the ASA `prompt hostname priority state` words.
func (u *Unit) PromptTags() (prio, state string) {
	prio = "pri"
	if u.role == wire.RoleSecondary {
		prio = "sec"
	}
	state = "stby"
	if u.state.serves() {
		state = "act"
	}
	return prio, state
}

// Apply takes a new configuration. It is cheap and idempotent: the engine
// calls it once after every accepted change, replicated ones included. c
// is the engine's published copy: the unit only reads it.
func (u *Unit) Apply(c *config.Config) {
	if u.stopped || c == nil {
		return
	}
	old := u.fo
	u.cfg = c
	u.fo = u.cfg.Failover
	if u.fo.Poll <= 0 {
		u.fo.Poll = config.DefaultPoll
	}
	if u.fo.Hold < u.fo.Poll {
		u.fo.Hold = 3 * u.fo.Poll
	}
	if u.fo.IfPoll <= 0 {
		u.fo.IfPoll = config.DefaultIfPoll
	}
	if u.fo.IfHold < u.fo.IfPoll {
		u.fo.IfHold = 5 * u.fo.IfPoll
	}
	if u.fo.Policy <= 0 {
		u.fo.Policy = 1
	}
	u.codec.SetKey([]byte(u.fo.Key))
	role := wire.RolePrimary
	if u.fo.Unit == "secondary" {
		role = wire.RoleSecondary
	}
	if role != u.role {
		// The role is stamped on every message: a new sender keeps the
		// boot id and sequence, so the mate's replay window is not upset.
		u.role = role
		u.sender = wire.NewSender(u.codec, role, u.sender.BootID())
	}
	u.rebuildIfs()

	switch {
	case !u.fo.Enabled && old.Enabled:
		u.syslog(1, 105001, "Disabling failover.")
	case u.fo.Enabled && !old.Enabled:
		u.syslog(1, 105002, "Enabling failover.")
	}
	// A unit with a role and a LAN interface talks to its mate even with
	// failover off: its hellos tell the mate which addresses it holds, so
	// the mate does not take them (see Disabled and PseudoStandby).
	talking := u.fo.Unit != "" && u.lanIf() != nil
	switch {
	case talking && !u.talking:
		u.talking = true
		u.mate = mateInfo{}
		u.listenSince = u.o.Clock.Now()
		u.syncListens()
		u.startTimers()
	case !talking && u.talking:
		u.talking = false
		u.stopTimers()
		u.syncListens()
	case talking:
		u.syncListens()
		if old.Poll != u.fo.Poll || old.IfPoll != u.fo.IfPoll || old.Hold != u.fo.Hold {
			u.stopTimers()
			u.startTimers()
		}
	}
	if old.Unit != "" && old.Unit != u.fo.Unit && u.participating() && u.state != Negotiation {
		u.setState(Negotiation, "Unit role changed")
	}
	u.syncARPWatch()
	if !slices.Equal(u.DesiredAddrs(), u.desired) || (u.fencePresent && !u.fenceWanted()) {
		u.reconcile(false)
	}
	u.evaluate()
	u.started = true
}

// participating says whether this unit takes part in a pair now: failover
// is on and it has a unit role and a LAN interface to find its mate on.
// Without them a box stays a standalone router that keeps its addresses.
func (u *Unit) participating() bool { return u.talking && u.fo.Enabled }

// rebuildIfs refreshes the interface table from the configuration, keeping
// what was learned at run time (carrier, MACs, mate heard) for interfaces
// that stay.
func (u *Unit) rebuildIfs() {
	prev := map[string]*ifc{}
	for _, f := range u.ifs {
		prev[f.cfg.HW] = f
	}
	var lan *ifc
	var rest []*ifc
	for _, ci := range u.cfg.NamedInterfaces() {
		f := prev[ci.HW]
		if f == nil {
			f = &ifc{}
			if u.o.DP == nil {
				u.log.Warn("no dataplane: link state unknown", "link", ci.HW)
			} else if l, err := u.o.DP.Link(ci.HW); err == nil {
				f.adminUp, f.carrier = l.AdminUp, l.Carrier
				f.ownMAC = u.burnedIn(l)
				// A daemon killed in the middle of a switchover leaves
				// its rewrite behind: it would hide this unit's frames
				// from the switches when it serves again.
				if err := u.o.DP.MuteMAC(ci.HW, nil, nil); err != nil {
					u.log.Warn("failed to unmute", "link", ci.HW, "err", err)
				}
			} else {
				u.log.Warn("failed to read link", "link", ci.HW, "err", err)
			}
		}
		f.cfg = *ci
		f.lan = u.fo.LanIf != "" && ci.Name == u.fo.LanIf
		f.stateLink = !f.lan && u.fo.Link != "" && ci.Name == u.fo.Link
		f.monitored = !f.lan && !f.stateLink && !ci.NoMonitor && ci.Addr.IsValid()
		if f.lan {
			lan = f
		} else {
			rest = append(rest, f)
		}
	}
	u.ifs = rest
	if lan != nil {
		u.ifs = append([]*ifc{lan}, rest...)
	}
}

// lanIf returns the failover LAN interface, or nil when none is configured.
func (u *Unit) lanIf() *ifc {
	if len(u.ifs) > 0 && u.ifs[0].lan {
		return u.ifs[0]
	}
	return nil
}

func (u *Unit) ifByHW(hw string) *ifc {
	for _, f := range u.ifs {
		if f.cfg.HW == hw {
			return f
		}
	}
	return nil
}

// LinkChanged tells the unit about a kernel link event. Carrier loss on a
// monitored interface is acted on at once.
func (u *Unit) LinkChanged(l dataplane.Link) {
	f := u.ifByHW(l.Name)
	if f == nil || u.stopped {
		return
	}
	f.adminUp, f.carrier = l.AdminUp, l.Carrier
	if f.ownMAC == nil && len(l.MAC) == 6 {
		f.ownMAC = u.burnedIn(l)
	}
	u.evaluate()
}

// Stop announces a clean shutdown to the mate (so it takes over at once
// and shows "Other side powered off") and stops every timer and socket.
func (u *Unit) Stop() {
	if u.stopped {
		return
	}
	if u.talking {
		u.sendHello(wire.HelloShuttingDown)
	}
	u.restoreMACs()
	u.switchover = nil
	u.muteMACs()
	u.stopped = true
	u.dropFence()
	u.stopTimers()
	if u.verdictTimer != nil {
		u.verdictTimer.Stop()
	}
	for name := range u.listening {
		if err := u.o.Transport.Unlisten(name); err != nil {
			u.log.Debug("failed to unlisten", "iface", name, "err", err)
		}
	}
	clear(u.listening)
	u.syncARPWatch()
	for id, e := range u.execs {
		delete(u.execs, id)
		e.finish("", errStopped)
	}
	close(u.done)
}

// hold and friends are the timers in force.
func (u *Unit) hold() time.Duration   { return u.fo.Hold }
func (u *Unit) ifHold() time.Duration { return u.fo.IfHold }

// lanAddr is the address the LAN interface (or a stateful link) of a unit
// with role r holds: primary = system address, secondary = standby.
func lanAddr(ci config.Interface, r wire.Role) netip.Prefix {
	if r == wire.RolePrimary {
		return ci.Addr
	}
	if ci.StandbyIP.IsValid() && ci.Addr.IsValid() {
		return netip.PrefixFrom(ci.StandbyIP, ci.Addr.Bits())
	}
	return netip.Prefix{}
}

type nopHooks struct{}

func (nopHooks) ApplyReplicated(string)                {}
func (nopHooks) ReplaceConfig(string)                  {}
func (nopHooks) WriteMemory()                          {}
func (nopHooks) ExecShow(_ string, reply func(string)) { reply("") }
func (nopHooks) RoutingChanged(bool)                   {}
func (nopHooks) Console(string)                        {}
func (nopHooks) Reconcile(done func()) {
	if done != nil {
		done()
	}
}
