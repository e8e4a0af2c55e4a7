package org.kvmgdb.core.kvm;

import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.hypervisor.KvmRunHeader;
import org.tinylog.Logger;

/**
 * Whether data breakpoints (debug-register watchpoints) fire on this host, found once per process
 * and architecture by a self-test: a scratch VM of 128 KiB runs the architecture's
 * {@link GuestDebug#dataWriteProbe} (x86: {@code movb $1, DATA; hlt}) with a one-byte write slot
 * on {@code DATA}. A debug exit that the classifier calls a watchpoint means they fire; the
 * {@code hlt} exit with the byte written means they do not (this project's PVM hosts: the guest's
 * kernel-mode code runs in KVM's instruction emulator, which checks code breakpoints only, see
 * KVM-HERE.md). The probe measures instead of guessing from the host's name, so a hardware host
 * that does fire gets its debug registers, and any host that does not gets the stepped fallback.
 *
 * <p>{@code -Dkvmgdb.watchpoints=debug-registers} or {@code =single-step} skip the probe and force
 * one way; {@code auto} (the default) probes.
 */
final class DataBreakpointProbe {
    static final String PROPERTY = "kvmgdb.watchpoints";

    /** Probe layout, as offsets from the platform's RAM base: code and data in the first pages above the VMM's reserved memory. */
    static final long RAM = Vm.RESERVED_LOW_MEMORY + 0x10000;
    static final long CODE = Vm.RESERVED_LOW_MEMORY;
    static final long DATA = Vm.RESERVED_LOW_MEMORY + 0x1000;
    /** KVM_RUN attempts before giving up (each signal that interrupts one costs an attempt). */
    private static final int ATTEMPTS = 16;

    private static final Map<String, Boolean> RESULTS = new ConcurrentHashMap<>();

    private DataBreakpointProbe() {
    }

    /**
     * Whether watchpoints can use debug registers with {@code arch} on {@code kernel}: the property,
     * or the probe, run in a scratch VM of that same kernel (cached for the host's).
     */
    static boolean debugRegistersFire(KvmKernel kernel, ArchitectureProvider arch) {
        String forced = System.getProperty(PROPERTY, "auto").trim();
        switch (forced) {
            case "debug-registers":
                return true;
            case "single-step":
                return false;
            case "auto":
                break;
            default:
                Logger.warn("-D{}={} is not one of auto, debug-registers, single-step: probing", PROPERTY, forced);
                break;
        }
        if (kernel != KvmKernel.host()) {
            return probeOnce(kernel, arch); // a simulated kernel: its answer is its own, not this host's
        }
        return RESULTS.computeIfAbsent(arch.id(), id -> probeOnce(kernel, arch));
    }

    private static boolean probeOnce(KvmKernel kernel, ArchitectureProvider arch) {
        long start = System.nanoTime();
        boolean fire;
        try (Kvm kvm = Kvm.open(kernel)) {
            fire = probe(kvm, arch);
        } catch (RuntimeException e) {
            Logger.warn(e, "the data breakpoint probe failed; watchpoints are emulated by single-stepping");
            fire = false;
        }
        Logger.info("data breakpoints {} on this host ({} probe, {} ms): watchpoints {}", fire ? "fire" : "never fire", arch.id(),
                (System.nanoTime() - start) / 1_000_000, fire ? "use the debug registers" : "are emulated by single-stepping");
        return fire;
    }

    /** Runs the probe guest in a scratch VM of {@code kvm}. */
    static boolean probe(Kvm kvm, ArchitectureProvider arch) {
        Optional<GuestDebug> debug = arch.guestDebug();
        Optional<StopClassifier> classifier = arch.stopClassifier();
        Optional<BootState> boot = arch.bootState();
        long ramBase = boot.map(b -> b.platform().ramBase()).orElse(0L);
        long codeAt = ramBase + CODE;
        long dataAt = ramBase + DATA;
        Optional<byte[]> code = debug.flatMap(d -> d.dataWriteProbe(codeAt, dataAt));
        if (debug.isEmpty() || classifier.isEmpty() || boot.isEmpty() || code.isEmpty()) {
            Logger.debug("architecture {} has no data breakpoint probe: trusting its slots", arch.id());
            return true;
        }
        try (Vm vm = kvm.createVm(new Vm.Config(RAM, 1, OutputStream.nullOutputStream(), boot.get().platform()))) {
            vm.boot(boot.get(), codeAt);
            vm.memory().write(codeAt, code.get(), 0, code.get().length);
            Vcpu vcpu = vm.vcpus().get(0);
            HardwareSlot slot = new HardwareSlot(HardwareSlot.Kind.WRITE, dataAt, 1);
            debug.get().apply(vcpu, new DebugControl(false, false, false, List.of(slot)));
            // The vCPU's own thread is idle until started, so this thread may run it (Vcpu#enter).
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                if (!vcpu.enter()) {
                    continue;
                }
                int reason = vcpu.exitReason();
                Optional<DebugStop> stop = classifier.get().classify(vcpu, reason, vcpu.kvmRun());
                if (stop.isPresent()) {
                    boolean watch = stop.get().kind() == DebugStop.Kind.WATCHPOINT && stop.get().slot() == 0;
                    if (!watch) {
                        Logger.warn("data breakpoint probe: unexpected debug stop {}", stop.get());
                    }
                    return watch;
                }
                if (reason == KvmRunHeader.KVM_EXIT_HLT) {
                    byte[] b = new byte[1];
                    vm.memory().read(dataAt, b, 0, 1);
                    if (b[0] != 1) {
                        Logger.warn("data breakpoint probe: halted without writing its byte");
                    }
                    return false;
                }
                if (reason != KvmRunHeader.KVM_EXIT_INTR) {
                    Logger.warn("data breakpoint probe: unexpected {}", KvmRunHeader.exitName(reason));
                    return false;
                }
            }
            Logger.warn("data breakpoint probe: no exit after {} attempts", ATTEMPTS);
            return false;
        }
    }
}
