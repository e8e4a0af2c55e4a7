package org.kvmgdb.core.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.testing.InspectableTarget;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** Each built-in command's output, and how the monitor treats architecture commands, against a fake target. */
class MonitorTest {
    /** An architecture command that prints where it ran and refuses arguments it does not know. */
    private static final MonitorCommand ECHO = new MonitorCommand() {
        @Override
        public String name() {
            return "info echo";
        }

        @Override
        public String usage() {
            return "WORD";
        }

        @Override
        public String help() {
            return "prints its word and the vCPU";
        }

        @Override
        public String run(VcpuHandle vcpu, List<String> arguments) {
            if (arguments.size() != 1) {
                throw new IllegalArgumentException("info echo takes one word");
            }
            return "vCPU " + vcpu.index() + " says " + arguments.get(0);
        }
    };

    /** An architecture command that would hide a built-in one. */
    private static final MonitorCommand SHADOW = new MonitorCommand() {
        @Override
        public String name() {
            return "stats";
        }

        @Override
        public String help() {
            return "not the real stats";
        }

        @Override
        public String run(VcpuHandle vcpu, List<String> arguments) {
            return "shadowed\n";
        }
    };

    private final InspectableTarget target = new InspectableTarget(
            MemoryTarget.builder(TestDescriptions.small(), "pc").threads(2).build(), 4096, List.of(ECHO, SHADOW));
    private final FakeContext context = new FakeContext(target);
    private final Monitor monitor = Monitor.forTarget(target);

    @AfterEach
    void close() {
        target.close();
    }

    private static final class FakeContext implements MonitorContext {
        final DebugTarget target;
        final SessionStatistics statistics = new SessionStatistics();
        int thread = 1;
        boolean physical;

        FakeContext(DebugTarget target) {
            this.target = target;
        }

        @Override
        public DebugTarget target() {
            return target;
        }

        @Override
        public int thread() {
            return thread;
        }

        @Override
        public boolean physicalMode() {
            return physical;
        }

        @Override
        public void setPhysicalMode(boolean on) {
            physical = on;
        }

        @Override
        public SessionStatistics statistics() {
            return statistics;
        }
    }

    private String run(String line) {
        return monitor.execute(line, context);
    }

