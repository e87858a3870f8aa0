#!/usr/bin/env bash
# failover lab: two ISPs, an "internet", a primary/secondary failoverd pair and
# an inside client, all in network namespaces on one machine.  See README.md
# in this directory for the diagram, the address plan and every command.
#
# Nothing here is connected to the host's own network namespace: every veth
# has both ends inside lab namespaces, and only documentation addresses
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are used.
#
# Environment:
#   LAB_PREFIX   prefix of every namespace name (default "fo"); use a unique
#                one per test (LAB_PREFIX=fo-t1234) to run labs concurrently.
#   LAB_DIR      state directory: pid files, sockets, logs, running configs
#                (default /tmp/${LAB_PREFIX}-lab).
#   FAILOVERD    daemon binary (default bin/failoverd in the repository root).
#   FOSH         shell binary  (default bin/fosh in the repository root).
#   FAILOVERD_ARGS
#                more daemon arguments for both units, split on blanks
#                (e.g. "--metrics 127.0.0.1:9105": each unit has its own
#                namespace, so the same address serves both).
#   LAB_PRIMARY_CFG / LAB_SECONDARY_CFG
#                configurations copied into LAB_DIR by "up" (defaults:
#                examples/primary.cfg, examples/secondary.cfg; with --single
#                the primary gets examples/uplink.cfg).
#   LAB_WAIT     seconds "up"/"start" wait for a daemon's socket (default 10).
#   LAB_KEEP_ON_ERROR=1
#                do not tear the half-built lab down when "up" fails.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
EXAMPLES="$REPO_ROOT/examples"

P=${LAB_PREFIX:-fo}
if [[ ! $P =~ ^[A-Za-z0-9_.][A-Za-z0-9_.-]*$ ]]; then
	echo "lab: bad LAB_PREFIX '$P' (letters, digits, '.', '_', '-')" >&2
	exit 2
fi
LAB_DIR=${LAB_DIR:-/tmp/${P}-lab}
FAILOVERD=${FAILOVERD:-$REPO_ROOT/bin/failoverd}
FOSH=${FOSH:-$REPO_ROOT/bin/fosh}
LAB_WAIT=${LAB_WAIT:-10}

# Namespaces (all of them; "down" deletes exactly these, never a glob, so a
# lab with prefix "fo" never touches a concurrent test lab "fo-t1234").
NS_INET=$P-inet
NS_UP1=$P-up1
NS_UP2=$P-up2
NS_ISP1=$P-isp1
NS_ISP2=$P-isp2
NS_SW=$P-sw
NS_PRI=$P-pri
NS_SEC=$P-sec
NS_CLIENT=$P-client
ALL_NS=("$NS_INET" "$NS_UP1" "$NS_UP2" "$NS_ISP1" "$NS_ISP2" "$NS_SW" "$NS_PRI" "$NS_SEC" "$NS_CLIENT")

# Unit interface names (the same inside both unit namespaces; they are the
# "HW" names in the configurations: interface outside auto, ...).
UNIT_IFS=(outside backup inside failover)

# Link names for cut/restore.
LINKS=(
	isp1-upstream isp2-upstream isp1-blackhole isp2-blackhole isp1-gw isp2-gw
	primary-outside primary-backup primary-inside primary-failover
	secondary-outside secondary-backup secondary-inside secondary-failover
	client-inside
	outside-switch backup-switch inside-switch failover-switch
	target1 target2 server
)

log() { echo "lab[$P]: $*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
	[[ $EUID -eq 0 ]] || die "must run as root (network namespaces)"
}

abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/$1" ;;
	esac
}

ns_exists() { [[ -e /run/netns/$1 ]]; }

# nx NS CMD...: run in namespace
nx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# veth NS1 IF1 NS2 IF2: create a veth pair with one end in each namespace.
veth() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
}

# Unit name helpers: primary|pri -> pri, secondary|sec -> sec.
unit_short() {
	case ${1:-} in
	primary | pri) echo pri ;;
	secondary | sec) echo sec ;;
	*) die "unknown unit '${1:-}' (primary|secondary)" ;;
	esac
}
unit_long() {
	case $(unit_short "$1") in
	pri) echo primary ;;
	sec) echo secondary ;;
	esac
}
unit_ns() { echo "$P-$(unit_short "$1")"; }

sysctl_ns() {
	local ns=$1
	shift
	nx "$ns" sysctl -qw "$@" >/dev/null
}

