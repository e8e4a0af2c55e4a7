#!/bin/sh
# kvmgdb against QEMU's gdbstub and against the raw KVM limit (issue 7). Not a test: it never fails
# on a figure. Usage: bench/run.sh [--quick]
#   full (default): 5 repetitions of every figure;  --quick: 3 (1 for QEMU's `next`, which single-steps
#   100,000 instructions over the wire, and for idle), under 10 minutes on a quiet machine.
# Installs what it needs from Debian's packages where missing (qemu-system-x86, gdb, gcc, make, maven,
# a JDK 17), builds the product when it is missing or older than its sources, builds bench/guest.
# Prints a table of medians with min and max, writes it to bench/RESULTS.md with the date and the
# machine, and ends with exactly one line:
#   RATIOS stepi=A next=B mem=C bp=D launch=E internal=F idle_cpu=G
# A-D: kvmgdb's throughput / QEMU's (higher is better); E: kvmgdb's launch-to-listening time / QEMU's;
# F: the stub's own single steps (a stepped watchpoint that never triggers) / bench/single_step.c's
# KVM_RUN loop; G: the fraction of one core the kvmgdb process uses over 10 s, guest halted, gdb
# attached and idle.
#
# Both stubs run bench/guest/bench.elf (one ELF): kvmgdb enters at its ELF entry in long mode, QEMU
# (qemu-system-x86_64 -accel tcg -S -nographic -no-reboot; -gdb tcp:127.0.0.1:PORT is -s on a free
# port) through its PVH note and the shim in pvh.S. The same gdb runs bench/figure.py against each;
# the time is taken inside gdb around the command, so connecting is not counted.
# memrand (the mem dump over random bytes, restored there first) is an extra row, not in RATIOS.
# BENCH_FIGURES="stepi bp ..." takes only those figures (the others show as failed) and writes
# bench/target/RESULTS.md instead.
set -u
cd "$(dirname "$0")/.."

mode=full reps=5 qemu_next_reps=5 idle_reps=5 watch_millis=2000
case "${1:-}" in
    --quick) mode=quick reps=3 qemu_next_reps=1 idle_reps=1 watch_millis=1000 ;;
    "") ;;
    *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

