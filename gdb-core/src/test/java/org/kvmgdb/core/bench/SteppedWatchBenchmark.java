package org.kvmgdb.core.bench;

import java.io.OutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.kvmgdb.core.kvm.Kvm;
import org.kvmgdb.core.kvm.KvmTarget;
import org.kvmgdb.core.kvm.TestGuest;
import org.kvmgdb.core.kvm.Vm;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;

/**
 * Single steps per second of the stub's own stepping for a watchpoint that debug registers cannot
 * serve: the test guest counts in {@code spin()} while a write watch on {@code global_counter}
 * (which the loop never writes) makes every instruction a {@code KVM_RUN} single step and a compare
 * in the vCPU thread, with no packet and no hand-off between them. The rate is counted by the guest
 * itself: {@code spin_count} increments over a timed continue, times the instructions one loop
 * iteration takes (counted first with gdb-style steps). Prints the median of several runs, and a line
 * {@code RESULT stepped_watch_steps_per_s=N} for bench/run.sh's "internal" figure. Not a test: run it
 * with {@code bench/stepped-watch.sh [MILLIS [RUNS]]}.
 */
public final class SteppedWatchBenchmark {
    private SteppedWatchBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        long millis = args.length > 0 ? Long.parseLong(args[0]) : 2000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        System.setProperty("kvmgdb.watchpoints", "single-step"); // the fallback, even on a host whose debug registers fire
        try (Kvm kvm = Kvm.open(); Vm vm = TestGuest.boot(kvm, 1, OutputStream.nullOutputStream(), TestGuest.MODE_SPIN)) {
            KvmTarget target = new KvmTarget(vm, TestGuest.x86());
            target.attach();
            long spinCount = TestGuest.address("spin_count");
            int perIteration = instructionsPerIteration(target, spinCount);
            target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, TestGuest.address("global_counter"), 4);
            double[] rates = new double[runs];
            for (int r = -1; r < runs; r++) { // run -1 warms the JIT up
                long before = read64(target, spinCount);
                CompletableFuture<StopEvent> stop = new CompletableFuture<>();
                long start = System.nanoTime();
                target.resume(ResumeRequest.all(new ResumeRequest.Continue(0)), stop::complete);
                Thread.sleep(millis);
                target.interrupt();
                StopEvent event = stop.get(10, TimeUnit.SECONDS);
                long elapsed = System.nanoTime() - start;
                if (!(event instanceof StopEvent.Signal) || ((StopEvent.Signal) event).signal() != StopEvent.SIGINT) {
                    throw new IllegalStateException("the watched continue ended with " + event);
                }
                long iterations = read64(target, spinCount) - before;
                if (r >= 0) {
                    rates[r] = iterations * perIteration / (elapsed / 1e9);
                }
            }
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            double median = runs % 2 == 1 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
            System.out.printf("stepped watchpoint (continue, %d instructions per loop iteration): median %,.0f steps/s over %d runs"
                    + " of %d ms (min %,.0f, max %,.0f)%n", perIteration, median, runs, millis, sorted[0], sorted[runs - 1]);
            System.out.printf("RESULT stepped_watch_steps_per_s=%.0f%n", median);
            target.kill();
        }
    }

    /** Steps through the spin loop until spin_count has gone up twice; the steps between are one iteration. */
    private static int instructionsPerIteration(KvmTarget target, long spinCount) throws Exception {
        ResumeRequest step = new ResumeRequest(Map.of(1, new ResumeRequest.Step(0)), null);
        long last = read64(target, spinCount);
        int changes = 0;
        int steps = 0;
        while (changes < 2) {
            CompletableFuture<StopEvent> stop = new CompletableFuture<>();
            target.resume(step, stop::complete);
            stop.get(10, TimeUnit.SECONDS);
            long now = read64(target, spinCount);
            if (now != last) {
                changes++;
                last = now;
                if (changes == 1) {
                    steps = 0;
                    continue;
                }
            }
            steps++;
        }
        return steps;
    }

    private static long read64(KvmTarget target, long address) throws Exception {
        byte[] b = new byte[8];
        target.readMemory(1, address, b, 8);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }
}
