#!/bin/sh
# timed.sh NAME CMD [ARG...] - run one suite of make check and print its
# wall time ("time: NAME 12.3 s"); exits with the suite's status.
name=$1; shift
t0=$(date +%s%N)
"$@"; rc=$?
t1=$(date +%s%N)
echo "time: $name $(( (t1 - t0) / 1000000000 )).$(( (t1 - t0) / 100000000 % 10 )) s"
exit $rc
