#!/usr/bin/env bash
# dash.sh BINDIR - `traverse dash` driven in tmux against a live
# traverse-proxy carrying a known call (tests/dash/call.scn, run with
# --proxy): the screen must show the proxy's own numbers (bindings, calls,
# legs, streams, packet counts between two reads of its counters), the
# keys must switch panes, filter, sort and pause, and 80x24 and 200x60
# must both stay readable. Loopback only (127.97.0.0/16 and the run's
# slot); everything started here is stopped on exit. DASH_SHOTS=DIR keeps
# a capture of each pane there (docs/dashboard.md shows them).
set -u
bin=$(cd "${1:?usage: dash.sh BINDIR}" && pwd)
command -v tmux >/dev/null || {
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null || exit 1
	else
		echo "dash: SKIP: needs tmux"; exit 0
	fi
}
dir=$(mktemp -d /tmp/traverse-dash-XXXXXX)
T="tmux -L tvdash$$ -f /dev/null"
fail=0
bad() { echo "dash: $*"; fail=$((fail + 1)); }
pids=()
cleanup() {
	$T kill-server 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$dir/p.conf" <<CONF
access = 127.97.0.1
core = 127.97.0.2
softswitch = 127.97.0.3:5060
media-ports = 35000-35999
control = $dir/ctl.sock
CONF
"$bin/traverse-proxy" -c "$dir/p.conf" -f 2>"$dir/proxy.log" &
pids+=($!)
for i in $(seq 50); do [ -S "$dir/ctl.sock" ] && break; sleep 0.1; done
[ -S "$dir/ctl.sock" ] || { echo "dash: traverse-proxy did not start: $(tail -3 "$dir/proxy.log")"; exit 1; }
ctl() { "$bin/traverse" ctl -s "$dir/ctl.sock" "$@"; }
stat() { ctl stats | tr ',{}' '\n\n\n' | sed -n "s/^\"$1\"://p"; }

# the dashboard, in an 80x24 terminal without colour first
$T new-session -d -s dash -x 80 -y 24 \
	"TERM=screen $bin/traverse dash --attach $dir/ctl.sock --interval 0.5 2>$dir/dash.err; echo \"dash exited \$?\"; sleep 30"
screen() { $T capture-pane -p -t dash; }
keys() { $T send-keys -t dash "$@"; sleep 0.7; }
# has TEXT [WHAT]: the screen shows TEXT
has() { screen | grep -qF -- "$1" || bad "${2:-screen} lacks '$1': $(screen | head -30)"; }
hasnt() { ! screen | grep -qF -- "$1" || bad "${2:-screen} still shows '$1'"; }
# shot NAME [SESSION]: keep the screen as DASH_SHOTS/NAME.txt
shot() { [ -n "${DASH_SHOTS:-}" ] && mkdir -p "$DASH_SHOTS" && $T capture-pane -p -t "${2:-dash}" >"$DASH_SHOTS/$1.txt"; true; }
sleep 1
has "traverse dash" "the header"
has "bindings 0  calls 0" "an idle proxy"

"$bin/traverse" run --proxy 127.97.0.1:5060 --softswitch-listen 127.97.0.3:5060 --live-slot 137 \
	tests/dash/call.scn >"$dir/run.txt" 2>&1 &
run=$!
pids+=($run)
sleep 6          # registered at 1 s, the call up from about 1.1 s to 41 s

# -- the header: the proxy's gauges (steady mid-call)
for g in bindings legs streams; do
	v=$(stat $g)
	[ "$v" = 2 ] || bad "the proxy has $g=$v mid-call (want 2)"
	has "$g $v" "the header"
done
# a call is the streams of one Call-ID (docs/control.md): the softswitch
# is a B2BUA, so each phone's leg has its own
calls=$(ctl streams | grep -o '"call_id":"[^"]*"' | sort -u | wc -l)
[ "$calls" = 2 ] || bad "the proxy has $calls Call-IDs mid-call (want 2, one per leg)"
has "calls $calls" "the header"
screen | grep -qE 'to core +[0-9]+ pkt/s' || bad "no rate in the header: $(screen | head -4)"
rate=$(screen | sed -n 's/.*to core *\([0-9.]*\) pkt\/s.*/\1/p')
awk "BEGIN { exit !($rate >= 60 && $rate <= 140) }" ||
	bad "to core $rate pkt/s (two phones at 50 packets/s each: want about 100)"

# -- bindings (pane 1): alice and bob, their NAT mappings and private addresses
has "NAT MAPPING" "the bindings pane"
for u in alice bob; do has "$u" "the bindings pane"; done
n=$(ctl bindings | grep -o '"nat":"[0-9.:]*"' | head -1 | sed 's/"nat":"\(.*\)"/\1/')
has "$n" "the bindings pane (alice's or bob's NAT mapping from ctl bindings)"
# the keepalive countdown: seconds to the next OPTIONS (every 20 s here)
ka=$(screen | awk '$1 == "alice" { print $4 }')
case "$ka" in ''|*[!0-9]*) bad "alice's KA IN is '$ka' (want seconds)";; *) [ "$ka" -le 20 ] || bad "alice's KA IN is $ka (> the 20 s interval)";; esac
has "KA IN" "the bindings pane's heads"
shot bindings

