# Sourced by bench/single-step.sh and bench/stepped-watch.sh: compiles gdb-core's test classes (where
# the in-JVM benchmarks live, next to the TestGuest they boot) unless BENCH_NO_BUILD=1 (bench/run.sh
# has built everything), builds bench/single_step.c into bench/target/single-step, and sets CP.
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    mvn -q -o -pl gdb-core -am test-compile || mvn -q -pl gdb-core -am test-compile
fi
mkdir -p bench/target
gcc -O2 -o bench/target/single-step bench/single_step.c
M2="${M2_REPO:-$HOME/.m2/repository}"
CP="gdb-core/target/test-classes:gdb-core/target/classes:gdb-api/target/classes:gdb-arch-x86/target/classes"
CP="$CP:$M2/net/java/dev/jna/jna/5.17.0/jna-5.17.0.jar"
CP="$CP:$M2/org/tinylog/tinylog-api/2.7.0/tinylog-api-2.7.0.jar:$M2/org/tinylog/tinylog-impl/2.7.0/tinylog-impl-2.7.0.jar"