log() { echo "bench: $*" >&2; }
figures=${BENCH_FIGURES:-stepi next mem memrand bp launch internal idle}
wanted() { case " $figures " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# --- what it needs -----------------------------------------------------------------------------
missing=
for pair in qemu-system-x86_64:qemu-system-x86 gdb:gdb gcc:gcc make:make mvn:maven java:openjdk-17-jdk-headless; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then as_root=; elif command -v sudo >/dev/null 2>&1; then as_root=sudo; else
        echo "bench: missing:$missing; run as root (or install sudo)" >&2; exit 1
    fi
    log "installing$missing"
    $as_root apt-get update >&2 &&
        # shellcheck disable=SC2086
        $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2 ||
        { echo "bench: could not install$missing" >&2; exit 1; }
fi

kvmgdb=distribution/target/kvmgdb/bin/kvmgdb
work=bench/target
mkdir -p "$work"
built=$work/product-built # touched after each build here (Maven keeps an unchanged jar's old time)
if [ ! -x "$kvmgdb" ] || [ ! -f gdb-core/target/test-guest.elf ] ||
    [ ! -f gdb-core/target/test-classes/org/kvmgdb/core/bench/SteppedWatchBenchmark.class ] || [ ! -f "$built" ] ||
    [ -n "$(find pom.xml ./*/pom.xml ./*/src -newer "$built" -type f 2>/dev/null | head -n 1)" ]; then
    log "building the product (mvn -DskipTests package)"
    mvn -q -o -DskipTests package >&2 || mvn -q -DskipTests package >&2 || { echo "bench: the build failed" >&2; exit 1; }
    touch "$built"
fi
make -s -C bench/guest OUT="$(pwd)/$work" >&2 || { echo "bench: could not build bench/guest" >&2; exit 1; }
guest=$work/bench.elf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- stubs -------------------------------------------------------------------------------------
ram=128M # bench/guest/pvh.S's BENCH_RAM: the shim tells the guest this size
# A socket listens on port $1 (state 0A, TCP_LISTEN; Java's sockets are IPv6 ones even on 127.0.0.1).
listening() { cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi ":$(printf %04X "$1") [0-9A-F]*:[0-9A-F]* 0A"; }
next_port=$((20000 + $$ % 20000))
free_port() { # a port nothing listens on
    while listening "$next_port"; do next_port=$((next_port + 1)); done
    port=$next_port
    next_port=$((next_port + 1))
}
stub_command() { # $1: kvmgdb|qemu, $2: port
    if [ "$1" = kvmgdb ]; then
        echo "$kvmgdb run --gdb tcp:127.0.0.1:$2 -S --memory $ram $guest"
    else
        echo "qemu-system-x86_64 -accel tcg -gdb tcp:127.0.0.1:$2 -S -nographic -no-reboot -net none -m $ram -kernel $guest -device isa-debug-exit,iobase=0xf4,iosize=0x04"
    fi
}
start_stub() { # $1: kvmgdb|qemu; sets port and pid; 0 once it listens
    free_port
    # shellcheck disable=SC2046
    $(stub_command "$1" "$port") </dev/null >"$tmp/stub.log" 2>&1 &
    pid=$!
    waited=0
    until listening "$port"; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge 1200 ]; then
            log "$1 did not listen on port $port: $(tail -n 3 "$tmp/stub.log" | tr '\n' ' ')"
            stop_stub
            return 1
        fi
        sleep 0.05
        waited=$((waited + 1))
    done
}
stop_stub() { # the stub usually ends with gdb's kill; otherwise TERM, then KILL
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill "$pid" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# Appends one value to $tmp/STUB.FIGURE, or reports why there is none.
record() { # $1: stub, $2: figure, $3: gdb's output file
    value=$(sed -n "s/^FIGURE $2 //p" "$3" | tail -n 1)
    if [ -n "$value" ]; then
        echo "$value" >>"$tmp/$1.$2"
        log "$1 $2: $value"
    else
        log "$1 $2: no figure: $(grep -m 1 FIGURE_ERROR "$3" || tail -n 3 "$3" | tr '\n' ' ')" 2>&1 | tee -a "$tmp/notes" >&2
    fi
}

gdb_figure() { # $1: kvmgdb|qemu, $2: stepi|next|mem|memrand|bp
    start_stub "$1" || return 0
    BENCH_TARGET=127.0.0.1:$port BENCH_FIGURE=$2 BENCH_DUMP="$tmp/dump.bin" \
        timeout 900 gdb -nx -q -batch -x bench/figure.py "$guest" >"$tmp/gdb.out" 2>&1 </dev/null
    stop_stub
    grep '^NOTE' "$tmp/gdb.out" | sed "s/^NOTE /bench: $1 /" | tee -a "$tmp/notes" >&2
    record "$1" "$2" "$tmp/gdb.out"
}

launch_figure() { # $1: kvmgdb|qemu
    free_port
    BENCH_PORT=$port BENCH_LAUNCH_CMD=$(stub_command "$1" "$port") BENCH_LOG="$tmp/stub.log" \
        timeout 300 gdb -nx -q -batch -x bench/launch.py >"$tmp/launch.out" 2>&1 </dev/null
    record "$1" launch "$tmp/launch.out"
    record "$1" launch_reply "$tmp/launch.out"
}

# /proc/PID/stat: utime and stime are fields 14 and 15 (proc(5)), counted after "(comm)".
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
idle_figure() { # $1: kvmgdb|qemu
    start_stub "$1" || return 0
    rm -f "$tmp/idle.out" # not the last run's IDLE_READY, before this gdb's shell has truncated it
    BENCH_TARGET=127.0.0.1:$port BENCH_FIGURE=idle timeout 900 gdb -nx -q -batch -x bench/figure.py "$guest" \
        >"$tmp/idle.out" 2>&1 </dev/null &
    gdb_pid=$!
    waited=0
    while ! grep -q IDLE_READY "$tmp/idle.out" && [ "$waited" -lt 3000 ] && kill -0 "$gdb_pid" 2>/dev/null; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if grep -q IDLE_READY "$tmp/idle.out"; then
        sleep 1 # gdb's continue has reached the stub
        t0=$(date +%s%N) c0=$(cpu_ticks "$pid")
        sleep 10
        t1=$(date +%s%N) c1=$(cpu_ticks "$pid")
        # its own file: gdb still writes to idle.out at its own offset
        echo "FIGURE idle $(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v ns="$((t1 - t0))" \
            'BEGIN {printf "%.4f", c / hz / (ns / 1e9)}')" >"$tmp/idle.figure"
    else
        echo "FIGURE_ERROR idle gdb did not reach idle_halt (waited $((waited / 10)) s); gdb said: $(tail -n 3 "$tmp/idle.out" | tr '\n' ' ')" >"$tmp/idle.figure"
    fi
    kill "$pid" 2>/dev/null # gdb sees the connection go and ends
    stop_stub
    sleep 0.5
    kill "$gdb_pid" 2>/dev/null
    wait "$gdb_pid" 2>/dev/null
    record "$1" idle "$tmp/idle.figure"
}

internal_figure() {
    BENCH_NO_BUILD=1 bench/stepped-watch.sh "$watch_millis" 3 >"$tmp/internal.out" 2>&1 </dev/null
    sed -n 's/^RESULT c_steps_per_s=/FIGURE internal /p' "$tmp/internal.out" >"$tmp/internal.c"
    sed -n 's/^RESULT stepped_watch_steps_per_s=/FIGURE internal /p' "$tmp/internal.out" >"$tmp/internal.stub"
    [ -s "$tmp/internal.c" ] || tail -n 3 "$tmp/internal.out" >"$tmp/internal.c"
    [ -s "$tmp/internal.stub" ] || tail -n 3 "$tmp/internal.out" >"$tmp/internal.stub"
    record c internal "$tmp/internal.c"
    record kvmgdb internal "$tmp/internal.stub"
}

# --- the run -----------------------------------------------------------------------------------
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg)
log "$mode run, $reps repetitions; guest $guest"
for r in $(seq "$reps"); do
    for figure in stepi next mem memrand bp; do
        wanted "$figure" || continue
        gdb_figure kvmgdb "$figure"
        if [ "$figure" != next ] || [ "$r" -le "$qemu_next_reps" ]; then gdb_figure qemu "$figure"; fi
    done
    if wanted launch; then
        launch_figure kvmgdb
        launch_figure qemu
    fi
    if wanted internal; then internal_figure; fi
