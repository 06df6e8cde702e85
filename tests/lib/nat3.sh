# nat3.sh - sourced by tests/kernelnat.sh and tests/kernelalg.sh: the
# three-namespace topology both measure a NAT in, with no route out:
#
#   ${P}cV (clients, GW's /24) --veth-- ${P}nV (GW | PUB) --veth-- ${P}sV (203.0.113.100, .101)
#
# The caller sets: me (its name, for messages), P (its namespace prefix),
# dir (its temporary directory) and pids=() (what it started), and defines
# nsx. The NAT's rules are the caller's.

# Stops what runs in our namespaces (only what this script started there),
# then removes the namespaces, which takes their links with them.
nat3_cleanup() {
	local ns
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for v in 1 2; do for r in c n s; do
		ns=${P}$r$v
		[ -e "/run/netns/$ns" ] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done; done
	wait 2>/dev/null
	for v in 1 2; do for r in c n s; do
		ns=${P}$r$v
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done; done
	rm -rf "$dir"
}

# nat3_up V GW PUB CLIENT...: topology V, the NAT's inside address GW, its
# public one PUB, the clients' addresses (all /24); forwarding on.
nat3_up() {
	local v=$1 gw=$2 pub=$3 c=${P}c$1 n=${P}n$1 s=${P}s$1 a
	shift 3
	ip netns add "$c" && ip netns add "$n" && ip netns add "$s" || return 1
	ip link add "${P}${v}c" netns "$c" type veth peer name "${P}${v}i" netns "$n" || return 1
	ip link add "${P}${v}o" netns "$n" type veth peer name "${P}${v}s" netns "$s" || return 1
	for ns in "$c" "$n" "$s"; do ip -n "$ns" link set lo up || return 1; done
	for a in "$@"; do ip -n "$c" addr add "$a/24" dev "${P}${v}c" || return 1; done
	ip -n "$c" link set "${P}${v}c" up && ip -n "$c" route add 203.0.113.0/24 via "$gw" &&
	ip -n "$n" addr add "$gw/24" dev "${P}${v}i" && ip -n "$n" link set "${P}${v}i" up &&
	ip -n "$n" addr add "$pub/24" dev "${P}${v}o" && ip -n "$n" link set "${P}${v}o" up &&
	ip -n "$s" addr add 203.0.113.100/24 dev "${P}${v}s" &&
	ip -n "$s" addr add 203.0.113.101/24 dev "${P}${v}s" && ip -n "$s" link set "${P}${v}s" up || return 1
	nsx "$n" sysctl -qw net.ipv4.ip_forward=1
}

# Safety: no default route anywhere in topology V, and nothing but our veths.
nat3_sealed() {
	local ns
	for ns in "${P}c$1" "${P}n$1" "${P}s$1"; do
		[ -z "$(ip -n "$ns" route show default)" ] || { echo "$me: $ns has a default route"; return 1; }
		[ "$(ip -n "$ns" -o link show | grep -vc -e ": lo:" -e ": ${P}")" = 0 ] ||
			{ echo "$me: $ns has a foreign link"; return 1; }
	done
}