# -- streams (pane 2): the packet counts are the proxy's, read between two asks
keys 2
has "LATCHED FROM" "the streams pane"
a0=$(ctl streams | tr '}' '\n' | grep '"user":"alice"' | sed -n 's/.*"pkts_to_core":\([0-9]*\).*/\1/p')
sleep 1.2
got=$(screen | awk '$1 == "alice" { print $9 }')
a1=$(ctl streams | tr '}' '\n' | grep '"user":"alice"' | sed -n 's/.*"pkts_to_core":\([0-9]*\).*/\1/p')
[ -n "$got" ] && [ -n "$a0" ] && [ "$got" -ge "$a0" ] && [ "$got" -le "$a1" ] ||
	bad "alice's >CORE on screen is '$got'; the proxy counted $a0 before and $a1 after"
screen | awk '$1 == "alice" || $1 == "bob"' | grep -q 'latched' || bad "streams not shown latched: $(screen)"
# quality (Q, LOSS%, JITMS) at 80 columns: a MOS with where its delay came
# from (r: RTCP round trip, c: configured), and no loss on loopback
screen | grep -qE 'STATE +Q +LOSS% +JITMS' || bad "no Q LOSS% JITMS in the streams pane's head: $(screen | head -8)"
for u in alice bob; do
	row=$(screen | awk -v u=$u '$1 == u { print $5, $6, $7; exit }')
	echo "$row" | grep -qE '^[1-4]\.[0-9][rc] 0\.0 [0-9.]+$' ||
		bad "$u's Q LOSS% JITMS are '$row' (want a MOS like 4.4r, loss 0.0, a jitter)"
done
q=$(ctl streams | tr '}' '\n' | grep '"user":"alice"' | grep -o '"lost_to_core":[0-9]*,"loss_to_core":[0-9.]*')
[ "$q" = '"lost_to_core":0,"loss_to_core":0.000000' ] || bad "alice's loss to core at the proxy: '$q'"
shot streams

# -- sort: s twice sorts by CALL, then S reverses; the order of alice and bob follows USER when s once
keys s
first=$(screen | awk '$1 == "alice" || $1 == "bob" { print $1; exit }')
[ "$first" = alice ] || bad "sorted by USER, the first row is '$first'"
has "sort: USER" "the tabs line"
keys S
first=$(screen | awk '$1 == "alice" || $1 == "bob" { print $1; exit }')
[ "$first" = bob ] || bad "sorted by USER descending, the first row is '$first'"

# -- details of the selected row
keys Enter
has "Call-ID" "the details box"
has "codec          PCMU, 8000 Hz" "the details box"
has "to core        loss 0.00% (0/" "the details box"
screen | grep -qE 'delay +(RTCP: rtt|configured: )' || bad "no delay source in the details box: $(screen)"
shot details
keys q           # any key closes the box (q does not quit here)
hasnt "Call-ID" "the closed details box"

# -- filter: only bob's rows
keys / b o b Enter
has "filter: bob" "the tabs line"
shot filter
screen | awk '$1 == "alice"' | grep -q . && bad "the filter 'bob' still shows alice"
has "1 rows" "the filtered streams pane"
keys Escape
hasnt "filter: bob" "the tabs line after Esc"

# -- events (pane 3): what happened so far
keys 3
for e in binding-added binding-trusted leg-up latch; do has "$e" "the event log"; done
shot events

