package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;

/**
 * cntvct_el0 must not be written back by gdb when it restores the registers after an inferior call
 * ({@code print f()}): the AArch64 target.xml marks it {@code save-restore="no"}, and real
 * gdb-multiarch, reading that description, leaves it out of its {@code save} and {@code restore}
 * register groups (which is what gdb's inferior-call code saves and restores) while every other
 * register stays in them.
 */
class CounterSaveRestoreMultiarchTest {
    private static final Path GDB_MULTIARCH = Path.of("/usr/bin/gdb-multiarch");
    private static final TargetDescription D = Aarch64Registers.targetDescription();

    @Test
    void theTargetXmlMarksOnlyTheCounterSaveRestoreNo() {
        List<String> marked = D.registers().stream().filter(r -> !r.saveRestore()).map(RegisterDescriptor::name).toList();
        assertEquals(List.of("cntvct_el0"), marked);
        String xml = D.toXml();
        assertTrue(xml.contains("<reg name=\"cntvct_el0\" bitsize=\"64\" type=\"uint64\" regnum=\"82\" save-restore=\"no\" group=\"system\"/>"), xml);
    }

    @Test
    void multiarchGdbNeitherSavesNorRestoresTheCounter(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(GDB_MULTIARCH), "gdb-multiarch not installed (" + GDB_MULTIARCH + ")");
        Path xml = Files.writeString(dir.resolve("target.xml"), D.toXml(), StandardCharsets.UTF_8);
        Process gdb = new ProcessBuilder(GDB_MULTIARCH.toString(), "-nx", "-batch",
                "-ex", "set tdesc filename " + xml, "-ex", "maint print register-groups")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(gdb.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(gdb.waitFor(2, TimeUnit.MINUTES), "gdb-multiarch did not finish");
        assertEquals(0, gdb.exitValue(), output);

        // Columns: Name Nr Rel Offset Size Type Groups
        Map<String, List<String>> groups = new HashMap<>();
        for (String line : output.lines().toList()) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length == 7 && cols[1].matches("\\d+")) {
                groups.put(cols[0], List.of(cols[6].split(",")));
            }
        }
        for (RegisterDescriptor r : D.registers()) {
            List<String> g = groups.get(r.name());
            assertNotNull(g, r.name() + " missing from:\n" + output);
            if (r.name().equals("cntvct_el0")) {
                assertFalse(g.contains("save") || g.contains("restore"), "cntvct_el0 is in " + g);
                assertTrue(g.contains("system"), "cntvct_el0 stays visible in info registers system: " + g);
            } else {
                assertTrue(g.contains("save") && g.contains("restore"), r.name() + " is in " + g);
            }
        }
    }
}
