# tether: the commands the README names. `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Every module in the repository: the library and the nested ones that exist.
MODULES     := . $(patsubst %/go.mod,%,$(wildcard bench/go.mod integration/go.mod otel/go.mod inspect/browser/go.mod))
# Nested modules whose tests `make test` runs beside the library's (the metrics adapter, the inspector in Chromium).
TESTED      := $(patsubst %/go.mod,%,$(wildcard otel/go.mod inspect/browser/go.mod))
# A count, not a duration: go1.26 fuzzing can fail with a spurious "context deadline
# exceeded" when a -fuzztime duration ends (golang/go#75804, fixed in go1.27).
FUZZTIME    ?= 60000x
BENCHTIME   ?= 1x

.PHONY: test fmt-check vet staticcheck unit modules-unit fuzz-short integration bench-smoke bench docs quickstart

## test: everything CI checks, on every module.
test: fmt-check vet staticcheck unit modules-unit fuzz-short integration bench-smoke

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './*/node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	@for m in $(MODULES); do echo "== go vet ($$m)"; (cd $$m && $(GO) vet ./...); done

staticcheck:
	@for m in $(MODULES); do echo "== staticcheck ($$m)"; (cd $$m && $(GO) run $(STATICCHECK) ./...); done

unit:
	$(GO) test -race -count=1 ./...

# The tests of the nested modules in TESTED. inspect/browser needs Chromium:
# without it the test skips, unless TETHER_BROWSER=required (.ci/run sets it).
modules-unit:
	@for m in $(TESTED); do echo "== go test ($$m)"; (cd $$m && $(GO) test -race -count=1 ./...); done

# Short runs of every fuzz target, one package at a time (go test -fuzz takes one target).
fuzz-short:
	@./scripts/fuzz-short.sh $(FUZZTIME)

integration:
	@if [ -f integration/go.mod ]; then \
		if [ -f integration/package-lock.json ]; then (cd integration && npm ci --no-audit --no-fund); fi; \
		(cd integration && $(GO) test -race -count=1 ./...); \
	fi

# Compile bench/ and run each benchmark once, the library's too, so none rots.
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...
	@if [ -f bench/go.mod ]; then (cd bench && $(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...); fi

## bench: the figures in docs/performance.md.
bench:
	@./scripts/bench.sh

## docs: regenerate the generated documents (docs/lifecycle.md).
docs:
	$(GO) run ./internal/gendocs

quickstart:
	$(GO) run ./examples/quickstart
