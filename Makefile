# failover: failoverd (daemon) and fosh (shell).
GO        ?= go
BIN       := bin
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck
FUZZTIME  ?= 15s
LAB       := examples/lab/lab.sh

.PHONY: all build test test-short lint fuzz lab lab-down bench clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/failoverd ./cmd/fosh

# The whole suite: unit tests, then the network-namespace end-to-end tests
# (they need root; every test makes and removes its own namespaces).
test: build
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
	$(GO) test -run XXX -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./engine/wire

# The lab: a failover pair and two ISPs in network namespaces; opens the
# primary's shell. "make lab-down" removes it.
lab: build
	$(LAB) up
	$(LAB) shell primary

lab-down:
	$(LAB) down

# Benchmarks run in the netns lab (root): uplink switch times and unit
# failover against keepalived. Results and commands are in BENCHMARKS.md.
bench: build
	$(GO) test -run XXX -bench . -benchtime 1x -timeout 90m ./examples/lab/

clean:
	rm -rf $(BIN)
