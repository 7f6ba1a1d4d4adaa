# kmsload — two commands do everything: `make run` and `make test`.
GO      ?= go
BIN     := bin/kmsload
OUT     ?= kmsload-results/quickstart
FUZZTIME ?= 5s

.PHONY: all build run test vet fuzz bench clean

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
# wire and file parser.
test: vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./quota/ ./report/
	$(MAKE) fuzz

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted: $$unformatted"; exit 1; fi

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzHandler$$' -fuzztime=$(FUZZTIME) ./emulator/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./scenario/

clean:
	rm -rf bin kmsload-results

# Ratios measured in one run on loopback: emulator vs local-kms vs a null
# handler under one load generator, and peak memory of a 30 s vs a 5 min
# run. Takes about 7 minutes.
bench:
	./bench/bench.sh
