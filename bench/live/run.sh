#!/usr/bin/env bash
# bench/live/run.sh - live benchmarks side by side, in one run, on loopback.
#
#   relay  media relay pps at 1, 100 and 1,000 streams: the generator alone
#          (direct), traverse-plainrelay (the machine's limit), rtpengine
#          (userspace), traverse-proxy (hook); loss, latency, generator CPU
#   sip    call set-ups/s with no failed call: sipp alone (its ceiling),
#          Kamailio stateless, Kamailio + nathelper + rtpengine,
#          traverse-proxy in front of Kamailio (hook)
#   mem    rtpengine RSS per 1,000 calls; traverse-proxy (hook)
#
#            generator (traverse-rtpload, sipp UAC)
#                |  side 1                     ^ side 2
#                v                             |
#            relay under test: plainrelay | rtpengine | traverse-proxy
#            (everything on 127.0.0.1; nothing else is ever addressed)
#
# TRAVERSE_BENCH_ONLY=live-relay|live-sip|live-mem runs one section.
# TRAVERSE_LIVE_REPS (3) runs per relay measurement, the median is kept;
# TRAVERSE_LIVE_SECS (1) seconds per relay run; TRAVERSE_LIVE_BUDGET (300)
# seconds after which the remaining steps are skipped.
#
# Safety: every packet goes to 127.0.0.0/8 (the C tools refuse anything
# else); every load is bounded in packets and seconds; every daemon is
# started here, bound to 127.0.0.1, run under timeout(1) as a last resort,
# and killed when this script exits for any reason. No file in /etc is
# read by the daemons or changed: their configs are in the repo.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/bin
LIVE=$ROOT/bench/live
PEERS=$ROOT/tests/peers
ONLY=${TRAVERSE_BENCH_ONLY:-}
REPS=${TRAVERSE_LIVE_REPS:-3}
SECS=${TRAVERSE_LIVE_SECS:-1}
BUDGET=${TRAVERSE_LIVE_BUDGET:-300}
SIZES=${TRAVERSE_LIVE_SIZES:-"1 100 1000"}

# Ports, all on 127.0.0.1, all below the kernel's ephemeral range.
P_SIPP_UAS=15090        # sipp UAS (+ media 15110)
P_SIPP_UAC=15095        # sipp UAC (+ media 15100)
P_KAM_STATELESS=15070
P_KAM_NAT=15080
P_KAM_SOFTSWITCH=15085
P_TRAVERSE_SIP=15060    # traverse-proxy access side (hook)
P_NG=15222              # rtpengine ng control
P_PLAIN=16000           # traverse-plainrelay: 16000-17999 for 1,000 streams
P_GEN=20000             # traverse-rtpload sockets: 20000-23999 for 1,000 streams
P_RTPE_MIN=24000        # rtpengine media ports
P_RTPE_MAX=29999
P_TRAVERSE_MEDIA=30000-39999
P_TV_SIP=40000          # traverse-tvcalls phones' SIP ports: 40000-41999 for 1,000 calls

T0=$SECONDS
TMP=$(mktemp -d /tmp/traverse-live.XXXXXX)
PIDS=()
RESULTS=$TMP/results    # summary table rows, printed at the end

# --- process handling ---------------------------------------------------

# Every daemon runs under timeout(1): if this script were killed with -9,
# the daemon still ends by itself (timeout signals its whole process group).
LIFETIME=$((BUDGET + 120))

