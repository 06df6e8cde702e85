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
me=conformance
. "$here/lib/sbc-netns.sh"
sbc_need nft || exit 1
dir=$(mktemp -d /tmp/traverse-conformance-XXXXXX)
tag=tvc$$
trap sbc_cleanup EXIT
trap 'exit 130' INT TERM
fail=0
bad() { echo "conformance: $*"; fail=$((fail + 1)); }

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
	want=$(grep -vc '^? ' "$here/conformance/$s.expected")
	if [ "$want" = 0 ] && [ "${rcs[$i]}" != 0 ]; then
		bad "$s SBC failed the suite: $(grep -E '^        ' "$dir/$s.txt" | head -20)"
	elif [ "$want" != 0 ] && [ "${rcs[$i]}" != 1 ]; then
		bad "$s SBC: exit ${rcs[$i]}, want 1 (failed): $(tail -5 "$dir/$s.txt")"
	fi
	grep -q '^PASS' "$dir/$s.txt" || [ "$s" = broken ] || bad "$s SBC: nothing passed"
	# a line "? FINDING" of the expected file may or may not be found (a
	# real SBC's timing decides; it is named, not unexplained): it is
	# taken out of both sides before they are compared
	grep -v '^? ' "$here/conformance/$s.expected" >"$dir/$s.want"
	sed -n 's/^? //p' "$here/conformance/$s.expected" >"$dir/$s.maybe"
	grep -vxF -f "$dir/$s.maybe" "$dir/$s.findings" >"$dir/$s.got" || true
	[ -s "$dir/$s.maybe" ] || cp "$dir/$s.findings" "$dir/$s.got"
	if ! diff -u "$dir/$s.want" "$dir/$s.got" >"$dir/$s.diff"; then
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
sbc_cleanup
trap - EXIT
left=$(ip netns list | grep -c "^$tag-")
[ "$left" = 0 ] || bad "$left namespaces left behind: $(ip netns list | grep "^$tag-")"
echo "conformance: $summary; $fail problems"
[ $fail -eq 0 ]
