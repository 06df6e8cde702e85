#!/bin/sh
# mutate.sh TRAVERSE - break each behaviour a NAT scenario checks (one sed
# script per line of tests/mutations.txt) and require the scenario to fail.
set -u
bin=${1:?usage: mutate.sh TRAVERSE}
here=$(dirname "$0")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; fail=0
while IFS='	' read -r file script; do
	case "$file" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	out="$tmp/$(basename "$file")"
	sed "$script" "$file" > "$out"
	if cmp -s "$file" "$out"; then
		echo "mutate: $file: '$script' changed nothing"; fail=$((fail + 1)); continue
	fi
	"$bin" run "$out" > "$tmp/log" 2>&1; rc=$?
	if [ $rc -ne 1 ]; then
		echo "mutate: $file with '$script' should fail (exit 1), got exit $rc:"; head -5 "$tmp/log"; fail=$((fail + 1))
	fi
done < "$here/mutations.txt"
echo "mutations: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ] && [ $n -gt 0 ]
