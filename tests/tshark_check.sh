#!/bin/sh
# tshark_check.sh DIR - every pcap under DIR must decode in tshark with no
# malformed packet and no bad IP/UDP/TCP/ICMP checksum; STUN must decode
# as STUN, SIP/SDP as SIP, RTP (heuristic) as RTP. tshark (Debian package
# tshark) is the protocol oracle.
set -eu
dir=${1:?usage: tshark_check.sh PCAP_DIR}
command -v tshark >/dev/null || { echo "tshark_check: tshark not installed (make deps)"; exit 1; }
# Scenarios that 'inject' broken packets do so on purpose: skip their
# captures (DIR/<dir>-<stem>/ comes from scenarios/<dir>/<stem>.scn).
skip=""
for scn in $(grep -l '^inject ' scenarios/*/*.scn 2>/dev/null); do
	d=$(basename "$(dirname "$scn")"); s=$(basename "$scn" .scn)
	skip="$skip ! -path *$d-$s/*"
done
files=$(find "$dir" -name '*.pcap' $skip | sort)
[ -n "$files" ] || { echo "tshark_check: no pcap files under $dir"; exit 1; }
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
bad=0; n=0; pkts=0; stun=0; sip=0; rtp=0
filter='_ws.malformed || _ws.expert.severity >= "error" || ip.checksum.status == "Bad" || udp.checksum.status == "Bad" || tcp.checksum.status == "Bad" || icmp.checksum.status == "Bad"'
for f in $files; do
	n=$((n + 1))
	out=$(tshark -n -r "$f" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
		-o tcp.check_checksum:TRUE -o rtp.heuristic_rtp:TRUE -Y "$filter" 2>/dev/null || echo "tshark failed on $f")
	if [ -n "$out" ]; then
		echo "tshark_check: $f:"; echo "$out" | head -5; bad=$((bad + 1))
	fi
	tshark -n -r "$f" -o rtp.heuristic_rtp:TRUE -T fields -e frame.protocols 2>/dev/null > "$tmp"
	pkts=$((pkts + $(wc -l < "$tmp")))
	stun=$((stun + $(grep -c ':stun' "$tmp" || true)))
	sip=$((sip + $(grep -c ':sip' "$tmp" || true)))
	rtp=$((rtp + $(grep -c ':rtp' "$tmp" || true)))
done
echo "tshark_check: $n pcaps, $pkts packets, $stun STUN, $sip SIP, $rtp RTP decoded, $bad files with malformed or bad-checksum packets"
[ "$pkts" -gt 0 ] || { echo "tshark_check: pcaps are empty"; exit 1; }
[ "$stun" -gt 0 ] || { echo "tshark_check: no packet decoded as STUN"; exit 1; }
[ "$bad" -eq 0 ]
