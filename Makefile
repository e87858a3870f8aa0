# failover: failoverd (daemon) and fosh (shell).
GO        ?= go
BIN       := bin
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck
FUZZTIME  ?= 15s
LAB       := examples/lab/lab.sh

.PHONY: all build deps bench-deps test test-short lint fuzz lab lab-down bench clean deb

# Debian packages the lab and the end-to-end tests use, by the command
# each provides (or, for a library, an absolute path it installs); only
# missing ones are installed (needs root and apt-get; .ci/apt-wait waits
# for another apt or dpkg holding the lock instead of failing).
DEPS := ip:iproute2
DEPS += nft:nftables
DEPS += ping:iputils-ping
DEPS += sshd:openssh-server
DEPS += ssh:openssh-client
DEPS += tmux:tmux
DEPS += ansible-playbook:ansible
DEPS += /usr/lib/python3/dist-packages/netmiko:python3-netmiko
DEPS += rsyslogd:rsyslog
DEPS += man:man-db
DEPS += systemd-analyze:systemd
DEPS += snmpd:snmpd
DEPS += snmpget:snmp
DEPS += prlimit:util-linux

# Debian packages only the benchmarks use (the alternatives measured side
# by side with failoverd): installed by "make bench", not by "make test".
BENCH_DEPS := keepalived:keepalived
BENCH_DEPS += conntrackd:conntrackd
BENCH_DEPS += conntrack:conntrack

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/failoverd ./cmd/fosh ./cmd/failover-snmp

deps:
	@missing=""; for d in $(DEPS); do command -v $${d%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${d%%:*} ] || [ -e $${d%%:*} ] || missing="$$missing $${d#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  .ci/apt-wait update -qq && DEBIAN_FRONTEND=noninteractive .ci/apt-wait install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bench-deps:
	@$(MAKE) --no-print-directory deps DEPS="$(BENCH_DEPS)"

# The whole suite: unit tests, then the network-namespace end-to-end tests
# (they need root; every test makes and removes its own namespaces).
test: deps build
	$(GO) test -race -count=1 -timeout 40m ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Short runs of every fuzz target.
fuzz:
	$(GO) test -run XXX -fuzz '^FuzzTokenize$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./grammar
	$(GO) test -run XXX -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./grammar
	$(GO) test -run XXX -fuzz '^FuzzApplyLines$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/config
	$(GO) test -run XXX -fuzz '^FuzzChangeIsAtomic$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/config
	$(GO) test -run XXX -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/wire
	$(GO) test -run XXX -fuzz '^FuzzReceiver$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/wire
	$(GO) test -run XXX -fuzz '^FuzzArpSender$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/dataplane
	$(GO) test -run XXX -fuzz '^FuzzDecodeBatch$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/statesync
	$(GO) test -run XXX -fuzz '^FuzzParsePIX$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/journal
	$(GO) test -run XXX -fuzz '^FuzzDecodeKey$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./shell
	$(GO) test -run XXX -fuzz '^FuzzReadRequest$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/cli
	$(GO) test -run XXX -fuzz '^FuzzSSHClient$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/cli
	$(GO) test -run XXX -fuzz '^FuzzPassPersist$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/snmp

# The lab: a failover pair and two ISPs in network namespaces; opens the
# primary's shell. "make lab-down" removes it.
lab: deps build
	$(LAB) up
	$(LAB) shell primary

lab-down:
	$(LAB) down

# Benchmarks run in the netns lab (root): uplink switch times and unit
# failover against keepalived (and keepalived + conntrackd for connection
# state: failures and planned switchovers), and the CPU connection
# replication costs. Results and commands are in BENCHMARKS.md.
bench: build bench-deps
	$(GO) test -run XXX -bench . -benchtime 1x -count 10 ./engine/statesync/
	$(GO) test -run XXX -bench . -benchtime 1x -count 3 ./engine/
	$(GO) test -run XXX -bench 'Paste|Startup' -benchtime 1x -count 3 -timeout 30m ./cmd/fosh/
	$(GO) test -run XXX -bench . -benchtime 1x -timeout 90m ./examples/lab/

# The Debian package (bin/failover_VERSION_ARCH.deb), built with nfpm
# (github.com/goreleaser/nfpm) from examples/package/nfpm.yaml: the
# binaries, the systemd unit with /usr paths, the fosh group (sysusers),
# /etc/failover, man pages, and a postinst doing the manual install steps.
NFPM ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
deb: BIN := bin
deb: build
	rm -rf $(BIN)/pkg && mkdir -p $(BIN)/pkg/man
	sed -e 's#/usr/local/sbin/#/usr/sbin/#g; s#/usr/local/bin/#/usr/bin/#g; s#^Documentation=.*#Documentation=man:failoverd(8) man:fosh(1) man:failover-config(5)#' \
		examples/failoverd.service >$(BIN)/pkg/failoverd.service
	for m in examples/package/*.[1-8]; do gzip -9n -c $$m >$(BIN)/pkg/man/$${m##*/}.gz; done
	VERSION=$$($(BIN)/failoverd --version | cut -d' ' -f2) GOARCH=$$($(GO) env GOARCH) \
		$(NFPM) package -p deb -f examples/package/nfpm.yaml -t $(BIN)/

clean:
	rm -rf $(BIN)
