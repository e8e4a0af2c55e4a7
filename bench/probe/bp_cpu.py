# Probe (not part of run.sh): per breakpoint hit (continue + reading i), gdb's CPU against the stub's
# and monitor stats, two rounds of N hits. Run like mem_cpu.py (STUB_PID, BENCH_TARGET, N).
import os, sys, time, gdb
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stub_probe import run, stats, stub_cpu
import stub_probe
stub_probe.connect_at_bench_ready()
run("break bp_target")
N=int(os.environ.get("N","300"))
for rep in range(2):
    st0 = stats(); s0 = stub_cpu(); g0 = os.times(); w0 = time.perf_counter()
    for k in range(N):
        run("continue")
        int(gdb.parse_and_eval("i"))
    w = time.perf_counter() - w0; g1 = os.times(); s1 = stub_cpu(); st1 = stats()
    dp = st1[1]-st0[1]; gdb.write("STATS packets=%d serving=%.0fus/packet resumes=%d running=%.0fus/resume\n" % (dp, (st1[0]-st0[0])/max(dp,1)*1e6, st1[3]-st0[3], (st1[2]-st0[2])/max(st1[3]-st0[3],1)*1e6))
    gc = (g1.user - g0.user) + (g1.system - g0.system)
    gdb.write("BP hits/s=%.0f per-hit wall=%.0fus gdb_cpu=%.0fus (user %.0f sys %.0f) stub_cpu=%.0fus (user %.0f sys %.0f)\n" % (N/w, w/N*1e6, gc/N*1e6, (g1.user-g0.user)/N*1e6, (g1.system-g0.system)/N*1e6, (sum(s1)-sum(s0))/N*1e6, (s1[0]-s0[0])/N*1e6, (s1[1]-s0[1])/N*1e6))
if os.environ.get("MARK"):
    open(os.environ.get("MARK"),"w").write("go"); time.sleep(1)
    for k in range(3):
        run("continue"); int(gdb.parse_and_eval("i"))
run("kill")
