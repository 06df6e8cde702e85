#!/bin/sh
# fuzz/run.sh SECONDS - build every fuzz target with clang's libFuzzer,
# ASan and UBSan, and run each for SECONDS (bounded; stops by itself),
# seeding from the scenario suite where that helps (and the SIP target from
# fuzz/seeds/sip/, with fuzz/sip.dict). A crash fails the run and leaves
# its input in build/fuzz/.
set -eu
secs=${1:-30}
out=build/fuzz
mkdir -p "$out/corpus-scn"
cp scenarios/*/*.scn tests/broken/*.scn "$out/corpus-scn/" 2>/dev/null || true
mkdir -p "$out/corpus-sip" "$out/corpus-alg" && cp fuzz/seeds/sip/* "$out/corpus-sip/" && cp fuzz/seeds/sip/* "$out/corpus-alg/"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE -Icore -Isimnat -Isimterm -Iproxy -Irunner"
srcs=$(ls core/*.c simnat/*.c simterm/*.c proxy/*.c runner/*.c | grep -v runner/main.c)
fail=0; n=0
for t in ${FUZZ_TARGETS:-nat alg stun sip scn}; do
	n=$((n + 1))
	clang $flags fuzz/fuzz_$t.c $srcs -o "$out/fuzz_$t" -lpcap -losipparser2 -losip2 -ljansson -lm
	corpus="$out/corpus-$t"; mkdir -p "$corpus"
	# SIP: whole messages up to the UDP maximum and beyond (TCP), words
	# from the dictionary; the others stay small.
	case $t in
	sip | alg) opts="-max_len=65536 -dict=fuzz/sip.dict" ;;
	*) opts="-max_len=4096" ;;
	esac
	if ! "$out/fuzz_$t" -max_total_time="$secs" $opts -timeout=10 -artifact_prefix="$out/$t-" \
		-print_final_stats=1 "$corpus" > "$out/$t.log" 2>&1; then
		echo "fuzz: $t found a problem:"; tail -20 "$out/$t.log"; fail=$((fail + 1))
	else
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log" | tail -1)
		echo "fuzz: $t: ${runs:-?} runs in $secs s (${rate:-?} exec/s); $(grep -E '^#[0-9]+.*DONE' "$out/$t.log" | tail -1 | sed 's/^#[0-9]*[[:space:]]*DONE *//')"
	fi
done
echo "fuzz: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
