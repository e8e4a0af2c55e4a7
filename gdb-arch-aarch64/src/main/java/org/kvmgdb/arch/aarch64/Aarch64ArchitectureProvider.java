package org.kvmgdb.arch.aarch64;

import java.util.Optional;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.arch.TargetDescription;

/**
 * AArch64 (A64, EL1 guests). Registered in
 * {@code META-INF/services/org.kvmgdb.api.arch.ArchitectureProvider}. Offers the register table,
 * {@code BRK #0} (with the I-cache sync request after each patch), register access through ONE_REG
 * (core, FP/SIMD and EL1 system registers), the stage-1 page walker, {@code KVM_SET_GUEST_DEBUG}
 * encoding (BVR/BCR, WVR/WCR, single step with DAIF masked) and stop classification from the ESR
 * exception class; and the boot state of the AArch64 guest ABI ({@link Aarch64BootState}: QEMU
 * virt's memory map, KVM_ARM_VCPU_INIT, EL1h with the MMU off), which only an arm64 host can use.
 */
public class Aarch64ArchitectureProvider implements ArchitectureProvider {
    public static final String ID = "aarch64";

    /** {@code EM_AARCH64} (include/uapi/linux/elf-em.h). */
    public static final int EM_AARCH64 = 183;

    /**
     * Built on first use, not when the registry constructs the provider: every launch on an x86 host
     * constructs it only to read its id and ELF machine, and the register table costs start-up time.
     */
    private static final class Parts {
        static final Aarch64GuestDebug GUEST_DEBUG = new Aarch64GuestDebug();
        static final StopClassifier STOP_CLASSIFIER = new Aarch64StopClassifier(GUEST_DEBUG);
        static final BootState BOOT_STATE = new Aarch64BootState();
        static final RegisterAccess REGISTER_ACCESS = new Aarch64RegisterAccess(Aarch64Registers.targetDescription());
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public int elfMachine() {
        return EM_AARCH64;
    }

    @Override
    public TargetDescription targetDescription() {
        return Aarch64Registers.targetDescription();
    }

    @Override
    public SoftwareBreakpoint softwareBreakpoint() {
        return BrkBreakpoint.INSTANCE;
    }

    @Override
    public Optional<AddressTranslator> addressTranslator() {
        return Optional.of(new Aarch64PageWalker());
    }

    @Override
    public Optional<RegisterAccess> registerAccess() {
        return Optional.of(Parts.REGISTER_ACCESS);
    }

    @Override
    public Optional<GuestDebug> guestDebug() {
        return Optional.of(Parts.GUEST_DEBUG);
    }

    @Override
    public Optional<StopClassifier> stopClassifier() {
        return Optional.of(Parts.STOP_CLASSIFIER);
    }

    @Override
    public Optional<BootState> bootState() {
        return Optional.of(Parts.BOOT_STATE);
    }
}
