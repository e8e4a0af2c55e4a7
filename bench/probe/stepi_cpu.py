# Probe (not part of run.sh): per `stepi`, gdb's CPU against the stub's (user and system apart) and the
# packets per step, for REPS rounds of `stepi N` on one stub. Run like mem_cpu.py:
# STUB_PID=... BENCH_TARGET=127.0.0.1:PORT [N=2000] [REPS=3] gdb -nx -q -batch -x bench/probe/stepi_cpu.py bench/target/bench.elf
import os, sys, time, gdb
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stub_probe import run, stats, stub_cpu
import stub_probe
stub_probe.connect_at_bench_ready()
N = int(os.environ.get("N", "2000"))
for rep in range(int(os.environ.get("REPS", "3"))):
    st0 = stats(); s0 = stub_cpu(); g0 = os.times(); w0 = time.perf_counter()
    run("stepi %d" % N)
    w = time.perf_counter() - w0; g1 = os.times(); s1 = stub_cpu(); st1 = stats()
    gc = (g1.user - g0.user) + (g1.system - g0.system)
    gdb.write("STEPI steps/s=%.0f packets/step=%.2f wall=%.0fus gdb_cpu=%.0fus (user %.0f sys %.0f) stub_cpu=%.0fus (user %.0f sys %.0f)\n" % (
        N / w, (st1[1] - st0[1]) / N, w / N * 1e6, gc / N * 1e6, (g1.user - g0.user) / N * 1e6, (g1.system - g0.system) / N * 1e6,
        (sum(s1) - sum(s0)) / N * 1e6, (s1[0] - s0[0]) / N * 1e6, (s1[1] - s0[1]) / N * 1e6))
run("kill")
