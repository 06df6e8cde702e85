#!/bin/sh
# sip_leak_check.sh PCAP_DIR - for every SIP scenario with a proxy, the
# core-side capture must carry SIP (so the check is not vacuous) and no
# SIP message on it (headers or SDP) may spell a phone's private address:
# no Via, Contact, SDP c=/o= or anything else leaked past the proxy.
# (RTCP is not checked: phones put their address in SDES CNAME, and a
# relay forwards RTCP untouched.)
set -u
dir=${1:?usage: sip_leak_check.sh PCAP_DIR}
bad=0; n=0
for f in scenarios/sip/*.scn; do
	[ -f "$f" ] || continue
	core=$(sed -n 's/^proxy .*core=\([^: ]*\):.*/\1/p' "$f" | head -1)
	[ -n "$core" ] || continue
	stem=$(basename "$f" .scn)
	pcap="$dir/sip-$stem/$core.pcap"
	if [ ! -f "$pcap" ]; then echo "sip_leak_check: $pcap missing"; bad=$((bad + 1)); continue; fi
	n=$((n + 1))
	sip=$(tshark -n -r "$pcap" -Y sip 2>/dev/null | wc -l)
	if [ "$sip" -eq 0 ]; then echo "sip_leak_check: $pcap has no SIP"; bad=$((bad + 1)); continue; fi
	for ip in $(sed -n 's/^phone .* ip=\([0-9.]*\).*/\1/p' "$f"); do
		hits=$(tshark -n -r "$pcap" -Y "sip && frame contains \"$ip\"" 2>/dev/null | wc -l)
		if [ "$hits" -ne 0 ]; then
			echo "sip_leak_check: $pcap: $hits packets carry private address $ip:"
			tshark -n -r "$pcap" -Y "sip && frame contains \"$ip\"" 2>/dev/null | head -3
			bad=$((bad + 1))
		fi
	done
done
echo "sip_leak_check: $n core captures checked: $((n - bad > 0 ? n - bad : 0)) passed, $bad failed"
[ "$bad" -eq 0 ]
