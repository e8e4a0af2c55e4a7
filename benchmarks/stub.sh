#!/bin/sh
# The stub as a user meets it (a benchmark, not a test): how long `kvmgdb run -S` takes from launch
# until gdb can connect, and how many `stepi` per second real gdb gets over the wire.
# Prints medians of RUNS runs. Needs the assembled distribution (mvn -q -DskipTests package), gdb
# and /dev/kvm. Usage: benchmarks/stub.sh [RUNS] [STEPS]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-7}
steps=${2:-1000}
kvmgdb=distribution/target/kvmgdb/bin/kvmgdb
guest=distribution/target/guests/e2e.elf
[ -x "$kvmgdb" ] && [ -f "$guest" ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Launch until "waiting for gdb": the time a user waits before `target remote` can work.
for i in $(seq "$runs"); do
    rm -f "$work/err"   # a fresh file each run: never read the previous launch's port
    : >"$work/err"
    start=$(date +%s%N)
    "$kvmgdb" run --gdb tcp:127.0.0.1:0 -S "$guest" 2>>"$work/err" >/dev/null &
    pid=$!
    until grep -q "waiting for gdb" "$work/err" 2>/dev/null; do sleep 0.005; done
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 )) >>"$work/launch"
    port=$(sed -n 's/.*waiting for gdb on tcp:127.0.0.1:\([0-9]*\).*/\1/p' "$work/err")
    # gdb stepi over STEPS instructions, timed inside gdb so connection set-up is not counted.
    gdb -nx -q -batch -ex "target remote 127.0.0.1:$port" \
        -ex "python import time; t0 = time.perf_counter(); gdb.execute('stepi $steps', to_string=True); print('STEPI_SECONDS %f' % (time.perf_counter() - t0))" \
        -ex "kill" "$guest" 2>&1 | sed -n 's/^STEPI_SECONDS //p' | awk -v n="$steps" '{printf "%d\n", n / $1}' >>"$work/stepi"
    wait "$pid" 2>/dev/null || true
done
echo "launch to listening: median $(median <"$work/launch") ms over $runs runs (all: $(tr '\n' ' ' <"$work/launch"))"
echo "gdb stepi: median $(median <"$work/stepi") steps/s over $steps steps x $runs runs (all: $(tr '\n' ' ' <"$work/stepi"))"
