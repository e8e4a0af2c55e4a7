package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ONE_REG ids of {@link KvmCoreRegs} against the kernel's own arm64 uapi headers, as Debian's
 * {@code linux-libc-dev-arm64-cross} installs them under /usr/aarch64-linux-gnu/include: a small C
 * program computes every id with the headers' {@code KVM_REG_ARM_CORE_REG()} (offsetof) and prints
 * it. It is compiled with the host gcc, which lays out struct kvm_regs as arm64 does (both LP64,
 * __uint128_t 16-byte aligned on both), so no cross compiler is needed.
 */
class KvmCoreRegsHeaderTest {
    private static final Path ARM64_INCLUDE = Path.of("/usr/aarch64-linux-gnu/include");

    @Test
    void everyCoreRegisterIdMatchesTheArm64UapiHeaders(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(ARM64_INCLUDE.resolve("asm/kvm.h")),
                "linux-libc-dev-arm64-cross not installed (no " + ARM64_INCLUDE.resolve("asm/kvm.h") + ")");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc not installed");

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

        Path source = dir.resolve("ids.c");
        Files.writeString(source, c);
        String gccInclude = run(dir, "/usr/bin/gcc", "-print-file-name=include").trim();
        run(dir, "/usr/bin/gcc", "-nostdinc", "-I" + ARM64_INCLUDE, "-isystem", gccInclude, "-o", "ids", source.toString());
        String output = run(dir, dir.resolve("ids").toString());

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

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command[0] + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }
}
