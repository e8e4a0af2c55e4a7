# One gdb figure of bench/run.sh, run inside gdb (gdb -nx -q -batch -x bench/figure.py bench.elf):
# connects to BENCH_TARGET (host:port), stops at bench_ready() (on QEMU that is past the firmware and
# the PVH shim, on kvmgdb a few instructions from the ELF entry), then times BENCH_FIGURE's command
# with time.perf_counter() around gdb.execute, so connection set-up is not counted. Prints
# "FIGURE <name> <value>" (per second; for idle, "IDLE_READY" once the guest is in its hlt loop) or
# "FIGURE_ERROR <name> <why>". Each result is checked against what the guest must have done.
import os
import random
import time

import gdb

figure = os.environ["BENCH_FIGURE"]
STEPS = 2000
BP_CALLS = 1000          # bench.c's BP_CALLS
NEXT_ITERATIONS = 12500  # bench.c's NEXT_ITERATIONS
MEM_START, MEM_SIZE = 16 << 20, 16 << 20


def run(command):
    return gdb.execute(command, to_string=True)


def timed(command):
    start = time.perf_counter()
    out = run(command)
    return time.perf_counter() - start, out


def say(line):
    gdb.write(line + "\n")
    gdb.flush()


def function_name():
    f = gdb.selected_frame().function()
    return f.name if f else "?"


def check(condition, why):
    if not condition:
        raise RuntimeError(why)


def measure():
    run("set pagination off")
    run("set confirm off")
    run("target remote " + os.environ["BENCH_TARGET"])
    run("break bench_ready")
    run("continue")
    run("delete")
    check(function_name() == "bench_ready", "not stopped in bench_ready but in " + function_name())

    if figure == "stepi":
        seconds, _ = timed("stepi %d" % STEPS)
        check(function_name() == "loop_line", "stepi %d ended in %s, not loop_line" % (STEPS, function_name()))
        return STEPS / seconds
    if figure == "next":
        run("break loop_line")
        run("continue")
        run("delete")
        run("next")  # onto the loop line
        loop = gdb.selected_frame().find_sal().line
        seconds, _ = timed("next")
        line = gdb.selected_frame().find_sal().line
        total = int(gdb.parse_and_eval("total"))
        check(line == loop + 1, "next went from line %d to %d" % (loop, line))
        check(total == NEXT_ITERATIONS * (NEXT_ITERATIONS - 1) // 2, "total is %d after the loop" % total)
        return 1 / seconds
    if figure == "mem":
        path = os.environ["BENCH_DUMP"]
        seconds, _ = timed("dump binary memory %s 0x%x 0x%x" % (path, MEM_START, MEM_START + MEM_SIZE))
        size = os.path.getsize(path)
        os.remove(path)
        check(size == MEM_SIZE, "the dump holds %d bytes" % size)
        return MEM_SIZE / seconds
    if figure == "memrand":
        # The same dump over random bytes (no runs to encode), written there first with `restore`.
        path = os.environ["BENCH_DUMP"]
        data = random.Random(7).randbytes(MEM_SIZE)
        with open(path + ".in", "wb") as f:
            f.write(data)
        run("restore %s binary 0x%x" % (path + ".in", MEM_START))
        os.remove(path + ".in")
        seconds, _ = timed("dump binary memory %s 0x%x 0x%x" % (path, MEM_START, MEM_START + MEM_SIZE))
        with open(path, "rb") as f:
            dumped = f.read()
        os.remove(path)
        check(dumped == data, "the dump is not the random bytes restored (%d bytes)" % len(dumped))
        return MEM_SIZE / seconds
    if figure == "bp":
        run("break bp_target")
        hits = others = 0
        last = -1
        start = time.perf_counter()
        while hits < BP_CALLS:
            out = run("continue")
            here = function_name()
            i = int(gdb.parse_and_eval("i")) if here == "bp_target" else None
            if i == last + 1:  # the next call's hit
                hits += 1
                last = i
                continue
            # any other stop is counted and said; the figure still times BP_CALLS hits
            others += 1
            say("NOTE bp: continue %d stopped in %s (i = %s, last hit i = %d) at %s %s" % (
                hits + others, here, i, last, gdb.parse_and_eval("$pc"), out.strip().replace("\n", " ")))
            check(others <= 10, "more than 10 continues stopped elsewhere than at the next hit")
        seconds = time.perf_counter() - start
        i = int(gdb.parse_and_eval("i"))
        check(i == BP_CALLS - 1, "after %d hits of bp_target, i = %d" % (BP_CALLS, i))
        return BP_CALLS / seconds
    if figure == "idle":
        run("break idle_halt")
        run("continue")
        run("delete")
        say("IDLE_READY")
        run("continue")  # the guest halts for ever: run.sh measures, then ends the stub
        return None
    raise RuntimeError("unknown figure " + figure)


try:
    value = measure()
    if value is not None:
        say("FIGURE %s %.3f" % (figure, value))
        run("kill")
except Exception as e:  # never a Python traceback: run.sh reports the line and goes on
    say("FIGURE_ERROR %s %s" % (figure, str(e).replace("\n", " ")))