# -- calls (pane 5) from the proxy's "sip" events: the live call's legs,
#    and the ladder of one: the phone's INVITE to px, px/core to the
#    softswitch, the 200 back
keys 5
screen | grep -qE '^[0-9a-f]{6} +INVITE +alice +bob' || bad "no INVITE alice->bob in the live calls pane: $(screen)"
screen | grep -qE '^[0-9a-f]{6} +REGISTER +alice' || bad "no alice's REGISTER in the live calls pane: $(screen)"
shot live-calls
keys / I N V I T E Enter
keys Enter
screen | grep -qE 'px +px/core +softswitch' || bad "the live ladder's columns: $(screen | sed -n 6p)"
screen | grep -qE '\|-+INVITE-+>\|' || bad "no INVITE arrow in the live ladder: $(screen)"
screen | grep -qE '200' || bad "no 200 in the live ladder: $(screen)"
shot live-ladder
keys Escape
keys Escape

# -- pause: the screen holds still
keys p
has "[PAUSED]" "the header"
s1=$(screen | head -1)
sleep 1.5
s2=$(screen | head -1)
[ "$s1" = "$s2" ] || bad "paused, the header still moved: '$s1' then '$s2'"
keys p
hasnt "[PAUSED]" "the header after p again"

# -- help
keys ?
has "this help" "the help box"
shot help
keys x

# -- sizes: 200x60 shows every bindings column; 80x24 cuts none in half
keys 1
$T resize-window -t dash -x 200 -y 60
sleep 1
has "KA ANS" "the 200x60 bindings pane"
[ "$(screen | wc -l)" = 60 ] || bad "the 200x60 screen has $(screen | wc -l) lines"
shot bindings-200x60
$T resize-window -t dash -x 80 -y 24
sleep 1
has "bindings 2" "the 80x24 header after a resize"
has "NAT MAPPING" "the 80x24 bindings pane after a resize"
[ "$(screen | awk 'length > 80' | wc -l)" = 0 ] || bad "lines over 80 columns"

# -- the call ends: legs and streams go; the log says why
wait "$run" || bad "the scenario failed: $(tail -5 "$dir/run.txt")"
sleep 1.2
has "legs 0" "the header after the hang-up"
keys 3
has "leg-down" "the event log after the hang-up"
has "record" "the event log after the hang-up"

# -- q quits with status 0; a proxy that goes away is said
keys q
sleep 0.5
has "dash exited 0" "the shell after q"
$T kill-session -t dash
kill -TERM "${pids[0]}"; wait "${pids[0]}"
"$bin/traverse" dash --attach "$dir/ctl.sock" >/dev/null 2>"$dir/gone.txt"; rc=$?
[ $rc = 2 ] && grep -q "ctl.sock" "$dir/gone.txt" || bad "attach to no proxy: exit $rc, '$(cat "$dir/gone.txt")' (want 2 and the socket named)"
# ---- a scenario in simulation under the dashboard: traverse run --dash ----
# Started paused: n moves one event at a time; p runs it; the NAT tables
# (simulation only) show the phones' mappings; + up to x1000 runs it to its
# end, and the header says PASS with the run's own check count; q gives the
# report. A failing copy says FAIL; q in mid-run leaves and the rest runs.
sim() {         # NAME ARGS...: a run under the dashboard in its own session
	local n=$1
	shift
	$T new-session -d -s "$n" -x 80 -y 24 \
		"TERM=screen $bin/traverse run --dash $* >$dir/$n.out 2>$dir/$n.err; echo \"run exited \$?\"; sleep 30"
}
scr() { $T capture-pane -p -t "$1"; }
k() { local n=$1; shift; $T send-keys -t "$n" "$@"; sleep 0.6; }
vt() { scr "$1" | head -1 | sed -n 's/.* t=\([0-9.]*\)s .*/\1/p'; }
sim s1 --paused scenarios/sip/call-through-nats.scn
sleep 1.5
scr s1 | head -1 | grep -qE '\[PAUSED\] t=0\.000s .*call-through-nats\.scn:' || bad "sim: not paused at the start: $(scr s1 | head -1)"
t0=$(vt s1)
k s1 n; k s1 n; k s1 n
t1=$(vt s1)
awk "BEGIN { exit !($t1 > $t0 && $t1 <= 1) }" || bad "sim: three steps went from t=$t0 to t=$t1 (want a little later, within the first second)"
scr s1 | head -1 | grep -qF '[PAUSED]' || bad "sim: a step left the pause"
shot sim-paused s1
k s1 p
sleep 3
t2=$(vt s1)
awk "BEGIN { exit !($t2 >= 2.5 && $t2 <= 5) }" || bad "sim: 3 s at x1 gave t=$t2"
scr s1 | grep -qF "bindings 2  calls 2  streams 2  legs 2" || bad "sim: the header mid-call: $(scr s1 | sed -n 2p)"
k s1 4
scr s1 | grep -qE '^nat-a +udp +192\.168\.1\.10:5060 +203\.0\.113\.10:5060' ||
	bad "sim: no alice's SIP mapping in the NAT tables: $(scr s1)"
