#!/bin/sh
# sipp.sh MODE PROXY [USER] - sipp, unmodified, as a scenario's real host
# (exec HOST "./sipp.sh ..."; traverse run --netns sets TRAVERSE_TMP and
# TRAVERSE_HOST_IP and runs this in the host's namespace and in this
# directory). The call flows are tests/peers' (sipp-*.xml):
#   register USER   REGISTER USER@example.net through PROXY, expect 200
#   uac USER        INVITE USER with SDP through PROXY, play 4 s of audio
#                   (PCMU, from port 16100), BYE
#   uas             answer one INVITE with SDP (media port 16000), echo
#                   and play audio until the BYE
# Every run is bounded: one call (-m 1), 20 s at most (-timeout).
set -eu
mode=${1:?usage: sipp.sh register|uac|uas PROXY [USER]}
proxy=${2:?usage: sipp.sh register|uac|uas PROXY [USER]}
user=${3:-}
t=${TRAVERSE_TMP:?run by traverse run --netns (exec HOST ...)}
ip=${TRAVERSE_HOST_IP:?run by traverse run --netns (exec HOST ...)}
peers=../../tests/peers
set -- -key domain example.net -m 1 -timeout 20s -timeout_error -nostdin -i "$ip" -p 5060
if [ "$mode" = uac ] || [ "$mode" = uas ]; then
	head -c 8000 /dev/zero | tr '\0' '\377' >"$t/audio.ulaw"        # 1 s of PCMU silence
	xml=$peers/sipp-uac.xml
	[ "$mode" = uas ] && xml=$peers/sipp-uas-play.xml
	sed "s|\[audio\]|$t/audio.ulaw|" "$xml" >"$t/$mode.xml"
fi
case $mode in
register) exec sipp "$proxy" -sf "$peers/sipp-register.xml" -s "$user" -rsa "$proxy" "$@" ;;
uac) exec sipp "$proxy" -sf "$t/uac.xml" -s "$user" -mi "$ip" -mp 16100 -rsa "$proxy" "$@" ;;
uas) exec sipp "$proxy" -sf "$t/uas.xml" -mi "$ip" -mp 16000 -rtp_echo "$@" ;;
*) echo "sipp.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac
