#!/usr/bin/env bash
# kernelnat.sh BINDIR - simnat's linux preset against the real thing: the
# Linux kernel's conntrack + nftables masquerade, measured with
# traverse-natprobe, beside the same probes run through simnat's engine.
#
# Two topologies side by side, identical but for the NAT rule
# (V = 1: "masquerade", V = 2: "masquerade fully-random", nftables' spelling
# of iptables' --random-fully):
#
#   netns tvk$$-cV          netns tvk$$-nV                   netns tvk$$-sV
#   client                  NAT (ip_forward=1, nftables)     server
#   192.168.1.10/24         192.168.1.1/24   203.0.113.1/24  203.0.113.100/24
#   [tvk$$-Vc]=========veth=[tvk$$-Vi]       [tvk$$-Vo]=veth=[tvk$$-Vs] 203.0.113.101/24
#   route 203.0.113.0/24                     postrouting oifname tvk$$-Vo
#     via 192.168.1.1                          masquerade [fully-random]
#
# No namespace has a default route or any interface but these veths (and
# lo); nothing here can reach beyond them. Everything the script creates
# (namespaces, links, the server processes) is removed on exit, failure
# and Ctrl-C, and the script checks that no tvk$$- namespace is left.
#
# Lifetimes: the kernel's UDP timeouts are 30 s (unreplied) and 120 s
# (stream). Rather than wait that long, each NAT namespace's own
# per-namespace sysctls are set to short values (defaults read and printed
# first): net.netfilter.nf_conntrack_udp_timeout=6 and
# nf_conntrack_udp_timeout_stream=15; simnat is run with the same 6 s and
# 15 s. The 2-second stream threshold is fixed in the kernel
# (nf_conntrack_proto_udp.c) and measured as it is.
#
# simnat is configured as a plain masquerade behaves: udp=linux (the
# 2-second rule), endpoint-independent mapping, address-and-port-dependent
# filtering, port preservation, hairpin off, refresh in both directions;
# for random-fully, address-and-port-dependent mapping and random ports.
# The script fails if any row differs or the probes measured nothing.
# Runs as root; takes about 30 s.
set -u
bin=${1:?usage: kernelnat.sh BINDIR}
probe="$bin/traverse-natprobe"
UDP_TO=6 UDP_STREAM_TO=15
P=tvk$$-
[ "$(id -u)" = 0 ] || { echo "kernelnat: needs root (network namespaces)"; exit 1; }
command -v nft >/dev/null || { echo "kernelnat: needs nftables (apt-get install -y nftables)"; exit 1; }
[ -x "$probe" ] || { echo "kernelnat: $probe missing (make all)"; exit 1; }

dir=$(mktemp -d /tmp/traverse-kernelnat-XXXXXX)
me=kernelnat
. "$(dirname "$0")/lib/nat3.sh"
pids=()
# Stops what runs in our namespaces (only what this script started there),
# then removes the namespaces, which takes their links with them.

trap nat3_cleanup EXIT
trap 'exit 130' INT TERM
fail=0
bad() { echo "kernelnat: $*"; fail=$((fail + 1)); }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# setup V RULE: one topology; returns non-zero if any step fails.
setup() {
	local v=$1 rule=$2 n=${P}n$1
	nat3_up "$v" 192.168.1.1 203.0.113.1 192.168.1.10 || return 1
	nsx "$n" nft -f - <<-EOF || return 1
		table ip tvk {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "${P}${v}o" $rule
			}
		}
	EOF
	# The NAT namespace's own conntrack timers: read the defaults, then shorten.
	echo "$(nsx "$n" sysctl -n net.netfilter.nf_conntrack_udp_timeout)" \
	     "$(nsx "$n" sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)" > "$dir/defaults$v" || return 1
	nsx "$n" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=$UDP_TO \
		net.netfilter.nf_conntrack_udp_timeout_stream=$UDP_STREAM_TO || return 1
	nat3_sealed "$v"
}

# server V: the server in sV (for at most 60 s), waited for up to 5 s.
server() {
	local v=$1
	nsx "${P}s$v" "$probe" server --s1 203.0.113.100 --s2 203.0.113.101 --for 60 > "$dir/server$v" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do grep -q ready "$dir/server$v" && return 0; sleep 0.1; done
	echo "kernelnat: server $v did not start:"; cat "$dir/server$v"; return 1
}

# client V: the probes from cV (at most 60 s); output in $dir/kernelV.
client() {
	nsx "${P}c$1" timeout 60 "$probe" client --client 192.168.1.10 --s1 203.0.113.100 --s2 203.0.113.101 \
		> "$dir/kernel$1" 2> "$dir/kernel$1.err"
}

