#!/bin/sh
# sip_leak_check.sh PCAP_DIR - topology hiding, both ways, on the captures
# of every SIP scenario with a proxy (scenarios/sip/*.scn, run with
# --pcap PCAP_DIR; a matrix scenario's variants each in their own
# directory):
#
#   core side    the capture of the proxy's core link (proxy ... core=LINK:IP)
#                must carry SIP (so the check is not vacuous), and no SIP
#                message on it, headers or body, may spell a phone's private
#                address (phone ... ip=), a NAT's public address (nat ...
#                outside=LINK:IP[,IP...]) or the address of a host on another
#                link (a terminal without a NAT).
#   access side  no SIP message on the capture of any other link (the
#                internet, the home links) may spell an address of the core
#                link's /24 (the proxy's core address, the softswitch's ip=).
#
# The whole message is read (the UDP or TCP payload), so a Via, Contact,
# Record-Route, Warning, SDP c=/o=/a=candidate or an unknown header would
# all show. What the proxy leaves on purpose (docs/proxy.md, "Topology
# hiding", "What is left") is excluded here, once:
#   - From and To header lines: they name a user and RFC 3261 forbids a
#     proxy to change them; the simulated phones write the domain there.
#   - RTCP (its SDES CNAME names the phone's address): not SIP, not read.
LEFT='^(from|to|f|t)[ 	]*:'
set -u
dir=${1:?usage: sip_leak_check.sh PCAP_DIR}
command -v tshark >/dev/null && command -v mergecap >/dev/null ||
	{ echo "sip_leak_check: tshark and mergecap not installed (make deps)"; exit 1; }
tmp=$(mktemp); merged=$(mktemp); trap 'rm -f "$tmp" "$merged"' EXIT
bad=0; nc=0; na=0

# The SIP text of a capture, one line per SIP line, "FRAME: line", with the
# lines LEFT names taken out. tshark gives each SIP frame's payload in hex.
sip_text() {
	tshark -n -r "$1" -Y sip -T fields -e frame.number -e udp.payload -e tcp.payload 2>/dev/null |
	awk -v left="$LEFT" '
	BEGIN { for (i = 0; i < 256; i++) hex[sprintf("%02x", i)] = i }
	{
		h = $2 $3; s = ""
		for (i = 1; i < length(h); i += 2) {
			c = hex[substr(h, i, 2)]
			s = s (c == 13 ? "" : c == 10 ? "\n" : c >= 32 && c < 127 ? sprintf("%c", c) : ".")
		}
		n = split(s, line, "\n")
		for (k = 1; k <= n; k++)
			if (tolower(line[k]) !~ left)
				print $1 ": " line[k]
	}'
}

# An extended regular expression for a dotted address not inside a longer
# number: "10.0.0." for a /24 prefix, "192.168.1.10" for one address.
addr_re() {
	case "$1" in
	*.) echo "(^|[^0-9])$(echo "$1" | sed 's/\./\\./g')[0-9]" ;;
	*) echo "(^|[^0-9])$(echo "$1" | sed 's/\./\\./g')([^0-9]|\$)" ;;
	esac
}

# check NAME WHAT ADDR...: no SIP line in $tmp (from capture NAME) spells any ADDR.
check() {
	c_name=$1; c_what=$2; shift 2
	for c_a in "$@"; do
		c_hits=$(grep -E "$(addr_re "$c_a")" "$tmp" | head -3)
		if [ -n "$c_hits" ]; then
			echo "sip_leak_check: $c_name: $c_what $c_a in SIP:"; echo "$c_hits" | sed 's/^/    frame /'
			bad=$((bad + 1))
		fi
	done
}

for f in scenarios/sip/*.scn; do
	[ -f "$f" ] || continue
	core=$(sed -n 's/^proxy .*core=\([^: ]*\):.*/\1/p' "$f" | head -1)
	[ -n "$core" ] || continue
	stem=$(basename "$f" .scn)
	# a matrix scenario writes one directory per variant under its own
	runs="$dir/sip-$stem"
	if [ ! -f "$runs/$core.pcap" ] && grep -q '^matrix ' "$f"; then
		runs=$(for r in "$dir/sip-$stem"/*/; do [ -d "$r" ] && echo "${r%/}"; done)
	fi
	[ -n "$runs" ] || runs="$dir/sip-$stem"
	for run in $runs; do
	pcap="$run/$core.pcap"
	if [ ! -f "$pcap" ]; then echo "sip_leak_check: $pcap missing"; bad=$((bad + 1)); continue; fi
	# what the core must not see: phones, NATs' public sides, hosts off the core link
	phones=$(sed -n 's/^phone .* ip=\([0-9.]*\).*/\1/p' "$f")
	nats=$(sed -n 's/^nat .* outside=[^: ]*:\([0-9.,]*\).*/\1/p' "$f" | tr ',' ' ')
	hosts=$(awk -v core="$core" '$1 == "host" { l = ""; ip = ""
		for (i = 3; i <= NF; i++) { if ($i ~ /^link=/) l = substr($i, 6); if ($i ~ /^ip=/) ip = substr($i, 4) }
		if (l != core && ip != "") print ip }' "$f")
	# what the access side must not see: the core link's /24
	cores=$(sed -n -e 's/^proxy .*core=[^: ]*:\([0-9]*\.[0-9]*\.[0-9]*\.\)[0-9]*.*/\1/p' \
		-e 's/^softswitch .* ip=\([0-9]*\.[0-9]*\.[0-9]*\.\)[0-9]*.*/\1/p' "$f" | sort -u)
	nc=$((nc + 1))
	sip_text "$pcap" > "$tmp"
	if [ ! -s "$tmp" ]; then echo "sip_leak_check: $pcap has no SIP"; bad=$((bad + 1)); continue; fi
	# shellcheck disable=SC2086
	check "$pcap" "private or public address of a terminal" $phones $nats $hosts
	# the access side's captures, merged: one tshark per scenario
	access=""
	for a in "$run"/*.pcap; do
		[ "$a" = "$pcap" ] || { access="$access $a"; na=$((na + 1)); }
	done
	[ -n "$access" ] || continue
	# shellcheck disable=SC2086
	mergecap -w "$merged" $access && sip_text "$merged" > "$tmp"
	# shellcheck disable=SC2086
	check "$run/{$(echo $access | sed "s|$run/||g; s| |,|g")}" "core address" $cores
	done
done
echo "sip_leak_check: $nc core captures and $na access captures checked, $bad leaks"
[ "$bad" -eq 0 ] && [ "$nc" -gt 0 ]
