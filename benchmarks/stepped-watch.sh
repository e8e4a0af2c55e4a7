#!/bin/sh
# Stepped watchpoint benchmark (not a test): single steps per second of the stub's own stepping for
# a write watchpoint that debug registers cannot serve, next to a C loop of KVM_RUN single steps on
# the same machine at the same moment (KVM-HERE.md's figure). Usage: benchmarks/stepped-watch.sh [MILLIS]
set -e
cd "$(dirname "$0")/.."
mvn -q -o -pl gdb-core -am test-compile
M2="${M2_REPO:-$HOME/.m2/repository}"
CP="gdb-core/target/test-classes:gdb-core/target/classes:gdb-api/target/classes:gdb-arch-x86/target/classes"
CP="$CP:$M2/net/java/dev/jna/jna/5.17.0/jna-5.17.0.jar"
CP="$CP:$M2/org/tinylog/tinylog-api/2.7.0/tinylog-api-2.7.0.jar:$M2/org/tinylog/tinylog-impl/2.7.0/tinylog-impl-2.7.0.jar"
gcc -O2 -o gdb-core/target/single-step-c gdb-core/src/test/c/bench/single_step.c
gdb-core/target/single-step-c
exec java -Dkvmgdb.testGuest=gdb-core/target/test-guest.elf -Dtinylog.level=warn -cp "$CP" org.kvmgdb.core.bench.SteppedWatchBenchmark "$@"
