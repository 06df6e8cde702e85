# Traverse - NAT traversal toolkit for packet voice and video.
#
#   make            build everything into bin/
#   make run        run the default scenario suite in simulation (installs deps first)
#   make test       unit tests + scenario suite + evidence checks, then all again
#                   under AddressSanitizer/UndefinedBehaviorSanitizer
#   make bench      benchmarks (print numbers; not part of make test): the simulator
#                   benches, then bench/live/run.sh against real peers on loopback
#   make fuzz       libFuzzer targets (NAT, STUN, SIP proxy, scenario reader), FUZZ_SECS each
#   make deps       install missing Debian packages (apt-get; prints the command if not root)

SHELL   := /bin/bash
.SHELLFLAGS := -o pipefail -c
CC      ?= cc
SAN     ?= 0
DEBS    := build-essential pkg-config libosip2-dev libpcap-dev libnet1-dev libncurses-dev \
           libcriterion-dev libmicrohttpd-dev libjansson-dev tshark

ifeq ($(SAN),1)
BUILD   := build/san
BIN     := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else
BUILD   := build/rel
BIN     := bin
SANFLAGS :=
OPT     := -O2
endif

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Icore -Isimnat -Isimterm -Iproxy -Irunner -Ibench -Idaemon -Inatd -Itui $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LIBS    := -lpcap -losipparser2 -losip2 -ljansson -lm

