package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system register ids {@link Aarch64PageWalker} reads, against {@code ARM64_SYS_REG()} of the
 * kernel's arm64 uapi header (linux-libc-dev-arm64-cross), compiled with the host gcc by
 * {@link Arm64Headers}. The op0/op1/CRn/CRm/op2 encodings are the MRS operands of
 * the Arm ARM (SCTLR_EL1 is S3_0_C1_C0_0, TTBR0/TTBR1/TCR_EL1 are S3_0_C2_C0_{0,1,2}).
 */
class PagingSysRegIdsHeaderTest {
    @Test
    void pagingSystemRegisterIdsMatchArm64SysRegOfTheUapiHeader(@TempDir Path dir) throws Exception {
        Arm64Headers.assumeAvailable();
        String output = Arm64Headers.compileAndRun(dir, "sysregs", "int printf(const char *, ...);\n#include <linux/kvm.h>\n"
                + "int main(void) {\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 1, 0, 0));\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 2, 0, 2));\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 2, 0, 0));\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 2, 0, 1));\n"
                + "  return 0;\n}\n");
        List<String> theirs = output.lines().toList();
        List<String> ours = List.of(Aarch64PageWalker.SCTLR_EL1, Aarch64PageWalker.TCR_EL1, Aarch64PageWalker.TTBR0_EL1,
                Aarch64PageWalker.TTBR1_EL1).stream().map(Long::toHexString).toList();
        assertEquals(theirs, ours, "SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1");
    }
}
