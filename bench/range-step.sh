#!/bin/sh
# Range stepping (a benchmark, not a test): wall time of real gdb's `next` over the loop line of
# distribution/src/guests/smp.c (`do total += i++; while (i < n);`, 8 instructions per iteration),
# with `set range-stepping on` (one vCont;r: the stub steps the loop itself) and off (one vCont;s
# round trip per instruction). Prints medians of RUNS runs. Needs the assembled distribution
# (mvn -q -DskipTests package), gdb and /dev/kvm. Usage: bench/range-step.sh [RUNS] [ITERATIONS]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-5}
iterations=${2:-1000}
kvmgdb=distribution/target/kvmgdb/bin/kvmgdb
guest=distribution/target/guests/smp.elf
[ -x "$kvmgdb" ] && [ -f "$guest" ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# One launch per measurement: the guest's vCPU 0 is released, stopped at the loop line, and gdb
# times one `next` over it (inside gdb, so connection set-up is not counted).
measure() { # $1: on|off
    rm -f "$work/err"
    : >"$work/err"
    "$kvmgdb" run --gdb tcp:127.0.0.1:0 -S "$guest" 2>>"$work/err" >/dev/null &
    pid=$!
    until grep -q "waiting for gdb" "$work/err" 2>/dev/null; do sleep 0.005; done
    port=$(sed -n 's/.*waiting for gdb on tcp:127.0.0.1:\([0-9]*\).*/\1/p' "$work/err")
    gdb -nx -q -batch -ex "target remote 127.0.0.1:$port" -ex "set var release = 1" -ex "set var loops = $iterations" \
        -ex "break loop_line" -ex "continue" -ex "next" -ex "set range-stepping $1" \
        -ex "python import time; t0 = time.perf_counter(); gdb.execute('next', to_string=True); print('NEXT_MS %.3f' % ((time.perf_counter() - t0) * 1000))" \
        -ex "print total" -ex "kill" "$guest" 2>&1 >"$work/gdb.out" || true
    wait "$pid" 2>/dev/null || true
    expected=$(( iterations * (iterations - 1) / 2 ))
    grep -q "^\$[0-9]* = $expected\$" "$work/gdb.out" || { echo "gdb did not get over the loop:" >&2; cat "$work/gdb.out" >&2; exit 1; }
    sed -n 's/^NEXT_MS //p' "$work/gdb.out"
}

for i in $(seq "$runs"); do
    measure on >>"$work/on"
    measure off >>"$work/off"
done
echo "next over a $iterations-iteration loop line ($((iterations * 8)) instructions), median of $runs runs:"
echo "  range stepping on:  $(median <"$work/on") ms (all: $(tr '\n' ' ' <"$work/on"))"
echo "  range stepping off: $(median <"$work/off") ms (all: $(tr '\n' ' ' <"$work/off"))"
