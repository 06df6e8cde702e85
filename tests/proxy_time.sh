#!/bin/sh
# proxy_time.sh BUILD_DIR - time in the proxy (STYLE.md habits 3 and 4):
#
#   now flows down  the host hands every callback `now`; nothing below an
#                   entry point reads the clock. The proxy's only clock is
#                   the host API's host_now() (tv_host is opaque to it; OS
#                   clocks are sans_io.sh's business). host_now may appear
#                   only in the bodies of NOW_OK: public functions with no
#                   `now` of their own, listed at the top of proxy.c.
#   one timer owner px_timers.c arms, cancels and sets up every proxy
#                   timer: host_timer_arm, host_timer_cancel and
#                   tv_timer_init appear in no other file (reading a
#                   timer's state, tv_timer_armed, is anyone's).
#
# Each rule is checked twice:
#   source   outside comments, any mention of the name in proxy/*.c and
#            proxy/*.h outside what is allowed fails: a call, taking its
#            address, a macro standing for it, one at file scope. A
#            function is found the way this tree writes them: its name
#            before the first '(' of a line at column 0, its body from a
#            '{' to a '}' at column 0.
#   objects  of BUILD_DIR/proxy/*.o only the allowed file's object may
#            import the symbol (catches a call hidden behind a header).
# The source checker is first run on samples with known answers, so a
# checker that matches nothing fails too.
set -u
dir=${1:?usage: proxy_time.sh BUILD_DIR}
NOW_OK="proxy.c:proxy_set_keepalive proxy.c:proxy_free proxy.c:proxy_foreach_stream proxy.c:proxy_foreach_binding"
TIMER_OK="px_timers.c:*"
TIMER_NAMES="host_timer_arm|host_timer_cancel|tv_timer_init"

# scan NAMES ALLOWED FILE... - "file:line: where" for each mention of
# NAMES (an ERE alternation of identifiers) outside ALLOWED ("file:function"
# or "file:*" words). Comments (/* */ across lines, //) are blanked first.
scan() {
	names=$1 allowed=$2; shift 2
	awk -v names="$names" -v allowed="$allowed" '
	BEGIN {
		n = split(allowed, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1
		re = "(^|[^A-Za-z_0-9])(" names ")([^A-Za-z_0-9]|$)"
	}
	FNR == 1 { file = FILENAME; sub(/.*\//, "", file); fn = ""; body = 0; cmt = 0 }
	{
		line = $0; out = ""
		while (line != "") {
			if (cmt) {
				e = index(line, "*/")
				if (!e) { line = ""; break }
				line = substr(line, e + 2); cmt = 0
			} else {
				s = index(line, "/*"); d = index(line, "//")
				if (d && (!s || d < s)) { out = out substr(line, 1, d - 1); line = ""; break }
				if (!s) { out = out line; line = ""; break }
				out = out substr(line, 1, s - 1) " "; line = substr(line, s + 2); cmt = 1
			}
		}
		if (out ~ /^[A-Za-z_]/ && out !~ /;[ \t]*$/ && match(out, /[A-Za-z_][A-Za-z_0-9]*[ \t]*\(/)) {
			name = substr(out, RSTART, RLENGTH); sub(/[ \t]*\($/, "", name)
			if (!body) fn = name
		}
		if (out ~ /^\{/) body = 1
		if (out ~ re && !((file ":*") in ok) && !(body && ((file ":" fn) in ok)))
			print FILENAME ":" FNR ": " (body ? "in " fn "()" : "outside any function")
		if (out ~ /^\}/) { body = 0; fn = "" }
	}' "$@"
}

# imports NAMES ALLOWED_OBJECT - objects of BUILD_DIR/proxy other than
# ALLOWED_OBJECT that import one of NAMES.
imports() {
	for o in "$dir"/proxy/*.o; do
		[ -f "$o" ] || continue
		case "$o" in */proxy/"$2") continue ;; esac
		hit=$(nm -u "$o" | awk '{print $2}' | sed 's/@.*//' | grep -xE "$1" | tr '\n' ' ')
		[ -z "$hit" ] || echo "$o imports ${hit% }"
	done
}

# The source checker on samples: in proxy.c, proxy_free may read the
# clock, helper and a macro may not (2 hits); sip_alg.c may not arm a
# timer, px_timers.c may (1 hit).
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/proxy.c" <<'EOF'
/* host_now() in a comment is fine */
#define CLOCK(p) host_now((p)->h)
static void helper(proxy *p,
		   int x)
{
	tv_time t = host_now(p->h); /* forbidden */
}

void proxy_free(proxy *p)
{
	tv_time now = host_now(p->h);
}
EOF
printf 'static void f(void)\n{\n\thost_timer_arm(h, &t, 1);\n}\n' >"$tmp/sip_alg.c"
cp "$tmp/sip_alg.c" "$tmp/px_timers.c"
got="$(scan host_now "$NOW_OK" "$tmp/proxy.c" | wc -l) $(scan "$TIMER_NAMES" "$TIMER_OK" "$tmp/sip_alg.c" "$tmp/px_timers.c" | wc -l)"
if [ "$got" != "2 1" ]; then
	echo "proxy_time: the checker found '$got' forbidden uses in its samples, not '2 1': it is broken"
	exit 1
fi

n=$(ls "$dir"/proxy/*.o 2>/dev/null | wc -l)
if [ "$n" -eq 0 ]; then
	echo "proxy_time: no objects in $dir/proxy"
	exit 1
fi
bad=0
hits=$(scan host_now "$NOW_OK" proxy/*.c proxy/*.h; imports host_now proxy.o)
if [ -n "$hits" ]; then
	echo "$hits" | sed 's/^/proxy_time: host_now: /'
	echo "proxy_time: pass the entry point's now down instead (allowed: $NOW_OK)"
	bad=1
fi
hits=$(scan "$TIMER_NAMES" "$TIMER_OK" proxy/*.c proxy/*.h; imports "$TIMER_NAMES" px_timers.o)
if [ -n "$hits" ]; then
	echo "$hits" | sed 's/^/proxy_time: timer: /'
	echo "proxy_time: report an event to px_timers.c instead of arming a timer"
	bad=1
fi
echo "proxy_time: $(ls proxy/*.c proxy/*.h | wc -l) sources, $n objects: host_now only in $NOW_OK," \
	"timers only in px_timers.c: $([ $bad -eq 0 ] && echo passed || echo FAILED)"
[ "$bad" -eq 0 ]