cleanup() {
	local p
	[ -n "$FG_PID" ] && PIDS+=("$FG_PID")
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.2
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
# fd 3: the script's own stderr, for the trap (it may run inside a
# function whose output is redirected to a log).
exec 3>&2
trap cleanup EXIT
trap 'echo "live bench: interrupted" >&3; exit 130' INT TERM

# run_fg CMD...: runs CMD to its end, but so that a signal to this script
# is handled at once (bash runs traps only between commands, and "wait" is
# one), and the command is killed with the daemons.
FG_PID=""
run_fg() {
	local rc
	"$@" &
	FG_PID=$!
	wait "$FG_PID"
	rc=$?
	FG_PID=""
	return $rc
}

# start NAME CMD...: runs CMD in the background, output to $TMP/NAME.log,
# and sets LAST_PID.
start() {
	local name=$1
	shift
	timeout -k 2 "$LIFETIME" "$@" >"$TMP/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# stop PID: SIGTERM, then SIGKILL after 2 s.
stop() {
	local p=$1
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 20); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

# udp_bound PORT: true when something listens on 127.0.0.1:PORT (UDP).
udp_bound() {
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	grep -q " $hex " /proc/net/udp
}

# wait_udp PORT PID NAME: waits up to 5 s for PORT to be bound by PID's
# daemon; prints its log and fails if it died or never bound.
wait_udp() {
	for _ in $(seq 50); do
		udp_bound "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	echo "live bench: $3 did not come up on 127.0.0.1:$1; its log:" >&2
	tail -n 20 "$TMP/$3.log" >&2
	return 1
}

# ports_free PORT...: fails (with a message) when one is already taken,
# e.g. by a bench still running elsewhere on this machine.
ports_free() {
	local p
	for p in "$@"; do
		if udp_bound "$p"; then
			echo "live bench: 127.0.0.1:$p is already in use; skipping" >&2
			return 1
		fi
	done
}

over_budget() {
	if [ $((SECONDS - T0)) -ge "$BUDGET" ]; then
		echo "live bench: time budget of ${BUDGET}s spent; skipping $1"
		return 0
	fi
	return 1
}

# --- peers ---------------------------------------------------------------

# ensure_pkgs PKG...: installs missing Debian packages (root only). The
# packages' own services must not start: where no policy-rc.d exists, one
# that refuses every start is put in place for the install and removed.
ensure_pkgs() {
	local missing="" p policy=/usr/sbin/policy-rc.d ours=0 rc=0
	# Installed, not merely known: a removed package keeps "config-files".
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "live bench: missing$missing; run: sudo apt-get install -y$missing"
		return 1
	fi
	echo "live bench: installing$missing (apt-get)"
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && ours=1
	fi
	# shellcheck disable=SC2086 # one word per package
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } \
		>"$TMP/apt.log" 2>&1 || rc=1
	[ $ours = 1 ] && rm -f $policy
	if [ $rc != 0 ]; then
		echo "live bench: apt-get failed:"
		tail -n 5 "$TMP/apt.log"
	fi
	return $rc
}

# rtpengine 10.5 (Debian 12), userspace forwarding only:
#   --config-file=none  do not read /etc/rtpengine/rtpengine.conf (its
#                       [rtpengine] section sets table=0, interface=any and
#                       more, which would mix with these flags)
#   --table=-1          no kernel forwarding table at all: every packet
#                       goes through userspace (what we measure). Do NOT add
#                       --no-fallback (-F): it means "refuse to start
#                       without the kernel module", the opposite.
#   --interface=127.0.0.1  media sockets on loopback only
#   --listen-ng=127.0.0.1:P  ng control (bencode over UDP) on loopback
#   --port-min/--port-max  media ports (an RTP/RTCP pair per side per call)
#   --delete-delay=0    free a deleted call's ports at once, not 30 s later
#   --foreground --log-stderr --log-level=4  stay attached, warnings only
# Threads: --num-threads defaults to the number of CPUs (2 here), as
# deployed. Learned from rtpengine's media_socket.c: a socket read 50 times
# in one go (more queued, or refilled while reading) is a strike; after 5
# strikes rtpengine never reads that socket again ("UDP receive queue
# exceeded 5 times: discarding packet"). A flat-out stream kills itself, so
# traverse-rtpload keeps at most 16 packets in flight per socket and lets
# the queue drain, plus 200 us, between bursts (--side-window, --side-refill,
# --side-gap-us; the same load for every target), and every run gets fresh
# calls. Even so a descheduled vCPU can let 50 reads happen in one go now
# and then: rtpengine logs it once per socket; one strike is harmless.
start_rtpengine() {
	ports_free "$P_NG" || return 1
	start "${1:-rtpengine}" rtpengine --config-file=none --foreground --log-stderr --log-level=4 \
		--table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:$P_NG \
		--port-min=$P_RTPE_MIN --port-max=$P_RTPE_MAX --delete-delay=0
	RTPE_PID=$LAST_PID
	wait_udp $P_NG "$RTPE_PID" "${1:-rtpengine}" || return 1
	for _ in $(seq 20); do
		"$BIN/traverse-ngcall" --ng 127.0.0.1:$P_NG --ping 2>/dev/null && return 0
		sleep 0.1
	done
	echo "live bench: rtpengine does not answer ng ping" >&2
	return 1
}

# rtpengine's real process: timeout(1) is LAST_PID, rtpengine its child.
daemon_pid() {
	local c
	c=$(awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null)
	[ -n "$c" ] || c=$(pgrep -P "$1" | head -n 1)
	echo "${c:-$1}"
}

rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# --- result lines --------------------------------------------------------

# kv LINE KEY: the value of KEY=... in a traverse-rtpload line.
kv() {
	awk -v k="$2" '{for (i = 1; i <= NF; i++) { split($i, a, "="); if (a[1] == k) { print a[2]; exit } }}' <<<"$1"
}

row() { printf '%s\n' "$*" >>"$RESULTS"; }

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

# --- relay section -------------------------------------------------------

# rtpload_runs OUT LABEL SETUP ARGS...: RUN_REPS runs of traverse-rtpload; the
# line with the median pps goes to OUT (every line is shown). SETUP is a
# command run before each run (":" for none); a failed SETUP skips the run.
rtpload_runs() {
	local out=$1 label=$2 setup=$3
	shift 3
	local c0 line
	: >"$TMP/runs"
	for _ in $(seq "$RUN_REPS"); do
		$setup || continue
		c0=$(cpu_ticks "$RELAY_PID")
		run_fg "$BIN/traverse-rtpload" --label "$label" --local-base $P_GEN --duration "$SECS" \
			--count 5000000 "$@" >"$TMP/run.line" 2>>"$TMP/rtpload.err" || continue
		line=$(cat "$TMP/run.line")
		echo "$line $(relay_cpu "$c0" "$line")" >>"$TMP/runs"
	done
	sed 's/^/    /' "$TMP/runs"
	awk '{for (i = 1; i <= NF; i++) if ($i ~ /^pps=/) { split($i, a, "="); print a[2], $0 }}' "$TMP/runs" |
		sort -n | awk -v n="$(wc -l <"$TMP/runs")" 'NR == int((n + 1) / 2) { $1 = ""; sub(/^ /, ""); print }' >"$out"
}

# cpu_ticks PID: user + system CPU of a process (all its threads), in ticks.
cpu_ticks() {
	[ -n "$1" ] && awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# relay_cpu TICKS0 LINE: "relay_cpu_pct=N", the relay's CPU over the run's
# elapsed_s (priming and draining are counted in, so a little high), or
# nothing without a relay process (direct runs).
relay_cpu() {
	[ -n "$RELAY_PID" ] || return 0
	awk -v t0="$1" -v t1="$(cpu_ticks "$RELAY_PID")" -v hz="$(getconf CLK_TCK)" -v e="$(kv "$2" elapsed_s)" \
		'BEGIN { printf "relay_cpu_pct=%.0f", (e > 0 ? 100 * (t1 - t0) / hz / e : 0) }'
}
RELAY_PID=""
RUN_REPS=$REPS

# rtpe_calls N TARGETS: replaces the calls of the previous run by N fresh
# ones (new sockets: a stream rtpengine gave up on does not carry over).
RTPE_PREFIX=""
RTPE_SEQ=0
rtpe_calls() {
	local n=$1 targets=$2
	rtpe_delete
	RTPE_SEQ=$((RTPE_SEQ + 1))
	RTPE_PREFIX="r$RTPE_SEQ"
	RTPE_N=$n
	"$BIN/traverse-ngcall" --ng 127.0.0.1:$P_NG --calls "$n" --local-base $P_GEN \
		--prefix "$RTPE_PREFIX" --out "$targets"
}
rtpe_delete() {
	[ -n "$RTPE_PREFIX" ] || return 0
	"$BIN/traverse-ngcall" --ng 127.0.0.1:$P_NG --calls "$RTPE_N" --prefix "$RTPE_PREFIX" --delete ||
		echo "    (rtpengine: delete of $RTPE_PREFIX failed)"
	RTPE_PREFIX=""
}

# One paced run at a real RTP rate: 50 packets/s per side per stream
# (20 ms ptime), for latency that is not queueing behind the generator.
rtpload_paced() {
	local n=$1 label=$2
	shift 2
	"$BIN/traverse-rtpload" --label "$label" --local-base $P_GEN --duration 1.5 \
		--rate $((100 * n)) --count 1000000 "$@" 2>>"$TMP/rtpload.err"
}

# The traverse-proxy relay target. traverse-proxy sets media up by SIP, so
# traverse-tvcalls (Traverse's own phones and softswitch on real sockets)
# sets up N calls through it: caller i behind the proxy with RTP on the
# generator's side-1 port (P_GEN+4i), callee i on the core side with RTP on
# side 2 (P_GEN+4i+2), both on 127.0.0.1, registered and called for real.
# tvcalls then exits (the phones go, the calls stay in the proxy) and
# traverse-rtpload binds the same ports: the proxy latches each side on the
# terminal it signalled with, and each packet crosses it once, as through
# rtpengine. Writes "SIDE1_DST SIDE2_DST" per stream to $1. Calls of earlier
# runs end by media-timeout (traverse_config) a few seconds later.
traverse_relay_targets() {
	local f=$1 n=$2
	"$BIN/traverse-tvcalls" --proxy 127.0.0.1:$P_TRAVERSE_SIP --softswitch 127.0.0.1:$P_KAM_SOFTSWITCH \
		--calls "$n" --ip 127.0.0.1 --sip-base $P_TV_SIP --rtp-base $P_GEN --timeout 30 >"$f.raw" 2>>"$TMP/tvcalls.err" ||
		{ echo "    traverse-tvcalls: $(tail -1 "$TMP/tvcalls.err")"; return 1; }
	awk '{ print $2, $4 }' "$f.raw" >"$f"
}

# traverse_config FILE: the proxy's config for the live bench.
traverse_config() {
	cat >"$1" <<EOF
access = 127.0.0.1
sip-port = $P_TRAVERSE_SIP
core = 127.0.0.2
softswitch = 127.0.0.1:$P_KAM_SOFTSWITCH
media-ports = $P_TRAVERSE_MEDIA
sig-ports = 44000-47999
# a bench drives thousands of terminals from one address, none answering
# keepalives once set up: no per-source limits, no keepalive
rate = 0
max-untrusted = 0
max-untrusted-per-ip = 0
max-legs = 0
keepalive = 0
media-timeout = 5s
port-quarantine = 0
control = $TMP/traverse.sock
# the Kamailio paths it is compared with keep every Via; so does this
topology-hiding = off
EOF
}

# start_traverse: starts bin/traverse-proxy, or says why not.
start_traverse() {
	if [ ! -x "$BIN/traverse-proxy" ]; then
		echo "traverse-proxy: not built yet"
		return 1
	fi
	ports_free $P_TRAVERSE_SIP || return 1
	traverse_config "$TMP/traverse.conf"
	start traverse-proxy "$BIN/traverse-proxy" -c "$TMP/traverse.conf" --foreground
	TRAVERSE_PID=$LAST_PID
	wait_udp $P_TRAVERSE_SIP "$TRAVERSE_PID" traverse-proxy
}

relay_section() {
	local have_rtpe=1 have_trav=0 plain_pid n
	echo
	echo "== live relay: pps through a relay on loopback (RTP 172 bytes, ${REPS}x${SECS}s per point, median) =="
	ensure_pkgs rtpengine-daemon || have_rtpe=0
	ports_free $P_PLAIN $((P_PLAIN + 1999)) $P_GEN || return 0

	start plainrelay "$BIN/traverse-plainrelay" --base-port $P_PLAIN --streams 1000 \
		--duration-limit "$LIFETIME"
	plain_pid=$LAST_PID
	wait_udp $((P_PLAIN + 1999)) "$plain_pid" plainrelay || return 0
	if [ $have_rtpe = 1 ]; then
		start_rtpengine rtpengine-relay || have_rtpe=0
	fi
	if start_traverse; then
		have_trav=1
	fi

	for n in $SIZES; do
		local f=$TMP/relay-$n
		over_budget "relay at $n streams" && break
		# One stream is the noisiest point (and the one rtpengine's flood
		# guard may cut short): two more runs for its median.
		RUN_REPS=$REPS
		[ "$n" = 1 ] && RUN_REPS=$((REPS + 2))
		echo "-- $n stream(s), $RUN_REPS runs per target"
		echo "  direct (the generator's own ceiling: side 1 -> side 2, nothing between):"
		RELAY_PID=""
		rtpload_runs "$f.direct" direct : --direct --streams "$n"
		echo "  traverse-plainrelay (single thread, epoll + recvmmsg/sendmmsg):"
		RELAY_PID=$(daemon_pid "$plain_pid")
		rtpload_runs "$f.plain" plain : --target-base 127.0.0.1:$P_PLAIN --streams "$n"
		rtpload_paced "$n" plain-rtp --target-base 127.0.0.1:$P_PLAIN --streams "$n" >"$f.plain.paced"
		sed 's/^/    /' "$f.plain.paced"
		if [ $have_rtpe = 1 ]; then
			echo "  rtpengine (userspace; $n fresh call(s) per run, set up by ng offer/answer):"
			RELAY_PID=$(daemon_pid "$RTPE_PID")
			rtpload_runs "$f.rtpe" rtpengine "rtpe_calls $n $f.rtpe.targets" \
				--targets "$f.rtpe.targets" --streams "$n"
			if rtpe_calls "$n" "$f.rtpe.targets"; then
				rtpload_paced "$n" rtpengine-rtp --targets "$f.rtpe.targets" --streams "$n" >"$f.rtpe.paced"
				sed 's/^/    /' "$f.rtpe.paced"
			fi
			rtpe_delete
		else
			echo "  rtpengine: not available"
		fi
		if [ $have_trav = 1 ]; then
			echo "  traverse-proxy:"
			if traverse_relay_targets "$f.trav.targets" "$n"; then
				RELAY_PID=$(daemon_pid "$TRAVERSE_PID")
				rtpload_runs "$f.trav" traverse "traverse_relay_targets $f.trav.targets $n" \
					--targets "$f.trav.targets" --streams "$n"
				rtpload_paced "$n" traverse-rtp --targets "$f.trav.targets" --streams "$n" >"$f.trav.paced"
			fi
		fi
		relay_rows "$n" "$f"
	done
	if [ $have_rtpe = 1 ]; then
		local strikes dead
		strikes=$(grep -c "Too many packets in UDP receive queue" "$TMP/rtpengine-relay.log")
		dead=$(grep "receive queue exceeded" "$TMP/rtpengine-relay.log" | grep -o 'port [0-9]*' | sort -u | wc -l)
		echo "  rtpengine's flood guard: $strikes socket(s) read 50 times in one go (logged once each), $dead given up"
	fi
	stop "$plain_pid"
	[ $have_rtpe = 1 ] && stop "$RTPE_PID"
	[ $have_trav = 1 ] && stop "$TRAVERSE_PID"
	sed 's/^/  /' "$TMP/plainrelay.log" | tail -n 1
}

# relay_rows N PREFIX: summary rows for one stream count.
relay_rows() {
	local n=$1 f=$2 t plain_pps line pps paced note rcpu
	plain_pps=$(kv "$(cat "$f.plain" 2>/dev/null)" pps)
	# pps per relay core: what each relay does with the CPU it used, the
	# fair figure when the generator (sharing 2 cores) is the bottleneck
	local plain_ppc plc
	plc=$(kv "$(cat "$f.plain" 2>/dev/null)" relay_cpu_pct)
	plain_ppc=$([ -n "$plc" ] && [ "$plc" -gt 0 ] && echo $((plain_pps * 100 / plc)) || echo "")
	for t in direct plain rtpe trav; do
		local name
		case $t in
		direct) name="generator alone" ;; plain) name=plainrelay ;;
		rtpe) name=rtpengine ;; trav) name=traverse-proxy ;;
		esac
		if [ ! -s "$f.$t" ]; then
			case $t in
			rtpe) row "relay|$n|rtpengine|-|-|-|-|-|-|-|-|not available" ;;
			trav) if [ -x "$BIN/traverse-proxy" ]; then
				row "relay|$n|traverse-proxy|-|-|-|-|-|-|-|-|no calls set up (traverse-tvcalls failed)"
			else
				row "relay|$n|traverse-proxy|-|-|-|-|-|-|-|-|not built yet"
			fi ;;
			esac
			continue
		fi
		line=$(cat "$f.$t")
		pps=$(kv "$line" pps)
		paced=""
		[ -s "$f.$t.paced" ] && paced=$(cat "$f.$t.paced")
		note=""
		rcpu=$(kv "$line" relay_cpu_pct)
		if [ "$(kv "$line" gen_bound)" = 1 ] && [ $t != direct ]; then
			note="GENERATOR-BOUND: the relay was not saturated"
		elif [ -n "$rcpu" ] && [ "$rcpu" -lt 80 ]; then
			note="window-bound: neither saturated (16 in flight + 200 us gap per socket)"
		fi
		[ "$(kv "$line" lost)" != 0 ] && note="${note:+$note; }lost $(kv "$line" lost)"
		[ -n "$paced" ] && [ "$(kv "$paced" lost)" != 0 ] && note="${note:+$note; }lost $(kv "$paced" lost) at RTP rate"
		[ -n "$paced" ] && [ "$(kv "$paced" gen_bound)" = 1 ] &&
			note="${note:+$note; }RTP rate not reached: rtp latency includes queueing"
		local rtp="-"
		[ -n "$paced" ] && rtp="$(kv "$paced" p50_us)/$(kv "$paced" p99_us)"
		local ppc="-" xppc="-"
		if [ -n "$rcpu" ] && [ "$rcpu" -gt 0 ]; then
			ppc=$((pps * 100 / rcpu))
			[ -n "$plain_ppc" ] && xppc=$(ratio "$ppc" "$plain_ppc")
		fi
		row "relay|$n|$name|$pps|$(ratio "$pps" "$plain_pps")|$rtp|$(kv "$line" p50_us)/$(kv "$line" p99_us)|$(kv "$line" gen_cpu_pct)%|${rcpu:--}${rcpu:+%}|$ppc|$xppc|$note"
		if [ -n "$note" ] && [ "${note#GENERATOR}" != "$note" ]; then
			echo "  ! $name at $n stream(s): generator-bound (cpu $(kv "$line" gen_cpu_pct)%, waited $(kv "$line" gen_wait_pct)% of the time): the number is the generator's, the relay can do more"
		fi
	done
}

