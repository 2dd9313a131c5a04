# kensa — build, test and run. `make help` lists the targets.

GO        ?= go
BIN       := bin/kensa
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X kensa.dev/kensa/internal/version.Version=$(VERSION) -X kensa.dev/kensa/internal/version.Commit=$(COMMIT)
EXAMPLE   := build/example/delivery-3.2.0
NEXT      := build/example/delivery-3.3.0
TOOLS     := $(GO) tool -modfile=tools/go.mod
FUZZTIME  ?= 30s
GOVULNDB  ?= ../shared/testdata/govulndb

.PHONY: help build test lint fuzz catalogue bench fixtures rule-fixtures corpus-check run run-update image bench-go bench-corpus vuln clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/kensa
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kensa

test: ## run every test (with the race detector), then the hard memory bounds without it
	$(GO) test -race -timeout 60m ./...
	$(GO) test -timeout 20m -run 'TestMemoryBomb|TestWalkStoppedAtWalkMemory' ./analyzers/worker/

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS) staticcheck ./...

fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

CATALOGUE_PKGS := ./attest/authenticode/ ./attest/sigstore/ ./attest/provenance/ ./attest/publish/ ./attest/checksums/ \
  ./attest/vsa/ ./analyzers/archive/ ./analyzers/elf/ ./analyzers/pe/ ./analyzers/macho/ ./analyzers/gobuild/ \
  ./analyzers/internal/debugsafe/ ./analyzers/image/ ./analyzers/inventory/ ./analyzers/worker/ ./sbom/ \
  ./internal/render/ ./internal/cli/

catalogue: ## run the bad-input catalogue's tests and rewrite the census in docs/security.md
	@mkdir -p build
	-$(GO) test -json $(CATALOGUE_PKGS) > build/catalogue-packages.json
	-$(GO) test -json -run 'TestScripts/(hostile|catalogue)_|TestHostileCasesTwice' ./cmd/kensa/ > build/catalogue-scripts.json
	$(GO) run ./internal/catalogue -json build/catalogue-packages.json -json build/catalogue-scripts.json \
	  -scripts cmd/kensa/testdata/script -doc docs/security.md

bench-go: ## the Go benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchmem ./...

# build/ holds no code: its go.mod keeps the corpus's own Go sources out of ./...
bench-corpus: ## build the benchmark images (Debian packages via apt-get download) under build/bench
	@mkdir -p build && [ -f build/go.mod ] || printf 'module kensa.dev/build-output\n' > build/go.mod
	./scripts/bench.sh corpus

bench: build ## kensa against syft and the sha256sum floor on build/bench/corpus-{1g,2g} (after bench-corpus)
	./scripts/bench.sh run

IMAGE_TAG ?= kensa.dev/kensa:$(VERSION)
image: build ## kensa as a container image, an OCI layout in build/image (publish: crane push build/image REF)
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) \
	  $(GO) run ./internal/mkimage -out build/image -bin $(BIN) -tag $(IMAGE_TAG) -version $(VERSION) -revision $(COMMIT)

vuln: ## govulncheck against the offline vulnerability database; fails on a reachable one not in vuln-accepted.txt
	@mkdir -p build
	$(TOOLS) govulncheck -db file://$(abspath $(GOVULNDB)) -format json ./... > build/govulncheck.json
	$(GO) run ./internal/vulncheck -accepted vuln-accepted.txt < build/govulncheck.json

fixtures: $(EXAMPLE)/install.sh ## build the example delivery from testdata/example

$(EXAMPLE)/install.sh: $(shell find testdata/example internal/fixture -type f)
	rm -rf $(EXAMPLE)
	$(GO) run ./internal/fixture/mkexample -src testdata/example -out $(EXAMPLE)

$(NEXT)/install.sh: $(shell find testdata/example internal/fixture -type f)
	rm -rf $(NEXT)
	$(GO) run ./internal/fixture/mkexample -src testdata/example -version 3.3.0 -out $(NEXT)

rule-fixtures: ## rebuild the binary fixtures of the built-in rule packs (committed)
	./testdata/rule-fixtures/build.sh

CORPUS    ?= /usr/bin /usr/sbin /usr/lib/x86_64-linux-gnu $(shell go env GOROOT)/bin $(shell go env GOROOT)/pkg/tool

corpus-check: build ## scan this machine's system binaries: how often do the rules fire on ordinary software?
	@mkdir -p build
	-@$(BIN) scan -q $(CORPUS) --format json -o build/corpus.json
	$(GO) run ./internal/corpuscheck build/corpus.json

run: build fixtures build/example/acceptance.key ## build kensa and run the acceptance of the example delivery
	@echo "\$$ kensa accept $(EXAMPLE) --policy testdata/example/acceptance.yaml --out build/example/evidence --sign-key build/example/acceptance.key"
	@$(BIN) accept $(EXAMPLE) --policy testdata/example/acceptance.yaml --out build/example/evidence --sign-key build/example/acceptance.key

run-update: run $(NEXT)/install.sh ## after the acceptance of 3.2.0: what changed in the next release (3.3.0, compromised)
	@echo "\$$ kensa diff --baseline build/example/evidence/result.json $(NEXT) --min-risk medium"
	@$(BIN) diff --baseline build/example/evidence/result.json $(NEXT) --min-risk medium; test $$? -eq 1

# The acceptance team's signing key for the example (P-256, made here, never committed).
build/example/acceptance.key:
	@mkdir -p build/example
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $@
	openssl pkey -in $@ -pubout -out build/example/acceptance.pub

clean: ## remove what the build made
	rm -rf bin build
