# Securechat: `make run` builds everything and starts the server on
# http://localhost:5000 with demo users; `make test` runs every test.
# Both install what they need (npm packages, Chromium) on a Debian machine.

CARGO    ?= cargo
RELEASE  := target/release/securechat
DEBUG    := target/debug/securechat
NPM_CI   := npm ci --no-audit --no-fund --loglevel=error
# The debug server as `cargo test` builds it: the same packages as the Rust
# tests (so the same features), so the Node and browser suites reuse that
# build instead of compiling the dependency graph a second time.
DEBUG_BUILD := $(CARGO) test --workspace --no-run --quiet

.PHONY: bench run build wasm web test-build-idempotent web-deps s3-peer api-check bench-peers test test-rust test-api test-web test-wasm test-compat test-browser lint fmt browser-deps nginx-deps screenshots clean

## Build everything (web UI, server) and run with demo users on port 5000.
run: build
	$(RELEASE) init-db --demo
	$(RELEASE) serve

## Release build of the server with the web UI (and its WASM crypto) embedded.
build: wasm web
	$(CARGO) build --release -p securechat-server

## The E2EE client core (with the crypto crate) compiled to WebAssembly, into
## web/wasm (installs the wasm32 target and the matching wasm-bindgen-cli if
## missing). Rebuilt only when its sources change, so that nothing
## downstream (the web bundle, the release server that embeds it) is either.
WASM_OUT := web/wasm/securechat_e2ee_bg.wasm
WASM_SRC := $(shell find crates/securechat-crypto crates/securechat-e2ee -name '*.rs' -not -path '*/tests/*' -not -path '*/examples/*') \
            crates/securechat-crypto/Cargo.toml crates/securechat-e2ee/Cargo.toml Cargo.toml Cargo.lock scripts/wasm.sh

$(WASM_OUT): $(WASM_SRC)
	scripts/wasm.sh build
	touch $@

wasm: $(WASM_OUT)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && $(NPM_CI)

web-deps: web/node_modules/.package-lock.json

## The web UI, into web/dist (embedded by the server build); it imports the
## WASM crypto from web/wasm. Rebuilt only when its sources change: a
## rewritten web/dist would make cargo embed it again and relink the server.
WEB_OUT := web/dist/index.html
WEB_SRC := $(shell find web/src web/public -type f) web/index.html web/package.json \
           web/vite.config.ts web/tsconfig.json web/tsconfig.node.json

$(WEB_OUT): $(WEB_SRC) $(WASM_OUT) web/node_modules/.package-lock.json
	cd web && npm run build
	touch $@

web: $(WEB_OUT)

## A second build with nothing changed does nothing: the web and WASM
## outputs are up to date right after they were built.
test-build-idempotent: web
	@$(MAKE) --question $(WASM_OUT) $(WEB_OUT) || { echo "make web would rebuild with nothing changed" >&2; exit 1; }

## Every test: formatting, lints, Rust unit and integration tests (SQLite, and
## PostgreSQL when TEST_DATABASE_URL is set), web unit tests, the crypto test
## vectors and the E2EE core's lying-server scenarios checked against the WASM
## build in Node, the stock socket.io-client against the server, browser tests.
test: lint test-build-idempotent test-rust test-api test-web test-wasm test-compat test-browser

lint: web-deps wasm
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd web && npm run typecheck

## nginx (Debian package) for the cluster test's load balancer; the test runs
## it as a child process with its own configuration and port.
nginx-deps:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "Installing nginx (Debian package)…"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light) >/dev/null; }


API_CHECK := target/api-check/bin/schemathesis
OPENAPI_SPEC_VALIDATOR := target/api-check/bin/openapi-spec-validator

## The API description's checkers (PyPI, pinned in tests/api/requirements.txt):
## openapi-spec-validator for the OpenAPI test, schemathesis for test-api.
$(API_CHECK): tests/api/requirements.txt
	python3 -m venv target/api-check
	target/api-check/bin/pip install -q --disable-pip-version-check -r tests/api/requirements.txt
	touch $@ $(OPENAPI_SPEC_VALIDATOR)

