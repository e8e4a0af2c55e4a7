package org.kvmgdb.core.bench;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.arch.x86.X86GuestDebug;
import org.kvmgdb.core.kvm.Kvm;
import org.kvmgdb.core.kvm.KvmTarget;
import org.kvmgdb.core.kvm.TestGuest;
import org.kvmgdb.core.kvm.Vcpu;
import org.kvmgdb.core.kvm.Vm;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;

/**
 * Single steps per second on the test guest's spin loop, two ways:
 * <ol>
 * <li>raw: a Java loop of {@code KVM_RUN} ({@link Vcpu#enter}) with KVM_GUESTDBG_SINGLESTEP through the JNA direct
 *     binding, each exit checked to be KVM_EXIT_DEBUG: the figure to put next to KVM-HERE.md's C loop;</li>
 * <li>target: {@link KvmTarget} steps, each a full resume round (vCPU thread hand-off, stop
 *     classification, all-stop bookkeeping, the listener), what a gdb {@code stepi} costs the stub
 *     without the packets.</li>
 * </ol>
 * Prints the median of several runs. Not a test: run it by hand with {@code bench/single-step.sh}.
 */
public final class SingleStepBenchmark {
    /** KVM_EXIT_DEBUG, include/uapi/linux/kvm.h; kvm_run.exit_reason is the __u32 at offset 8. */
    private static final int KVM_EXIT_DEBUG = 4, EXIT_REASON = 8;
    private static final int RUNS = 7;

    private SingleStepBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        try (Kvm kvm = Kvm.open(); Vm vm = TestGuest.boot(kvm, 1, OutputStream.nullOutputStream(), TestGuest.MODE_SPIN)) {
            raw(vm, steps);
            target(vm, Math.max(1, steps / 10));
        }
    }

    private static void raw(Vm vm, int steps) {
        Vcpu vcpu = vm.vcpus().get(0);
        new X86GuestDebug().apply(vcpu, new DebugControl(true, false, true, List.of()));
        ByteBuffer run = vcpu.kvmRun();
        double[] rates = new double[RUNS];
        for (int r = -1; r < RUNS; r++) { // run -1 warms the JIT up
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                vcpu.enter();
                if (run.getInt(EXIT_REASON) != KVM_EXIT_DEBUG) {
                    throw new IllegalStateException("exit reason " + run.getInt(EXIT_REASON) + " instead of KVM_EXIT_DEBUG");
                }
            }
            long elapsed = System.nanoTime() - start;
            if (r >= 0) {
                rates[r] = steps / (elapsed / 1e9);
            }
        }
        report("raw KVM_RUN single steps (JNA direct mapping)", steps, rates);
        new X86GuestDebug().apply(vcpu, DebugControl.OFF);
    }

    private static void target(Vm vm, int steps) throws Exception {
        KvmTarget target = new KvmTarget(vm, TestGuest.x86());
        target.attach();
        ResumeRequest step = new ResumeRequest(Map.of(1, new ResumeRequest.Step(0)), null);
        double[] rates = new double[RUNS];
        for (int r = -1; r < RUNS; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                CompletableFuture<StopEvent> stop = new CompletableFuture<>();
                target.resume(step, stop::complete);
                StopEvent event = stop.get(10, TimeUnit.SECONDS);
                if (!(event instanceof StopEvent.Signal)) {
                    throw new IllegalStateException("a step ended with " + event);
                }
            }
            long elapsed = System.nanoTime() - start;
            if (r >= 0) {
                rates[r] = steps / (elapsed / 1e9);
            }
        }
        report("KvmTarget steps (resume round per step)", steps, rates);
        target.kill();
    }

    private static void report(String what, int steps, double[] rates) {
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        System.out.printf("%s: median %,.0f steps/s over %d runs of %,d steps (min %,.0f, max %,.0f)%n",
                what, sorted[sorted.length / 2], rates.length, steps, sorted[0], sorted[sorted.length - 1]);
    }
}
