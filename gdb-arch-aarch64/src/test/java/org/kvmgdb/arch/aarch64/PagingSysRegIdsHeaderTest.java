package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system register ids {@link Aarch64PageWalker} reads, against {@code ARM64_SYS_REG()} of the
 * kernel's arm64 uapi header (linux-libc-dev-arm64-cross), compiled with the host gcc as
 * {@link KvmCoreRegsHeaderTest} does. The op0/op1/CRn/CRm/op2 encodings are the MRS operands of
 * the Arm ARM (SCTLR_EL1 is S3_0_C1_C0_0, TTBR0/TTBR1/TCR_EL1 are S3_0_C2_C0_{0,1,2}).
 */
class PagingSysRegIdsHeaderTest {
    private static final Path ARM64_INCLUDE = Path.of("/usr/aarch64-linux-gnu/include");

    @Test
    void pagingSystemRegisterIdsMatchArm64SysRegOfTheUapiHeader(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(ARM64_INCLUDE.resolve("asm/kvm.h")),
                "linux-libc-dev-arm64-cross not installed (no " + ARM64_INCLUDE.resolve("asm/kvm.h") + ")");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc not installed");
        Path source = dir.resolve("sysregs.c");
        Files.writeString(source, "int printf(const char *, ...);\n#include <linux/kvm.h>\n"
                + "int main(void) {\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 1, 0, 0));\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 2, 0, 2));\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 2, 0, 0));\n"
                + "  printf(\"%llx\\n\", (unsigned long long) ARM64_SYS_REG(3, 0, 2, 0, 1));\n"
                + "  return 0;\n}\n");
        String gccInclude = run(dir, "/usr/bin/gcc", "-print-file-name=include").trim();
        run(dir, "/usr/bin/gcc", "-nostdinc", "-I" + ARM64_INCLUDE, "-isystem", gccInclude, "-o", "sysregs", source.toString());
        List<String> theirs = run(dir, dir.resolve("sysregs").toString()).lines().toList();
        List<String> ours = List.of(Aarch64PageWalker.SCTLR_EL1, Aarch64PageWalker.TCR_EL1, Aarch64PageWalker.TTBR0_EL1,
                Aarch64PageWalker.TTBR1_EL1).stream().map(Long::toHexString).toList();
        assertEquals(theirs, ours, "SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1");
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command[0] + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }
}
