#!/bin/sh
# now_flows.sh BUILD_DIR - in the proxy, time flows down as an argument:
# the host hands every callback `now`, and nothing below an entry point
# reads the clock (STYLE.md habit 3). The proxy's only clock is the host
# API's host_now() (tv_host is opaque to it; OS clocks are sans_io.sh's
# business), so two rules suffice:
#
#   1. source: outside comments, the name host_now may appear in
#      proxy/*.c and proxy/*.h only inside the bodies of the functions in
#      ALLOWED (public functions with no `now` of their own, listed at the
#      top of proxy.c). Any other mention fails: a call, taking its
#      address, a macro standing for it, one at file scope. A function is
#      found the way the tree writes them: its name before the first '('
#      of a line at column 0, its body from a '{' to a '}' at column 0.
#   2. objects: of BUILD_DIR/proxy/*.o only proxy.o may import the
#      symbol host_now (catches what rule 1 could miss in a header trick).
#
# Before the real run the checker is run on a sample with one allowed and
# two forbidden uses, so a checker that matches nothing fails too.
set -u
dir=${1:?usage: now_flows.sh BUILD_DIR}
ALLOWED="proxy.c:proxy_set_keepalive proxy.c:proxy_free"

# Print "file:line: function" for each mention of host_now outside the
# allowed function bodies. Comments are blanked first (/* */ across lines, //).
scan() {
	awk -v allowed="$ALLOWED" '
	BEGIN { n = split(allowed, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
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
		if (out ~ /(^|[^A-Za-z_0-9])host_now([^A-Za-z_0-9]|$)/ && !(body && ((file ":" fn) in ok)))
			print FILENAME ":" FNR ": " (body ? "in " fn "()" : "outside any function")
		if (out ~ /^\}/) { body = 0; fn = "" }
	}' "$@"
}

# The checker on a sample: proxy_free may, helper may not, nor file scope.
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
self=$(scan "$tmp/proxy.c" | wc -l)
if [ "$self" -ne 2 ]; then
	echo "now_flows: the checker found $self of the sample's 2 forbidden uses: it is broken"
	exit 1
fi

bad=0
hits=$(scan proxy/*.c proxy/*.h)
if [ -n "$hits" ]; then
	echo "$hits" | sed 's/^/now_flows: host_now /'
	echo "now_flows: pass the entry point's now down instead (allowed: $ALLOWED)"
	bad=1
fi
n=0
for o in "$dir"/proxy/*.o; do
	[ -f "$o" ] || continue
	n=$((n + 1))
	case "$o" in */proxy/proxy.o) continue ;; esac
	if nm -u "$o" | awk '{print $2}' | sed 's/@.*//' | grep -qx host_now; then
		echo "now_flows: $o imports host_now"; bad=1
	fi
done
if [ "$n" -eq 0 ]; then
	echo "now_flows: no objects in $dir/proxy"; exit 1
fi
echo "now_flows: $n proxy objects and $(ls proxy/*.c proxy/*.h | wc -l) sources checked;" \
	"host_now only in $ALLOWED: $([ $bad -eq 0 ] && echo passed || echo FAILED)"
[ "$bad" -eq 0 ]
