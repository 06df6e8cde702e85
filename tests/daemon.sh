#!/usr/bin/env bash
# daemon.sh BINDIR - traverse-proxy as an operator meets it, on loopback
# (127.77.0.0/24 only):
#   - every file in tests/broken-conf/ has one mistake and a first line
#     "# error: LINE: TEXT": start-up must stop with exit 2 and FILE:LINE: TEXT;
#   - the annotated example etc/traverse-proxy.conf passes --check-config;
#   - a running proxy answers on its control socket (stats, bindings,
#     streams, help, an unknown command) and on /metrics, takes SIGHUP
#     (a reloadable change is taken, an address change is named as needing
#     a restart), and stops on SIGTERM with exit 0, removing its pidfile
#     and socket.
set -u
bin=${1:?usage: daemon.sh BINDIR}
here=$(dirname "$0")
fail=0; n=0
dir=$(mktemp -d /tmp/traverse-daemon-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
bad() { echo "daemon.sh: $*"; fail=$((fail + 1)); }

for f in "$here"/broken-conf/*.conf; do
	n=$((n + 1))
	spec=$(head -1 "$f" | sed -n 's/^# error: //p')
	line=${spec%%:*}; text=${spec#*: }
	out=$("$bin/traverse-proxy" -c "$f" --check-config 2>&1); rc=$?
	if [ $rc -ne 2 ] || ! printf '%s\n' "$out" | grep -qF "$f:$line: $text"; then
		bad "$f: expected exit 2 and '$f:$line: $text', got exit $rc: $out"
	fi
	out=$("$bin/traverse-proxy" -c "$f" -f 2>&1); rc=$?
	[ $rc -eq 2 ] || bad "$f: starting with it should exit 2, got $rc"
done
n=$((n + 1))
"$bin/traverse-proxy" -c etc/traverse-proxy.conf --check-config >/dev/null || bad "etc/traverse-proxy.conf does not check"

# A running proxy.
sock=$dir/ctl.sock
cat > "$dir/p.conf" <<CONF
access = 127.77.0.1
core = 127.77.0.2
softswitch = 127.77.0.3:5060
sip-port = 15060
media-ports = 31000-31999
rate = 20
control = $sock
metrics = 127.77.0.1:19464
accounting = $dir/records.csv
CONF
"$bin/traverse-proxy" -c "$dir/p.conf" -f --pidfile "$dir/pid" 2>"$dir/log" &
pid=$!
for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
ask() { "$bin/traverse" ctl -s "$sock" "$@"; }
n=$((n + 1))
out=$(ask stats) || bad "ctl stats failed: $out"
printf '%s' "$out" | grep -q '"stats":{"bindings":0,' || bad "ctl stats: $out"
printf '%s' "$out" | grep -q '"drop.rtp-foreign":0' || bad "ctl stats lacks drops: $out"
[ "$(ask bindings)" = '{"bindings":[]}' ] || bad "ctl bindings: $(ask bindings)"
[ "$(ask streams)" = '{"streams":[]}' ] || bad "ctl streams: $(ask streams)"
ask help | grep -q '"events"' || bad "ctl help"
out=$(ask frobnicate); rc=$?
[ $rc -eq 1 ] && printf '%s' "$out" | grep -q '"error":"unknown command' || bad "unknown command: rc $rc $out"
[ "$(cat "$dir/pid")" = "$pid" ] || bad "pidfile holds $(cat "$dir/pid"), not $pid"
# A SIP datagram from a stranger: counted.
# (one write per datagram: bash's printf may write line by line, cat of a
# file writes it whole)
printf 'OPTIONS sip:x@127.77.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.77.0.9:5099;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.77.0.1>\r\nCall-ID: 1@b\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' >"$dir/options.sip"
printf 'garbage' >"$dir/garbage"
# an events subscriber hears of the new source (and of nothing per packet)
"$bin/traverse" ctl -s "$sock" -n 1 -t 3 events >"$dir/events" &
evp=$!
sleep 0.3
cat "$dir/options.sip" >/dev/udp/127.77.0.1/15060
cat "$dir/garbage" >/dev/udp/127.77.0.1/15060
sleep 0.2
s=$(ask stats)
printf '%s' "$s" | grep -q '"sip-in-access":2,' || bad "two datagrams in: $(printf '%s' "$s" | tr , '\n' | grep -v ':0$')"
wait "$evp"
grep -q '^{"event":"binding-added","at_s":[0-9.]*,"user":"a","addr":"127\.' "$dir/events" ||
	bad "events: no binding-added line: $(cat "$dir/events")"
# Prometheus.
exec 3<>/dev/tcp/127.77.0.1/19464 && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && m=$(cat <&3); exec 3>&-
printf '%s' "$m" | grep -q '^HTTP/1.[01] 200' || bad "metrics: no 200: $(printf '%s' "$m" | head -3)"
printf '%s' "$m" | grep -q '^traverse_proxy_sip_in_access_total 2' || bad "metrics: sip_in_access_total"
printf '%s' "$m" | grep -q '^traverse_proxy_bindings ' || bad "metrics: bindings gauge"
printf '%s' "$m" | grep -q 'traverse_proxy_drops_total{reason="sip-malformed"} 1' || bad "metrics: drops by reason"
exec 3<>/dev/tcp/127.77.0.1/19464 && printf 'GET /nope HTTP/1.0\r\n\r\n' >&3 && m=$(cat <&3); exec 3>&-
printf '%s' "$m" | grep -q '^HTTP/1.[01] 404' || bad "metrics: /nope is not 404"
# SIGHUP: one change it can take, one it cannot.
sed -i 's/^rate = 20/rate = 5/; s/^access = 127.77.0.1/access = 127.77.0.4/' "$dir/p.conf"
kill -HUP "$pid"; sleep 0.3
grep -q 'SIGHUP: reloaded .*need a restart and keep their old values: access' "$dir/log" || bad "SIGHUP: $(cat "$dir/log")"
ask stats >/dev/null || bad "ctl after SIGHUP"
# A broken file on SIGHUP: logged, the proxy runs on.
echo "rate = fast" >> "$dir/p.conf"
kill -HUP "$pid"; sleep 0.3
grep -q 'SIGHUP: configuration not reloaded: .*p.conf:10: rate' "$dir/log" || bad "SIGHUP with a bad file: $(tail -2 "$dir/log")"
kill -0 "$pid" 2>/dev/null || bad "a bad file on SIGHUP stopped the proxy"
# SIGTERM.
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ] || bad "SIGTERM: exit $rc; log: $(cat "$dir/log")"
[ ! -e "$dir/pid" ] || bad "pidfile left behind"
[ ! -e "$sock" ] || bad "control socket left behind"
head -1 "$dir/records.csv" | grep -q '^user,call_id,reason,' || bad "accounting file has no header"
grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$dir/log" && bad "sanitizer: $(cat "$dir/log")"
echo "daemon: $n checks groups, $fail failed"
[ $fail -eq 0 ]
