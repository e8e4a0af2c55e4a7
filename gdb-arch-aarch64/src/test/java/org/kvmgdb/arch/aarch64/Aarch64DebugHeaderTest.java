package org.kvmgdb.arch.aarch64;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.hypervisor.KvmRunHeader;

/**
 * The guest-debug constants of {@link Aarch64GuestDebug}, {@link Aarch64StopClassifier} and
 * {@link Aarch64ExceptionRegs} against the arm64 uapi headers of {@code linux-libc-dev-arm64-cross}:
 * a C program compiled with the host gcc ({@code -nostdinc}, the arm64 include directory first, by
 * {@link Arm64Headers}; both LP64, so struct layouts agree) prints sizeof/offsetof
 * and the macros' values.
 */
class Aarch64DebugHeaderTest {
    @Test
    void guestDebugAndDebugExitLayoutsMatchTheArm64UapiHeaders(@TempDir Path dir) throws Exception {
        Arm64Headers.assumeAvailable();

        Map<String, Long> ours = new LinkedHashMap<>();
        ours.put("sizeof(struct kvm_guest_debug)", (long) Aarch64GuestDebug.SIZE);
        ours.put("offsetof(struct kvm_guest_debug, control)", (long) Aarch64GuestDebug.OFFSET_CONTROL);
        ours.put("offsetof(struct kvm_guest_debug, arch.dbg_bcr)", (long) Aarch64GuestDebug.OFFSET_DBG_BCR);
        ours.put("offsetof(struct kvm_guest_debug, arch.dbg_bvr)", (long) Aarch64GuestDebug.OFFSET_DBG_BVR);
        ours.put("offsetof(struct kvm_guest_debug, arch.dbg_wcr)", (long) Aarch64GuestDebug.OFFSET_DBG_WCR);
        ours.put("offsetof(struct kvm_guest_debug, arch.dbg_wvr)", (long) Aarch64GuestDebug.OFFSET_DBG_WVR);
        ours.put("KVM_ARM_MAX_DBG_REGS", (long) Aarch64GuestDebug.KVM_ARM_MAX_DBG_REGS);
        ours.put("KVM_SET_GUEST_DEBUG", Aarch64GuestDebug.KVM_SET_GUEST_DEBUG);
        ours.put("KVM_GUESTDBG_ENABLE", (long) Aarch64GuestDebug.KVM_GUESTDBG_ENABLE);
        ours.put("KVM_GUESTDBG_SINGLESTEP", (long) Aarch64GuestDebug.KVM_GUESTDBG_SINGLESTEP);
        ours.put("KVM_GUESTDBG_USE_SW_BP", (long) Aarch64GuestDebug.KVM_GUESTDBG_USE_SW_BP);
        ours.put("KVM_GUESTDBG_USE_HW", (long) Aarch64GuestDebug.KVM_GUESTDBG_USE_HW);
        ours.put("KVM_CAP_GUEST_DEBUG_HW_BPS", (long) Aarch64GuestDebug.KVM_CAP_GUEST_DEBUG_HW_BPS);
        ours.put("KVM_CAP_GUEST_DEBUG_HW_WPS", (long) Aarch64GuestDebug.KVM_CAP_GUEST_DEBUG_HW_WPS);
        ours.put("KVM_EXIT_DEBUG", (long) KvmRunHeader.KVM_EXIT_DEBUG);
        ours.put("KVM_EXIT_INTERNAL_ERROR", (long) KvmRunHeader.KVM_EXIT_INTERNAL_ERROR);
        ours.put("offsetof(struct kvm_run, immediate_exit)", (long) KvmRunHeader.IMMEDIATE_EXIT);
        ours.put("offsetof(struct kvm_run, exit_reason)", (long) KvmRunHeader.EXIT_REASON);
        ours.put("offsetof(struct kvm_run, debug.arch.hsr)", (long) Aarch64StopClassifier.OFFSET_DEBUG_HSR);
        ours.put("offsetof(struct kvm_run, debug.arch.hsr_high)", (long) Aarch64StopClassifier.OFFSET_DEBUG_HSR_HIGH);
        ours.put("offsetof(struct kvm_run, debug.arch.far)", (long) Aarch64StopClassifier.OFFSET_DEBUG_FAR);
        ours.put("KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(spsr[KVM_SPSR_EL1])",
                Aarch64ExceptionRegs.SPSR_EL1);
        ours.put("ARM64_SYS_REG(3, 0, 5, 2, 0)", Aarch64ExceptionRegs.ESR_EL1);
        ours.put("ARM64_SYS_REG(3, 0, 6, 0, 0)", Aarch64ExceptionRegs.FAR_EL1);
        ours.put("ARM64_SYS_REG(3, 0, 12, 0, 0)", Aarch64ExceptionRegs.VBAR_EL1);

        Arm64Headers.assertExpressionsEqual(dir, "debug", List.of("stddef.h", "linux/kvm.h"), ours);
    }
}