# rp_filter off on every interface of a namespace (the units probe each
# uplink through its own table while the default route points elsewhere,
# and replies arrive on the "wrong" interface for a strict check).
rp_filter_off() {
	nx "$1" sh -c 'for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >"$f"; done'
}

# ---------------------------------------------------------------- build

build_namespaces() {
	local ns
	for ns in "${ALL_NS[@]}"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		# inherited from the host otherwise (IPv4 devconf is copied from init_net)
		sysctl_ns "$ns" net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
}

build_switch() {
	local br
	# A switch sends nothing of its own: without this, each port (a veth
	# of this namespace) runs IPv6 and sends router solicitations to the
	# unit it faces, which passes the unit's interface test on a dead
	# segment (a bridge forwards IPv6 all the same).
	sysctl_ns "$NS_SW" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	for br in br-outside br-backup br-inside br-failover; do
		ip -n "$NS_SW" link add "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
		ip -n "$NS_SW" link set "$br" up
	done
}

# port NS IF BRIDGE PORTNAME: veth from NS (named IF) to a switch port.
port() {
	veth "$NS_SW" "$4" "$1" "$2"
	ip -n "$NS_SW" link set "$4" master "$3"
	ip -n "$NS_SW" link set "$4" up
	ip -n "$1" link set "$2" up
}

build_links() {
	# internet <-> upstream hops
	veth "$NS_UP1" inet "$NS_INET" up1
	veth "$NS_UP2" inet "$NS_INET" up2
	# upstream hops <-> ISP gateway routers
	veth "$NS_ISP1" up1 "$NS_UP1" isp1
	veth "$NS_ISP2" up2 "$NS_UP2" isp2
	ip -n "$NS_UP1" link set inet up
	ip -n "$NS_UP1" link set isp1 up
	ip -n "$NS_UP2" link set inet up
	ip -n "$NS_UP2" link set isp2 up
	ip -n "$NS_INET" link set up1 up
	ip -n "$NS_INET" link set up2 up
	ip -n "$NS_ISP1" link set up1 up
	ip -n "$NS_ISP2" link set up2 up

	# segments through the switch
	port "$NS_ISP1" outside br-outside isp1
	port "$NS_ISP2" backup br-backup isp2
	port "$NS_CLIENT" inside br-inside client
	local u
	for u in pri sec; do
		port "$P-$u" outside br-outside "$u-outside"
		port "$P-$u" backup br-backup "$u-backup"
		port "$P-$u" inside br-inside "$u-inside"
		port "$P-$u" failover br-failover "$u-failover"
	done
}

build_addresses() {
	# internet: probe targets and a server on lo
	ip -n "$NS_INET" addr add 203.0.113.1/32 dev lo
	ip -n "$NS_INET" addr add 203.0.113.2/32 dev lo
	ip -n "$NS_INET" addr add 203.0.113.10/32 dev lo
	ip -n "$NS_INET" addr add 203.0.113.130/30 dev up1
	ip -n "$NS_INET" addr add 203.0.113.134/30 dev up2

	ip -n "$NS_UP1" addr add 203.0.113.129/30 dev inet
	ip -n "$NS_UP1" addr add 198.51.100.34/30 dev isp1
	ip -n "$NS_UP2" addr add 203.0.113.133/30 dev inet
	ip -n "$NS_UP2" addr add 198.51.100.38/30 dev isp2

	ip -n "$NS_ISP1" addr add 198.51.100.33/30 dev up1
	ip -n "$NS_ISP1" addr add 198.51.100.1/28 dev outside
	ip -n "$NS_ISP2" addr add 198.51.100.37/30 dev up2
	ip -n "$NS_ISP2" addr add 198.51.100.17/28 dev backup

	ip -n "$NS_CLIENT" addr add 192.0.2.10/28 dev inside
	# Units: no addresses and no default route; failoverd puts the system /
	# standby addresses on and installs the tracked default route.
}

