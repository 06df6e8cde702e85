#!/usr/bin/env bash
# peers.sh BINDIR - real SIP peers through a real traverse-proxy, on
# loopback (127.88.0.0/16 only):
#
#   sipp UAC alice 127.88.1.10:5060 --+                           +-- Kamailio 127.88.0.3:15085
#                                      +-- traverse-proxy access   |   (registrar + router,
#   sipp UAS bob   127.88.1.20:5070 --+    127.88.0.1:5060         |    tests/peers/kamailio-softswitch.cfg)
#                                          core 127.88.0.2 --------+
#
# Both phones register through the proxy; alice calls bob: Kamailio finds
# bob's binding (the core address the proxy gave him) and routes the
# INVITE back through the proxy to him. alice plays audio (sipp rtp_stream)
# for 4 s and bob echoes it (sipp -rtp_echo), so media crosses the proxy
# both ways on both legs. The test checks sipp's verdicts, then asks the
# proxy (control socket) what it saw: two trusted bindings, two legs that
# latched and relayed RTP each way, and after the BYE no leg and two
# accounting records. Installs sip-tester and kamailio when missing (root);
# every process it starts is stopped on exit.
set -u
bin=${1:?usage: peers.sh BINDIR}
here=$(cd "$(dirname "$0")" && pwd)
need=""
command -v sipp >/dev/null || need="$need sip-tester"
command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need="$need kamailio"
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "peers: installing$need"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || exit 1
	else
		echo "peers: needs$need (apt-get install -y$need)"; exit 1
	fi
