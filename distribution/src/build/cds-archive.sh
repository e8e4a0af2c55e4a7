#!/bin/sh
# Makes PRODUCT/lib/kvmgdb.jsa, the class-data-sharing archive bin/kvmgdb starts with (issue 7: most of
# kvmgdb's launch is loading and linking ~2,200 classes). Usage: cds-archive.sh PRODUCT
#
# A JDK 17 static archive (-Xshare:dump) of the classes one representative start of the product
# loads (-XX:DumpLoadedClassList), JDK classes and kvmgdb's alike: the start the way a user starts it
# (run --gdb tcp:... -S on the demo guest); where gdb and /dev/kvm are there, gdb attaches and steps,
# reads memory and kills the guest, so the session's classes are in it too; without gdb the start is
# ended once it listens; without /dev/kvm the launcher stops at opening it, and the archive holds the
# classes up to there. Static rather than dynamic (-XX:ArchiveClassesAtExit): JDK 17 archives
# picocli's Java 5 class files only in a static archive (a dynamic one skips them), and they are a
# fifth of the classes of a start (~50 ms of reading and parsing jars when not archived).
# The archive fits only this java and this lib/ (it replaces the JDK's own archive); another java,
# or a lib/ that changed, rejects it and starts without class-data sharing, quietly, only slower.
# Never fails the build: with no archive the product starts as before, only slower.
set -u
home=${1:?usage: cds-archive.sh PRODUCT}
archive=$home/lib/kvmgdb.jsa
guest=$home/share/guests/demo.elf
say() { echo "cds-archive: $*" >&2; }

rm -f "$archive"
tmp=$(mktemp -d) || exit 0
trap 'rm -rf "$tmp"' EXIT

classes=$tmp/classes.lst
: >"$tmp/err" # before the loop below reads it: the background start may not have opened it yet
KVMGDB_CDS=0 JAVA_OPTS="-XX:DumpLoadedClassList=$classes" \
    "$home/bin/kvmgdb" run --gdb tcp:127.0.0.1:0 -S "$guest" </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!

# The launcher names the port the system chose: "kvmgdb: waiting for gdb on tcp:127.0.0.1:PORT (...".
port=
waited=0
while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 600 ]; do
    port=$(sed -n 's/^kvmgdb: waiting for gdb on tcp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/err" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
    waited=$((waited + 1))
done

if [ -n "$port" ]; then
    if command -v gdb >/dev/null 2>&1; then
        # gdb's kill ends the guest and the launcher (status 137).
        timeout 120 gdb -nx -q -batch -ex "target remote 127.0.0.1:$port" -ex "stepi 20" -ex 'x/64xb $sp' \
            -ex 'info registers' -ex "break isqrt" -ex continue -ex continue -ex 'x/256xb $pc' -ex kill "$guest" \
            </dev/null >"$tmp/gdb" 2>&1 || say "gdb: $(tail -n 2 "$tmp/gdb" | tr '\n' ' ')"
    fi
    kill -0 "$pid" 2>/dev/null && kill "$pid" # no gdb, or it left the stub running
fi
# A guard against a launcher that hangs, not a timing: TERM, then KILL.
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# The same java and class path as bin/kvmgdb's (lib/* expands in the same order for the same lib/).
if [ -n "${JAVA_HOME:-}" ]; then java=$JAVA_HOME/bin/java; else java=java; fi
if [ -s "$classes" ]; then
    # -Xlog:cds=off: the dump names each class it leaves out (a few picocli ones linked before it).
    "$java" -Xshare:dump -XX:SharedClassListFile="$classes" -XX:SharedArchiveFile="$archive" -Xlog:cds=off \
        -cp "$home/lib/*" >"$tmp/dump" 2>&1 || { say "dump failed: $(tail -n 2 "$tmp/dump" | tr '\n' ' ')"; rm -f "$archive"; }
fi

if [ -s "$archive" ]; then
    say "made $archive ($(wc -c <"$archive") bytes$([ -n "$port" ] || echo '; the start did not listen: '"$(tail -n 1 "$tmp/err")"))"
else
    rm -f "$archive"
    say "no archive (bin/kvmgdb starts without one): $(tail -n 2 "$tmp/err" | tr '\n' ' ')"
fi
exit 0
