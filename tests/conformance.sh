#!/usr/bin/env bash
# conformance.sh BINDIR - the SBC conformance suite (scenarios/conformance.list)
# judged against three SBCs, to prove it passes a correct one and fails a
# broken one for the right reasons. Each SBC runs in a network namespace
# of its own with no route out; `traverse run --netns=NS --proxy` joins it,
# so the phones keep their RFC 1918 addresses and the SBC's NAT detection
# works as deployed:
#
#   +--------------------------- namespace tvc$$-X --------------------------+
#   | traverse run (simulated phones, NATs, softswitch; bridge sockets on   |
#   |   each NAT mapping's address and 10.0.0.100:5060)                      |
#   |         |                                          ^                   |
#   |         v                                          |                   |
#   | SBC under test: 198.51.100.10:5060 (phones) -- 10.0.0.1:5060 (core)    |
#   |   Kamailio + rtpengine (media on 198.51.100.10), or traverse-proxy     |
#   | tvtrap (TUN): the default route. What the SBC sends where nobody is   |
#   |   (a phone's private address) lands in the run and is a finding.      |
#   +------------------------------------------------------------------------+
#
#   good    Kamailio + rtpengine configured for NAT (tests/peers/
#           kamailio-sbc.cfg -A WITH_NAT)
#   broken  the same Kamailio without its NAT handling
#   traverse traverse-proxy as an external proxy
# and beside them, traverse-proxy behind the Linux kernel's own NATs
# (--nat-kind=linux-random) on six scenarios that must all pass.
# Each SBC's findings must be exactly tests/conformance/NAME.expected: none
# for traverse-proxy; for the broken Kamailio the faults its missing lines
# cause; for the good one what rtpengine does not do (docs/conformance.md).
#
# The three run side by side (namespaces keep their addresses apart).
# Installs kamailio and rtpengine-daemon when missing (root). Every
# namespace and process it makes is removed on exit, failure or Ctrl-C,
# and the end checks that none of its namespaces is left.
set -u
bin=$(cd "${1:?usage: conformance.sh BINDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "conformance: SKIP (needs root for network namespaces)"
	exit 0
fi
need=""
command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need="$need kamailio"
command -v rtpengine >/dev/null || [ -x /usr/sbin/rtpengine ] || need="$need rtpengine-daemon"
command -v ip >/dev/null || need="$need iproute2"
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need="$need nftables"
if [ -n "$need" ]; then
	echo "conformance: installing$need"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || exit 1
fi
KAM=$(command -v kamailio || echo /usr/sbin/kamailio)
RTPE=$(command -v rtpengine || echo /usr/sbin/rtpengine)
# rtpengine-daemon's package starts a system daemon; it is not ours and
# does not matter here (ours run in the namespaces).
dir=$(mktemp -d /tmp/traverse-conformance-XXXXXX)
tag=tvc$$
nss=()
cleanup() {
	for ns in "${nss[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done
	sleep 0.3
	for ns in "${nss[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${CONF_KEEP:-}" ] && echo "conformance: files in $dir" || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail=0
bad() { echo "conformance: $*"; fail=$((fail + 1)); }

# A namespace holding the SBC's two addresses; nothing else, no route.
mkns() {
	local ns=$tag-$1
	ip netns add "$ns" || return 1
	nss+=("$ns")
	ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add 198.51.100.10/32 dev lo &&
		ip -n "$ns" addr add 10.0.0.1/32 dev lo
}

# Wait until something listens on UDP PORT in namespace NS (5 s at most).
wait_udp() {
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

kamailio_sbc() { # NAME [WITH_NAT]
	local ns=$tag-$1 d=$dir/$1
	mkdir -p "$d"
	if [ -n "${2:-}" ]; then
		ip netns exec "$ns" "$RTPE" --config-file=none -f -E -L 4 -t -1 -i 198.51.100.10 \
			-n 127.0.0.1:2223 -m 30000 -M 30999 >"$d/rtpengine.log" 2>&1 &
		wait_udp "$ns" 2223 || { bad "$1: rtpengine did not start: $(tail -3 "$d/rtpengine.log")"; return 1; }
	fi
	ip netns exec "$ns" "$KAM" -f "$here/peers/kamailio-sbc.cfg" ${2:+-A $2} --substdef '!KA_INTERVAL!10!g' \
		-DD -E -Y "$d" -m 64 -M 8 >"$d/kamailio.log" 2>&1 &
	wait_udp "$ns" 5060 || { bad "$1: Kamailio did not start: $(tail -3 "$d/kamailio.log")"; return 1; }
}

traverse_sbc() {
	local ns=$tag-traverse d=$dir/traverse
	mkdir -p "$d"
	cat >"$d/p.conf" <<CONF
access = 198.51.100.10
core = 10.0.0.1
softswitch = 10.0.0.100:5060
media-ports = 30000-30999
keepalive = 10s
control = $d/ctl.sock
CONF
	ip netns exec "$ns" "$bin/traverse-proxy" -c "$d/p.conf" -f 2>"$d/proxy.log" &
	wait_udp "$ns" 5060 || { bad "traverse: traverse-proxy did not start: $(tail -3 "$d/proxy.log")"; return 1; }
}

suite() { # NAME: the suite against the SBC in namespace NAME
	(cd "$top" && "$bin/traverse" run --netns="$tag-$1" --proxy 198.51.100.10:5060 \
		--json "$dir/$1.json" scenarios/conformance.list) >"$dir/$1.txt" 2>&1
}

for s in good broken traverse; do mkns $s || { bad "cannot make namespace $tag-$s"; exit 1; }; done
kamailio_sbc good WITH_NAT
kamailio_sbc broken
traverse_sbc
pids=()
for s in good broken traverse; do suite $s & pids+=($!); done
# Beside them: traverse-proxy (started by the run, in a namespace of the
# run's own) with every NAT the Linux kernel's own, masquerade
# fully-random, each in a namespace of its own (--nat-kind).
linux_list=()
for f in call-through-nats keepalive keepalive-off double-nat same-nat-hairpin-off hold-resume; do
	linux_list+=("scenarios/sip/$f.scn")
done
(cd "$top" && "$bin/traverse" run --netns --nat-kind=linux-random "${linux_list[@]}" >"$dir/linux.txt" 2>&1) &
linux_pid=$!
rcs=()
for p in "${pids[@]}"; do wait "$p"; rcs+=($?); done
wait $linux_pid || bad "through the kernel's NATs: $(grep -vE '^        \(' "$dir/linux.txt" | tail -20)"
sed -i "s/^\(PASS\|FAIL\)  /\1  [linux-nat] /" "$dir/linux.txt"
grep -E '^(PASS|FAIL|SKIP)' "$dir/linux.txt"
[ "$(grep -c '^PASS' "$dir/linux.txt")" = ${#linux_list[@]} ] || bad "through the kernel's NATs: not every scenario passed"

# Each SBC's findings, as "scenario: finding" lines, sorted, must be
# exactly tests/conformance/NAME.expected (empty: it passes everything).
# A failed scenario with no finding failed for a reason the suite could not
# name, and is a problem either way.
i=0
for s in good broken traverse; do
	sed -i "s/^\(PASS\|FAIL\)  /\1  [$s] /" "$dir/$s.txt"
	awk '/^(PASS|FAIL|SKIP)/ { f = $3; sub(".*/", "", f) }
	     /^        finding: / { sub(/^        finding: /, ""); print f ": " $0 }' "$dir/$s.txt" | LC_ALL=C sort >"$dir/$s.findings"
	grep -E '^(PASS|FAIL|SKIP)' "$dir/$s.txt"
	want=$(grep -c . "$here/conformance/$s.expected")
	if [ "$want" = 0 ] && [ "${rcs[$i]}" != 0 ]; then
		bad "$s SBC failed the suite: $(grep -E '^        ' "$dir/$s.txt" | head -20)"
	elif [ "$want" != 0 ] && [ "${rcs[$i]}" != 1 ]; then
		bad "$s SBC: exit ${rcs[$i]}, want 1 (failed): $(tail -5 "$dir/$s.txt")"
	fi
	grep -q '^PASS' "$dir/$s.txt" || [ "$s" = broken ] || bad "$s SBC: nothing passed"
	if ! diff -u "$here/conformance/$s.expected" "$dir/$s.findings" >"$dir/$s.diff"; then
		bad "$s SBC: the findings differ from tests/conformance/$s.expected:"
		cat "$dir/$s.diff"
	fi
	awk '/^FAIL/ { if (f && !n) print f; f = $3; n = 0 } /^PASS|^SKIP/ { if (f && !n) print f; f = "" }
	     /^        finding: / { n++ } END { if (f && !n) print f }' "$dir/$s.txt" >"$dir/$s.unnamed"
	[ -s "$dir/$s.unnamed" ] && bad "$s SBC: failed with no finding (an unnamed fault): $(tr '\n' ' ' <"$dir/$s.unnamed")"
	echo "conformance: $s: $(grep -c '^PASS' "$dir/$s.txt") passed, $(grep -c '^FAIL' "$dir/$s.txt") failed," \
		"$(grep -c . "$dir/$s.findings") findings"
	sed 's/^/        /' "$dir/$s.findings"
	i=$((i + 1))
done
if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$dir"/*.txt "$dir"/traverse/proxy.log 2>/dev/null; then
	bad "sanitizer: $(grep -hE -A5 'ERROR: |runtime error:' "$dir"/*.txt "$dir"/traverse/proxy.log | head -30)"
fi
summary="good Kamailio $(grep -c '^PASS' "$dir/good.txt"), traverse-proxy $(grep -c '^PASS' "$dir/traverse.txt") passed; broken Kamailio $(grep -c '^FAIL' "$dir/broken.txt") failed"
cleanup
trap - EXIT
left=$(ip netns list | grep -c "^$tag-")
[ "$left" = 0 ] || bad "$left namespaces left behind: $(ip netns list | grep "^$tag-")"
echo "conformance: $summary; $fail problems"
[ $fail -eq 0 ]