# --- sip section ---------------------------------------------------------

# sipp_step TARGET_PORT RATE: one fixed-rate step, RATE calls/s for 2 s
# (2*RATE calls, 100 ms hold, 10 s bound). Writes "ok|fail achieved failed
# retrans" to $TMP/step (not to stdout: a $(...) subshell would hold off
# this script's signal traps until the step ends).
sipp_step() {
	local port=$1 rate=$2 stat=$TMP/sipp-$1-$2.csv rc
	run_fg timeout -k 2 20 sipp 127.0.0.1:"$port" -sf "${UAC_XML:-$LIVE/sipp-uac.xml}" -s bench \
		-i 127.0.0.1 -p $P_SIPP_UAC -mi 127.0.0.1 -mp 15100 \
		-r "$rate" -m $((2 * rate)) -d 100 -l $((4 * rate)) -buff_size 4194304 \
		-nostdin -timeout 10s -timeout_error -recv_timeout 5s \
		-trace_stat -stf "$stat" -fd 1 >"$TMP/sipp-uac.log" 2>&1
	rc=$?
	if [ ! -s "$stat" ]; then
		echo "fail 0 $((2 * rate)) 0" >"$TMP/step"
		return
	fi
	tail -n 1 "$stat" | awk -F';' -v rc=$rc -v rate="$rate" -v m=$((2 * rate)) '{
		# CallRate(C)=8 SuccessfulCall(C)=16 FailedCall(C)=18 Retransmissions(C)=58
		ok = (rc == 0 && $18 == 0 && $16 == m && $8 >= 0.85 * rate) ? "ok" : "fail"
		printf "%s %.0f %d %d\n", ok, $8, $18 + (m - $16 - $18), $58 }' >"$TMP/step"
}

