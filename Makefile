# timegif — the two set-up commands are `make run` and `make test`.
NODE ?= node
LISTEN ?= 127.0.0.1:8080
ARGS ?=

.PHONY: run test build bench clean install flame doctor 0x

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json

build: install
	npx tsc -p .

run: build
	$(NODE) dist/server.js serve --listen $(LISTEN) $(ARGS)

test: build
	$(NODE) spec/run.mjs dist/spec '\.spec\.js$$'

bench: build
	$(MAKE) -C perf bench

# Profiles of the server under the load tool (clinic flame / clinic doctor / 0x); reports under perf/out/.
flame doctor 0x: build
	$(MAKE) -C perf $@

clean:
	rm -rf dist perf/out
