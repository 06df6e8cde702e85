#!/bin/sh
# findings.sh TRAVERSE - the diagnosis names the right fault (in
# simulation, no root). Each tests/findings/*.scn is a scenario that must
# FAIL, and whose "finding:" lines must be exactly its "# want-finding:"
# lines (runner/scn_findings.c; docs/conformance.md "Reading a finding").
# A diagnosis that names the wrong fault, or none, fails here before a
# conformance run against a real SBC would show it.
bin=${1:?usage: findings.sh TRAVERSE}
here=$(dirname "$0")
fail=0
n=0
tmp=$(mktemp -d /tmp/traverse-findings-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for f in "$here"/findings/*.scn; do
	n=$((n + 1))
	"$bin" run "$f" >"$tmp/out" 2>&1
	rc=$?
	sed -n 's/^# want-finding: //p' "$f" | LC_ALL=C sort >"$tmp/want"
	sed -n 's/^        finding: //p' "$tmp/out" | LC_ALL=C sort >"$tmp/got"
	if [ $rc != 1 ]; then
		echo "findings: $f: exit $rc (want 1, a failed check): $(tail -3 "$tmp/out")"
		fail=$((fail + 1))
	elif ! cmp -s "$tmp/want" "$tmp/got"; then
		echo "findings: $f: the findings differ from its want-finding lines:"
		diff "$tmp/want" "$tmp/got" | sed 's/^/        /'
		fail=$((fail + 1))
	fi
done
echo "findings: $n scenarios, $fail failed"
[ $fail = 0 ] && [ $n -gt 0 ]
