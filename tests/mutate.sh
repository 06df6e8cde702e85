#!/bin/sh
# mutate.sh TRAVERSE - break each behaviour a NAT scenario checks (one sed
# script per line of tests/mutations.txt) and require the scenario to fail.
set -u
bin=${1:?usage: mutate.sh TRAVERSE}
here=$(dirname "$0")
tmp=$(mktemp -d); out=""; trap 'rm -rf "$tmp"; [ -z "$out" ] || rm -f "$out"' EXIT
n=0; fail=0
while IFS='	' read -r file script; do
	case "$file" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	# beside the original, so payload=file: paths still resolve (a dot
	# file: directory runs skip it)
	out="$(dirname "$file")/.mutant-$$-$(basename "$file")"
	sed "$script" "$file" > "$out"
	if cmp -s "$file" "$out"; then
		echo "mutate: $file: '$script' changed nothing"; fail=$((fail + 1)); rm -f "$out"; continue
	fi
	"$bin" run "$out" > "$tmp/log" 2>&1; rc=$?
	rm -f "$out"
	if [ $rc -ne 1 ]; then
		echo "mutate: $file with '$script' should fail (exit 1), got exit $rc:"; head -5 "$tmp/log"; fail=$((fail + 1))
	fi
done < "$here/mutations.txt"
echo "mutations: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ] && [ $n -gt 0 ]
