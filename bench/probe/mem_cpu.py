# Probe (not part of run.sh): per round trip, gdb's CPU (os.times) against the stub's (/proc/STUB_PID/stat)
# and its own service time (monitor stats), for REPS dumps of 16 MiB on one stub. Run inside gdb:
# [RANDOM_FILL=FILE_OF_16_MIB] STUB_PID=... BENCH_TARGET=127.0.0.1:PORT gdb -nx -q -batch -x bench/probe/mem_cpu.py bench/target/bench.elf
import os, sys, time, gdb
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stub_probe import run, stats, stub_cpu
import stub_probe
stub_probe.connect_at_bench_ready()
time.sleep(float(os.environ.get("SLEEP","0")))
if os.environ.get("RANDOM_FILL"):  # random bytes (no runs) instead of the untouched zeros
    run("restore %s binary 0x1000000" % os.environ["RANDOM_FILL"])
for rep in range(int(os.environ.get("REPS","3"))):
    st0 = stats(); s0 = stub_cpu(); g0 = os.times(); w0 = time.perf_counter()
    run("dump binary memory " + os.environ.get("DUMP", "/tmp/probe-dump.bin") + " 0x1000000 0x2000000")
    w = time.perf_counter() - w0; g1 = os.times(); s1 = stub_cpu(); st1 = stats()
    dp = st1[1]-st0[1]; gdb.write("STATS packets=%d serving=%.0fus/packet resumes=%d running=%.0fus/resume\n" % (dp, (st1[0]-st0[0])/max(dp,1)*1e6, st1[3]-st0[3], (st1[2]-st0[2])/max(st1[3]-st0[3],1)*1e6))
    gc = (g1.user - g0.user) + (g1.system - g0.system)
    rtt = max(dp - 1, 1)  # the m requests: the packets served but the first `monitor stats`
    gdb.write("REP wall=%.3f s MB/s=%.2f gdb_cpu=%.3f (user %.3f sys %.3f) stub_cpu=%.3f (user %.3f sys %.3f) round trips=%d per-rtt wall=%.0fus gdb=%.0fus stub=%.0fus\n" % (
        w, 16.777216/w, gc, g1.user-g0.user, g1.system-g0.system, sum(s1)-sum(s0), s1[0]-s0[0], s1[1]-s0[1], rtt, w/rtt*1e6, gc/rtt*1e6, (sum(s1)-sum(s0))/rtt*1e6))
run("kill")
