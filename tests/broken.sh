#!/bin/sh
# broken.sh TRAVERSE - every file in tests/broken/ is a scenario with one
# mistake and a first line "# error: LINE: TEXT". `traverse check` must
# report FILE:LINE with TEXT and exit 2; `traverse run` must exit 2 and run
# nothing, even when a good scenario is named alongside.
set -u
bin=${1:?usage: broken.sh TRAVERSE}
here=$(dirname "$0")
fail=0; n=0
for f in "$here"/broken/*.scn; do
	n=$((n + 1))
	spec=$(head -1 "$f" | sed -n 's/^# error: //p')
	line=${spec%%:*}; text=${spec#*: }
	out=$("$bin" check "$f" 2>&1); rc=$?
	if [ $rc -ne 2 ] || ! printf '%s\n' "$out" | grep -qF "$f:$line: " || ! printf '%s\n' "$out" | grep -qF -- "$text"; then
		echo "broken.sh: $f: expected exit 2 and '$f:$line: ...$text...', got exit $rc:"; echo "$out" | head -5; fail=$((fail + 1))
	fi
	out=$("$bin" run "$f" scenarios/nat/eim-eif.scn 2>&1); rc=$?
	if [ $rc -ne 2 ] || printf '%s\n' "$out" | grep -qE '^(PASS|FAIL) '; then
		echo "broken.sh: $f: 'run' should refuse to run anything (exit $rc)"; fail=$((fail + 1))
	fi
done
echo "broken: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ] && [ $n -gt 0 ]
