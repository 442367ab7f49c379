# Rounds: the two commands the README promises, and their helpers.
#
#   make build   build the bundled example newsletter into public/
#   make test    install what the tests need, then run every test

GO ?= go

.PHONY: build test tools lint bench

build:
	$(GO) run . build

# The feed checks use independent parsers from Debian's packages and the
# theme is tested in Debian's headless Chromium, with axe-core from npm
# for accessibility and html-validate from npm for the markup (its version
# is also browsertest.HTMLValidateVersion); publishing is tested
# against versitygw, a real S3-compatible server built from source. The
# test command installs them when they are missing, and the tests fail
# (rather than skip) without them.
VERSITYGW = github.com/versity/versitygw/cmd/versitygw@v1.8.0

AXE = .cache/axe/node_modules/axe-core/axe.min.js
HTMLVALIDATE_VERSION = 9.7.1
HTMLVALIDATE = .cache/html-validate/node_modules/html-validate/package.json

# apt_install installs Debian packages ($$need) with apt-get, as root or
# through sudo; elsewhere it says what is needed and stops.
define apt_install
if ! command -v apt-get >/dev/null 2>&1; then \
	echo "make test needs:$$need (Debian or Ubuntu package names): this machine has no apt-get; install them with its package manager, then run make test again" >&2; exit 1; \
fi; \
sudo=""; \
if [ "$$(id -u)" != 0 ]; then \
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=sudo; \
	else echo "make test needs:$$need, installed with apt-get as root: run it as root or with sudo, or install them first (sudo apt-get install$$need)" >&2; exit 1; fi; \
fi; \
echo "installing$$need"; \
$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$need >/dev/null
endef

tools:
	@[ -f $(AXE) ] || { command -v npm >/dev/null 2>&1 || { need=" npm"; $(apt_install); }; \
		echo "installing axe-core"; npm install --prefix .cache/axe --no-audit --no-fund axe-core@4.14.1 >/dev/null; }
	@grep -qs '"version": "$(HTMLVALIDATE_VERSION)"' $(HTMLVALIDATE) || { command -v npm >/dev/null 2>&1 || { need=" npm"; $(apt_install); }; \
		echo "installing html-validate"; npm install --prefix .cache/html-validate --no-audit --no-fund html-validate@$(HTMLVALIDATE_VERSION) >/dev/null; }
	@command -v versitygw >/dev/null 2>&1 || [ -x "$$($(GO) env GOPATH)/bin/versitygw" ] || \
		{ echo "building versitygw (a few minutes, once)"; $(GO) install $(VERSITYGW); }
	@need=""; \
	command -v xmllint >/dev/null 2>&1 || need="$$need libxml2-utils"; \
	/usr/bin/python3 -c 'import feedparser' >/dev/null 2>&1 || need="$$need python3-feedparser"; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	if [ -n "$$need" ]; then $(apt_install); fi

test: tools
	$(GO) vet ./...
	ROUNDS_REQUIRE_TOOLS=1 $(GO) test -count=1 ./...

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench:
	bash bench/build.sh
	bash bench/fetch.sh
	bash bench/send.sh
	bash bench/serve.sh
