package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.Platform;
import org.kvmgdb.api.hypervisor.Ioctls;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.tinylog.Logger;

/**
 * The guest ABI of DESIGN.md in AArch64 form (issue 5, "Boot state for arm64 hosts"), on the
 * {@link Aarch64Platform#VIRT} memory map: RAM at guest-physical 0x4000_0000, every vCPU at the ELF
 * entry in EL1h with the MMU off and DAIF set, {@code x0} = vCPU index, {@code x1} = vCPU count,
 * {@code x2} = RAM size, {@code SP_EL1} = top of RAM - index x 64 KiB (the x86 {@code RSP} rule,
 * counted from the platform's RAM base).
 *
 * <p>Per vCPU: {@code KVM_ARM_PREFERRED_TARGET} on the VM, then {@code KVM_ARM_VCPU_INIT} with that
 * target and no optional features (so no {@code KVM_ARM_VCPU_POWER_OFF}: every vCPU runs from the
 * entry, as on x86), then the registers by {@code KVM_SET_ONE_REG}. KVM's vCPU reset, done by
 * VCPU_INIT, leaves SCTLR_EL1.M = 0 (the MMU off), which is what the ABI promises, so SCTLR_EL1 is
 * not written.
 *
 * <p>Nothing is written to memory: with the MMU off the guest needs no page tables. The 64 KiB the
 * VMM keeps at the start of RAM simply stay empty.
 */
public final class Aarch64BootState implements BootState {
    /** Each vCPU's stack, as on x86. */
    static final long STACK_PER_VCPU = 64 * 1024;

    // struct kvm_vcpu_init (arch/arm64/include/uapi/asm/kvm.h): __u32 target; __u32 features[7];
    static final int OFFSET_TARGET = 0;
    static final int OFFSET_FEATURES = 4;
    static final int FEATURE_WORDS = 7;
    /** sizeof(struct kvm_vcpu_init). */
    static final int VCPU_INIT_SIZE = OFFSET_FEATURES + 4 * FEATURE_WORDS; // 32

    /** include/uapi/linux/kvm.h: {@code _IOW(KVMIO, 0xae, struct kvm_vcpu_init)}, on the vCPU fd. */
    static final long KVM_ARM_VCPU_INIT = Ioctls.iow(Ioctls.KVMIO, 0xae, VCPU_INIT_SIZE);
    /** include/uapi/linux/kvm.h: {@code _IOR(KVMIO, 0xaf, struct kvm_vcpu_init)}, on the VM fd. */
    static final long KVM_ARM_PREFERRED_TARGET = Ioctls.ior(Ioctls.KVMIO, 0xaf, VCPU_INIT_SIZE);

    // PSTATE bits (arch/arm64/include/uapi/asm/ptrace.h).
    /** PSR_MODE_EL1h: EL1 using SP_EL1. */
    static final long PSR_MODE_EL1H = 0x5;
    static final long PSR_F_BIT = 0x40, PSR_I_BIT = 0x80, PSR_A_BIT = 0x100, PSR_D_BIT = 0x200;
    /** EL1h, debug exceptions, SError, IRQ and FIQ masked: 0x3c5. */
    static final long BOOT_PSTATE = PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT | PSR_MODE_EL1H;

    @Override
    public Platform platform() {
        return Aarch64Platform.VIRT;
    }

    /**
     * Writes nothing (no boot structures with the MMU off); refuses, before any vCPU is touched, RAM
     * that is not where the platform says or that has no room for every vCPU's stack above the VMM's
     * reserved bytes.
     */
    @Override
    public void prepareMemory(PhysicalMemory memory, BootParameters p) {
        if (memory.base() != Aarch64Platform.RAM_BASE) {
            throw new IllegalArgumentException(String.format(
                    "AArch64 RAM must start at guest-physical 0x%x, this VM's starts at 0x%x", Aarch64Platform.RAM_BASE, memory.base()));
        }
        if (memory.size() != p.ramSize()) {
            throw new IllegalArgumentException("RAM is " + memory.size() + " bytes, the boot parameters say " + p.ramSize());
        }
        if (p.vcpuCount() < 1 || p.vcpuCount() * STACK_PER_VCPU > p.ramSize() - p.reservedBytes()) {
            throw new IllegalArgumentException(String.format("%d vCPU stacks of 64 KiB do not fit in %d MiB of RAM above the %d KiB reserved",
                    p.vcpuCount(), p.ramSize() >> 20, p.reservedBytes() >> 10));
        }
    }

    @Override
    public void boot(VcpuHandle vcpu, BootParameters p) {
        int index = vcpu.index();
        long ramBase = vcpu.vm().memory().base();
        long stackTop = stackTop(ramBase, p.ramSize(), index);
        if (index < 0 || index >= p.vcpuCount() || stackTop - STACK_PER_VCPU < ramBase + p.reservedBytes()) {
            throw new IllegalArgumentException("no room for the stack of vCPU " + index + " in " + p.ramSize() + " bytes of RAM");
        }

        // KVM_ARM_PREFERRED_TARGET fills a whole kvm_vcpu_init: the host CPU's target and zero features.
        ByteBuffer init = VcpuHandle.buffer(VCPU_INIT_SIZE);
        vcpu.vm().ioctl(KVM_ARM_PREFERRED_TARGET, init);
        int target = init.getInt(OFFSET_TARGET);
        for (int i = 0; i < FEATURE_WORDS; i++) {
            init.putInt(OFFSET_FEATURES + 4 * i, 0); // no PSCI power-off, no SVE, no pointer auth, no PMU
        }
        vcpu.ioctl(KVM_ARM_VCPU_INIT, init);
        Logger.debug("vCPU {}: KVM_ARM_VCPU_INIT with target {}", index, target);

        setOneReg(vcpu, KvmCoreRegs.PC, p.entryPoint());
        setOneReg(vcpu, KvmCoreRegs.PSTATE, BOOT_PSTATE);
        setOneReg(vcpu, KvmCoreRegs.x(0), index);
        setOneReg(vcpu, KvmCoreRegs.x(1), p.vcpuCount());
        setOneReg(vcpu, KvmCoreRegs.x(2), p.ramSize());
        setOneReg(vcpu, KvmCoreRegs.SP_EL1, stackTop);
    }

    /** Top of vCPU {@code index}'s stack: the end of RAM minus 64 KiB per vCPU before it, 16-byte aligned (SP alignment). */
    static long stackTop(long ramBase, long ramSize, int index) {
        return (ramBase + ramSize - index * STACK_PER_VCPU) & ~0xFL;
    }

    private static void setOneReg(VcpuHandle vcpu, long id, long value) {
        ByteBuffer b = VcpuHandle.buffer(8);
        b.putLong(0, value);
        vcpu.setOneReg(id, b);
    }
}
