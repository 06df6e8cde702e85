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
sh ../../tests/peers/baresip-config.sh "$t" "$ip:5060" 440 "$user" "$proxy" auto
exec baresip -f "$t" -t 60 </dev/null
