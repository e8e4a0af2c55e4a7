#!/bin/sh
# Single-step benchmark (not a test): KVM_RUN single steps per second from C (bench/single_step.c)
# and from Java through JNA, and whole KvmTarget steps per second, on small guest loops.
# Usage: bench/single-step.sh [STEPS]
set -e
cd "$(dirname "$0")/.."
. bench/classpath.sh
bench/target/single-step
exec java -Dkvmgdb.testGuest=gdb-core/target/test-guest.elf -Dtinylog.level=warn -cp "$CP" org.kvmgdb.core.bench.SingleStepBenchmark "$@"