# sipp_ramp NAME PORT RATES...: steps up until one fails; sets RAMP_MAX.
sipp_ramp() {
	local name=$1 port=$2 r res best=0 best_line="" fail_line=""
	shift 2
	echo "  $name:"
	for r in "$@"; do
		over_budget "$name at $r calls/s" && break
		sipp_step "$port" "$r"
		res=$(cat "$TMP/step")
		# shellcheck disable=SC2086 # four words: verdict achieved failed retrans
		printf '    %6d calls/s asked: %-4s achieved %s/s, failed %s, retransmissions %s\n' "$r" $res
		if [ "${res%% *}" = ok ]; then
			best=$r
			best_line=$res
		else
			fail_line=$(echo "$res" | awk -v r="$r" '{printf "failed at %s/s: achieved %s/s, %s failed, %s retrans", r, $2, $3, $4}')
			break
		fi
	done
	RAMP_MAX=$best
	RAMP_NOTE=${fail_line:-"no failure up to the last step"}
	[ -n "$best_line" ] && RAMP_NOTE="$RAMP_NOTE; retrans at max $(echo "$best_line" | awk '{print $4}')"
}

start_kamailio() {
	local name=$1 cfg=$2 port=$3
	shift 3
	ports_free "$port" || return 1
	mkdir -p "$TMP/kam-$name"
	# -DD: stay in the foreground (children still fork); -E: log to stderr;
	# -Y: runtime dir in our temp dir; -m/-M: shared/private memory (MB);
	# the cfg listens on 127.0.0.1 only.
	start "kamailio-$name" kamailio -f "$cfg" -DD -E -Y "$TMP/kam-$name" -m 256 -M 16 \
		--substdef "!KAM_PORT!$port!g" --substdef "!UAS_PORT!$P_SIPP_UAS!g" "$@"
	KAM_PID=$LAST_PID
	wait_udp "$port" "$KAM_PID" "kamailio-$name"
}

