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

# Phase timing. A timed recipe starts with $(call phase_start,NAME) and ends
# with $(call phase_end,NAME): they print when the phase started and how long
# it took, and record the time in $(PHASES)/times, which `make test`
# summarises at its end. A suite's command ends with `|| $(call
# phase_failed,NAME)`, which records the time of a failure before failing; a
# phase that started and has no time at all stopped with an error.
PHASES       := $(CURDIR)/target/phases
phase_start   = @mkdir -p $(PHASES) && date +%s > $(PHASES)/$(1).start && echo "==> $(1): started at $$(date +%T)"
phase_time    = $$(( $$(date +%s) - $$(cat $(PHASES)/$(1).start) ))
phase_end     = @s=$(phase_time); echo "$(1) $$s" >> $(PHASES)/times; echo "<== $(1): $$s s"
phase_failed  = { s=$(phase_time); echo "$(1) $$s FAILED" >> $(PHASES)/times; echo "<== $(1): FAILED after $$s s"; exit 1; }

.PHONY: bench run build wasm web test-build-idempotent web-deps s3-peer push-peer smtp-peer totp-peer oidc-peer api-check bench-peers test test-prepare test-deps test-build test-summary test-rust test-api test-web test-wasm test-compat test-browser lint lint-rust lint-web fmt browser-deps ssl-deps chromium-deps nginx-deps system-deps screenshots clean

## Build everything (web UI, server) and run with demo users on port 5000;
## new accounts join Lobby unless DEFAULT_ROOMS says otherwise.
run: build
	$(RELEASE) init-db --demo
	DEFAULT_ROOMS="$${DEFAULT_ROOMS-Lobby}" $(RELEASE) serve

## Release build of the server with the web UI (and its WASM crypto) embedded.
build: wasm web ssl-deps
	$(CARGO) build --release -p securechat-server

## The E2EE client core (with the crypto crate) compiled to WebAssembly, into
## web/wasm (installs the wasm32 target and the matching wasm-bindgen-cli if
## missing). Rebuilt only when its sources change, so that nothing
## downstream (the web bundle, the release server that embeds it) is either.
WASM_OUT := web/wasm/securechat_e2ee_bg.wasm
WASM_SRC := $(shell find crates/securechat-crypto crates/securechat-search crates/securechat-e2ee -name '*.rs' -not -path '*/tests/*' -not -path '*/examples/*') \
            crates/securechat-crypto/Cargo.toml crates/securechat-search/Cargo.toml crates/securechat-e2ee/Cargo.toml \
            Cargo.toml Cargo.lock scripts/wasm.sh

$(WASM_OUT): $(WASM_SRC)
	$(call phase_start,wasm)
	scripts/wasm.sh build
	touch $@
	$(call phase_end,wasm)

wasm: $(WASM_OUT)

web/node_modules/.package-lock.json: web/package-lock.json
	$(call phase_start,npm-web)
	cd web && $(NPM_CI)
	$(call phase_end,npm-web)

web-deps: web/node_modules/.package-lock.json

## The web UI, into web/dist (embedded by the server build); it imports the
## WASM crypto from web/wasm. Rebuilt only when its sources change: a
## rewritten web/dist would make cargo embed it again and relink the server.
WEB_OUT := web/dist/index.html
WEB_SRC := $(shell find web/src web/public -type f) web/index.html web/package.json \
           web/vite.config.ts web/tsconfig.json web/tsconfig.node.json web/tsconfig.sw.json

$(WEB_OUT): $(WEB_SRC) $(WASM_OUT) web/node_modules/.package-lock.json
	$(call phase_start,web)
	cd web && npm run build
	touch $@
	$(call phase_end,web)

web: $(WEB_OUT)

## A second build with nothing changed does nothing: the web and WASM
## outputs are up to date right after they were built.
test-build-idempotent: web
	@$(MAKE) --question $(WASM_OUT) $(WEB_OUT) || { echo "make web would rebuild with nothing changed" >&2; exit 1; }

