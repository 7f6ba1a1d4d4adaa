# kmsload — two commands do everything: `make run` and `make test`.
GO      ?= go
BIN     := bin/kmsload
OUT     ?= kmsload-results/quickstart
FUZZTIME ?= 5s

.PHONY: all build run test vet fuzz bench bench-cluster clean layouts cluster compat

all: build

build:
	$(GO) build -o $(BIN) ./cmd/kmsload

# Builds, then runs the default scenario on the embedded emulator (each
# workload alone, then together) and prints the report. Its thresholds fail
# by design (exit 99): that is part of the demonstration, not an error.
run: build
	./$(BIN) run scenarios/quickstart.yaml --isolate --out $(OUT) || [ $$? -eq 99 ]

# All tests: vet, unit and integration tests (with the race detector on the
# concurrent packages), fuzz seed corpora, then a short fuzzing pass of each
# wire and file parser. sim's emulator-equivalence test runs real-time
# emulator runs side by side and compares them to the simulation request
# for request, so it runs on its own, after the other packages: beside
# them, the machine's stalls move arrivals across quota seconds and every
# run needs its second try. The race pass runs one package at a time (-p 1):
# record's race tests beside driver's timing tests starved the driver's
# quota windows (a throttled share 2 points off on 2 cores).
test: vet
	$(GO) test -count=1 $$($(GO) list ./... | grep -v '/kmsload/sim$$')
	$(GO) test -count=1 -timeout 20m ./sim/
	$(GO) test -count=1 -race -p 1 ./quota/ ./report/ ./record/ ./driver/ ./internal/h1/
	$(MAKE) fuzz

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted: $$unformatted"; exit 1; fi

# FuzzFastHandler runs a fixed number of inputs: stopped by a deadline, a
# request in flight at the deadline failed the pass ("context deadline
# exceeded") without a finding.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzHandler$$' -fuzztime=$(FUZZTIME) ./emulator/
	$(GO) test -run='^$$' -fuzz='^FuzzFastHandler$$' -fuzztime=20000x ./emulator/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./scenario/
	$(GO) test -run='^$$' -fuzz='^FuzzParseSimpleHead$$' -fuzztime=$(FUZZTIME) ./internal/h1/
	$(GO) test -run='^$$' -fuzz='^FuzzReadStream$$' -fuzztime=$(FUZZTIME) ./trail/
	$(GO) test -run='^$$' -fuzz='^FuzzReadTrace$$' -fuzztime=$(FUZZTIME) ./scenario/
	$(GO) test -run='^$$' -fuzz='^FuzzReadSame$$' -fuzztime=$(FUZZTIME) ./trail/
	$(GO) test -run='^$$' -fuzz='^FuzzReadCSV$$' -fuzztime=$(FUZZTIME) ./trail/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./whatif/

clean:
	rm -rf bin kmsload-results

# kmsload's KMS compatibility suite (emulator/compat: response shapes and
# error codes as the API reference documents them, by operation) against
# the emulator, moto_server and local-kms, with a pass table per target.
# make test runs it against the emulator alone. About 10 seconds.
compat:
	KMSLOAD_COMPAT=1 $(GO) test -count=1 -v -run '^TestCompatTable$$' ./emulator/compat/

# Ratios measured in one run on loopback: emulator vs local-kms vs a null
# handler under one load generator, peak memory of a 30 s vs a 5 min
# run, the driver against vegeta and --http-client fast against std, then
# bench-cluster; first the trail reader, then kmsload import of 10 million
# recorded events and a 24-hour trace simulated (bench/import.sh, about 3
# minutes). About 16 minutes in all (README.md). BENCH_SECTIONS picks
# sections: trail, import, emulator, wrk, memory, driver.
bench:
	@case " $${BENCH_SECTIONS:-trail import} " in *" trail "*) TRAIL_BENCH_SUMMARY=1 $(GO) test -count=1 -run '^$$' -bench '^BenchmarkImportFlat$$' -benchtime 1x ./trail/ | grep '^trail import' ;; esac
	@case " $${BENCH_SECTIONS:-trail import} " in *" import "*) ./bench/import.sh ;; esac
	./bench/bench.sh
	./bench/cluster.sh

# Distributed runs on loopback (docs/distributed.md): one agent against
# four at the same total rate through nsqd, and what coordination costs in
# CPU. About 1.5 minutes; also part of make bench.
bench-cluster:
	./bench/cluster.sh

# A distributed run on loopback (docs/distributed.md): nsqd through
# `go tool nsqd`, two `kmsload agent`s, and scenarios/quickstart.yaml
# coordinated over them and merged. Its thresholds fail by design (99).
CLUSTER_NSQD_PORT ?= 41500
cluster: build
	@set -e; dir=$$(mktemp -d); \
	$(GO) tool nsqd --tcp-address=127.0.0.1:$(CLUSTER_NSQD_PORT) --http-address=127.0.0.1:$$(($(CLUSTER_NSQD_PORT)+1)) \
		--https-address= --broadcast-address=127.0.0.1 --data-path=$$dir >$$dir/nsqd.log 2>&1 & nsqd=$$!; \
	trap 'kill $$a1 $$a2 $$nsqd 2>/dev/null; wait; rm -rf $$dir' EXIT; \
	for i in $$(seq 100); do curl -sf 127.0.0.1:$$(($(CLUSTER_NSQD_PORT)+1))/ping >/dev/null && break; sleep 0.2; done; \
	./$(BIN) agent --nsqd 127.0.0.1:$(CLUSTER_NSQD_PORT) --name agent-1 -q & a1=$$!; \
	./$(BIN) agent --nsqd 127.0.0.1:$(CLUSTER_NSQD_PORT) --name agent-2 -q & a2=$$!; \
	./$(BIN) run scenarios/quickstart.yaml --agents 2 --nsqd 127.0.0.1:$(CLUSTER_NSQD_PORT) --duration 5s \
		--out kmsload-results/cluster || [ $$? -eq 99 ]

# docs/layouts.md: every scenario of the library measured by `kmsload study`
# (each workload alone, then all together, 6 s windows: shorter ones are too
# short to tell coupling from noise) and written as
# Markdown: the claim, the measured table, the verdict and the reading for
# capacity planning of each layout. Takes about 8 minutes.
LAYOUTS_INTRO := Generated by \`make layouts\` (\`kmsload study scenarios/*.yaml --duration 6s --markdown\`) on the embedded emulator with AWS's request quotas, scaled as each scenario says; do not edit by hand. Numbers move a little from run to run (arrival timing, retries with jitter).
layouts: build
	./$(BIN) study scenarios/*.yaml --duration 6s --markdown --quiet --intro "$(LAYOUTS_INTRO)" > docs/layouts.md.tmp
	mv docs/layouts.md.tmp docs/layouts.md