SIP_RATES=(250 500 1000 2000 3000 4000 6000 8000 12000 16000 24000)
NAT_RATES=(100 250 500 750 1000 1500 2000 3000 4000)

sip_section() {
	local uas_pid sipp_max
	echo
	echo "== live sip: call set-ups/s with no failed call (INVITE+SDP/180/200/ACK/100 ms/BYE/200, 2 s per step) =="
	ensure_pkgs sip-tester kamailio rtpengine-daemon || { row "sip|-|all|-|-|peers not installed"; return 0; }
	ports_free $P_SIPP_UAS $P_SIPP_UAC || return 0
	# The UAS answers every call; -timeout bounds its life too.
	start sipp-uas sipp -sf "$LIVE/sipp-uas.xml" -i 127.0.0.1 -p $P_SIPP_UAS -mi 127.0.0.1 -mp 15110 \
		-buff_size 4194304 -l 1000000 -nostdin -timeout "${LIFETIME}s"
	uas_pid=$LAST_PID
	wait_udp $P_SIPP_UAS "$uas_pid" sipp-uas || return 0

	sipp_ramp "sipp UAC -> sipp UAS (sipp's ceiling)" $P_SIPP_UAS "${SIP_RATES[@]}"
	sipp_max=$RAMP_MAX
	row "sip|sipp alone (ceiling)|$RAMP_MAX|1.00|$RAMP_NOTE"

	if start_kamailio stateless "$PEERS/kamailio-stateless.cfg" $P_KAM_STATELESS; then
		sipp_ramp "sipp -> Kamailio stateless forward -> sipp" $P_KAM_STATELESS "${SIP_RATES[@]}"
		row "sip|kamailio stateless|$RAMP_MAX|$(ratio "$RAMP_MAX" "$sipp_max")|$RAMP_NOTE"
		stop "$KAM_PID"
	else
		row "sip|kamailio stateless|-|-|did not start"
	fi

	if start_rtpengine rtpengine-sip &&
		start_kamailio nat "$PEERS/kamailio-nat.cfg" $P_KAM_NAT --substdef "!RTPE_SOCK!udp:127.0.0.1:$P_NG!g"; then
		sipp_ramp "sipp -> Kamailio tm+rr+nathelper+rtpengine -> sipp" $P_KAM_NAT "${NAT_RATES[@]}"
		row "sip|kamailio nat + rtpengine|$RAMP_MAX|$(ratio "$RAMP_MAX" "$sipp_max")|$RAMP_NOTE"
		local errs
		errs=$(grep -c 'ERROR' "$TMP/kamailio-nat.log" 2>/dev/null)
		[ "${errs:-0}" -gt 0 ] && grep 'ERROR' "$TMP/kamailio-nat.log" | sed 's/^ *[0-9]*([0-9]*) //' |
			sort | uniq -c | sort -rn | head -n 3 | sed 's/^/    kamailio said: /'
		stop "$KAM_PID"
		stop "$RTPE_PID"
	else
		row "sip|kamailio nat + rtpengine|-|-|did not start"
	fi

	sip_traverse "$sipp_max"
	stop "$uas_pid"
}

