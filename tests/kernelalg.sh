#!/usr/bin/env bash
# kernelalg.sh BINDIR - simnat's SIP ALG (alg=sip) against the one it is
# modelled on: the Linux kernel's nf_conntrack_sip + nf_nat_sip, assigned
# with nftables' "ct helper set", in network namespaces. The same REGISTER,
# its 200 OK, and an INVITE with SDP go through both (traverse-algprobe);
# every address field of what comes out is compared, and whether the
# media pinhole admits the signalling peer and a stranger.
#
# Two topologies side by side, identical but for the second one's extra
# first flow (V = 2, "taken": 192.168.22.101:5060 sends first, so the
# phone's port 5060 is taken on the NAT and its mapping moves):
#
#   netns tva$$-cV            netns tva$$-nV                     netns tva$$-sV
#   phone                     NAT (ip_forward=1, nftables)       server
#   192.168.22.100/24         192.168.22.1/24   203.0.113.20/24  203.0.113.100/24 :5060
#   192.168.22.101/24                                            203.0.113.101/24 (a stranger)
#   [tva$$-Vc]==========veth=[tva$$-Vi]         [tva$$-Vo]=veth=[tva$$-Vs]
#   route 203.0.113.0/24      prerouting: udp dport 5060 ct helper set "sip"
#     via 192.168.22.1        postrouting oifname tva$$-Vo masquerade
#
# No namespace has a default route or any interface but these veths (and
# lo); nothing here can reach beyond them. Everything the script creates is
# removed on exit, failure and Ctrl-C, and it checks that no tva$$-
# namespace is left. Runs as root; takes a few seconds.
set -u
bin=${1:?usage: kernelalg.sh BINDIR}
probe="$bin/traverse-algprobe"
P=tva$$-
[ "$(id -u)" = 0 ] || { echo "kernelalg: needs root (network namespaces)"; exit 1; }
command -v nft >/dev/null || { echo "kernelalg: needs nftables (apt-get install -y nftables)"; exit 1; }
[ -x "$probe" ] || { echo "kernelalg: $probe missing (make all)"; exit 1; }

dir=$(mktemp -d /tmp/traverse-kernelalg-XXXXXX)
me=kernelalg
. "$(dirname "$0")/lib/nat3.sh"
pids=()

trap nat3_cleanup EXIT
trap 'exit 130' INT TERM
fail=0
bad() { echo "kernelalg: $*"; fail=$((fail + 1)); }
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

setup() {
	local v=$1 n=${P}n$1
	nat3_up "$v" 192.168.22.1 203.0.113.20 192.168.22.100 192.168.22.101 || return 1
	# The helper is assigned explicitly (automatic assignment by port is
	# off in current kernels); the empty nat prerouting chain registers
	# the hook that maps the media expectation's flow to the inside.
	nsx "$n" nft -f - <<-EOF || return 1
		table ip tva {
			ct helper sip5060 {
				type "sip" protocol udp;
				l3proto ip;
			}
			chain pre {
				type filter hook prerouting priority filter; policy accept;
				udp dport 5060 ct helper set "sip5060"
			}
			chain prenat {
				type nat hook prerouting priority dstnat; policy accept;
			}
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "${P}${v}o" masquerade
			}
		}
	EOF
	nat3_sealed "$v"
}

# run V [--taken]: server and client through the kernel, then simnat on
# the same bytes; files in $dir/V.
run() {
	local v=$1; shift
	mkdir -p "$dir/$v"
	nsx "${P}s$v" timeout 10 "$probe" server --server 203.0.113.100 --other 203.0.113.101 "$dir/$v" \
		> "$dir/$v/server.log" 2>&1 &
	local sp=$!
	pids+=($sp)
	for _ in $(seq 50); do grep -q ready "$dir/$v/server.log" && break; sleep 0.1; done
	nsx "${P}c$v" timeout 10 "$probe" client --server 203.0.113.100 "$dir/$v" "$@" > "$dir/$v/client.log" 2>&1 ||
		bad "topology $v: the kernel client failed: $(cat "$dir/$v/client.log")"
	wait $sp || bad "topology $v: the kernel server failed: $(cat "$dir/$v/server.log")"
	"$probe" sim --server 203.0.113.100 --other 203.0.113.101 --nat 203.0.113.20 "$dir/$v" "$@" ||
		bad "topology $v: simnat failed"
}

start=$(date +%s)
if [ ! -e /proc/sys/net/netfilter ] && ! modprobe nf_conntrack_sip 2>/dev/null; then
	echo "kernelalg: SKIP: no netfilter in this kernel"; exit 0
