package org.kvmgdb.api.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KvmRunHeader} against this machine's own include/uapi/linux/kvm.h, compiled by gcc: every
 * offset and KVM_EXIT_* value the core and the architectures read {@code kvm_run} with.
 */
class KvmRunHeaderTest {
    private static final Path HEADER = Path.of("/usr/include/linux/kvm.h");

    @Test
    void offsetsAndExitReasonsAreTheKernelHeaders(@TempDir Path dir) throws IOException, InterruptedException {
        assumeTrue(Files.exists(HEADER), "linux/kvm.h not installed (Debian: linux-libc-dev)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc not installed");
        Map<String, Long> ours = new LinkedHashMap<>();
        ours.put("offsetof(struct kvm_run, immediate_exit)", (long) KvmRunHeader.IMMEDIATE_EXIT);
        ours.put("offsetof(struct kvm_run, exit_reason)", (long) KvmRunHeader.EXIT_REASON);
        ours.put("offsetof(struct kvm_run, io)", (long) KvmRunHeader.EXIT_UNION);
        ours.put("KVM_EXIT_UNKNOWN", (long) KvmRunHeader.KVM_EXIT_UNKNOWN);
        ours.put("KVM_EXIT_EXCEPTION", (long) KvmRunHeader.KVM_EXIT_EXCEPTION);
        ours.put("KVM_EXIT_IO", (long) KvmRunHeader.KVM_EXIT_IO);
        ours.put("KVM_EXIT_DEBUG", (long) KvmRunHeader.KVM_EXIT_DEBUG);
        ours.put("KVM_EXIT_HLT", (long) KvmRunHeader.KVM_EXIT_HLT);
        ours.put("KVM_EXIT_MMIO", (long) KvmRunHeader.KVM_EXIT_MMIO);
        ours.put("KVM_EXIT_SHUTDOWN", (long) KvmRunHeader.KVM_EXIT_SHUTDOWN);
        ours.put("KVM_EXIT_FAIL_ENTRY", (long) KvmRunHeader.KVM_EXIT_FAIL_ENTRY);
        ours.put("KVM_EXIT_INTR", (long) KvmRunHeader.KVM_EXIT_INTR);
        ours.put("KVM_EXIT_INTERNAL_ERROR", (long) KvmRunHeader.KVM_EXIT_INTERNAL_ERROR);
        ours.put("KVM_EXIT_SYSTEM_EVENT", (long) KvmRunHeader.KVM_EXIT_SYSTEM_EVENT);
        ours.put("KVM_INTERNAL_ERROR_EMULATION", (long) KvmRunHeader.KVM_INTERNAL_ERROR_EMULATION);

        StringBuilder c = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include <linux/kvm.h>\nint main(void) {\n");
        for (String expression : ours.keySet()) {
            c.append("    printf(\"%lld\\n\", (long long) (").append(expression).append("));\n");
        }
        c.append("    return 0;\n}\n");
        Path source = Files.writeString(dir.resolve("kvm_run.c"), c.toString());
        Path binary = dir.resolve("kvm_run");
        Process gcc = new ProcessBuilder("gcc", "-o", binary.toString(), source.toString()).redirectErrorStream(true).start();
        String gccSaid = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, gcc.waitFor(), "gcc: " + gccSaid);
        Process run = new ProcessBuilder(binary.toString()).start();
        String[] values = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(0, run.waitFor());
        int i = 0;
        for (Map.Entry<String, Long> e : ours.entrySet()) {
            assertEquals(Long.parseLong(values[i++]), e.getValue(), e.getKey());
        }
    }
}
