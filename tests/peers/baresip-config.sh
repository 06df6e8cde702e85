#!/bin/sh
# baresip-config.sh DIR LISTEN HZ USER PROXY [ANSWERMODE] [LINE...]
# A baresip for the tests, in DIR (its -f directory): UDP SIP on LISTEN
# (IP:PORT), registered as USER@example.net through PROXY (outbound,
# IP:PORT), PCMU only, its microphone a HZ tone of 8 s from a WAV file
# (aufile, made with wavtone.py), what it hears recorded under DIR/rec
# (sndfile), no sound card. ANSWERMODE (auto, or "" for none); each LINE is
# added to the config as it is (more modules, ctrl_tcp). Used by
# tests/netns.sh and scenarios/netns/baresip.sh.
set -eu
d=${1:?usage: baresip-config.sh DIR LISTEN HZ USER PROXY [ANSWERMODE] [LINE...]}
listen=$2 hz=$3 user=$4 proxy=$5 answer=${6:-}
shift 5
[ $# -gt 0 ] && shift
mkdir -p "$d/rec"
/usr/bin/python3 "$(dirname "$0")/wavtone.py" make "$d/tone.wav" "$hz" 8
cat >"$d/config" <<CONF
poll_method		epoll
sip_listen		$listen
sip_trans_def		udp
audio_player		aubridge,nil
audio_alert		aubridge,nil
audio_source		aufile,$d/tone.wav
rtp_ports		10000-10099
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			sndfile.so
module_app		account.so
snd_path		$d/rec
CONF
for line in "$@"; do printf '%s\n' "$line" >>"$d/config"; done
echo "<sip:$user@example.net>;outbound=\"sip:$proxy\";regint=600;audio_codecs=PCMU${answer:+;answermode=$answer}" >"$d/accounts"