scr s1 | grep -qE '^nat-b +udp +192\.168\.2\.10:10000 +203\.0\.113\.20:10000' ||
	bad "sim: no bob's RTP mapping in the NAT tables: $(scr s1)"
shot sim-nats s1
k s1 2
# (read up to three times: a capture can fall in the middle of a redraw)
for try in 1 2 3; do
	[ "$(scr s1 | grep -cE '^(alice|bob) .* latched .* 203\.0\.113\.(10|20):10000')" = 2 ] && break
	sleep 0.3
done
[ "$(scr s1 | grep -cE '^(alice|bob) .* latched .* 203\.0\.113\.(10|20):10000')" = 2 ] ||
	bad "sim: streams not latched on the NATs' mappings: $(scr s1)"
shot sim-streams s1
# the topology (pane 6): the scenario's nodes on their links, the links
# carrying the call's media marked live
k s1 6
for n in 'ss (softswitch) 10.0.0.100' 'px (proxy) 198.51.100.10 / 10.0.0.1' 'nat-a (nat) 203.0.113.10' \
	'nat-b (nat) 203.0.113.20' 'alice (phone) 192.168.1.10' 'bob (phone) 192.168.2.10'; do
	scr s1 | grep -qF -- "$n" || bad "sim: the topology lacks '$n': $(scr s1)"
done
for l in core internet home-a home-b; do
	scr s1 | grep -qE "\[$l\] +[0-9]+ +[0-9.k]+ +0 +<=>" || bad "sim: the topology's $l link not marked live: $(scr s1)"
done
# nat-a hangs below the internet link, alice below home-a
[ "$(scr s1 | grep -nE 'internet\]|nat-a \(nat\)|home-a\]|alice \(phone\)' | cut -d: -f1 | tr '\n' ' ')" = \
	"$(scr s1 | grep -nE 'internet\]|nat-a \(nat\)|home-a\]|alice \(phone\)' | cut -d: -f1 | sort -n | tr '\n' ' ')" ] ||
	bad "sim: the topology's order: $(scr s1)"
shot sim-topology s1
for i in 1 2 3 4 5 6 7 8 9 10; do $T send-keys -t s1 +; done
sleep 2
scr s1 | head -1 | grep -qE '\[DONE: PASS\] t=17\.000s x1000 checks 36, failed 0 +call-through-nats\.scn:[0-9]+' ||
	bad "sim: the end: $(scr s1 | head -1)"
shot sim-done s1
# the calls (pane 5): both registrations and the call, ended; Enter on the
# call opens its ladder: INVITE, 100, 180, 200, ACK, BYE in that order, a
# column per participant named from the scenario
k s1 5
scr s1 | grep -qE '^[0-9a-f]{6} +INVITE +alice +bob +ended ' || bad "sim: no ended call alice->bob in the calls pane: $(scr s1)"
scr s1 | grep -qE '^[0-9a-f]{6} +REGISTER +alice +alice +registered ' || bad "sim: no alice's REGISTER in the calls pane: $(scr s1)"
shot sim-calls s1
k s1 / INVITE Enter
k s1 Enter
shot sim-ladder s1
$T resize-window -t s1 -x 100 -y 60
sleep 1
head=$(scr s1 | sed -n 6p)
echo "$head" | grep -qE '^ +TIME s +alice +nat-a +px +px/core +ss +nat-b +bob *$' ||
	bad "sim: the ladder's participants: '$head'"
lad=$(scr s1 | sed -n '7,60p' | grep -E '^ +[0-9]+\.[0-9]{3} ')
first() { echo "$lad" | grep -nE -- "$1" | head -1 | cut -d: -f1; }
prev=0
for m in 'INVITE' '[-<]100[ -]' '[-<]180' '[-<]200' 'ACK' 'BYE'; do
	n=$(first "$m")
	[ -n "$n" ] && [ "$n" -gt "$prev" ] || bad "sim: the ladder's '$m' is at row '$n', after row $prev: $lad"
	prev=${n:-$prev}