done
for r in $(seq "$idle_reps"); do
    wanted idle || break
    idle_figure kvmgdb
    idle_figure qemu
done
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg)

# --- the table ---------------------------------------------------------------------------------
stats() { # $1: file of values -> "median min max n", or "- - - 0"
    if [ -s "$1" ]; then
        sort -g "$1" | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR], NR}'
    else
        echo "- - - 0"
    fi
}
fmt() { # a number for the table
    awk -v v="$1" -v scale="${2:-1}" 'BEGIN {
        if (v == "-") { print "-"; exit }
        v = v / scale
        if (v >= 100) printf "%.0f", v; else if (v >= 1) printf "%.2f", v; else printf "%.4f", v }'
}
ratio() { # $1 / $2, or n/a
    awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "n/a"; else printf "%." d "f", a / b }'
}
met() { # $1: ratio, $2: >= or <=, $3: goal
    awk -v r="$1" -v op="$2" -v g="$3" 'BEGIN { if (r == "n/a") print "?"; else if ((op == ">=") ? r + 0 >= g : r + 0 <= g) print "yes"; else print "no" }'
}
cell() { # $1: file, $2: scale -> "median (min–max, n)"
    set -- $(stats "$1") "${2:-1}"
    if [ "$4" -eq 0 ]; then echo "failed"; else echo "$(fmt "$1" "$5") ($(fmt "$2" "$5")–$(fmt "$3" "$5"), n=$4)"; fi
}
median_of() { stats "$1" | cut -d ' ' -f 1; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
if [ -d /sys/module/kvm_pvm ]; then
    kind="PVM (kvm_pvm loaded: the host is itself a VM; guest supervisor code runs in KVM's instruction emulator)"
elif grep -qw -e vmx -e svm /proc/cpuinfo; then
    kind="hardware KVM ($(grep -ow -m 1 -e vmx -e svm /proc/cpuinfo | head -n 1))"
else
    kind="unknown (no kvm_pvm module, no vmx/svm flag)"
fi

for f in stepi next mem memrand bp launch launch_reply idle; do
    eval "k_$f=\$(median_of \"\$tmp/kvmgdb.$f\") q_$f=\$(median_of \"\$tmp/qemu.$f\")"
done
k_internal=$(median_of "$tmp/kvmgdb.internal") c_internal=$(median_of "$tmp/c.internal")
r_stepi=$(ratio "$k_stepi" "$q_stepi") r_next=$(ratio "$k_next" "$q_next") r_mem=$(ratio "$k_mem" "$q_mem")
r_memrand=$(ratio "$k_memrand" "$q_memrand") r_bp=$(ratio "$k_bp" "$q_bp") r_launch=$(ratio "$k_launch" "$q_launch")
r_launch_reply=$(ratio "$k_launch_reply" "$q_launch_reply") r_internal=$(ratio "$k_internal" "$c_internal")
r_idle=$(awk -v v="$k_idle" 'BEGIN { if (v == "-") print "n/a"; else printf "%.4f", v }')

{
    echo "# kvmgdb benchmark results"
    echo
    echo "$mode run (\`bench/run.sh$( [ "$mode" = quick ] && echo ' --quick')\`), $started, $reps repetitions per figure"
    echo "($qemu_next_reps for QEMU's \`next\`, $idle_reps for idle)."
    echo
    echo "- machine: $(nproc) CPUs, $cpu, kernel $(uname -r)"
    echo "- KVM: $kind"
    echo "- load average (1, 5, 15 min): $load_before before, $load_after after"
    echo "- $(qemu-system-x86_64 --version | head -n 1); $(gdb --version | head -n 1); $(java -version 2>&1 | head -n 1)"
    echo "- guest: bench/guest/bench.elf, the same ELF for both; QEMU: \`$(stub_command qemu PORT | sed "s|$guest|bench.elf|")\`"
    echo
    echo "Medians (min–max, n = repetitions that gave a figure)."
    echo
    echo "| figure | unit | kvmgdb | reference | reference figure | ratio | goal | met |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    echo "| stepi | \`stepi 2000\`, steps/s | $(cell "$tmp/kvmgdb.stepi") | QEMU TCG | $(cell "$tmp/qemu.stepi") | $r_stepi | ≥ 3 | $(met "$r_stepi" ">=" 3) |"
    echo "| next | \`next\` over 100,000 instructions, lines/s | $(cell "$tmp/kvmgdb.next") | QEMU TCG | $(cell "$tmp/qemu.next") | $r_next | ≥ 20 | $(met "$r_next" ">=" 20) |"
    echo "| mem | \`dump binary memory\` 16 MiB of untouched (all-zero) RAM at 16 MiB, MB/s; kvmgdb run-length encodes replies, so data without runs is slower | $(cell "$tmp/kvmgdb.mem" 1e6) | QEMU TCG | $(cell "$tmp/qemu.mem" 1e6) | $r_mem | ≥ 5 | $(met "$r_mem" ">=" 5) |"
    echo "| memrand | the same dump over 16 MiB of random bytes (\`restore\`d there first; no runs to encode); not in RATIOS | $(cell "$tmp/kvmgdb.memrand" 1e6) | QEMU TCG | $(cell "$tmp/qemu.memrand" 1e6) | $r_memrand | — | — |"
    echo "| bp | \`continue\` to a breakpoint, hits/s | $(cell "$tmp/kvmgdb.bp") | QEMU TCG | $(cell "$tmp/qemu.bp") | $r_bp | ≥ 3 | $(met "$r_bp" ">=" 3) |"
    echo "| launch | start to listening, ms | $(cell "$tmp/kvmgdb.launch") | QEMU TCG | $(cell "$tmp/qemu.launch") | $r_launch | ≤ 2 | $(met "$r_launch" "<=" 2) |"
    echo "| launch_reply | start to the reply to gdb's first packet (qSupported), ms: what a user waits for | $(cell "$tmp/kvmgdb.launch_reply") | QEMU TCG | $(cell "$tmp/qemu.launch_reply") | $r_launch_reply | — | — |"
    echo "| internal | single steps/s | $(cell "$tmp/kvmgdb.internal") (stepped watchpoint) | C \`KVM_RUN\` loop | $(cell "$tmp/c.internal") | $r_internal | ≥ 0.8 | $(met "$r_internal" ">=" 0.8) |"
    echo "| idle_cpu | fraction of one core over 10 s | $(cell "$tmp/kvmgdb.idle") | QEMU TCG (for scale) | $(cell "$tmp/qemu.idle") | $r_idle | ≤ 0.01 | $(met "$r_idle" "<=" 0.01) |"
    if [ -s "$tmp/notes" ]; then
        echo
        echo "What did not go as planned in this run:"
        echo
        sed 's/^bench: /- /' "$tmp/notes"
    fi
    echo
    echo "RATIOS stepi=$r_stepi next=$r_next mem=$r_mem bp=$r_bp launch=$r_launch internal=$r_internal idle_cpu=$r_idle"
} >"$tmp/results.md"
# Only a run of every figure is bench/RESULTS.md; one of BENCH_FIGURES goes beside it, in bench/target.
if [ -n "${BENCH_FIGURES:-}" ]; then cp "$tmp/results.md" "$work/RESULTS.md"; else cp "$tmp/results.md" bench/RESULTS.md; fi
cat "$tmp/results.md"