# Static routes of routers and hosts.  "replace" and best effort so that
# "restore" can re-run it while another link is still cut (a route whose
# interface is down cannot be added; it comes back when that link returns).
routes() {
	local strict=${1:-}
	local rc=0
	r() {
		local ns=$1
		shift
		if ! ip -n "$ns" route replace "$@" 2>/dev/null; then
			rc=1
			[[ -n $strict ]] && log "route in $ns failed: $*"
		fi
	}
	r "$NS_INET" 198.51.100.0/28 via 203.0.113.129
	r "$NS_INET" 198.51.100.32/30 via 203.0.113.129
	r "$NS_INET" 198.51.100.16/28 via 203.0.113.133
	r "$NS_INET" 198.51.100.36/30 via 203.0.113.133
	r "$NS_UP1" default via 203.0.113.130
	r "$NS_UP1" 198.51.100.0/28 via 198.51.100.33
	r "$NS_UP2" default via 203.0.113.134
	r "$NS_UP2" 198.51.100.16/28 via 198.51.100.37
	r "$NS_ISP1" default via 198.51.100.34
	r "$NS_ISP2" default via 198.51.100.38
	r "$NS_CLIENT" default via 192.0.2.1
	unset -f r
	[[ -z $strict || $rc -eq 0 ]]
}

build_forwarding() {
	local ns
	for ns in "$NS_UP1" "$NS_UP2" "$NS_ISP1" "$NS_ISP2" "$NS_PRI" "$NS_SEC"; do
		sysctl_ns "$ns" net.ipv4.ip_forward=1
	done
	for ns in "$NS_INET" "$NS_CLIENT" "$NS_SW"; do
		sysctl_ns "$ns" net.ipv4.ip_forward=0
	done
	for ns in "${ALL_NS[@]}"; do
		rp_filter_off "$ns"
	done
}

# Masquerading, as a small site's router does: inside traffic leaving either ISP interface is
# source-NATed to that interface's address.  Set up by the lab, not by the
# daemon; only the inside subnet is NATed so the daemon's own hellos and
# probes are never rewritten.
build_nat() {
	local u
	for u in "$NS_PRI" "$NS_SEC"; do
		nx "$u" nft -f - <<'EOF'
table ip lab_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.0.2.0/28 oifname { "outside", "backup" } masquerade
	}
}
EOF
	done
}

# ---------------------------------------------------------------- daemons

pidfile() { echo "$LAB_DIR/$(unit_long "$1").pid"; }
sockfile() { echo "$LAB_DIR/$(unit_long "$1").sock"; }
cfgfile() { echo "$LAB_DIR/$(unit_long "$1").cfg"; }
logfile() { echo "$LAB_DIR/$(unit_long "$1").log"; }

# daemon_pid UNIT: print the pid if that failoverd is alive.
daemon_pid() {
	local pf pid
	pf=$(pidfile "$1")
	[[ -f $pf ]] || return 1
	pid=$(<"$pf")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -d /proc/$pid ]] || return 1
	# guard against a recycled pid: it must live in the unit's namespace
	ip netns identify "$pid" 2>/dev/null | grep -qx "$(unit_ns "$1")" || return 1
	echo "$pid"
}

start_unit() {
	local unit ns pf sock cfg lg pid i
	unit=$(unit_long "$1")
	ns=$(unit_ns "$unit")
	ns_exists "$ns" || die "namespace $ns does not exist (run: lab.sh up)"
	if pid=$(daemon_pid "$unit"); then
		log "$unit already running (pid $pid)"
		return 0
	fi
	[[ -x $FAILOVERD ]] || die "FAILOVERD=$FAILOVERD is not executable (build it: make, or set FAILOVERD)"
	pf=$(pidfile "$unit")
	sock=$(sockfile "$unit")
	cfg=$(cfgfile "$unit")
	lg=$(logfile "$unit")
	mkdir -p "$LAB_DIR"
	if [[ ! -f $cfg ]]; then
		local src=$EXAMPLES/$unit.cfg
		[[ $unit == primary ]] && src=${LAB_PRIMARY_CFG:-$src}
		[[ $unit == secondary ]] && src=${LAB_SECONDARY_CFG:-$src}
		cp "$src" "$cfg"
	fi
	rm -f "$sock"
	echo "=== lab: starting $unit $(date -u +%FT%TZ) ===" >>"$lg"
	# setsid: its own session so a terminal's ^C on the caller does not reach
	# it; setsid does not fork here (a background job of a script is not a
	# process-group leader), so $! is the daemon's pid after the execs.
	local extra=()
	read -ra extra <<<"${FAILOVERD_ARGS:-}"
	ip netns exec "$ns" setsid "$FAILOVERD" --config "$cfg" --socket "$sock" "${extra[@]}" \
		</dev/null >>"$lg" 2>&1 &
	pid=$!
	echo "$pid" >"$pf"
	for ((i = 0; i < LAB_WAIT * 10; i++)); do
		if [[ -S $sock ]]; then
			log "$unit started in $ns (pid $pid, socket $sock, log $lg)"
			return 0
		fi
		if [[ ! -d /proc/$pid ]]; then
			log "$unit died at start; last lines of $lg:"
			tail -n 20 "$lg" >&2 || true
			rm -f "$pf"
			return 1
		fi
		sleep 0.1
	done
	log "$unit (pid $pid) running but no socket $sock after ${LAB_WAIT}s; see $lg"
}