## Every test: formatting, lints, Rust unit and integration tests (SQLite, and
## PostgreSQL when TEST_DATABASE_URL is set), web unit tests, the crypto test
## vectors and the E2EE core's lying-server scenarios checked against the WASM
## build in Node, the stock socket.io-client against the server, browser tests.
##
## Two stages, each running its parts side by side (TEST_JOBS at once; `make
## test TEST_JOBS=1` runs one thing at a time): first the lints, the builds
## and the installs (test-prepare), then, once all of them succeeded, every
## suite (TEST_SUITES), each run to its end even when another fails. Each
## part's output is printed whole when it ends (--output-sync), so it reads
## as if they had run one after the other; make fails if any part failed.
## The run ends with each phase's wall-clock time.
TEST_JOBS   ?= 8
TEST_SUITES := test-rust test-browser test-api test-compat test-web test-wasm
PARALLEL     = $(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target

test:
	@rm -rf $(PHASES); mkdir -p $(PHASES); date +%s > $(PHASES)/test.start
	+@$(PARALLEL) test-prepare && $(PARALLEL) --keep-going $(TEST_SUITES); \
	  status=$$?; $(MAKE) --no-print-directory test-summary; exit $$status

## What the suites need, built and installed side by side: clippy, the
## debug build, wasm-bindgen-cli and the WASM build share the two cores, and
## the downloads (npm, PyPI, Debian) overlap them.
test-prepare: lint test-build-idempotent test-build test-deps

## The npm packages, Python environments and Debian packages of the suites.
test-deps: web-deps api-check s3-peer push-peer smtp-peer totp-peer oidc-peer bench-peers tests/compat/node_modules/.package-lock.json \
           tests/browser/node_modules/.package-lock.json system-deps

## Each phase's wall-clock time, in the order they ended.
test-summary:
	@echo "Phase times (wall clock; the parts of a stage ran side by side):"
	@touch $(PHASES)/times; while read -r name s failed; do printf '  %-22s %5s s %s\n' "$$name" "$$s" "$$failed"; done < $(PHASES)/times
	@for f in $(PHASES)/*.start; do n=$$(basename $$f .start); [ "$$n" = test ] && continue; \
	  grep -q "^$$n " $(PHASES)/times || printf '  %-22s     ? s FAILED\n' "$$n"; done
	@[ ! -f $(PHASES)/test.start ] || printf '  %-22s %5s s\n' "make test" $$(( $$(date +%s) - $$(cat $(PHASES)/test.start) ))

lint: lint-rust lint-web

lint-rust: ssl-deps
	$(call phase_start,lint-rust)
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(call phase_end,lint-rust)

lint-web: web-deps wasm
	$(call phase_start,lint-web)
	cd web && npm run typecheck
	$(call phase_end,lint-web)

## Debian packages: nginx for the cluster tests' load balancer (run as a
## child process with its own configuration and port), Chromium for the
## browser tests, and dbus-daemon for the session bus on which the push
## test's notification server answers Chromium
## (tests/browser/lib/notification-daemon.mjs).
## $(call apt_install,COMMAND:PACKAGE ...) installs, in one apt-get run,
## the packages whose command is missing; apt-get waits for another one's
## lock instead of failing.
apt_install = missing=; for p in $(1); do c=$${p%%:*}; command -v $$c >/dev/null || test -x /usr/sbin/$$c || missing="$$missing $${p\#*:}"; done; \
  [ -z "$$missing" ] || { echo "Installing$$missing (Debian packages)…"; \
  (apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive \
   apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing) >/dev/null; }

## OpenSSL's headers and pkg-config, for webauthn-rs (passkeys), which
## links the system's libssl; there is no command to look for, so
## pkg-config is asked whether it knows openssl.
ssl-deps:
	@pkg-config --exists openssl 2>/dev/null || { echo "Installing libssl-dev pkg-config (Debian packages)…"; \
	  (apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive \
	   apt-get -o DPkg::Lock::Timeout=600 install -y -qq libssl-dev pkg-config) >/dev/null; }

nginx-deps:
	@$(call apt_install,nginx:nginx-light)

chromium-deps:
	@$(call apt_install,chromium:chromium dbus-daemon:dbus-daemon)

system-deps:
	$(call phase_start,apt)
	@$(call apt_install,nginx:nginx-light chromium:chromium dbus-daemon:dbus-daemon)
	$(call phase_end,apt)


API_CHECK := target/api-check/bin/schemathesis
OPENAPI_SPEC_VALIDATOR := target/api-check/bin/openapi-spec-validator

## The API description's checkers (PyPI, pinned in tests/api/requirements.txt):
## openapi-spec-validator for the OpenAPI test, schemathesis for test-api.
$(API_CHECK): tests/api/requirements.txt
	$(call phase_start,pip-api-check)
	python3 -m venv target/api-check
	target/api-check/bin/pip install -q --disable-pip-version-check -r tests/api/requirements.txt
	touch $@ $(OPENAPI_SPEC_VALIDATOR)
	$(call phase_end,pip-api-check)

api-check: $(API_CHECK)

S3_PEER := target/s3-peer/bin/moto_server

## A local S3 implementation (moto, from PyPI) for the S3 file-store test.
$(S3_PEER): tests/s3/requirements.txt
	$(call phase_start,pip-s3-peer)
	python3 -m venv target/s3-peer
	target/s3-peer/bin/pip install -q --disable-pip-version-check -r tests/s3/requirements.txt
	touch $@
	$(call phase_end,pip-s3-peer)

s3-peer: $(S3_PEER)

PUSH_PEER       := target/push-peer/bin/python
PUSH_PEER_STAMP := target/push-peer/installed

## A local Web Push service for the push test (tests/push/push_service.py):
## PyPI's http_ece decrypts the server's pushes and py_vapid checks its
## VAPID tokens, implementations independent of the server's.
$(PUSH_PEER_STAMP): tests/push/requirements.txt
	$(call phase_start,pip-push-peer)
	python3 -m venv target/push-peer
	target/push-peer/bin/pip install -q --disable-pip-version-check -r tests/push/requirements.txt
	touch $@
	$(call phase_end,pip-push-peer)

push-peer: $(PUSH_PEER_STAMP)

SMTP_PEER       := target/smtp-peer/bin/python
SMTP_PEER_STAMP := target/smtp-peer/installed

## A local SMTP server for the email digest test (tests/email/smtp_service.py):
## PyPI's aiosmtpd receives the server's mail and records each message.
$(SMTP_PEER_STAMP): tests/email/requirements.txt
	$(call phase_start,pip-smtp-peer)
	python3 -m venv target/smtp-peer
	target/smtp-peer/bin/pip install -q --disable-pip-version-check -r tests/email/requirements.txt
	touch $@
	$(call phase_end,pip-smtp-peer)

smtp-peer: $(SMTP_PEER_STAMP)

TOTP_PEER_STAMP := target/totp-peer/installed

## TOTP codes for the two-factor tests (tests/totp/totp_code.py): PyPI's
## pyotp, an RFC 6238 implementation independent of the server's.
$(TOTP_PEER_STAMP): tests/totp/requirements.txt
	$(call phase_start,pip-totp-peer)
	python3 -m venv target/totp-peer
	target/totp-peer/bin/pip install -q --disable-pip-version-check -r tests/totp/requirements.txt
	touch $@
	$(call phase_end,pip-totp-peer)

totp-peer: $(TOTP_PEER_STAMP)

OIDC_PEER := tests/oidc/node_modules/.package-lock.json

## A real OpenID provider for the single sign-on tests (tests/oidc/provider.mjs):
## npm's oidc-provider (panva), certified by the OpenID Foundation and
## independent of the server's client; pinned in tests/oidc/package-lock.json.
$(OIDC_PEER): tests/oidc/package-lock.json
	$(call phase_start,npm-oidc-peer)
	cd tests/oidc && $(NPM_CI)
	$(call phase_end,npm-oidc-peer)

oidc-peer: $(OIDC_PEER)

## The benchmark's reference servers (bench/peers): the Node peer's npm
## packages (better-sqlite3 compiles from source when no prebuilt binary can
## be fetched) and a venv with the Python peer's pinned packages.
BENCH_PEER_NODE   := bench/peers/node/node_modules/.package-lock.json
BENCH_PEER_PYTHON := target/bench-peer-python/bin/gunicorn

$(BENCH_PEER_NODE): bench/peers/node/package-lock.json
	$(call phase_start,npm-bench-peer)
	cd bench/peers/node && $(NPM_CI)
	$(call phase_end,npm-bench-peer)

$(BENCH_PEER_PYTHON): bench/peers/python/requirements.txt
	$(call phase_start,pip-bench-peer)
	python3 -m venv target/bench-peer-python
	target/bench-peer-python/bin/pip install -q --disable-pip-version-check -r bench/peers/python/requirements.txt
	touch $@
	$(call phase_end,pip-bench-peer)

bench-peers: $(BENCH_PEER_NODE) $(BENCH_PEER_PYTHON)

## The debug server and every Rust test binary (`cargo test --no-run`), for
## the Rust tests and the suites that start the server.
test-build: ssl-deps
	$(call phase_start,test-build)
	$(DEBUG_BUILD) || $(call phase_failed,test-build)
	$(call phase_end,test-build)

## Rust tests, including a smoke run of every benchmark scenario on
## Securechat and both peers (BENCH_PEERS=1 makes the peers required).
## With cargo-nextest (when installed) the tests of every binary share one
## queue (RUST_TEST_JOBS at once, each in its own process, as many as
## `cargo test` runs at once in one binary on two cores), so the long
## benchmark smoke test runs beside the others instead of alone; then the
## doctests. Without it, `cargo test`, one binary after the other.
RUST_TEST_JOBS ?= 2
RUST_TEST_ENV   = SECURECHAT_EXPECT_WEB=1 BENCH_PEERS=1 MOTO_SERVER=$(CURDIR)/$(S3_PEER) \
                  PUSH_PEER=$(CURDIR)/$(PUSH_PEER) SMTP_PEER=$(CURDIR)/$(SMTP_PEER) \
                  OPENAPI_SPEC_VALIDATOR=$(CURDIR)/$(OPENAPI_SPEC_VALIDATOR)

test-rust: web s3-peer push-peer smtp-peer totp-peer oidc-peer api-check nginx-deps bench-peers
	$(call phase_start,test-rust)
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  set -x; $(RUST_TEST_ENV) $(CARGO) nextest run --workspace --no-fail-fast --test-threads $(RUST_TEST_JOBS) \
	    --failure-output immediate-final && $(RUST_TEST_ENV) $(CARGO) test --workspace --doc; \
	else set -x; $(RUST_TEST_ENV) $(CARGO) test --workspace; fi || $(call phase_failed,test-rust)
	$(call phase_end,test-rust)

## The API fuzzed against its OpenAPI document by schemathesis: every
## operation, signed in, every check, on the debug server (tests/api). It
## keeps a core busy and checks no timing (30 s per request), so it runs at
## a lower priority: the suites beside it whose tests have tight timings get
## the CPU first.
test-api: api-check test-build
	$(call phase_start,test-api)
	nice -n 10 tests/api/run.sh $(DEBUG) || $(call phase_failed,test-api)
	$(call phase_end,test-api)

## The web unit tests (the search rules run through web/wasm, as in the page).
test-web: web-deps wasm
	$(call phase_start,test-web)
	cd web && npm test || $(call phase_failed,test-web)
	$(call phase_end,test-web)

## The crypto vectors and the core's scenarios against the WASM build, as
## `make wasm` left it (not rebuilt here, so that no suite running beside
## this one sees web/wasm rewritten).
test-wasm: wasm
	$(call phase_start,test-wasm)
	scripts/wasm.sh check || $(call phase_failed,test-wasm)
	$(call phase_end,test-wasm)

tests/compat/node_modules/.package-lock.json: tests/compat/package-lock.json
	$(call phase_start,npm-compat)
	cd tests/compat && $(NPM_CI)
	$(call phase_end,npm-compat)

test-compat: tests/compat/node_modules/.package-lock.json test-build
	$(call phase_start,test-compat)
	cd tests/compat && SECURECHAT_BIN=$(CURDIR)/$(DEBUG) npm test || $(call phase_failed,test-compat)
	$(call phase_end,test-compat)

tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	$(call phase_start,npm-browser)
	cd tests/browser && $(NPM_CI)
	$(call phase_end,npm-browser)

browser-deps: tests/browser/node_modules/.package-lock.json chromium-deps

## BROWSER_TEST_JOBS test files at once, each with its own server (own port
## and data directory; the cluster test its own database and Redis prefix)
## and its own Chromium.
BROWSER_TEST_JOBS ?= 2

test-browser: web browser-deps nginx-deps smtp-peer oidc-peer test-build
	$(call phase_start,test-browser)
	cd tests/browser && SECURECHAT_BIN=$(CURDIR)/$(DEBUG) BROWSER_TEST_JOBS=$(BROWSER_TEST_JOBS) npm test \
	  || $(call phase_failed,test-browser)
	$(call phase_end,test-browser)

## The full benchmark suite (tens of minutes): Securechat on SQLite and
## PostgreSQL against the Node and Flask-SocketIO peers, and the web
## client's search index in headless Chromium; writes docs/BENCHMARKS.md
## and its chart. Run it on an otherwise idle machine.
bench: build bench-peers browser-deps
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
	rm -rf web/dist web/wasm web/node_modules tests/browser/node_modules tests/compat/node_modules tests/oidc/node_modules bench/peers/node/node_modules