fi
setup 1 && setup 2 || { bad "topology setup failed (is nf_conntrack_sip built or loadable? nft ct helper \"sip\")"; exit 1; }
run 1 & r1=$!
run 2 --taken & r2=$!
wait $r1; wait $r2
[ -f "$dir/1/kernel-invite-out.sip" ] && [ -f "$dir/2/kernel-invite-out.sip" ] || { bad "the kernel run produced nothing"; exit 1; }

# One row per field: what the phone sent, what the kernel made of it,
# what simnat made of it. A field the kernel and simnat write differently
# fails the test, unless it is listed in "explained" below with why.
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "-" }' "$1"; }
explained=""    # message.field:why ... (none so far)
# The NAT's choice of a mapped port is not the ALG's: the kernel draws it
# at random when the phone's own port is taken, simnat's default takes the
# next free one. Values are compared with each side's own mapped port (as
# the server saw it) written as MAPPED.
norm() { local v=$1 p=$2; [ "$v" = "$p" ] && v=MAPPED; printf '%s' "${v/%:$p/:MAPPED}"; }
printf '\n%-9s %-27s | %-20s | %-20s | %-20s\n' case message.field "before the NAT" "kernel nf_nat_sip" "simnat alg=sip"
printf '%s\n' "----------------------------------------+----------------------+----------------------+---------------------"
for v in 1 2; do
	case $v in 1) cs=preserved;; 2) cs=taken;; esac
	kp=$(val "$dir/$v/kernel-mapped.txt" mapped-port); sp=$(val "$dir/$v/simnat-mapped.txt" mapped-port)
	for m in register-out register-reply invite-out; do
		"$probe" fields "$dir/$v/kernel-$m.sip" > "$dir/$v/k-$m.f"
		"$probe" fields "$dir/$v/simnat-$m.sip" > "$dir/$v/s-$m.f"
		"$probe" fields "$dir/$v/before-$m.sip" > "$dir/$v/b-$m.f"
		for f in $(awk '{ print $1 }' "$dir/$v/k-$m.f" "$dir/$v/s-$m.f" | awk '!seen[$0]++'); do
			k=$(val "$dir/$v/k-$m.f" "$f"); s=$(val "$dir/$v/s-$m.f" "$f"); b=$(val "$dir/$v/b-$m.f" "$f")
			mark=""
			if [ "$(norm "$k" "$kp")" != "$(norm "$s" "$sp")" ]; then
				case " $explained " in *" $m.$f:"*) mark="  (differs: explained)";;
				*) mark="  <-- differs"; bad "case $cs: $m $f: kernel '$k', simnat '$s'";; esac
			fi
			printf '%-9s %-27s | %-20s | %-20s | %-20s%s\n' "$cs" "$m.$f" "$b" "$k" "$s" "$mark"
		done
	done
	printf '%-9s %-27s | %-20s | %-20s | %-20s\n' "$cs" "nat.mapped-port" "5060" "$kp" "$sp"
	for f in media-peer media-other; do
		k=$(val "$dir/$v/kernel-media.txt" "$f"); s=$(val "$dir/$v/simnat-media.txt" "$f"); mark=""
		[ "$k" = "$s" ] || { mark="  <-- differs"; bad "case $cs: $f: kernel '$k', simnat '$s'"; }
		printf '%-9s %-27s | %-20s | %-20s | %-20s%s\n' "$cs" "pinhole.$f" "" "$k" "$s" "$mark"
	done
done
echo

# The comparison can tell: the helper rewrote something (the kernel's
# Contact is not the phone's), and simnat with a fault differs from it.
[ "$(val "$dir/1/k-register-out.f" contact)" != "192.168.22.100:5060" ] ||
	bad "the kernel left the Contact private: is the SIP helper attached?"
"$probe" sim --server 203.0.113.100 --other 203.0.113.101 --nat 203.0.113.20 --fault no-sdp "$dir/1" >/dev/null &&
	"$probe" fields "$dir/1/simnat-invite-out.sip" > "$dir/1/s0.f"
[ "$(val "$dir/1/s0.f" sdp-c)" != "$(val "$dir/1/k-invite-out.f" sdp-c)" ] ||
	bad "simnat alg-fault=no-sdp still matches the kernel: the comparison does not see the SDP"

nat3_cleanup
trap - EXIT
left=$(ip netns list | grep -c "^${P}")
[ "$left" = 0 ] || bad "$left ${P} namespaces left behind"
echo "kernelalg: $((fail == 0 ? 1 : 0)) passed, $fail problems, $(( $(date +%s) - start )) s"
[ $fail -eq 0 ]
