#!/bin/sh
# baresip.sh PROXY USER - baresip, unmodified, as a scenario's real host
# (exec HOST "./baresip.sh ..."; traverse run --netns sets TRAVERSE_TMP and
# TRAVERSE_HOST_IP and runs this in the host's namespace and in this
# directory). It registers USER@example.net through PROXY (its outbound
# proxy), answers every call at once, sends a 440 Hz tone read from a WAV
# file (aufile) as PCMU, and records what it hears under $TRAVERSE_TMP/rec
# (sndfile). It runs until the scenario ends (the run stops it), 60 s at
# most.
set -eu
proxy=${1:?usage: baresip.sh PROXY USER}
user=${2:?usage: baresip.sh PROXY USER}
t=${TRAVERSE_TMP:?run by traverse run --netns (exec HOST ...)}
ip=${TRAVERSE_HOST_IP:?run by traverse run --netns (exec HOST ...)}
mkdir -p "$t/rec"
/usr/bin/python3 ../../tests/peers/wavtone.py make "$t/tone.wav" 440 8
cat >"$t/config" <<CONF
poll_method		epoll
sip_listen		$ip:5060
sip_trans_def		udp
audio_player		aubridge,nil
audio_alert		aubridge,nil
audio_source		aufile,$t/tone.wav
rtp_ports		10000-10099
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			sndfile.so
module_app		account.so
snd_path		$t/rec
CONF
echo "<sip:$user@example.net>;outbound=\"sip:$proxy\";regint=600;audio_codecs=PCMU;answermode=auto" >"$t/accounts"
exec baresip -f "$t" -t 60 </dev/null
