#!/bin/sh
# sans_io.sh BUILD_DIR - engines are sans-I/O: the objects of core engines,
# simnat, simterm and proxy may not call the OS for sockets, polling,
# clocks, sleeping or randomness. Only the drivers (core/simnet.c: pcap
# files; core/livehost.c: the host API on real sockets) and the
# runner/bench mains may.
set -u
dir=${1:?usage: sans_io.sh BUILD_DIR}
forbidden='^(socket|bind|connect|listen|accept|accept4|sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg|send|recv|epoll_create|epoll_create1|epoll_ctl|epoll_wait|poll|select|clock_gettime|gettimeofday|time|sleep|usleep|nanosleep|rand|random|srand|srandom|getrandom)$'
bad=0; n=0
for o in "$dir"/core/*.o "$dir"/simnat/*.o "$dir"/simterm/*.o "$dir"/proxy/*.o; do
	case "$o" in */core/simnet.o | */core/livehost.o) continue ;; esac
	[ -f "$o" ] || continue
	n=$((n + 1))
	hits=$(nm -u "$o" | awk '{print $2}' | sed 's/@.*//' | grep -E "$forbidden" || true)
	if [ -n "$hits" ]; then
		echo "sans_io: $o calls the OS: $(echo $hits)"; bad=$((bad + 1))
	fi
done
echo "sans_io: $n engine objects checked: $((n - bad)) passed, $bad failed"
[ "$bad" -eq 0 ] && [ "$n" -gt 0 ]