api-check: $(API_CHECK)

S3_PEER := target/s3-peer/bin/moto_server

## A local S3 implementation (moto, from PyPI) for the S3 file-store test.
$(S3_PEER): tests/s3/requirements.txt
	python3 -m venv target/s3-peer
	target/s3-peer/bin/pip install -q --disable-pip-version-check -r tests/s3/requirements.txt
	touch $@

s3-peer: $(S3_PEER)

## The benchmark's reference servers (bench/peers): the Node peer's npm
## packages (better-sqlite3 compiles from source when no prebuilt binary can
## be fetched) and a venv with the Python peer's pinned packages.
BENCH_PEER_NODE   := bench/peers/node/node_modules/.package-lock.json
BENCH_PEER_PYTHON := target/bench-peer-python/bin/gunicorn

$(BENCH_PEER_NODE): bench/peers/node/package-lock.json
	cd bench/peers/node && $(NPM_CI)

$(BENCH_PEER_PYTHON): bench/peers/python/requirements.txt
	python3 -m venv target/bench-peer-python
	target/bench-peer-python/bin/pip install -q --disable-pip-version-check -r bench/peers/python/requirements.txt
	touch $@

bench-peers: $(BENCH_PEER_NODE) $(BENCH_PEER_PYTHON)

## Rust tests, including a smoke run of every benchmark scenario on
## Securechat and both peers (BENCH_PEERS=1 makes the peers required).
test-rust: web s3-peer api-check nginx-deps bench-peers
	SECURECHAT_EXPECT_WEB=1 BENCH_PEERS=1 MOTO_SERVER=$(CURDIR)/$(S3_PEER) \
	  OPENAPI_SPEC_VALIDATOR=$(CURDIR)/$(OPENAPI_SPEC_VALIDATOR) $(CARGO) test --workspace

## The API fuzzed against its OpenAPI document by schemathesis: every
## operation, signed in, every check, on the debug server (tests/api).
test-api: api-check
	$(DEBUG_BUILD)
	tests/api/run.sh $(DEBUG)

test-web: web-deps
	cd web && npm test

test-wasm:
	scripts/wasm.sh test

tests/compat/node_modules/.package-lock.json: tests/compat/package-lock.json
	cd tests/compat && $(NPM_CI)

test-compat: tests/compat/node_modules/.package-lock.json
	$(DEBUG_BUILD)
	cd tests/compat && SECURECHAT_BIN=$(CURDIR)/$(DEBUG) npm test

tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	cd tests/browser && $(NPM_CI)

browser-deps: tests/browser/node_modules/.package-lock.json
	@command -v chromium >/dev/null || { echo "Installing Chromium (Debian package)…"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }

test-browser: web browser-deps nginx-deps
	$(DEBUG_BUILD)
	cd tests/browser && SECURECHAT_BIN=$(CURDIR)/$(DEBUG) npm test

## The full benchmark suite (tens of minutes): Securechat on SQLite and
## PostgreSQL against the Node and Flask-SocketIO peers; writes
## docs/BENCHMARKS.md and its chart. Run it on an otherwise idle machine.
bench: build bench-peers
	$(CARGO) build --release -p securechat-bench
	target/release/securechat-bench --scale full --report docs/BENCHMARKS.md

## Regenerates docs/screenshots/ from the real UI (headless Chromium, with
## Debian's colour emoji font so reactions show as emoji).
screenshots: web browser-deps
	@test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || { echo "Installing the emoji font (Debian package)…"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji) >/dev/null; }
	$(DEBUG_BUILD)
	cd tests/browser && SECURECHAT_BIN=$(CURDIR)/$(DEBUG) npm run screenshots

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf web/dist web/wasm web/node_modules tests/browser/node_modules tests/compat/node_modules bench/peers/node/node_modules
