#!/bin/sh
# Makes PRODUCT/lib/kvmgdb.jsa, the class-data-sharing archive bin/kvmgdb starts with (issue 7: most of
# kvmgdb's launch is loading and linking ~2,300 classes). Usage: cds-archive.sh PRODUCT
#
# A JDK 17 dynamic archive (-XX:ArchiveClassesAtExit): one representative start of the product, the
# way a user starts it (run --gdb tcp:... -S on the demo guest), is recorded and written when the JVM
# exits. Where gdb and /dev/kvm are there, gdb attaches and steps, reads memory and kills the guest,
# so the session's classes are in it too; without gdb the start is ended once it listens; without
# /dev/kvm the launcher stops at opening it, and the archive holds the classes up to there.
# The archive fits only this java and this lib/; bin/kvmgdb falls back to the jars quietly otherwise.
# Never fails the build: with no archive the product starts as before, only slower.
set -u
home=${1:?usage: cds-archive.sh PRODUCT}
archive=$home/lib/kvmgdb.jsa
guest=$home/share/guests/demo.elf
say() { echo "cds-archive: $*" >&2; }

rm -f "$archive"
tmp=$(mktemp -d) || exit 0
trap 'rm -rf "$tmp"' EXIT

# -Xlog:cds...=off: the dump lists every class it cannot archive (picocli's are Java 5 class files).
KVMGDB_CDS=0 JAVA_OPTS="-XX:ArchiveClassesAtExit=$archive -Xlog:cds=off -Xlog:cds+dynamic=off" \
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
        # gdb's kill ends the guest and the launcher (status 137), which writes the archive.
        timeout 120 gdb -nx -q -batch -ex "target remote 127.0.0.1:$port" -ex "stepi 20" -ex 'x/64xb $sp' \
            -ex 'info registers' -ex "break isqrt" -ex continue -ex continue -ex 'x/256xb $pc' -ex kill "$guest" \
            </dev/null >"$tmp/gdb" 2>&1 || say "gdb: $(tail -n 2 "$tmp/gdb" | tr '\n' ' ')"
    fi
    kill -0 "$pid" 2>/dev/null && kill "$pid" # no gdb, or it left the stub running: TERM also writes it
fi
# A guard against a launcher that hangs, not a timing: TERM, then KILL.
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

if [ -s "$archive" ]; then
    say "made $archive ($(wc -c <"$archive") bytes$([ -n "$port" ] || echo '; the start did not listen: '"$(tail -n 1 "$tmp/err")"))"
else
    rm -f "$archive"
    say "no archive (bin/kvmgdb starts without one): $(tail -n 2 "$tmp/err" | tr '\n' ' ')"
fi
exit 0
