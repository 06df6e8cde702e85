#!/usr/bin/env bash
# netns.sh BINDIR - unmodified clients behind traverse-nat, in network
# namespaces (root). Every namespace is named tvn<pid>-..., made here and
# removed on exit, failure or Ctrl-C; none has a route out of this drawing:
# the inside ones route only into their NAT's TUN device, the public one
# only to the NATs' public addresses, and all addresses are TEST-NET-3
# (203.0.113.0/24), private ones, or 127.0.0.0/8 inside a namespace.
#
#  inside namespaces (one per NAT)           public namespace tvn<pid>-pub
#                                             (lo: .1 .2 .3 of 203.0.113.0/24)
#  tvn<pid>-n1 192.168.1.10 [tvnat0]        [tvnatK] route 203.0.113.1K/32
#      |  default route                        |
#      +== traverse-nat 1 (eim/eif) ===========+    turnserver (coturn, RFC 5780)
#  ...       pub 203.0.113.11                  |      203.0.113.1:3478/3479
#  tvn<pid>-n9 192.168.9.10                    |      203.0.113.2:3478/3479
#      +== traverse-nat 9 (apdm/apdf) =========+
#            pub 203.0.113.19                  |    traverse-proxy access 203.0.113.3:5060
#                                              |      core 127.0.0.2 --- Kamailio 127.0.0.3:15085
#  tvn<pid>-a 192.168.21.10  sipp UAC alice,   |      (registrar, tests/peers/kamailio-softswitch.cfg)
#                            then baresip alice|
#      +== traverse-nat A (eim/apdf) ==========+
#            pub 203.0.113.31                  |
#  tvn<pid>-b 192.168.22.10  sipp UAS bob,     |
#                            then baresip bob  |
#      +== traverse-nat B (eim/apdf) ==========+
#            pub 203.0.113.32
#
# a. natdiscovery: turnutils_natdiscovery -m -f behind each of the nine
#    NATs (mapping eim/adm/apdm x filtering eif/adf/apdf) must report the
#    class the NAT was given; each NAT's own counters must agree (inbound
#    packets filtered only with dependent filtering).
# b. sipp: alice and bob register through traverse-proxy (Kamailio is the
#    registrar), alice calls bob, both play audio (sipp rtp_stream) and bob
#    echoes (-rtp_echo). The proxy's control socket must show two trusted
#    bindings on the NATs' public addresses, two streams latched on the
#    NATs' mappings and >= 50 RTP packets relayed each way on each leg; both
#    sipps must succeed.
# c. baresip: alice and bob again, as baresip, each playing a tone from a
#    WAV file (440 Hz, 660 Hz); alice calls, bob answers; each end records
#    what it hears (sndfile) and must have heard the other's tone.
set -u
bin=$(cd "${1:?usage: netns.sh BINDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "netns: SKIP: needs root (network namespaces, TUN devices)"
	exit 0
fi
need=""
command -v ip >/dev/null || need="$need iproute2"
command -v turnserver >/dev/null || need="$need coturn"
command -v sipp >/dev/null || need="$need sip-tester"
command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need="$need kamailio"
[ -f /usr/lib/baresip/modules/sndfile.so ] || need="$need baresip-core"
[ -x /usr/bin/python3 ] || need="$need python3"
if [ -n "$need" ]; then
	echo "netns: installing$need"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || exit 1
fi
KAM=$(command -v kamailio || echo /usr/sbin/kamailio)
t0=$(date +%s)
dir=$(mktemp -d /tmp/traverse-netns-XXXXXX)
P=tvn$$
pids=()         # processes in the root namespace (traverse-nat, sipp wrappers)
nss=()          # namespaces made here
fail=0
bad() { echo "netns: $*"; fail=$((fail + 1)); }

# Stop everything started here, bounded: TERM, up to 3 s, then KILL.
stop_all() {
	local left
	for ns in "${nss[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for i in $(seq 30); do
		left=""
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
		for ns in "${nss[@]}"; do left="$left$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"; done
		[ -z "${left// /}" ] && break
		sleep 0.1
	done
	for ns in "${nss[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=()
}
cleanup() {
	stop_all
	for ns in "${nss[@]}"; do ip netns del "$ns" 2>/dev/null; done
	nss=()
	if [ -n "${NETNS_KEEP:-}" ]; then echo "netns: files in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'echo "netns: interrupted"; exit 130' INT TERM

ns_add() {
	ip netns add "$1" || { echo "netns: cannot make namespace $1"; exit 1; }
	nss+=("$1")
	ip -n "$1" link set lo up
}
# wait_for WHAT TRIES CMD...: run CMD every 0.1 s, at most TRIES times.
wait_for() {
	local what=$1 n=$2
	shift 2
	for i in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	bad "gave up waiting for $what"
	return 1
}
# nat NAME INSIDE_NS /24 PUBLIC_IP OPTIONS...: traverse-nat in the background.
declare -A natpid
nat_start() {
	local name=$1 ns=$2 net=$3 pubip=$4
	shift 4
	"$bin/traverse-nat" --inside-ns "$ns" --outside-ns "$P-pub" --inside-addr "$net.1" --inside-host "$net.10" \
		--outside-addr "$pubip" "$@" >"$dir/nat-$name.out" 2>"$dir/nat-$name.err" &
	natpid[$name]=$!
	pids+=($!)
}
nat_ready() { grep -q '^traverse-nat: ready' "$dir/nat-$1.out"; }
# nat_stop NAME: SIGTERM, exit 0 and the counters printed.
nat_stop() {
	local p=${natpid[$1]} rc
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	wait "$p"; rc=$?
	[ $rc -eq 0 ] || bad "traverse-nat $1 exit $rc: $(cat "$dir/nat-$1.err")"
	grep -q '^traverse-nat: dropped' "$dir/nat-$1.out" || bad "traverse-nat $1 printed no counters on SIGTERM"
	grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$dir/nat-$1.err" && bad "traverse-nat $1: $(cat "$dir/nat-$1.err")"
}
# counter NAME KEY: a number from traverse-nat's exit report.
counter() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$dir/nat-$1.out" | head -1; }

# Bad options: exit 2 and a clear message, before any namespace is touched.
"$bin/traverse-nat" --inside-ns x --outside-ns y --inside-addr 10.0.0.1 --outside-addr 203.0.113.9 filtering=eim \
	>/dev/null 2>"$dir/bad.err"
rc=$?
[ $rc -eq 2 ] && grep -q "filtering: 'eim' (expected eif, adf or apdf)" "$dir/bad.err" ||
	bad "traverse-nat filtering=eim: exit $rc, '$(cat "$dir/bad.err")' (want 2 and the scenario's message)"

ns_add "$P-pub"
for a in 203.0.113.1 203.0.113.2 203.0.113.3; do ip -n "$P-pub" addr add "$a/32" dev lo; done

# ---- a. natdiscovery behind each of the nine classes ------------------
ip netns exec "$P-pub" turnserver -n -S -z --no-cli --no-tls --no-dtls -L 203.0.113.1 -L 203.0.113.2 \
	--log-file "$dir/turn.log" --simple-log --no-stdout-log --pidfile "$dir/turn.pid" >"$dir/turn.out" 2>&1 &
pids+=($!)
classes=()
k=0
for m in eim adm apdm; do
	for f in eif adf apdf; do
		k=$((k + 1))
		classes+=("$m/$f")
		ns_add "$P-n$k"
		nat_start "n$k" "$P-n$k" "192.168.$k" "203.0.113.$((10 + k))" mapping=$m filtering=$f
	done
done
for k in $(seq 9); do wait_for "traverse-nat n$k" 50 nat_ready "n$k" || cat "$dir/nat-n$k.err"; done
wait_for "turnserver's alternate address" 100 sh -c "ip netns exec $P-pub ss -lun | grep -q 203.0.113.2:3479"
dpids=()
for k in $(seq 9); do
	ip netns exec "$P-n$k" timeout 40 turnutils_natdiscovery -m -f 203.0.113.1 >"$dir/disc-n$k.out" 2>&1 &
	dpids+=($!)
done
for p in "${dpids[@]}"; do wait "$p"; done
declare -A long=([eim]="Endpoint Independent Mapping" [adm]="Address Dependent Mapping"
	[apdm]="Address and Port Dependent Mapping" [eif]="Endpoint Independent Filtering"
	[adf]="Address Dependent Filtering" [apdf]="Address and Port Dependent Filtering")
table="configured      natdiscovery reported"
for k in $(seq 9); do
	m=${classes[$((k - 1))]%/*}
	f=${classes[$((k - 1))]#*/}
	gm=$(grep -o 'NAT with [A-Za-z ]* Mapping!' "$dir/disc-n$k.out" | sed 's/NAT with //; s/!//')
	gf=$(grep -o 'NAT with [A-Za-z ]* Filtering!' "$dir/disc-n$k.out" | sed 's/NAT with //; s/!//')
	table="$table
$(printf '%-15s %s / %s' "$m/$f" "${gm:-?}" "${gf:-?}")"
	if [ "$gm" != "${long[$m]}" ] || [ "$gf" != "${long[$f]}" ]; then
		bad "NAT n$k ($m/$f): natdiscovery reported '${gm:-nothing}' and '${gf:-nothing}':"
		sed 's/^/    /' "$dir/disc-n$k.out"
	fi
done
echo "netns: natdiscovery behind traverse-nat:"
echo "$table" | sed 's/^/    /'
for k in $(seq 9); do
	f=${classes[$((k - 1))]#*/}
	nat_stop "n$k"
	out=$(counter "n$k" to-outside) in=$(counter "n$k" to-inside) filt=$(counter "n$k" filtered)
	[ "${out:-0}" -ge 4 ] && [ "${in:-0}" -ge 3 ] || bad "NAT n$k: ${out:-?} packets out, ${in:-?} in (want >= 4 and >= 3)"
	if [ "$f" = eif ]; then
		[ "${filt:-x}" = 0 ] || bad "NAT n$k (eif) filtered ${filt:-?} inbound packets (want 0)"
	else
		[ "${filt:-0}" -ge 1 ] || bad "NAT n$k ($f) filtered ${filt:-?} inbound packets (want >= 1)"
	fi
done
kill "$(cat "$dir/turn.pid" 2>/dev/null)" 2>/dev/null
t1=$(date +%s)

# ---- b. sipp behind traverse-nat, through traverse-proxy --------------
ns_add "$P-a"
ns_add "$P-b"
nat_start a "$P-a" 192.168.21 203.0.113.31
nat_start b "$P-b" 192.168.22 203.0.113.32
sed 's|!KAM_IP!127.0.0.1!g|!KAM_IP!127.0.0.3!g|' "$here/peers/kamailio-softswitch.cfg" >"$dir/kam.cfg"
ip netns exec "$P-pub" "$KAM" -f "$dir/kam.cfg" -DD -E -n 1 -Y "$dir" -m 64 -M 8 >>"$dir/kam.log" 2>&1 &
pids+=($!)
cat >"$dir/p.conf" <<CONF
access = 203.0.113.3
core = 127.0.0.2
softswitch = 127.0.0.3:15085
media-ports = 32000-32999
control = $dir/ctl.sock
accounting = $dir/records.csv
CONF
ip netns exec "$P-pub" "$bin/traverse-proxy" -c "$dir/p.conf" -f 2>"$dir/proxy.log" &
ppid=$!
pids+=($ppid)
wait_for "traverse-nat a" 50 nat_ready a
wait_for "traverse-nat b" 50 nat_ready b
wait_for "the proxy's control socket" 100 test -S "$dir/ctl.sock"
wait_for "Kamailio's listener" 100 sh -c "ip netns exec $P-pub ss -lun | grep -q 127.0.0.3:15085"
ask() { "$bin/traverse" ctl -s "$dir/ctl.sock" "$@"; }
stat() { ask stats | tr ',{}' '\n\n\n' | sed -n "s/^\"$1\"://p"; }
head -c 8000 /dev/zero | tr '\0' '\377' >"$dir/audio.ulaw"
sed "s|\[audio\]|$dir/audio.ulaw|" "$here/peers/sipp-uac.xml" >"$dir/uac.xml"
sed "s|\[audio\]|$dir/audio.ulaw|" "$here/peers/sipp-uas-play.xml" >"$dir/uas.xml"
common=(-key domain example.net -m 1 -timeout 20s -timeout_error -nostdin -trace_err)
in_ns() { local ns=$1; shift; (cd "$dir" && ip netns exec "$ns" "$@"); }
in_ns "$P-b" sipp 203.0.113.3:5060 -sf "$here/peers/sipp-register.xml" -s bob -i 192.168.22.10 -p 5070 \
	-rsa 203.0.113.3:5060 "${common[@]}" -error_file "$dir/reg-bob.err" >"$dir/reg-bob.out" 2>&1 ||
	bad "bob's REGISTER: $(tail -3 "$dir/reg-bob.out")"
in_ns "$P-a" sipp 203.0.113.3:5060 -sf "$here/peers/sipp-register.xml" -s alice -i 192.168.21.10 -p 5060 \
	-rsa 203.0.113.3:5060 "${common[@]}" -error_file "$dir/reg-alice.err" >"$dir/reg-alice.out" 2>&1 ||
	bad "alice's REGISTER: $(tail -3 "$dir/reg-alice.out")"
[ "$(stat bindings)" = 2 ] || bad "bindings after two REGISTERs: $(stat bindings)"
[ "$(stat untrusted)" = 0 ] || bad "untrusted bindings after the 200s: $(stat untrusted)"
b=$(ask bindings 2>/dev/null)
for a in 203.0.113.31 203.0.113.32; do
	printf '%s' "$b" | grep -q "\"nat\":\"$a:" || bad "no binding on NAT address $a: $b"
done
in_ns "$P-b" sipp 203.0.113.3:5060 -sf "$dir/uas.xml" -i 192.168.22.10 -p 5070 -mi 192.168.22.10 -mp 16000 \
	-rtp_echo "${common[@]}" -error_file "$dir/uas.err" >"$dir/uas.out" 2>&1 &
uas=$!
pids+=($uas)
sleep 0.3
in_ns "$P-a" sipp 203.0.113.3:5060 -sf "$dir/uac.xml" -s bob -i 192.168.21.10 -p 5060 -mi 192.168.21.10 \
	-mp 16100 -rsa 203.0.113.3:5060 "${common[@]}" -error_file "$dir/uac.err" >"$dir/uac.out" 2>&1 &
uac=$!
pids+=($uac)
sleep 3
s=$(ask streams)
legs=$(printf '%s' "$s" | grep -o '"user":"[a-z]*"' | sort | tr '\n' ' ')
[ "$legs" = '"user":"alice" "user":"bob" ' ] || bad "legs mid-call: $legs ($s)"
relayed=""
for u in alice:203.0.113.31 bob:203.0.113.32; do
	name=${u%%:*} natip=${u#*:}
	line=$(printf '%s' "$s" | tr '}' '\n' | grep "\"user\":\"$name\"")
	printf '%s' "$line" | grep -q '"state":"latched"' || bad "$name's stream not latched: $line"
	lr=$(printf '%s' "$line" | sed -n 's/.*"latched_rtp":"\([0-9.:]*\)".*/\1/p')
	[ "${lr%:*}" = "$natip" ] || bad "$name's stream latched on '$lr', not on its NAT's mapping ($natip:PORT): $line"
	tc=$(printf '%s' "$line" | sed -n 's/.*"pkts_to_core":\([0-9]*\).*/\1/p')
	ta=$(printf '%s' "$line" | sed -n 's/.*"pkts_to_access":\([0-9]*\).*/\1/p')
	[ "${tc:-0}" -ge 50 ] && [ "${ta:-0}" -ge 50 ] || bad "$name's leg relayed ${tc:-?} to core and ${ta:-?} to access after 3 s (want >= 50 each way)"
	relayed="$relayed $name: ${tc:-?} from the phone, ${ta:-?} to it (latched on $lr);"
done
wait "$uac" || bad "sipp UAC failed: $(tail -5 "$dir/uac.out"; head -5 "$dir/uac.err" 2>/dev/null)"
wait "$uas" || bad "sipp UAS failed: $(tail -5 "$dir/uas.out"; head -5 "$dir/uas.err" 2>/dev/null)"
sleep 0.3
[ "$(stat legs)" = 0 ] || bad "legs after the BYE: $(stat legs)"
[ "$(stat records)" = 2 ] || bad "accounting records after the BYE: $(stat records)"
t2=$(date +%s)

# ---- c. baresip: a call with audio from WAV files, recorded at both ends --
# alice plays a 440 Hz tone, bob (auto-answer) a 660 Hz one; each records
# what it hears (sndfile module) and the recording must carry the other's
# tone, not silence. Same NATs, proxy and registrar as b.
bs_conf() {     # NAME IP PORT HZ CTRLPORT [ANSWERMODE]
	sh "$here/peers/baresip-config.sh" "$dir/bs-$1" "$2:$3" "$4" "$1" 203.0.113.3:5060 "${6:-}" \
		"module_app		menu.so" "module_app		ctrl_tcp.so" "ctrl_tcp_listen		127.0.0.1:$5"
}
# bs_cmd NS CTRLPORT COMMAND [PARAMS]: one ctrl_tcp command (netstring JSON).
bs_cmd() {
	ip netns exec "$1" /usr/bin/python3 -c '
import json, socket, sys
m = json.dumps({"command": sys.argv[2], "params": sys.argv[3], "token": "t"}).encode()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"%d:%s," % (len(m), m))
s.settimeout(3)
try:
    s.recv(4096)
except OSError:
    pass
' "$2" "$3" "${4:-}"
}
bs_heard() {    # NAME: "HZ RMS SECONDS" of what NAME recorded
	local f
	f=$(ls "$dir/bs-$1/rec/"*dec.wav 2>/dev/null | head -1)
	[ -n "$f" ] && /usr/bin/python3 "$here/peers/wavtone.py" hz "$f"
}
bs_note=""
if ! command -v baresip >/dev/null || [ ! -x /usr/bin/python3 ] || [ ! -f /usr/lib/baresip/modules/sndfile.so ]; then
	bs_note="SKIP: needs baresip (with its sndfile module) and /usr/bin/python3"
	echo "netns: baresip part $bs_note"
else
	bs_conf alice 192.168.21.10 5080 440 4444
	bs_conf bob 192.168.22.10 5082 660 4445 auto
	ip netns exec "$P-b" baresip -f "$dir/bs-bob" -t 60 </dev/null >"$dir/bs-bob.log" 2>&1 &
	pids+=($!)
	ip netns exec "$P-a" baresip -f "$dir/bs-alice" -t 60 </dev/null >"$dir/bs-alice.log" 2>&1 &
	pids+=($!)
	bound() { ask bindings | grep -q "\"nat\":\"203.0.113.31:5080\"" && ask bindings | grep -q "\"nat\":\"203.0.113.32:5082\""; }
	if wait_for "baresip's REGISTERs through the NATs" 100 bound; then
		bs_cmd "$P-a" 4444 dial "sip:bob@example.net"
		sleep 5
		bs=$(ask streams)
		bs_cmd "$P-a" 4444 hangup
		sleep 0.5
		bs_cmd "$P-a" 4444 quit
		bs_cmd "$P-b" 4445 quit
		for u in alice:203.0.113.31 bob:203.0.113.32; do
			line=$(printf '%s' "$bs" | tr '}' '\n' | grep "\"user\":\"${u%%:*}\"")
			printf '%s' "$line" | grep -q "\"latched_rtp\":\"${u#*:}:" ||
				bad "baresip ${u%%:*}'s stream not latched on its NAT (${u#*:}): $line"
		done
		for u in alice:660 bob:440; do
			h=$(bs_heard "${u%%:*}")
			set -- ${h:-0 0 0}
			if [ "$1" -lt $((${u#*:} * 9 / 10)) ] || [ "$1" -gt $((${u#*:} * 11 / 10)) ] || [ "$2" -lt 1000 ] ||
				[ "${3%.*}" -lt 2 ]; then
				bad "baresip ${u%%:*} recorded '${h:-nothing}' (want ${u#*:} Hz, RMS >= 1000, >= 2 s): $(ls "$dir/bs-${u%%:*}/rec"); $(tail -5 "$dir/bs-${u%%:*}.log")"
			fi
			bs_note="$bs_note ${u%%:*} heard ${1} Hz at RMS ${2} for ${3} s;"
		done
	else
		tail -20 "$dir/bs-alice.log" "$dir/bs-bob.log"
	fi
	echo "netns: baresip through traverse-nat and traverse-proxy:$bs_note"
fi
kill -TERM "$ppid"
for i in $(seq 50); do kill -0 "$ppid" 2>/dev/null || break; sleep 0.1; done
wait "$ppid"; rc=$?
[ $rc -eq 0 ] || bad "traverse-proxy exit $rc: $(tail -20 "$dir/proxy.log")"
grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$dir/proxy.log" && bad "sanitizer: $(cat "$dir/proxy.log")"
nat_stop a
nat_stop b
for n in a b; do
	[ "$(counter $n to-outside)" -ge 100 ] && [ "$(counter $n to-inside)" -ge 100 ] ||
		bad "traverse-nat $n forwarded $(counter $n to-outside) out and $(counter $n to-inside) in (want >= 100 each)"
done
echo "netns: sipp through traverse-nat and traverse-proxy:$relayed"
for n in a b; do echo "netns: NAT $n: $(grep -h '^traverse-nat: packets' "$dir/nat-$n.out" | sed 's/traverse-nat: //')"; done

# ---- d. real hosts inside scenarios (host ... kind=netns) ----------------
# The scenarios in scenarios/netns/ put unmodified clients (sipp) in
# namespaces of their own behind the scenario's NATs (sipp-call.scn), and
# baresip (baresip-call.scn): simnat first, then
# the kernel's (--nat-kind=linux). The run makes and removes every
# namespace itself; afterwards no client and no host directory is left.
t2b=$(date +%s)
for kind in sim linux; do
	flag=""
	[ $kind = linux ] && flag=--nat-kind=linux
	out=$("$bin/traverse" run --netns $flag scenarios/netns/ 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP)|^        ' | sed "s/^/netns: [$kind NAT] /"
	[ $rc -eq 0 ] && printf '%s' "$out" | grep -q '^PASS' || bad "scenarios/netns/ behind $kind NATs: $(printf '%s' "$out" | tail -3)"
	printf '%s' "$out" | grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' &&
		bad "sanitizer: $(printf '%s' "$out" | grep -A5 'ERROR: \|runtime error:' | head -20)"
done
pgrep -f 'sipp.sh|sipp .*-sf|baresip -f /tmp/traverse-host' >/dev/null &&
	bad "clients left running after the scenarios: $(pgrep -af 'sipp.sh|sipp .*-sf|baresip -f /tmp/traverse-host')"
ls -d /tmp/traverse-host-* >/dev/null 2>&1 && bad "host directories left: $(ls -d /tmp/traverse-host-*)"
echo "netns: real hosts in scenarios: $(( $(date +%s) - t2b )) s"

# ---- the end: nothing of ours is left ------------------------------------
made=("${nss[@]}")
cleanup
trap - EXIT
left=$(ip netns list | awk '{print $1}' | grep "^$P-" | tr '\n' ' ')
[ -z "$left" ] || bad "namespaces left behind: $left"
[ ${#made[@]} -eq 12 ] || bad "made ${#made[@]} namespaces (want 12)"
t3=$(date +%s)
echo "netns: natdiscovery part $((t1 - t0)) s, sipp part $((t2 - t1)) s, baresip part and the end $((t3 - t2)) s; $fail failed"
[ $fail -eq 0 ]