# The traverse-proxy SIP target: sipp UAC -> traverse-proxy (access
# 127.0.0.1:$P_TRAVERSE_SIP) -> Kamailio as softswitch (registrar + route to
# the sipp UAS, tests/peers/kamailio-softswitch.cfg) -> sipp UAS. If the
# proxy insists on a REGISTER before an INVITE, the UAC scenario needs a
# REGISTER step first (not written yet).
sip_traverse() {
	local sipp_max=$1 soft_pid
	echo "  traverse-proxy:"
	if ! start_traverse; then
		row "sip|traverse-proxy|-|-|not built yet"
		return 0
	fi
	if start_kamailio softswitch "$PEERS/kamailio-softswitch.cfg" $P_KAM_SOFTSWITCH; then
		soft_pid=$KAM_PID
		# The caller registers through the proxy first: the core accepts
		# it, so the proxy trusts its address (a stranger gets one answer
		# per request and no provisionals, docs/proxy.md, Security). Its
		# requests name the domain, not the proxy: the softswitch routes
		# the ACK of a failed INVITE as it routed the INVITE.
		sed 's/sip:\[service\]@\[remote_ip\]:\[remote_port\]/sip:[service]@bench.example/g' \
			"$LIVE/sipp-uac.xml" >"$TMP/sipp-uac-domain.xml"
		run_fg timeout -k 2 10 sipp 127.0.0.1:$P_TRAVERSE_SIP -sf "$PEERS/sipp-register.xml" -s sipp \
			-key domain bench.example -i 127.0.0.1 -p $P_SIPP_UAC -m 1 -nostdin -timeout 5s \
			>"$TMP/sipp-register.log" 2>&1 || echo "    (the caller's REGISTER failed: see $TMP/sipp-register.log)"
		UAC_XML=$TMP/sipp-uac-domain.xml
		sipp_ramp "sipp -> traverse-proxy -> Kamailio softswitch -> sipp" $P_TRAVERSE_SIP "${SIP_RATES[@]}"
		UAC_XML=
		row "sip|traverse-proxy + softswitch|$RAMP_MAX|$(ratio "$RAMP_MAX" "$sipp_max")|$RAMP_NOTE"
		stop "$soft_pid"
	else
		row "sip|traverse-proxy|-|-|softswitch did not start"
	fi
	stop "$TRAVERSE_PID"
}