fi
KAM=$(command -v kamailio || echo /usr/sbin/kamailio)
dir=$(mktemp -d /tmp/traverse-peers-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
[ -n "${PEERS_KEEP:-}" ] && trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; echo "peers: files in $dir"' EXIT
fail=0
bad() { echo "peers: $*"; fail=$((fail + 1)); }

# Kamailio as the softswitch (started afresh for each part: its location
# table lives in memory).
sed 's|!KAM_IP!127.0.0.1!g|!KAM_IP!127.88.0.3!g|' "$here/peers/kamailio-softswitch.cfg" >"$dir/kam.cfg"
kam_start() {
	"$KAM" -f "$dir/kam.cfg" -DD -E -n 1 -Y "$dir" -m 64 -M 8 >>"$dir/kam.log" 2>&1 &
	kam=$!
	pids+=($kam)
}
kam_start
# traverse-proxy in front of it.
cat >"$dir/p.conf" <<CONF
access = 127.88.0.1
core = 127.88.0.2
softswitch = 127.88.0.3:15085
media-ports = 32000-32999
control = $dir/ctl.sock
accounting = $dir/records.csv
CONF
"$bin/traverse-proxy" -c "$dir/p.conf" -f 2>"$dir/proxy.log" &
ppid=$!
pids+=($ppid)
for i in $(seq 100); do [ -S "$dir/ctl.sock" ] && break; sleep 0.05; done
sleep 0.5       # Kamailio's listener
ask() { "$bin/traverse" ctl -s "$dir/ctl.sock" "$@"; }
stat() { ask stats | tr ',{}' '\n\n\n' | sed -n "s/^\"$1\"://p"; }

# 1 s of u-law silence-ish audio for rtp_stream (raw PCMU, 8000 bytes)
head -c 8000 /dev/zero | tr '\0' '\377' >"$dir/audio.ulaw"
# (sipp substitutes -key values in messages, not in action attributes)
sed "s|\[audio\]|$dir/audio.ulaw|" "$here/peers/sipp-uac.xml" >"$dir/uac.xml"
# -rsa: requests go to the proxy (the outbound proxy); the UAS answers where
# each request came from, from its own socket, as a phone does
common=(-key domain example.net -m 1 -timeout 20s -timeout_error -nostdin -trace_err -trace_msg)
(cd "$dir" && sipp 127.88.0.1:5060 -sf "$here/peers/sipp-register.xml" -s bob -i 127.88.1.20 -p 5070 \
	-rsa 127.88.0.1:5060 "${common[@]}" -error_file "$dir/reg-bob.err" >"$dir/reg-bob.out" 2>&1) || bad "bob's REGISTER: $(tail -3 "$dir/reg-bob.out")"
(cd "$dir" && sipp 127.88.0.1:5060 -sf "$here/peers/sipp-register.xml" -s alice -i 127.88.1.10 -p 5060 \
	-rsa 127.88.0.1:5060 "${common[@]}" -error_file "$dir/reg-alice.err" >"$dir/reg-alice.out" 2>&1) || bad "alice's REGISTER: $(tail -3 "$dir/reg-alice.out")"
[ "$(stat bindings)" = 2 ] || bad "bindings after two REGISTERs: $(stat bindings)"
[ "$(stat untrusted)" = 0 ] || bad "untrusted bindings after the 200s: $(stat untrusted)"
# bob answers and echoes; alice calls and plays.
(cd "$dir" && sipp 127.88.0.1:5060 -sf "$here/peers/sipp-uas.xml" -i 127.88.1.20 -p 5070 -mi 127.88.1.20 -mp 16000 \
	-rtp_echo "${common[@]}" -error_file "$dir/uas.err" >"$dir/uas.out" 2>&1) &
uas=$!
pids+=($uas)
sleep 0.3
(cd "$dir" && sipp 127.88.0.1:5060 -sf "$dir/uac.xml" -s bob -i 127.88.1.10 -p 5060 -mi 127.88.1.10 \
	-mp 16100 -rsa 127.88.0.1:5060 "${common[@]}" -error_file "$dir/uac.err" >"$dir/uac.out" 2>&1) &
uac=$!
pids+=($uac)
sleep 3
# mid-call: the proxy's view
s=$(ask streams)
legs=$(printf '%s' "$s" | grep -o '"user":"[a-z]*"' | sort | tr '\n' ' ')
[ "$legs" = '"user":"alice" "user":"bob" ' ] || bad "legs mid-call: $legs ($s)"
printf '%s' "$s" | grep -q '"user":"alice".*"state":"latched"' || bad "alice's stream not latched: $s"
printf '%s' "$s" | grep -q '"user":"bob".*"state":"latched"' || bad "bob's stream not latched: $s"
for u in alice bob; do
	line=$(printf '%s' "$s" | tr '}' '\n' | grep "\"user\":\"$u\"")
	tc=$(printf '%s' "$line" | sed -n 's/.*"pkts_to_core":\([0-9]*\).*/\1/p')
	ta=$(printf '%s' "$line" | sed -n 's/.*"pkts_to_access":\([0-9]*\).*/\1/p')
	[ "${tc:-0}" -ge 50 ] && [ "${ta:-0}" -ge 50 ] || bad "$u's leg relayed $tc to core and $ta to access after 3 s (want >= 50 each way)"
done
wait "$uac" || bad "sipp UAC failed: $(tail -5 "$dir/uac.out"; cat "$dir/uac.err" 2>/dev/null | head -5)"
wait "$uas" || bad "sipp UAS failed: $(tail -5 "$dir/uas.out"; cat "$dir/uas.err" 2>/dev/null | head -5)"
sleep 0.3
[ "$(stat legs)" = 0 ] || bad "legs after the BYE: $(stat legs)"
[ "$(stat records)" = 2 ] || bad "accounting records after the BYE: $(stat records)"
[ "$(stat calls-ended)" = 2 ] || bad "calls-ended: $(stat calls-ended)"
grep -c ',bye,' "$dir/records.csv" | grep -qx 2 || bad "records.csv: $(cat "$dir/records.csv")"
last_stats=$(ask stats)
kill -TERM "$ppid"; wait "$ppid"; rc=$?
[ $rc -eq 0 ] || bad "traverse-proxy exit $rc: $(tail -20 "$dir/proxy.log")"
grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$dir/proxy.log" && bad "sanitizer: $(cat "$dir/proxy.log")"
# The simulated phones and NATs with Kamailio as the real softswitch
# behind traverse-proxy (traverse run --softswitch): the same scenarios,
# every check made.
kill "$kam"; wait "$kam" 2>/dev/null
kam_start
sleep 0.5
out=$("$bin/traverse" run --softswitch 127.88.0.3:15085 --live-slot 188 scenarios/sip/call-through-nats.scn \
	scenarios/sip/hold-resume.scn scenarios/sip/cancel-busy-bye.scn 2>&1) || bad "scenarios with Kamailio as the softswitch: $out"
printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP)|^scenarios:'
echo "peers: sipp UAC and UAS with media through traverse-proxy, Kamailio as registrar: relayed $(printf "%s" "$last_stats" | tr , "\n" | sed -n "s/\"relayed-to-core\"://p") packets to the core and $(printf "%s" "$last_stats" | tr , "\n" | sed -n "s/\"relayed-to-access\"://p") to the phones; $fail failed"
[ $fail -eq 0 ] || { echo "peers: proxy counters:"; echo "$last_stats" | tr , "\n" | grep -v ":0$"; }
[ $fail -eq 0 ]