LIB_SRC := $(wildcard core/*.c simnat/*.c simterm/*.c proxy/*.c runner/*.c)
LIB_SRC := $(filter-out runner/main.c runner/ctl_client.c,$(LIB_SRC))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libtraverse.a

# traverse-proxy: the daemon's own files (not in the library: they talk to
# the OS for logs, signals, files and HTTP).
TPD_SRC := $(wildcard daemon/*.c)
TPD_OBJ := $(TPD_SRC:%.c=$(BUILD)/%.o)
TPD_LIB := $(BUILD)/libtpd.a

# traverse-nat: the NAT engine between two TUN devices in network
# namespaces (natd/: I/O code, not in the library; args.c is pure and in
# the unit tests).
NATD_SRC := $(wildcard natd/*.c)
NATD_OBJ := $(NATD_SRC:%.c=$(BUILD)/%.o)
NATD_LIB := $(BUILD)/libnatd.a

# The dashboard (tui/): the model is plain data (unit-tested), dash.c the
# only file that knows curses; linked into bin/traverse (`traverse dash`).
TUI_SRC := $(wildcard tui/*.c)
TUI_OBJ := $(TUI_SRC:%.c=$(BUILD)/%.o)
TUI_LIB := $(BUILD)/libtui.a

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC := $(wildcard bench/*.c)
# Live benchmark tools: each bench/live/NAME.c is its own main, built to
# bin/traverse-NAME, plain C with no library (not in libtraverse.a).
LIVE_SRC := $(filter-out bench/live/tvcalls.c,$(wildcard bench/live/*.c))
LIVE_BIN := $(LIVE_SRC:bench/live/%.c=$(BIN)/traverse-%)

all: $(BIN)/traverse $(BIN)/traverse-proxy $(BIN)/traverse-nat $(BUILD)/unit-tests $(BIN)/traverse-bench $(LIVE_BIN) \
	$(BIN)/traverse-tvcalls $(BIN)/traverse-natprobe $(BIN)/traverse-algprobe

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TUI_LIB): $(TUI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/traverse: $(BUILD)/runner/main.o $(BUILD)/runner/ctl_client.o $(TUI_LIB) $(TPD_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lncurses

$(TPD_LIB): $(filter-out $(BUILD)/daemon/main.o,$(TPD_OBJ))
	@rm -f $@
	ar rcs $@ $^

$(BIN)/traverse-proxy: $(BUILD)/daemon/main.o $(TPD_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lmicrohttpd

$(NATD_LIB): $(filter-out $(BUILD)/natd/main.o,$(NATD_OBJ))
	@rm -f $@
	ar rcs $@ $^

$(BIN)/traverse-nat: $(BUILD)/natd/main.o $(NATD_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BIN)/traverse-bench: $(BENCH_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(LIVE_BIN): $(BIN)/traverse-%: $(BUILD)/bench/live/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $<

# tvcalls drives calls with Traverse's own phones and softswitch: it needs
# the library.
$(BIN)/traverse-tvcalls: $(BUILD)/bench/live/tvcalls.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# natprobe measures a NAT from both sides (tests/kernelnat.sh) and runs the
# same probes through simnat's engine: it needs the library.
$(BIN)/traverse-natprobe: $(BUILD)/tests/tools/natprobe.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# algprobe sends the same SIP messages through the kernel's SIP helper
# (tests/kernelalg.sh) and through simnat's alg=sip: it needs the library.
$(BIN)/traverse-algprobe: $(BUILD)/tests/tools/algprobe.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(TUI_LIB) $(TPD_LIB) $(NATD_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lmicrohttpd -lcriterion -lncurses

deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing packages; run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
		fi; \
	fi

run: deps
	@$(MAKE) --no-print-directory all
	$(BIN)/traverse run scenarios/ --pcap build/pcap

# The checks, for one build flavour (SAN=0 or 1).
check: all
	sh tests/timed.sh unit-$(BUILD) bash -o pipefail -c '$(BUILD)/unit-tests --jobs 2 --short-filename 2>&1 | tee $(BUILD)/unit-tests.log'
	@! grep -E 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' $(BUILD)/unit-tests.log
	rm -rf $(BUILD)/pcap && sh tests/timed.sh scenarios $(BIN)/traverse run scenarios/ --pcap $(BUILD)/pcap \
		--junit $(BUILD)/scenarios.xml --json $(BUILD)/scenarios.json
	sh tests/timed.sh broken sh tests/broken.sh $(BIN)/traverse
	@# The captures are the same bytes in both flavours (same seed, same code);
	@# make test checks them with tshark once and the second flavour's against them.
	if [ -n "$(PCAP_REF)" ]; then sh tests/timed.sh pcap-same diff -r $(PCAP_REF) $(BUILD)/pcap; else \
		sh tests/timed.sh tshark sh tests/tshark_check.sh $(BUILD)/pcap && \
		sh tests/timed.sh sip-leak sh tests/sip_leak_check.sh $(BUILD)/pcap; fi
	sh tests/timed.sh sans-io sh tests/sans_io.sh $(BUILD)
	sh tests/timed.sh proxy-time sh tests/proxy_time.sh $(BUILD)
	sh tests/timed.sh mutate sh tests/mutate.sh $(BIN)/traverse
	sh tests/timed.sh findings sh tests/findings.sh $(BIN)/traverse
	sh tests/timed.sh determinism sh tests/determinism.sh $(BIN)/traverse
	@# Suites that wait in real time run once, in the sanitizer pass. The
	@# two conformance suites (network namespaces only) run beside the
	@# others (loopback, their own namespaces); their peers are installed
	@# first so that no two apt-get runs meet.
	if [ "$(SAN)" = 1 ]; then \
		$(MAKE) --no-print-directory peer-deps || exit 1; \
		( sh tests/timed.sh conformance bash tests/conformance.sh $(BIN) >$(BUILD)/conformance.log 2>&1 ) & c1=$$!; \
		( sh tests/timed.sh conformance-attacks bash tests/conformance-attacks.sh $(BIN) \
			>$(BUILD)/conformance-attacks.log 2>&1 ) & c2=$$!; \
		sh tests/timed.sh daemon bash tests/daemon.sh $(BIN) && \
		sh tests/timed.sh live bash tests/live.sh $(BIN) 6 && \
		sh tests/timed.sh dash bash tests/dash.sh $(BIN) && \
		sh tests/timed.sh peers bash tests/peers.sh $(BIN) && \
		sh tests/timed.sh netns bash tests/netns.sh $(BIN) && \
		sh tests/timed.sh kernelnat bash tests/kernelnat.sh $(BIN) && \
		sh tests/timed.sh kernelalg bash tests/kernelalg.sh $(BIN); rc=$$?; \
		wait $$c1; r1=$$?; wait $$c2; r2=$$?; \
		cat $(BUILD)/conformance.log $(BUILD)/conformance-attacks.log; \
		[ $$rc = 0 ] && [ $$r1 = 0 ] && [ $$r2 = 0 ]; \
	fi

# The real peers the suites above start (each script also installs what it
# misses, for a run of its own).
PEER_DEBS := sip-tester kamailio rtpengine-daemon coturn baresip-core nftables python3 iproute2 tmux
peer-deps:
	@missing=""; for p in $(PEER_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		echo "installing peers:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: deps
	@$(MAKE) --no-print-directory check SAN=0
	@$(MAKE) --no-print-directory check SAN=1 PCAP_REF=build/rel/pcap

FUZZ_SECS ?= 60
fuzz: deps
	@for p in clang libclang-rt-14-dev; do dpkg -s $$p >/dev/null 2>&1 || \
		{ [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p >/dev/null; } || \
		{ echo "fuzz needs $$p: apt-get install -y $$p"; exit 1; }; done
	sh fuzz/run.sh $(FUZZ_SECS)

bench: deps
	@$(MAKE) --no-print-directory all SAN=0
	@$(MAKE) --no-print-directory $(BIN)/traverse-bench SAN=0
	@# TRAVERSE_BENCH_ONLY=live-relay|live-sip|live-mem runs only that live
	@# section; other values only the simulator benchmarks they name.
	@case "$${TRAVERSE_BENCH_ONLY:-}" in live-*) ;; *) $(BIN)/traverse-bench ;; esac
	@# Live, side by side against real peers on loopback (installs them itself).
	@case "$${TRAVERSE_BENCH_ONLY:-}" in ""|live-*) bash bench/live/run.sh ;; esac

clean:
	rm -rf build bin

.PHONY: all deps peer-deps run check test bench fuzz clean
-include $(LIB_OBJ:.o=.d) $(TPD_OBJ:.o=.d) $(NATD_OBJ:.o=.d) $(TUI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(BENCH_SRC:%.c=$(BUILD)/%.d) $(BUILD)/runner/main.d \
	$(LIVE_SRC:%.c=$(BUILD)/%.d) $(BUILD)/bench/live/tvcalls.d $(BUILD)/tests/tools/natprobe.d \
	$(BUILD)/tests/tools/algprobe.d