# --- mem section ---------------------------------------------------------

mem_section() {
	local pid r0 r1 r2
	echo
	echo "== live mem: resident memory per 1,000 calls =="
	if ensure_pkgs rtpengine-daemon && start_rtpengine rtpengine-mem; then
		pid=$(daemon_pid "$RTPE_PID")
		r0=$(rss_kb "$pid")
		if "$BIN/traverse-ngcall" --ng 127.0.0.1:$P_NG --calls 1000 --local-base $P_GEN \
			--prefix mem --out "$TMP/mem.targets"; then
			r1=$(rss_kb "$pid")
			# 10 packets per side of every call, so per-stream media state exists.
			"$BIN/traverse-rtpload" --label mem --targets "$TMP/mem.targets" --streams 1000 \
				--local-base $P_GEN --rate 20000 --count 20000 --duration 2 | sed 's/^/    /'
			r2=$(rss_kb "$pid")
			echo "  rtpengine VmRSS: $r0 kB idle, $r1 kB with 1,000 calls, $r2 kB after media on all"
			row "mem|rtpengine|$((r1 - r0))|$((r2 - r0))|VmRSS $r0 -> $r1 -> $r2 kB"
			"$BIN/traverse-ngcall" --ng 127.0.0.1:$P_NG --calls 1000 --prefix mem --delete
		else
			row "mem|rtpengine|-|-|call set-up failed"
		fi
		stop "$RTPE_PID"
	else
		row "mem|rtpengine|-|-|not available"
	fi
	# traverse-proxy: its calls come from SIP (see traverse_relay_targets);
	# once that driver exists, this is the same measure: VmRSS of the proxy
	# before and after 1,000 calls.
	if [ -x "$BIN/traverse-proxy" ] && ports_free $P_TRAVERSE_SIP; then
		# 1,000 terminals register (idle), then the same 1,000 call a
		# callee each (traverse-tvcalls); no media timeout here, the calls
		# stay up while they are measured.
		traverse_config "$TMP/traverse-mem.conf"
		sed -i 's/^media-timeout = .*/media-timeout = 0/' "$TMP/traverse-mem.conf"
		start traverse-mem "$BIN/traverse-proxy" -c "$TMP/traverse-mem.conf" --foreground
		pid=$LAST_PID
		if wait_udp $P_TRAVERSE_SIP "$pid" traverse-mem; then
			pid=$(daemon_pid "$pid")
			r0=$(rss_kb "$pid")
			"$BIN/traverse-tvcalls" --proxy 127.0.0.1:$P_TRAVERSE_SIP --softswitch 127.0.0.1:$P_KAM_SOFTSWITCH \
				--calls 1000 --ip 127.0.0.1 --sip-base $P_TV_SIP --rtp-base $P_GEN --register-only \
				2>>"$TMP/tvcalls.err" | sed 's/^/    /'
			r1=$(rss_kb "$pid")
			"$BIN/traverse-tvcalls" --proxy 127.0.0.1:$P_TRAVERSE_SIP --softswitch 127.0.0.1:$P_KAM_SOFTSWITCH \
				--calls 1000 --ip 127.0.0.1 --sip-base $P_TV_SIP --rtp-base $P_GEN >"$TMP/mem.trav.targets" \
				2>>"$TMP/tvcalls.err"
			r2=$(rss_kb "$pid")
			echo "  traverse-proxy VmRSS: $r0 kB idle, $r1 kB with 1,000 registered terminals, $r2 kB with 1,000 calls too"
			echo "  traverse-proxy: $(( (r1 - r0) * 1024 / 1000 )) bytes per idle binding, $(( (r2 - r1) * 1024 / 1000 )) bytes per call (targets: 1024, 2048)"
			row "mem|traverse-proxy|$((r2 - r1))|-|VmRSS $r0 -> $r1 (1,000 bindings: $((r1 - r0)) kB) -> $r2 kB"
		else
			row "mem|traverse-proxy|-|-|did not start"
		fi
		stop "$LAST_PID"
	elif [ -x "$BIN/traverse-proxy" ]; then
		row "mem|traverse-proxy|-|-|port $P_TRAVERSE_SIP busy"
	else
		echo "  traverse-proxy: not built yet"
		row "mem|traverse-proxy|-|-|not built yet"
	fi
}

