# Tanglegate: thin wrappers around the go tool. `make test` is what CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 5s

.PHONY: all build test test-heavy check vet fmt fuzz bench pi deps

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o tanglegate ./cmd/gateway

## test: install test dependencies (as root on Debian), then gofmt and vet, race
## tests with integration tests enabled, the heavy tests without the race detector
## (full-size cross-checks and MWM 14 searches, scaled down under -race), a short
## run of every fuzz target, and the package tests (.deb, OCI image, ARM under qemu).
test: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	TANGLEGATE_INTEGRATION=1 $(GO) test -race -timeout 40m ./...
	$(MAKE) test-heavy
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh
	$(MAKE) package-test

## test-heavy: the packages whose tests scale down under -race, at full size, and
## the PoW tests of the arm64 and armv7 builds under qemu-user-static.
HEAVY_PKGS = ./pow/... ./tangle/sign ./tangle/tx ./tangle/gossip ./tangle/milestone ./mam
test-heavy:
	TANGLEGATE_INTEGRATION=1 $(GO) test -count=1 -timeout 30m $(HEAVY_PKGS)
	bash pow/qemu_test.sh

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