    private static void assertLine(String text, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(text).find(), "/" + regex + "/ not in:\n" + text);
    }

    @Test
    void helpListsEveryCommandWithItsUsageAndHelp() {
        String help = run("help");
        assertLine(help, "^kvmgdb monitor commands:$");
        assertLine(help, "^  help \\[COMMAND\\] +this list, or the help of one command$");
        assertLine(help, "^  info echo WORD +prints its word and the vCPU$");
        assertLine(help, "^  info vcpus +each vCPU's gdb thread, state");
        assertLine(help, "^  phys \\[on\\|off\\] +memory reads and writes address guest-physical memory");
        assertLine(help, "^  stats +KVM exits by reason");
        assertLine(help, "^The selected vCPU is the thread gdb last read registers or memory of \\(marked \\* by info vcpus\\)\\.$");
        assertEquals(7, help.split("\n").length, help);
        assertEquals(help, run(""), "a bare monitor shows the help");
    }

    @Test
    void helpForOneCommand() {
        assertEquals("monitor info echo WORD\n  prints its word and the vCPU\n", run("help info echo"));
        assertLine(run("help info nothing"), "^no monitor command \"info nothing\"$");
    }

    @Test
    void anArchitectureCommandCannotHideABuiltInOne() {
        assertFalse(run("stats").contains("shadowed"));
        assertFalse(run("help").contains("not the real stats"));
    }

    @Test
    void unknownCommandsGetAHelpfulMessage() {
        assertEquals("unknown monitor command \"frobnicate\"; \"monitor help\" lists the commands\n", run("frobnicate now"));
        assertEquals("\"info\" needs one more word; try: info echo, info vcpus\n", run("info"));
        assertEquals("unknown monitor command \"info tlb\"; try: info echo, info vcpus\n", run("info tlb"));
    }

    @Test
    void architectureCommandsRunOnTheSelectedThreadWithTheirArguments() {
        context.thread = 2;
        assertEquals("vCPU 1 says hi\n", run("  info   echo hi "));
        assertEquals(List.of("2 [hi]"), target.runs);
    }

    @Test
    void wrongArgumentsShowTheMessageAndTheUsage() {
        assertEquals("info echo takes one word\nusage: monitor info echo WORD\n", run("info echo"));
        assertEquals("info vcpus takes no arguments\nusage: monitor info vcpus\n", run("info vcpus 1"));
    }

    @Test
    void infoVcpusShowsStateAndPcAndMarksTheSelectedThread() {
        context.thread = 2;
        assertEquals("  thread 1  vCPU 0   stopped  pc 0x100010\n* thread 2  vCPU 1   halted   pc 0x100020\n", run("info vcpus"));
    }

    @Test
    void infoVcpusOnATargetWithoutInspectionShowsWhatInfoThreadsShows() {
        try (MemoryTarget plain = MemoryTarget.builder(TestDescriptions.small(), "pc").threads(2).entry(0x40).build()) {
            FakeContext c = new FakeContext(plain);
            assertEquals("* thread 1  cpu 0  stopped at 0x40\n  thread 2  cpu 1  stopped at 0x40\n",
                    Monitor.forTarget(plain).execute("info vcpus", c));
        }
    }

    @Test
    void physSwitchesPhysicalMemoryModeAndSaysWhich() {
        assertLine(run("phys"), "^physical memory mode is off");
        assertLine(run("phys on"), "^physical memory mode is on: memory reads and writes address guest-physical memory$");
        assertTrue(context.physical);
        assertLine(run("phys"), "^physical memory mode is on");
        assertLine(run("phys off"), "^physical memory mode is off");
        assertFalse(context.physical);
        assertEquals("phys takes on or off, not \"maybe\"\nusage: monitor phys [on|off]\n", run("phys maybe"));
    }

    @Test
    void physOnATargetWithoutPhysicalMemoryIsRefused() {
        try (MemoryTarget plain = MemoryTarget.builder(TestDescriptions.small(), "pc").build()) {
            FakeContext c = new FakeContext(plain);
            assertEquals("phys: this target cannot address physical memory\n", Monitor.forTarget(plain).execute("phys on", c));
            assertFalse(c.physical);
        }
    }

    @Test
    void statsShowsExitsPacketsAndTime() {
        context.statistics.packet("m1000,4".getBytes(), 2_000_000);
        context.statistics.packet("m2000,4".getBytes(), 1_000_000);
        context.statistics.packet("vCont;c".getBytes(), 500_000);
        context.statistics.packet("qXfer:features:read:target.xml:0,fff".getBytes(), 500_000);
        context.statistics.ran(1_500_000_000L);
        String stats = run("stats");
        assertLine(stats, "^exits by reason \\(since the VM started\\):$");
        assertLine(stats, "^  KVM_EXIT_IO +300$");
        assertLine(stats, "^  KVM_EXIT_DEBUG +14$");
        assertLine(stats, "^  \\(KVM_RUN ended by a kick\\) +6$");
        assertLine(stats, "^  m +2$");
        assertLine(stats, "^  vCont +1$");
        assertLine(stats, "^  qXfer +1$");
        assertLine(stats, "^  total +4$");
        assertLine(stats, "^  in the guest +0\\.750000 s  \\(inside KVM_RUN");
        assertLine(stats, "^    vCPU 1 +0\\.500000 s  207 exits$");
        assertLine(stats, "^  running +1\\.500000 s  \\(1 resumes");
        assertLine(stats, "^  in the stub +0\\.004000 s  \\(4 packets");
    }

    @Test
    void packetTypesAreNamedAsTheManualNamesThem() {
        assertEquals("m", SessionStatistics.typeOf("m100,4".getBytes()));
        assertEquals("qSupported", SessionStatistics.typeOf("qSupported:swbreak+".getBytes()));
        assertEquals("qRcmd", SessionStatistics.typeOf("qRcmd,6865".getBytes()));
        assertEquals("Qqemu.PhyMemMode", SessionStatistics.typeOf("Qqemu.PhyMemMode:1".getBytes()));
        assertEquals("vCont?", SessionStatistics.typeOf("vCont?".getBytes()));
        assertEquals("vCont", SessionStatistics.typeOf("vCont;s:1;c".getBytes()));
        assertEquals("\\x03", SessionStatistics.typeOf(new byte[] {3}));
    }
}
