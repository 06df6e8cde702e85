#!/bin/sh
# mem.sh - memory of traverse-proxy per idle binding and per active call
# (issue 12: at most 1 KiB RSS per binding, 2 KiB per call), measured on a
# live proxy on loopback:
#
#   tvcalls callers 127.61.x.y --SIP--> proxy access A.1:5060
#   proxy core A.2             --SIP--> tvcalls softswitch A.3:5060
#
#   1. the proxy starts: baseline
#   2. N callers register and stay idle: +N bindings
#   3. the same N callers register again and call N callees: +N calls
#
# after each step, the proxy's VmRSS and its heap in use (malloc_stats()
# called through gdb, if gdb is installed). Each run is a fresh proxy;
# the medians of RUNS runs are printed last.
#
# usage: bench/live/mem.sh [-n N] [-r RUNS] [-a A]   (from the tree's top,
# after make all; A: three free loopback addresses A.1-3, default
# 127.0.0 if 127.0.0.1:5060 is free, else 127.91.0)
set -eu

n=1000 runs=3 net=
while getopts n:r:a: o; do
	case $o in
	n) n=$OPTARG ;;
	r) runs=$OPTARG ;;
	a) net=$OPTARG ;;
	*) echo "usage: $0 [-n N] [-r RUNS] [-a A]" >&2; exit 2 ;;
	esac
done

# is anything bound to UDP ip:port? (ip dotted, port decimal)
udp_busy() {
	h=$(echo "$1" | awk -F. '{ printf "%02X%02X%02X%02X", $4, $3, $2, $1 }')
	p=$(printf %04X "$2")
	grep -q " $h:$p " /proc/net/udp
}
# tvcalls's phones are on 127.61/16 and 127.62/16 (port 5060): one run at a time
if grep -Eq ' [0-9A-F]{4}3[DE]7F:13C4 ' /proc/net/udp; then
	echo "mem.sh: another tvcalls is running (127.61/127.62 in use)" >&2
	exit 1
fi
if [ -z "$net" ]; then
	net=127.0.0
	udp_busy 127.0.0.1 5060 || udp_busy 127.0.0.3 5060 && net=127.91.0
fi
for i in 1 2 3; do
	if udp_busy "$net.$i" 5060; then
		echo "mem.sh: $net.$i:5060 is in use; pick other addresses with -a" >&2
		exit 1
	fi
done

[ -x bin/traverse-proxy ] && [ -f build/rel/libtraverse.a ] || { echo "mem.sh: make all first" >&2; exit 1; }
dir=$(mktemp -d /tmp/tvmem.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Icore -Isimnat -Isimterm -Iproxy -O2 \
	-o "$dir/tvcalls" bench/live/tvcalls.c build/rel/libtraverse.a \
	-lpcap -losipparser2 -losip2 -ljansson -lm
cat >"$dir/p.conf" <<EOF
access = $net.1
core = $net.2
softswitch = $net.3:5060
sip-port = 5060
media-ports = 30000-39999
sig-ports = 10000-19999
rate = 0
max-untrusted = 0
max-untrusted-per-ip = 0
keepalive = 0
control = $dir/ctl
EOF

rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$pid/status"; }
# the heap in use, from glibc's malloc_stats() (on the proxy's stderr); - without gdb
heap() {
	if ! command -v gdb >/dev/null; then echo -; return; fi
	: >"$dir/err"
	gdb -p "$pid" -batch -nx -ex 'call ((void (*)(void))malloc_stats)()' >/dev/null 2>&1 || true
	awk '/^in use bytes/ { v = $NF } END { print v == "" ? "-" : v }' "$dir/err"
}
# tvcalls [--register-only]: N terminals register (and call); on failure
# the proxy's counters tell why
tvcalls() {
	if ! "$dir/tvcalls" --proxy "$net.1:5060" --softswitch "$net.3:5060" --calls "$n" "$@" >/dev/null; then
		echo "mem.sh: tvcalls $* failed; the proxy's counters:" >&2
		bin/traverse ctl -s "$dir/ctl" stats >&2 || true
		exit 1
	fi
}
per() {  # per(after, before): bytes per item
	if [ "$1" = - ] || [ "$2" = - ]; then echo -; else echo $((($1 - $2) / n)); fi
}

echo "$n terminals, proxy on $net.1 (access) / $net.2 (core), softswitch $net.3; bytes per binding / per call"
: >"$dir/res"
r=1
while [ "$r" -le "$runs" ]; do
	bin/traverse-proxy -c "$dir/p.conf" -f 2>"$dir/err" &
	pid=$!
	sleep 0.3
	r0=$(rss) h0=$(heap)
	tvcalls --register-only
	r1=$(rss) h1=$(heap)
	tvcalls
	r2=$(rss) h2=$(heap)
	kill "$pid"
	wait "$pid" || true
	pid=
	line="$(per "$r1" "$r0") $(per "$r2" "$r1") $(per "$h1" "$h0") $(per "$h2" "$h1")"
	echo "$line" >>"$dir/res"
	echo "run $r: RSS $r0 -> $r1 -> $r2, heap $h0 -> $h1 -> $h2; per binding / call: RSS $(echo "$line" | cut -d' ' -f1,2), heap $(echo "$line" | cut -d' ' -f3,4)"
	r=$((r + 1))
done
med() { cut -d' ' -f"$1" "$dir/res" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "median RSS per binding: $(med 1) B   per call: $(med 2) B"
echo "median heap per binding: $(med 3) B   per call: $(med 4) B"