# --- summary -------------------------------------------------------------

summary() {
	echo
	echo "== live bench summary ($(nproc) cores, loopback; $((SECONDS - T0)) s) =="
	if grep -q '^relay|' "$RESULTS" 2>/dev/null; then
		echo "relay pps: median of $REPS flat-out runs ($((REPS + 2)) at 1 stream); x plain = pps / plainrelay's"
		echo "(where plainrelay is GENERATOR-BOUND its limit is higher than shown, and x plain flatters the others);"
		echo "latency one-way, send to receive, us: 'rtp' at 50 pkt/s per side per stream, 'flat' flat out;"
		echo "cpu: share of one core over the run (gen = traverse-rtpload; relay: all its threads);"
		echo "pps/core = pps / relay cpu: what a relay does per core it used (fair when the generator is the bottleneck)"
		printf '%-7s %-15s %8s %7s %16s %16s %7s %7s %9s %7s  %s\n' streams target pps "x plain" "p50/p99 rtp" \
			"p50/p99 flat" "gen cpu" "relay" "pps/core" "x plain" note
		grep '^relay|' "$RESULTS" | while IFS='|' read -r _ n name pps x rtp flat cpu rcpu ppc xppc note; do
			printf '%-7s %-15s %8s %7s %16s %16s %7s %7s %9s %7s  %s\n' "$n" "$name" "$pps" "$x" "$rtp" "$flat" "$cpu" \
				"$rcpu" "$ppc" "$xppc" "$note"
		done
	fi
	if grep -q '^sip|' "$RESULTS" 2>/dev/null; then
		echo
		printf '%-30s %12s %8s  %s\n' "sip path" "calls/s max" "x sipp" note
		grep '^sip|' "$RESULTS" | while IFS='|' read -r _ name max x note; do
			printf '%-30s %12s %8s  %s\n' "$name" "$max" "$x" "$note"
		done
	fi
	if grep -q '^mem|' "$RESULTS" 2>/dev/null; then
		echo
		printf '%-16s %22s %22s  %s\n' "memory" "kB/1000 calls (setup)" "kB/1000 (with media)" note
		grep '^mem|' "$RESULTS" | while IFS='|' read -r _ name a b note; do
			printf '%-16s %22s %22s  %s\n' "$name" "$a" "$b" "$note"
		done
	fi
}

main() {
	local t
	case "$ONLY" in
	"" | live-relay | live-sip | live-mem) ;;
	*)
		echo "live bench: TRAVERSE_BENCH_ONLY=$ONLY is not a live section (live-relay|live-sip|live-mem); nothing to do"
		return 0
		;;
	esac
	for t in traverse-plainrelay traverse-rtpload traverse-ngcall; do
		if [ ! -x "$BIN/$t" ]; then
			echo "live bench: $BIN/$t missing; building"
			make -C "$ROOT" -j2 --no-print-directory all >/dev/null || return 1
			break
		fi
	done
	: >"$RESULTS"
	echo "live bench: loopback only; temp dir $TMP; budget ${BUDGET}s"
	[ -z "$ONLY" ] || [ "$ONLY" = live-relay ] && relay_section
	[ -z "$ONLY" ] || [ "$ONLY" = live-sip ] && { over_budget "the sip section" || sip_section; }
	[ -z "$ONLY" ] || [ "$ONLY" = live-mem ] && { over_budget "the mem section" || mem_section; }
	summary
}

main "$@"