start=$(date +%s)
setup 1 "masquerade" && setup 2 "masquerade fully-random" || { bad "topology setup failed"; exit 1; }
read -r d_udp d_stream < "$dir/defaults1"
echo "kernelnat: NAT namespace defaults nf_conntrack_udp_timeout=$d_udp" \
     "nf_conntrack_udp_timeout_stream=$d_stream; set to $UDP_TO and $UDP_STREAM_TO for the test"
[ "$d_udp" = 30 ] && [ "$d_stream" = 120 ] || echo "kernelnat: note: defaults are not the kernel's 30/120"

server 1 && server 2 || { bad "server did not start"; exit 1; }
client 1 & r1=$!
client 2 & r2=$!
pids+=($r1 $r2)
wait $r1 || bad "kernel probe (masquerade) measured nothing: $(cat "$dir/kernel1.err" 2>/dev/null)"
wait $r2 || bad "kernel probe (random-fully) measured nothing: $(cat "$dir/kernel2.err" 2>/dev/null)"
"$probe" sim --udp-timeout $UDP_TO --udp-stream-timeout $UDP_STREAM_TO > "$dir/sim1" || bad "simnat probe measured nothing"
"$probe" sim --random-fully --udp-timeout $UDP_TO --udp-stream-timeout $UDP_STREAM_TO > "$dir/sim2" ||
	bad "simnat probe (random-fully) measured nothing"

val() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
rows="mapped-address mapping filtering hairpin port-preservation lifetime-unreplied lifetime-exchange
      lifetime-out-after-2s lifetime-in-after-2s lifetime-late-reply"
printf '\n%-22s | %-26s | %-26s | %-26s | %-26s\n' "" "kernel masquerade" "simnat eim/preserve" \
	"kernel random-fully" "simnat apdm/random"
printf '%s\n' "-----------------------+----------------------------+----------------------------+----------------------------+---------------------------"
for r in $rows; do
	k1=$(val "$dir/kernel1" "$r"); s1=$(val "$dir/sim1" "$r")
	k2=$(val "$dir/kernel2" "$r"); s2=$(val "$dir/sim2" "$r")
	mark=""
	[ -n "$k1" ] && [ "$k1" = "$s1" ] && [ "$k2" = "$s2" ] || mark="  <-- differs"
	printf '%-22s | %-26s | %-26s | %-26s | %-26s%s\n' "$r" "${k1:--}" "${s1:--}" "${k2:--}" "${s2:--}" "$mark"
	[ -z "$mark" ] || bad "$r differs"
	case "$k1$k2" in *'?'*) bad "$r: a probe was inconsistent";; esac
done
printf '(lifetime A-Bs: a probe at A s after the flow began got in, one at B s did not;\n'
printf ' timeouts shortened to %s s / %s s in both; the 2 s threshold is the kernel'"'"'s own)\n\n' $UDP_TO $UDP_STREAM_TO
# The comparison can tell: simnat without the 2-second rule (the first
# reply moves a flow to the stream timer) must differ from the kernel.
"$probe" sim --udp-stream-after 0 --udp-timeout $UDP_TO --udp-stream-timeout $UDP_STREAM_TO > "$dir/sim0"
echo "kernelnat: simnat without the 2 s rule: lifetime-exchange $(val "$dir/sim0" lifetime-exchange)" \
     "(kernel $(val "$dir/kernel1" lifetime-exchange))"
[ "$(val "$dir/sim0" lifetime-exchange)" != "$(val "$dir/kernel1" lifetime-exchange)" ] ||
	bad "without the 2 s rule simnat still matches the kernel: the probe does not see the rule"
for v in 1 2; do
	[ "$(val "$dir/kernel$v" mapped-address)" = 203.0.113.1 ] || bad "topology $v: no mapped address 203.0.113.1"
done
echo "kernelnat: example mappings: kernel $(val "$dir/kernel1" mapped-example), $(val "$dir/kernel2" mapped-example)" \
     "(random-fully); simnat $(val "$dir/sim1" mapped-example), $(val "$dir/sim2" mapped-example)"

nat3_cleanup
trap - EXIT
left=$(ip netns list | grep -c "^${P}")
[ "$left" = 0 ] || bad "$left ${P} namespaces left behind"
echo "kernelnat: $((fail == 0 ? 1 : 0)) passed, $fail problems, $(( $(date +%s) - start )) s"
[ $fail -eq 0 ]
