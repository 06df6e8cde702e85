# sbc-netns.sh - sourced by tests/conformance.sh and
# tests/conformance-attacks.sh: an SBC under test in a network namespace of
# its own (the SBC's two addresses on lo, nothing else, no route), and
# Kamailio + rtpengine started in one.
#
# The caller sets: me (its name, for messages), here (tests/), tag (the
# prefix of its namespaces), dir (its temporary directory), and a bad()
# that counts a problem. It calls sbc_need [PACKAGE-CHECKS...] first; its
# EXIT trap is sbc_cleanup.

# Install what is missing: kamailio, rtpengine, ip, and with "nft" nftables.
sbc_need() {
	local need=""
	command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need="$need kamailio"
	command -v rtpengine >/dev/null || [ -x /usr/sbin/rtpengine ] || need="$need rtpengine-daemon"
	command -v ip >/dev/null || need="$need iproute2"
	[ "${1:-}" = nft ] && { command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need="$need nftables"; }
	if [ -n "$need" ]; then
		echo "$me: installing$need"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null || return 1
	fi
	KAM=$(command -v kamailio || echo /usr/sbin/kamailio)
	RTPE=$(command -v rtpengine || echo /usr/sbin/rtpengine)
	# rtpengine-daemon's package starts a system daemon; it is not ours and
	# does not matter here (ours run in the namespaces).
}

nss=()
# Every process in our namespaces stopped, the namespaces removed, the
# files gone (kept with CONF_KEEP=1).
sbc_cleanup() {
	for ns in "${nss[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done
	sleep 0.3
	for ns in "${nss[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	nss=()
	[ -n "${CONF_KEEP:-}" ] && echo "$me: files in $dir" || rm -rf "$dir"
}

# A namespace holding the SBC's two addresses; nothing else, no route.
mkns() {
	local ns=$tag-$1
	ip netns add "$ns" || return 1
	nss+=("$ns")
	ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add 198.51.100.10/32 dev lo &&
		ip -n "$ns" addr add 10.0.0.1/32 dev lo
}

# Wait until something listens on UDP PORT in namespace NS (5 s at most).
wait_udp() {
	for _ in $(seq 50); do
		ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# Kamailio (tests/peers/kamailio-sbc.cfg) in namespace $tag-NAME; with
# WITH_NAT its NAT handling is on and rtpengine runs beside it.
kamailio_sbc() { # NAME [WITH_NAT]
	local ns=$tag-$1 d=$dir/$1
	mkdir -p "$d"
	if [ -n "${2:-}" ]; then
		ip netns exec "$ns" "$RTPE" --config-file=none -f -E -L 4 -t -1 -i 198.51.100.10 \
			-n 127.0.0.1:2223 -m 30000 -M 30999 >"$d/rtpengine.log" 2>&1 &
		wait_udp "$ns" 2223 || { bad "$1: rtpengine did not start: $(tail -3 "$d/rtpengine.log")"; return 1; }
	fi
	ip netns exec "$ns" "$KAM" -f "$here/peers/kamailio-sbc.cfg" ${2:+-A $2} --substdef '!KA_INTERVAL!10!g' \
		-DD -E -Y "$d" -m 64 -M 8 >"$d/kamailio.log" 2>&1 &
	wait_udp "$ns" 5060 || { bad "$1: Kamailio did not start: $(tail -3 "$d/kamailio.log")"; return 1; }
}
