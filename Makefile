# Tanglegate: thin wrappers around the go tool. `make test` is what CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 5s

.PHONY: all build test check vet fmt fuzz bench pi deps

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o tanglegate ./cmd/gateway

## test: install test dependencies (as root on Debian), then vet, race tests with
## integration tests enabled, and a short run of every fuzz target.
test: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	TANGLEGATE_INTEGRATION=1 $(GO) test -race -timeout 30m ./...
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

deps:
	./scripts/deps.sh

check:
	gofmt -l .
	$(GO) vet ./...
	$(GO) test -race -short ./...

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./tangle/... ./pow/... ./mam/...

pi:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -ldflags '$(LDFLAGS)' -o dist/tanglegate-linux-arm64 ./cmd/gateway
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -ldflags '$(LDFLAGS)' -o dist/tanglegate-linux-armv7 ./cmd/gateway

# ---- packaging (issue 10): make package, make package-test — see packaging/README.md ----
include packaging/package.mk
# ---- end packaging ----
