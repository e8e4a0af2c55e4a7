package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ONE_REG ids of the system feature against the arm64 uapi headers (via
 * {@link Arm64Headers}): every system register's id as the header's
 * {@code ARM64_SYS_REG(op0, op1, crn, crm, op2)} computes it from our encoding, cntvct_el0 as the
 * header's own {@code KVM_REG_ARM_TIMER_CNT}, and the core-register ones (elr_el1,
 * {@code spsr[KVM_SPSR_EL1]}, sp_el0 = {@code regs.sp}, sp_el1) by offsetof, each compared with
 * what {@link Aarch64RegisterAccess} actually asks KVM for.
 */
class KvmSysRegsHeaderTest {
    @Test
    void everySystemFeatureIdMatchesTheArm64UapiHeaders(@TempDir Path dir) throws Exception {
        Arm64Headers.assumeAvailable();

        Map<String, String> expressions = new LinkedHashMap<>();
        sys(expressions, "sctlr_el1", KvmSysRegs.SCTLR_EL1);
        sys(expressions, "tcr_el1", KvmSysRegs.TCR_EL1);
        sys(expressions, "ttbr0_el1", KvmSysRegs.TTBR0_EL1);
        sys(expressions, "ttbr1_el1", KvmSysRegs.TTBR1_EL1);
        sys(expressions, "mair_el1", KvmSysRegs.MAIR_EL1);
        sys(expressions, "vbar_el1", KvmSysRegs.VBAR_EL1);
        sys(expressions, "esr_el1", KvmSysRegs.ESR_EL1);
        sys(expressions, "far_el1", KvmSysRegs.FAR_EL1);
        sys(expressions, "tpidr_el1", KvmSysRegs.TPIDR_EL1);
        sys(expressions, "contextidr_el1", KvmSysRegs.CONTEXTIDR_EL1);
        expressions.put("cntvct_el0", "KVM_REG_ARM_TIMER_CNT");
        expressions.put("elr_el1", core("elr_el1"));
        expressions.put("spsr_el1", core("spsr[KVM_SPSR_EL1]"));
        expressions.put("sp_el0", core("regs.sp"));
        expressions.put("sp_el1", core("sp_el1"));

        StringBuilder c = new StringBuilder();
        c.append("int printf(const char *, ...);\n#include <stddef.h>\n#include <linux/kvm.h>\n");
        c.append("int main(void) {\n");
        expressions.forEach((name, expr) -> c.append("  printf(\"").append(name).append(" %llx\\n\", (unsigned long long) (")
                .append(expr).append("));\n"));
        c.append("  return 0;\n}\n");
        String output = Arm64Headers.compileAndRun(dir, "sysids", c);

        Map<String, Long> theirs = new LinkedHashMap<>();
        for (String l : output.lines().toList()) {
            String[] parts = l.split(" ");
            theirs.put(parts[0], Long.parseUnsignedLong(parts[1], 16));
        }
        assertEquals(List.copyOf(Aarch64Registers.SYS_REGISTERS).stream().sorted().toList(),
                theirs.keySet().stream().sorted().toList(), "every register of the system feature is checked");
        for (String name : Aarch64Registers.SYS_REGISTERS) {
            assertEquals(Long.toHexString(theirs.get(name)), Long.toHexString(idReadFor(name)), name);
        }
    }

    /** The id {@link Aarch64RegisterAccess} reads for {@code name}: the one GET_ONE_REG a {@code p} makes. */
    private static long idReadFor(String name) {
        var d = Aarch64Registers.targetDescription();
        var vcpu = new org.kvmgdb.api.arch.contract.KernelLikeVcpu(0);
        new Aarch64RegisterAccess(d).readRegister(vcpu, d, d.register(name).orElseThrow().regnum());
        assertEquals(1, vcpu.calls().size(), name + " is read with one ioctl: " + vcpu.calls());
        assertEquals("KVM_GET_ONE_REG", vcpu.calls().get(0).op());
        return vcpu.calls().get(0).requestOrId();
    }

    private static void sys(Map<String, String> expressions, String name, KvmSysRegs.Encoding e) {
        expressions.put(name, "ARM64_SYS_REG(" + e.op0() + ", " + e.op1() + ", " + e.crn() + ", " + e.crm() + ", " + e.op2() + ")");
    }

    private static String core(String member) {
        return "KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(" + member + ")";
    }
}
