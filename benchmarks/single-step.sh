#!/bin/sh
# Single-step benchmark (not a test): KVM_RUN single steps per second from C and from Java, and
# KvmTarget steps per second, on small guest loops. Usage: benchmarks/single-step.sh [STEPS]
set -e
cd "$(dirname "$0")/.."
mvn -q -o -pl gdb-core -am test-compile
M2="${M2_REPO:-$HOME/.m2/repository}"
CP="gdb-core/target/test-classes:gdb-core/target/classes:gdb-api/target/classes:gdb-arch-x86/target/classes"
CP="$CP:$M2/net/java/dev/jna/jna/5.17.0/jna-5.17.0.jar"
CP="$CP:$M2/org/tinylog/tinylog-api/2.7.0/tinylog-api-2.7.0.jar:$M2/org/tinylog/tinylog-impl/2.7.0/tinylog-impl-2.7.0.jar"
gcc -O2 -o gdb-core/target/single-step-c gdb-core/src/test/c/bench/single_step.c
gdb-core/target/single-step-c
exec java -Dkvmgdb.testGuest=gdb-core/target/test-guest.elf -Dtinylog.level=warn -cp "$CP" org.kvmgdb.core.bench.SingleStepBenchmark "$@"
