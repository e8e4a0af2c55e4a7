# The launch figure of bench/run.sh, run inside gdb (gdb -nx -q -batch -x bench/launch.py) for its
# Python: starts BENCH_LAUNCH_CMD and times it until a socket listens on 127.0.0.1:BENCH_PORT, as
# /proc/net/tcp shows it. Polling /proc rather than connecting leaves the stub untouched (a probe
# connection would count as a debugger that attached and left). Then, as a second figure, what a user
# waits for: it connects as gdb does and times, from the same start, the stub's reply to gdb's first
# packet (qSupported). Then ends the process. Prints "FIGURE launch <milliseconds>" and
# "FIGURE launch_reply <milliseconds>", or "FIGURE_ERROR <figure> <why>" for the one that failed.
import os
import shlex
import socket
import subprocess
import time

import gdb


def listening(port):
    wanted = ":%04X" % port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):  # Java listens on an IPv6 socket even for 127.0.0.1
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    # local_address is "ADDRESS:PORT" in hex; st 0A is TCP_LISTEN (include/net/tcp_states.h)
                    if fields[1].endswith(wanted) and fields[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def first_reply(port, start):
    """Sends gdb's first packet and waits for a whole reply packet ($...#xx); returns its time."""
    body = b"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(b"$" + body + b"#%02x" % (sum(body) & 0xFF))
        received = b""
        while True:
            data = s.recv(4096)
            if not data:
                raise RuntimeError("the stub closed the connection before replying to qSupported")
            received += data
            dollar = received.find(b"$")
            hash_ = received.find(b"#", dollar + 1) if dollar >= 0 else -1
            if hash_ >= 0 and len(received) >= hash_ + 3:
                return time.perf_counter() - start


def say(line):
    gdb.write(line + "\n")
    gdb.flush()


port = int(os.environ["BENCH_PORT"])
argv = shlex.split(os.environ["BENCH_LAUNCH_CMD"])
log = open(os.environ["BENCH_LOG"], "wb")
start = time.perf_counter()
process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
figure = "launch"  # the figure being taken, for the error line
try:
    while not listening(port):
        if process.poll() is not None:
            raise RuntimeError("%s ended with status %d before listening" % (argv[0], process.returncode))
        if time.perf_counter() - start > 120:
            raise RuntimeError("%s did not listen on port %d within 120 s" % (argv[0], port))
        time.sleep(0.0005)
    say("FIGURE launch %.3f" % ((time.perf_counter() - start) * 1000))
    figure = "launch_reply"
    say("FIGURE launch_reply %.3f" % (first_reply(port, start) * 1000))
except Exception as e:
    say("FIGURE_ERROR %s %s" % (figure, e))
finally:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
