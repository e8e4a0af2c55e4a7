# What the probes share: gdb commands, the stub's `monitor stats` and its CPU time, and the
# connection to bench.elf stopped at bench_ready(). Imported by mem_cpu.py, bp_cpu.py and stepi_cpu.py.
import os, re, gdb

def run(c): return gdb.execute(c, to_string=True)

pid = int(os.environ["STUB_PID"])

def stats():
    """(seconds in the stub, packets, seconds running, resumes) from the stub's `monitor stats`."""
    o = run("monitor stats")
    m = re.search(r"in the stub\s+([\d.]+) s\s+\((\d+) packets", o)
    r = re.search(r"running\s+([\d.]+) s\s+\((\d+) resumes", o)
    return float(m.group(1)), int(m.group(2)), float(r.group(1)), int(r.group(2))

def stub_cpu():
    """(user, system) CPU seconds of the stub process, from /proc/STUB_PID/stat."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")",1)[1].split()
    return (int(f[11]) / os.sysconf("SC_CLK_TCK"), int(f[12]) / os.sysconf("SC_CLK_TCK"))

def connect_at_bench_ready():
    run("set pagination off"); run("set confirm off")
    run("target remote " + os.environ["BENCH_TARGET"])
    run("break bench_ready"); run("continue"); run("delete")
