package org.kvmgdb.arch.aarch64;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The constants of {@link Aarch64BootState} against the arm64 uapi headers of
 * {@code linux-libc-dev-arm64-cross}: struct kvm_vcpu_init's layout, the two ioctl numbers (which
 * encode its size) and the PSTATE bits, printed by a C program that {@link Arm64Headers} compiles
 * with the arm64 include directory first.
 */
class Aarch64BootStateHeaderTest {
    @Test
    void vcpuInitLayoutIoctlsAndPstateMatchTheArm64UapiHeaders(@TempDir Path dir) throws Exception {
        Arm64Headers.assumeAvailable();

        Map<String, Long> ours = new LinkedHashMap<>();
        ours.put("sizeof(struct kvm_vcpu_init)", (long) Aarch64BootState.VCPU_INIT_SIZE);
        ours.put("offsetof(struct kvm_vcpu_init, target)", (long) Aarch64BootState.OFFSET_TARGET);
        ours.put("offsetof(struct kvm_vcpu_init, features)", (long) Aarch64BootState.OFFSET_FEATURES);
        ours.put("sizeof(((struct kvm_vcpu_init *) 0)->features) / 4", (long) Aarch64BootState.FEATURE_WORDS);
        ours.put("KVM_ARM_VCPU_INIT", Aarch64BootState.KVM_ARM_VCPU_INIT);
        ours.put("KVM_ARM_PREFERRED_TARGET", Aarch64BootState.KVM_ARM_PREFERRED_TARGET);
        ours.put("PSR_MODE_EL1h", Aarch64BootState.PSR_MODE_EL1H);
        ours.put("PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT | PSR_MODE_EL1h", Aarch64BootState.BOOT_PSTATE);
        ours.put("KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pc)", KvmCoreRegs.PC);
        ours.put("KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pstate)", KvmCoreRegs.PSTATE);
        ours.put("KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(sp_el1)", KvmCoreRegs.SP_EL1);
        for (int n = 0; n <= 2; n++) {
            ours.put("KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.regs[" + n + "])", KvmCoreRegs.x(n));
        }

        Arm64Headers.assertExpressionsEqual(dir, "boot", List.of("stddef.h", "linux/kvm.h", "asm/ptrace.h"), ours);
    }
}
