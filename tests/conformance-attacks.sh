#!/usr/bin/env bash
# conformance-attacks.sh BINDIR - the RTP bleed/inject matrix
# (scenarios/attacks/rtp-matrix.scn) against Kamailio + rtpengine, graded
# by its `show` table, not by its `expect` lines (those are written for
# Traverse's proxy). docs/attacks.md says what the numbers mean for
# rtpengine; docs/conformance.md how this is run.
#
#   +------------------------ namespace tva$$-AT (one per AT) ----------------+
#   | traverse run --netns --proxy 198.51.100.10:5060 rtp-matrix (AT only)    |
#   |   alice, bob (behind nat-a, nat-b), eve (AT: internet | cgn | core),   |
#   |   softswitch 10.0.0.100; bridge sockets on each address they use       |
#   |         |                                          ^                    |
#   |         v                                          |                    |
#   | Kamailio (kamailio-sbc.cfg -A WITH_NAT) 198.51.100.10:5060 / 10.0.0.1   |
#   |   + rtpengine, media on 198.51.100.10:30000-30999                       |
#   | tvtrap (TUN): the default route; nothing leaves the namespace           |
#   +--------------------------------------------------------------------------+
#
# The matrix names eve's target px.alice.audio.rtp|rtcp|core-rtp|core-rtcp;
# with --proxy those come from the SDP the phones read (docs/scenarios.md,
# "Names the run assigns"). Rows run: mode=default only. strict=on is a
# setting of Traverse's proxy line, which an external SBC never sees, so the
# strict rows would repeat the default ones against the same rtpengine.
# The 12 rows split by AT over three namespaces, each with its own Kamailio
# and rtpengine, side by side (about 1 minute of wall time).
#
# Each row's numbers, graded (below), must be exactly
# tests/conformance/rtp-matrix-kamailio.expected. The raw numbers are
# printed too (CONF_KEEP=1 keeps the files). Every namespace and process it
# makes is removed on exit, failure or Ctrl-C, and the end checks that none
# of its namespaces is left.
set -u
bin=$(cd "${1:?usage: conformance-attacks.sh BINDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "conformance-attacks: SKIP (needs root for network namespaces)"
	exit 0
fi
me=conformance-attacks
. "$here/lib/sbc-netns.sh"
sbc_need || exit 1
dir=$(mktemp -d /tmp/traverse-conformance-attacks-XXXXXX)
tag=tva$$
trap sbc_cleanup EXIT
trap 'exit 130' INT TERM
fail=0
bad() { echo "conformance-attacks: $*"; fail=$((fail + 1)); }

# The matrix for one place of the attacker, default mode only: the same
# file with two of its matrix lines narrowed (checked below).
narrow() { # AT
	sed -e 's/^matrix mode in default,strict$/matrix mode in default/' \
		-e "s/^matrix at in internet,cgn,core\$/matrix at in $1/" \
		"$top/scenarios/attacks/rtp-matrix.scn" >"$dir/rtp-matrix-$1.scn"
	grep -qx 'matrix mode in default' "$dir/rtp-matrix-$1.scn" && grep -qx "matrix at in $1" "$dir/rtp-matrix-$1.scn"
}

places="internet cgn core"
for at in $places; do
	narrow "$at" || { bad "scenarios/attacks/rtp-matrix.scn: its matrix lines changed; update narrow()"; exit 1; }
	mkns "$at" || { bad "cannot make namespace $tag-$at"; exit 1; }
	kamailio_sbc "$at" WITH_NAT || exit 1
done
pids=()
for at in $places; do
	(cd "$top" && "$bin/traverse" run --netns="$tag-$at" --proxy 198.51.100.10:5060 \
		"$dir/rtp-matrix-$at.scn") >"$dir/$at.txt" 2>&1 &
	pids+=($!)
done
i=0
for at in $places; do
	wait "${pids[$i]}"
	rc=$?
	# the expects are Traverse's: 0 or 1 both mean the rows ran
	[ $rc -le 1 ] || bad "$at: traverse run exited $rc: $(tail -5 "$dir/$at.txt")"
	i=$((i + 1))
done

# The show table, one row per combination: the six columns named in the
# header, by name (their order in the table is the file's).
cols="injected_rtp injected_rtcp bled alice_sent bob_heard bob_rtcp"
for at in $places; do
	awk -v cols="$cols" -F' *\\| *' '
		/^\| mode \| when \| at \| proto / { for (i = 2; i < NF; i++) h[$i] = i; n = split(cols, c, " "); next }
		n && /^\| / && !/^\| ---/ { line = $2 " " $3 " " $4 " " $5; for (k = 1; k <= n; k++) line = line " " ((c[k] in h) ? $(h[c[k]]) : "?"); print line }
	' "$dir/$at.txt"
done >"$dir/raw"
echo "conformance-attacks: mode when at proto $cols"
sed 's/^/        /' "$dir/raw"
rows=$(grep -c . "$dir/raw")
[ "$rows" = 12 ] || bad "$rows rows in the show table, want 12: $(grep -hE '^(FAIL|        )' "$dir"/*.txt | grep -v 'expected\|finding' | head -10)"
grep -q '?' "$dir/raw" && bad "a column is missing from the show table"
grep -qE ' -( |$)' "$dir/raw" && bad "a show value is missing (-): a name did not resolve?"

# Grading: the numbers move a little from run to run (real time, two real
# processes, a shared CPU), so the expected file gives each cell an exact
# number or a range A-B. Each row is printed in the expected file's form:
# a cell inside its range as the range, one outside as "VALUE(want A-B)";
# the result must then be the expected file exactly (comments aside).
exp=$here/conformance/rtp-matrix-kamailio.expected
awk -v cols="$cols" '
	function inside(v, s,   r) {
		if (s == "") return 0
		if (split(s, r, "-") == 2) return v + 0 >= r[1] + 0 && v + 0 <= r[2] + 0
		return v + 0 == s + 0
	}
	BEGIN { n = split(cols, c, " ") }
	NR == FNR { if ($0 ~ /^#/ || !NF) next
		for (i = 5; i <= NF; i++) { split($i, kv, "="); spec[$1 " " $2 " " $3 " " $4, kv[1]] = kv[2] }
		next }
	{ key = $1 " " $2 " " $3 " " $4; out = key
	  for (k = 1; k <= n; k++) { s = spec[key, c[k]]; v = $(4 + k)
		out = out " " c[k] "=" (inside(v, s) ? s : v "(want " (s == "" ? "no row" : s) ")") }
	  print out }
' "$exp" "$dir/raw" >"$dir/graded"
grep -v '^#' "$exp" | grep . >"$dir/expected"
if ! diff -u "$dir/expected" "$dir/graded" >"$dir/graded.diff"; then
	bad "the show table is outside tests/conformance/rtp-matrix-kamailio.expected:"
	cat "$dir/graded.diff"
fi
if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$dir"/*.txt 2>/dev/null; then
	bad "sanitizer: $(grep -hE -A5 'ERROR: |runtime error:' "$dir"/*.txt | head -30)"
fi
sbc_cleanup
trap - EXIT
left=$(ip netns list | grep -c "^$tag-")
[ "$left" = 0 ] || bad "$left namespaces left behind: $(ip netns list | grep "^$tag-")"
echo "conformance-attacks: $rows rows against Kamailio + rtpengine; $fail problems"
[ $fail -eq 0 ]
