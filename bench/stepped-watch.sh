#!/bin/sh
# Stepped watchpoint benchmark (not a test), bench/run.sh's "internal" figure: single steps per
# second of the stub's own stepping for a write watchpoint that debug registers cannot serve (one
# that never triggers, on a guest loop), next to bench/single_step.c's loop of KVM_RUN single steps
# on the same machine at the same moment, the physical limit. Both print a "RESULT name=N" line.
# Usage: bench/stepped-watch.sh [MILLIS [RUNS]] (default 2000 ms, 5 runs; C does RUNS runs of
# 200,000 steps).
set -e
cd "$(dirname "$0")/.."
. bench/classpath.sh
bench/target/single-step 200000 "${2:-5}"
exec java -Dkvmgdb.testGuest=gdb-core/target/test-guest.elf -Dtinylog.level=warn -cp "$CP" org.kvmgdb.core.bench.SteppedWatchBenchmark "$@"