# stop_unit UNIT [SIGNAL]
stop_unit() {
	local unit pid sig=${2:-TERM} i
	unit=$(unit_long "$1")
	if pid=$(daemon_pid "$unit"); then
		kill "-$sig" "$pid" 2>/dev/null || true
		if [[ $sig != KILL && $sig != 9 ]]; then
			for ((i = 0; i < 30; i++)); do
				[[ -d /proc/$pid ]] || break
				sleep 0.1
			done
			[[ -d /proc/$pid ]] && kill -KILL "$pid" 2>/dev/null || true
		fi
		log "$unit (pid $pid) stopped with SIG$sig"
	else
		log "$unit is not running"
	fi
	rm -f "$(pidfile "$unit")"
}

# ---------------------------------------------------------------- subcommands

cmd_down() {
	local purge=
	[[ ${1:-} == --purge ]] && purge=1
	local u ns pid
	for u in primary secondary; do
		if pid=$(daemon_pid "$u" 2>/dev/null); then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
	sleep 0.2
	# Anything still running inside the lab's namespaces (daemons whose pid
	# file was lost, servers a test started in inet/client, ...), by pid.
	for ns in "${ALL_NS[@]}"; do
		ns_exists "$ns" || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			[[ $pid -eq $$ ]] && continue
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	for ns in "${ALL_NS[@]}"; do
		if ns_exists "$ns"; then
			ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
		fi
	done
	rm -f "$LAB_DIR"/primary.pid "$LAB_DIR"/secondary.pid "$LAB_DIR"/primary.sock "$LAB_DIR"/secondary.sock 2>/dev/null || true
	# The daemons' burned-in MAC records: a next lab has new veths with new
	# MACs, and must not take these for the burned-in ones.
	rm -f "$LAB_DIR"/primary.sock.macs* "$LAB_DIR"/secondary.sock.macs* 2>/dev/null || true
	if [[ -n $purge ]]; then
		rm -rf "$LAB_DIR"
	fi
	log "down"
}

cmd_up() {
	local single= daemons=1 a
	for a in "$@"; do
		case $a in
		--single) single=1 ;;
		--no-daemons) daemons= ;;
		*) die "up: unknown option $a (--single, --no-daemons)" ;;
		esac
	done
	command -v nft >/dev/null || die "nft not found (apt-get install -y nftables)"
	FAILOVERD=$(abspath "$FAILOVERD")
	FOSH=$(abspath "$FOSH")
	if [[ -n $daemons && ! -x $FAILOVERD ]]; then
		die "FAILOVERD=$FAILOVERD is not executable (build first, or use --no-daemons)"
	fi
	# leftovers of an earlier (possibly half-failed) lab with this prefix
	local ns leftover=
	for ns in "${ALL_NS[@]}"; do ns_exists "$ns" && leftover=1; done
	if [[ -n $leftover ]]; then
		log "removing leftovers of an earlier lab"
		cmd_down >/dev/null 2>&1
	fi
	if [[ ${LAB_KEEP_ON_ERROR:-} != 1 ]]; then
		trap 'rc=$?; if [[ $rc -ne 0 ]]; then log "up failed (status $rc), tearing down"; cmd_down >/dev/null 2>&1 || true; fi' EXIT
	fi
	mkdir -p "$LAB_DIR"
	build_namespaces
	build_switch
	build_links
	build_addresses
	build_forwarding
	routes strict || die "static routes failed"
	build_nat

	# fresh running configs for this lab (write memory writes these copies)
	cp "${LAB_PRIMARY_CFG:-$EXAMPLES/primary.cfg}" "$LAB_DIR/primary.cfg"
	cp "${LAB_SECONDARY_CFG:-$EXAMPLES/secondary.cfg}" "$LAB_DIR/secondary.cfg"
	if [[ -n $single ]]; then
		cp "${LAB_PRIMARY_CFG:-$EXAMPLES/uplink.cfg}" "$LAB_DIR/primary.cfg"
	fi
	echo "$P" >"$LAB_DIR/prefix"
	[[ -n $single ]] && echo single >"$LAB_DIR/mode" || echo pair >"$LAB_DIR/mode"

	if [[ -n $daemons ]]; then
		start_unit primary
		[[ -n $single ]] || start_unit secondary
	fi
	trap - EXIT
	log "up (namespaces ${P}-{inet,up1,up2,isp1,isp2,sw,pri,sec,client}, state in $LAB_DIR)"
}

