package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a small C program against the kernel's arm64 uapi headers, as Debian's
 * {@code linux-libc-dev-arm64-cross} installs them under /usr/aarch64-linux-gnu/include. The
 * program is compiled with the host gcc ({@code -nostdinc}, the arm64 include directory first, then
 * gcc's own for stddef.h), which lays out the KVM structs as arm64 does (both LP64,
 * __uint128_t 16-byte aligned on both), so no cross compiler is needed. The program has no libc
 * headers: it declares {@code printf} itself.
 */
final class Arm64Headers {
    static final Path ARM64_INCLUDE = Path.of("/usr/aarch64-linux-gnu/include");
    private static final Path GCC = Path.of("/usr/bin/gcc");

    private Arm64Headers() {
    }

    /** Skips the calling test, naming what is missing, unless the arm64 headers and gcc are installed. */
    static void assumeAvailable() {
        assumeTrue(Files.isRegularFile(ARM64_INCLUDE.resolve("asm/kvm.h")),
                "linux-libc-dev-arm64-cross not installed (no " + ARM64_INCLUDE.resolve("asm/kvm.h") + ")");
        assumeTrue(Files.isExecutable(GCC), "gcc not installed");
    }

    /**
     * Writes {@code cSource} to {@code dir/name.c}, compiles it to {@code dir/name} and returns what
     * it prints. Fails the test, with gcc's or the program's output, if a step exits non-zero.
     */
    static String compileAndRun(Path dir, String name, CharSequence cSource) throws IOException, InterruptedException {
        Path source = dir.resolve(name + ".c");
        Files.writeString(source, cSource);
        String gccInclude = run(dir, GCC.toString(), "-print-file-name=include").trim();
        run(dir, GCC.toString(), "-nostdinc", "-I" + ARM64_INCLUDE, "-isystem", gccInclude, "-o", name, source.toString());
        return run(dir, dir.resolve(name).toString());
    }

    /**
     * Compiles and runs (as {@link #compileAndRun}) a program that {@code #include}s {@code headers}
     * and prints each C expression that is a key of {@code ours}, and asserts each printed value is
     * the value {@code ours} gives it, naming the expression when one differs.
     */
    static void assertExpressionsEqual(Path dir, String name, List<String> headers, Map<String, Long> ours)
            throws IOException, InterruptedException {
        StringBuilder c = new StringBuilder("int printf(const char *, ...);\n");
        for (String header : headers) {
            c.append("#include <").append(header).append(">\n");
        }
        c.append("int main(void) {\n");
        int i = 0;
        for (String expression : ours.keySet()) {
            c.append("  printf(\"").append(i++).append(" %llx\\n\", (unsigned long long) (").append(expression).append("));\n");
        }
        c.append("  return 0;\n}\n");
        List<String> lines = compileAndRun(dir, name, c).lines().toList();

        List<String> names = new ArrayList<>(ours.keySet());
        assertEquals(names.size(), lines.size());
        for (String line : lines) {
            String[] parts = line.split(" ");
            String expression = names.get(Integer.parseInt(parts[0]));
            assertEquals(parts[1], Long.toHexString(ours.get(expression)), expression);
        }
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command[0] + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }
}
