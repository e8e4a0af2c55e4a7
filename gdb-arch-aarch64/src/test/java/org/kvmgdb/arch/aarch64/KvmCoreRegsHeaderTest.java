package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ONE_REG ids of {@link KvmCoreRegs} against the kernel's own arm64 uapi headers, as Debian's
 * {@code linux-libc-dev-arm64-cross} installs them under /usr/aarch64-linux-gnu/include: a small C
 * program computes every id with the headers' {@code KVM_REG_ARM_CORE_REG()} (offsetof) and prints
 * it, compiled with the host gcc by {@link Arm64Headers} (struct kvm_regs has the arm64 layout there).
 */
class KvmCoreRegsHeaderTest {
    @Test
    void everyCoreRegisterIdMatchesTheArm64UapiHeaders(@TempDir Path dir) throws Exception {
        Arm64Headers.assumeAvailable();

        Map<String, Long> ours = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder();
        c.append("int printf(const char *, ...);\n#include <stddef.h>\n#include <linux/kvm.h>\n");
        c.append("#define CORE(member, size) (KVM_REG_ARM64 | size | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(member))\n");
        c.append("int main(void) {\n");
        for (int n = 0; n <= 30; n++) {
            line(c, ours, "x" + n, "regs.regs[" + n + "]", "KVM_REG_SIZE_U64", KvmCoreRegs.x(n));
        }
        line(c, ours, "sp_el0", "regs.sp", "KVM_REG_SIZE_U64", KvmCoreRegs.SP_EL0);
        line(c, ours, "pc", "regs.pc", "KVM_REG_SIZE_U64", KvmCoreRegs.PC);
        line(c, ours, "pstate", "regs.pstate", "KVM_REG_SIZE_U64", KvmCoreRegs.PSTATE);
        line(c, ours, "sp_el1", "sp_el1", "KVM_REG_SIZE_U64", KvmCoreRegs.SP_EL1);
        line(c, ours, "elr_el1", "elr_el1", "KVM_REG_SIZE_U64", KvmCoreRegs.ELR_EL1);
        for (int n = 0; n <= 31; n++) {
            line(c, ours, "v" + n, "fp_regs.vregs[" + n + "]", "KVM_REG_SIZE_U128", KvmCoreRegs.v(n));
        }
        line(c, ours, "fpsr", "fp_regs.fpsr", "KVM_REG_SIZE_U32", KvmCoreRegs.FPSR);
        line(c, ours, "fpcr", "fp_regs.fpcr", "KVM_REG_SIZE_U32", KvmCoreRegs.FPCR);
        c.append("  return 0;\n}\n");

        String output = Arm64Headers.compileAndRun(dir, "ids", c);

        Map<String, Long> theirs = new LinkedHashMap<>();
        for (String l : output.lines().toList()) {
            String[] parts = l.split(" ");
            theirs.put(parts[0], Long.parseUnsignedLong(parts[1], 16));
        }
        assertEquals(ours.keySet(), theirs.keySet());
        ours.forEach((name, id) -> assertEquals(Long.toHexString(theirs.get(name)), Long.toHexString(id), name));
    }

    private static void line(StringBuilder c, Map<String, Long> ours, String name, String member, String size, long id) {
        c.append("  printf(\"").append(name).append(" %llx\\n\", (unsigned long long) CORE(").append(member).append(", ")
                .append(size).append("));\n");
        ours.put(name, id);
    }
}