cmd_shell() {
	local unit ns
	unit=$(unit_long "${1:-primary}")
	[[ $# -gt 0 ]] && shift
	ns=$(unit_ns "$unit")
	FOSH=$(abspath "$FOSH")
	[[ -x $FOSH ]] || die "FOSH=$FOSH is not executable"
	exec ip netns exec "$ns" "$FOSH" --socket "$(sockfile "$unit")" "$@"
}

# link_ends LINK: print "NS IF" lines of the interfaces set down to cut LINK,
# or "BRIDGE NAME" / "ADDR IP" for the switch and target cuts.
link_ends() {
	case $1 in
	isp1-upstream) echo "$NS_UP1 inet"; echo "$NS_INET up1" ;;
	isp2-upstream) echo "$NS_UP2 inet"; echo "$NS_INET up2" ;;
	isp1-blackhole) echo "NFT $NS_UP1" ;;
	isp2-blackhole) echo "NFT $NS_UP2" ;;
	isp1-gw) echo "$NS_ISP1 outside" ;;
	isp2-gw) echo "$NS_ISP2 backup" ;;
	primary-outside | primary-backup | primary-inside | primary-failover)
		echo "$NS_SW pri-${1#primary-}" ;;
	secondary-outside | secondary-backup | secondary-inside | secondary-failover)
		echo "$NS_SW sec-${1#secondary-}" ;;
	client-inside) echo "$NS_SW client" ;;
	outside-switch | backup-switch | inside-switch | failover-switch)
		echo "$NS_SW br-${1%-switch}" ;;
	target1) echo "ADDR 203.0.113.1" ;;
	target2) echo "ADDR 203.0.113.2" ;;
	server) echo "ADDR 203.0.113.10" ;;
	*) return 1 ;;
	esac
}

set_link() {
	local link=$1 state=$2 a b
	local ends
	ends=$(link_ends "$link") || die "unknown link '$link'; links: ${LINKS[*]}"
	ns_exists "$NS_SW" || die "lab $P is not up"
	while read -r a b; do
		if [[ $a == NFT ]]; then
			# silent loss in the upstream hop, every link stays up
			if [[ $state == down ]]; then
				nx "$b" nft -f - <<'EOF'
table ip lab_cut {
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
}
EOF
			else
				nx "$b" nft delete table ip lab_cut 2>/dev/null || true
			fi
		elif [[ $a == ADDR ]]; then
			if [[ $state == down ]]; then
				ip -n "$NS_INET" addr del "$b/32" dev lo 2>/dev/null || true
			else
				ip -n "$NS_INET" addr replace "$b/32" dev lo
			fi
		else
			ip -n "$a" link set "$b" "$state"
		fi
	done <<<"$ends"
	if [[ $state == up ]]; then
		routes || true # re-add routes the kernel dropped with the interface
	fi
	log "$link $([[ $state == down ]] && echo cut || echo restored)"
}

# link_is_cut LINK: true when the first end of LINK is down / address absent
link_is_cut() {
	local a b
	read -r a b < <(link_ends "$1")
	if [[ $a == NFT ]]; then
		nx "$b" nft list table ip lab_cut >/dev/null 2>&1
	elif [[ $a == ADDR ]]; then
		! ip -n "$NS_INET" -o addr show dev lo | grep -qw "$b/32"
	else
		! ip -n "$a" -o link show "$b" 2>/dev/null | grep -q '[<,]UP[,>]'
	fi
}