done
[ "$(echo "$lad" | wc -l)" -ge 30 ] || bad "sim: the ladder has $(echo "$lad" | wc -l) rows (the call crosses two NATs and the proxy both ways)"
# an arrow from alice to nat-a: her INVITE first, then her BYE
pa=$(echo "$head" | awk '{ print index($0, " alice ") + 3 }')
pn=$(echo "$head" | awk '{ print index($0, " nat-a ") + 3 }')
for m in INVITE BYE; do
	row=$(echo "$lad" | sed -n "$(first "$m")p")
	gt=$(echo "$row" | awk '{ print index($0, ">") }')
	[ "$gt" -gt "$pa" ] && [ "$gt" -lt "$((pn + 2))" ] || bad "sim: the first $m is not alice -> nat-a: '$row' under '$head'"
done
k s1 Enter
scr s1 | grep -qE 'hop +alice -> nat-a' || bad "sim: the message's details: $(scr s1)"
k s1 x
$T resize-window -t s1 -x 80 -y 24
sleep 1
k s1 Escape
scr s1 | grep -qE '^CALL +METHOD' || bad "sim: Esc did not go back to the calls: $(scr s1)"
k s1 q
sleep 0.5
scr s1 | grep -qF "run exited 0" || bad "sim: q at the end: $(scr s1 | tail -3)"
grep -q '^PASS  scenarios/sip/call-through-nats.scn  *36 checks' "$dir/s1.out" || bad "sim: the report: $(cat "$dir/s1.out")"
# a failing copy: the header says so, and the run exits 1
sed 's/^expect proxy px legs=2 streams=2 ports-access=4$/expect proxy px legs=3 streams=2 ports-access=4/' \
	scenarios/sip/call-through-nats.scn >"$dir/failing.scn"
sim s2 --speed 1000 "$dir/failing.scn"
sleep 2
scr s2 | head -1 | grep -qF '[DONE: FAIL]' || bad "sim: a failing run's end: $(scr s2 | head -1)"
scr s2 | head -1 | grep -qF 'checks 36, failed 1' || bad "sim: a failing run's count: $(scr s2 | head -1)"
k s2 q
scr s2 | grep -qF "run exited 1" || bad "sim: a failing run's exit: $(scr s2 | tail -3)"
# q in mid-run: the rest runs without the screen, the report follows
sim s3 --speed 0.5 scenarios/sip/call-through-nats.scn
sleep 1.5
k s3 q
sleep 2
scr s3 | grep -qF "run exited 0" || bad "sim: q in mid-run: $(scr s3 | tail -3)"
grep -q '^PASS  scenarios/sip/call-through-nats.scn' "$dir/s3.out" || bad "sim: the report after q: $(cat "$dir/s3.out")"
# the event log in a run: the scenario's actions as written, a terminal
# that stops answering OPTIONS missing three keepalives, then removed
sim s4 --speed 1000 scenarios/sip/dead-phone.scn
sleep 2
k s4 3
scr s4 | grep -qE 'action +- +line [0-9]+: register bob' || bad "sim: no 'register bob' action in the event log: $(scr s4)"
[ "$(scr s4 | grep -cE 'keepalive-miss +bob +.*reason=[123] of 3')" = 3 ] ||
	bad "sim: not three keepalive misses of bob in the event log: $(scr s4)"
scr s4 | grep -qE 'binding-removed +bob' || bad "sim: bob's binding not removed in the event log: $(scr s4)"
shot sim-events s4
k s4 4
$T resize-window -t s4 -x 160 -y 30
sleep 0.8
scr s4 | grep -qE '^nat-a +udp .* eim/[a-z]+' || bad "sim: no NAT class on nat-a's rows at 160 columns: $(scr s4 | sed -n 6,8p)"
k s4 q
"$bin/traverse" run --dash --live scenarios/sip/call-through-nats.scn >/dev/null 2>"$dir/dl.err" && bad "sim: --dash --live accepted"
grep -q "simulation only" "$dir/dl.err" || bad "sim: --dash --live: $(cat "$dir/dl.err")"

grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$dir/proxy.log" "$dir/run.txt" "$dir/dash.err" \
	"$dir"/s[1234].err &&
	bad "sanitizer report: $(grep -hA8 'ERROR: \|runtime error:' "$dir/proxy.log" "$dir/run.txt" "$dir/dash.err" "$dir"/s[1234].err | head -30)"
echo "dash: $fail failed"
[ $fail = 0 ]