cmd_status() {
	local ns u pid l
	echo "lab prefix: $P   state dir: $LAB_DIR"
	echo "namespaces:"
	for ns in "${ALL_NS[@]}"; do
		printf '  %-20s %s\n' "$ns" "$(ns_exists "$ns" && echo present || echo absent)"
	done
	echo "daemons:"
	for u in primary secondary; do
		if pid=$(daemon_pid "$u"); then
			printf '  %-10s pid %-8s socket %s\n' "$u" "$pid" "$(sockfile "$u")"
		else
			printf '  %-10s not running\n' "$u"
		fi
	done
	ns_exists "$NS_SW" || return 0
	echo "units (addresses and default routes):"
	for u in pri sec; do
		ns=$P-$u
		ns_exists "$ns" || continue
		echo "  $ns:"
		for l in "${UNIT_IFS[@]}"; do
			printf '    %-9s %s\n' "$l" "$(ip -n "$ns" -o -4 addr show dev "$l" 2>/dev/null | awk '{printf "%s ", $4}')$(ip -n "$ns" -o link show "$l" 2>/dev/null | grep -o 'state [A-Z]*' || true)"
		done
		ip -n "$ns" route show default 2>/dev/null | sed 's/^/    route: /' || true
		ip -n "$ns" route show default 2>/dev/null | grep -q . || echo "    route: (no default route)"
	done
	echo "cut links:"
	local any=
	for l in "${LINKS[@]}"; do
		if link_is_cut "$l"; then
			echo "  $l"
			any=1
		fi
	done
	[[ -n $any ]] || echo "  (none)"
}

cmd_ping() {
	ns_exists "$NS_CLIENT" || die "lab $P is not up"
	if [[ $# -eq 0 ]]; then
		set -- -c 3 -i 0.2 -W 1
	fi
	exec ip netns exec "$NS_CLIENT" ping "$@" 203.0.113.10
}

usage() {
	cat <<EOF
usage: lab.sh COMMAND [ARGS]   (as root; LAB_PREFIX=$P LAB_DIR=$LAB_DIR)
  up [--single] [--no-daemons]  build the lab and start failoverd in both units
                                (--single: only the primary, with uplink.cfg)
  down [--purge]                kill the daemons, delete every namespace of the lab
                                (--purge also removes LAB_DIR)
  shell [primary|secondary] [FOSH ARGS...]
                                fosh connected to that unit's daemon
  cut LINK | restore LINK       break / repair a link (see "links")
  links                         list the link names
  kill UNIT                     kill -9 the unit's failoverd
  stop UNIT                     SIGTERM the unit's failoverd
  start UNIT                    start the unit's failoverd (keeps its LAB_DIR config)
  status                        namespaces, daemons, unit addresses/routes, cut links
  ping [PING ARGS...]           ping 203.0.113.10 from the client
  exec NAME CMD...              run CMD in namespace \$LAB_PREFIX-NAME
                                (inet up1 up2 isp1 isp2 sw pri sec client)
  ns NAME                       print the full namespace name
EOF
}

main() {
	local cmd=${1:-}
	[[ $# -gt 0 ]] && shift
	case $cmd in
	up) need_root; cmd_up "$@" ;;
	down) need_root; cmd_down "$@" ;;
	shell) need_root; cmd_shell "$@" ;;
	cut) need_root; [[ $# -eq 1 ]] || die "usage: cut LINK"; set_link "$1" down ;;
	restore) need_root; [[ $# -eq 1 ]] || die "usage: restore LINK"; set_link "$1" up ;;
	links) printf '%s\n' "${LINKS[@]}" ;;
	kill) need_root; [[ $# -eq 1 ]] || die "usage: kill UNIT"; stop_unit "$1" KILL ;;
	stop) need_root; [[ $# -eq 1 ]] || die "usage: stop UNIT"; stop_unit "$1" TERM ;;
	start) need_root; [[ $# -eq 1 ]] || die "usage: start UNIT"; FAILOVERD=$(abspath "$FAILOVERD"); start_unit "$1" ;;
	status) need_root; cmd_status ;;
	ping) need_root; cmd_ping "$@" ;;
	exec)
		need_root
		[[ $# -ge 2 ]] || die "usage: exec NAME CMD..."
		local ns=$P-$1
		shift
		ns_exists "$ns" || die "no namespace $ns"
		exec ip netns exec "$ns" "$@"
		;;
	ns) [[ $# -eq 1 ]] || die "usage: ns NAME"; echo "$P-$1" ;;
	help | -h | --help | "") usage ;;
	*) usage >&2; exit 2 ;;
	esac
}

main "$@"
