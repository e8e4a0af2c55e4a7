package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.protocol.Hex;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.testing.InspectableTarget;
import org.kvmgdb.core.testing.LoopbackListener;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.TestDescriptions;

/**
 * {@code qRcmd} on the wire (output as {@code O} packets, each acked, then {@code OK}) and QEMU's
 * {@code Qqemu.PhyMemMode}: virtual memory is 0x100 bytes at 0x1000, physical RAM 0x2000 bytes of
 * its own, so every read shows which one it came from.
 */
class MonitorAndPhysicalModeTest {
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private InspectableTarget inspectable() {
        MemoryTarget memory = MemoryTarget.builder(TestDescriptions.small(), "pc").threads(2).memory(0x1000, 0x100).build();
        InspectableTarget target = new InspectableTarget(memory, 0x2000, List.of());
        for (int i = 0; i < target.physical.length; i++) {
            target.physical[i] = (byte) (i ^ (i >> 8));
        }
        return target;
    }

    private RspClient serve(DebugTarget target) throws Exception {
        LoopbackListener listener = new LoopbackListener();
        GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS);
        open.add(target instanceof AutoCloseable ? (AutoCloseable) target : () -> { });
        open.add(server);
        server.start();
        RspClient gdb = new RspClient(listener.port());
        open.add(gdb);
        return gdb;
    }

    /** What gdb's remote_rcmd does: send qRcmd, print each O packet's text, stop at OK. */
    private static String monitor(RspClient gdb, String line, boolean acks) throws Exception {
        gdb.sendPacket("qRcmd," + Hex.encodeText(line));
        if (acks) {
            gdb.expect('+');
        }
        StringBuilder output = new StringBuilder();
        while (true) {
            String packet = gdb.readPacket();
            if (acks) {
                gdb.sendRaw("+");
            }
            if (packet.equals("OK")) {
                return output.toString();
            }
            assertTrue(packet.startsWith("O") && packet.length() > 1, "console output or OK expected, got " + packet);
            output.append(new String(Hex.decode(packet.substring(1)), StandardCharsets.UTF_8));
        }
    }

    @Test
    void monitorOutputComesAsOPacketsEachAckedThenOk() throws Exception {
        RspClient gdb = serve(inspectable());
        String help = monitor(gdb, "help", true);
        assertTrue(help.startsWith("kvmgdb monitor commands:\n"), help);
        assertTrue(help.contains("  info vcpus "), help);
        assertEquals("  thread 1  vCPU 0   stopped  pc 0x100010\n  thread 2  vCPU 1   halted   pc 0x100020\n"
                .replace("  thread 1", "* thread 1"), monitor(gdb, "info vcpus", true));
    }

    @Test
    void monitorWorksInNoAckModeToo() throws Exception {
        RspClient gdb = serve(inspectable());
        assertEquals("OK", gdb.request("QStartNoAckMode"));
        gdb.noAck(true);
        assertTrue(monitor(gdb, "phys", false).startsWith("physical memory mode is off"));
    }

    @Test
    void anUnknownCommandIsAnsweredWithAMessageNotAnError() throws Exception {
        RspClient gdb = serve(inspectable());
        assertEquals("unknown monitor command \"reboot\"; \"monitor help\" lists the commands\n", monitor(gdb, "reboot", true));
        assertEquals("E16", gdb.request("qRcmd,6"), "odd hex is a badly formed request");
    }

    @Test
    void hgSelectsTheThreadMonitorCommandsSee() throws Exception {
        RspClient gdb = serve(inspectable());
        assertEquals("OK", gdb.request("Hg2"));
        assertTrue(monitor(gdb, "info vcpus", true).contains("* thread 2"));
    }

    @Test
    void phyMemModeAnswersAsQemuDoesAndSwitchesMemoryPackets() throws Exception {
        InspectableTarget target = inspectable();
        RspClient gdb = serve(target);
        assertEquals("PhyMemMode", gdb.request("qqemu.Supported"));
        assertEquals("0", gdb.request("qqemu.PhyMemMode"));
        assertEquals("E0e", gdb.request("m1800,4"), "virtual memory has nothing at 0x1800");

        assertEquals("OK", gdb.request("Qqemu.PhyMemMode:1"));
        assertEquals("1", gdb.request("qqemu.PhyMemMode"));
        assertEquals("18191a1b", gdb.request("m1800,4"), "guest-physical A holds A ^ (A >> 8)");
        assertEquals("OK", gdb.request("M10,2:abcd"));
        assertArrayEquals(new byte[] {(byte) 0xab, (byte) 0xcd}, new byte[] {target.physical[0x10], target.physical[0x11]});
        assertEquals("OK", new String(gdb.requestBytes(("X20,1:" + (char) 0x7d + (char) (0x23 ^ 0x20)).getBytes(StandardCharsets.ISO_8859_1)),
                StandardCharsets.ISO_8859_1));
        assertEquals(0x23, target.physical[0x20]);
        assertEquals(Hex.encode(new byte[] {target.physical[0x1ffe], target.physical[0x1fff]}), gdb.request("m1ffe,8"),
                "a read past the end of RAM returns the bytes before it");
        assertEquals("E0e", gdb.request("m2000,4"), "a read outside RAM fails");
        assertEquals("E0e", gdb.request("M1fff,2:0102"), "a write that does not fit changes nothing");
        assertEquals(target.physical.length, 0x2000);

        assertEquals("OK", gdb.request("Qqemu.PhyMemMode:0"));
        assertEquals("0", gdb.request("qqemu.PhyMemMode"));
        assertEquals("E0e", gdb.request("m1800,4"), "virtual again");
        assertEquals("", gdb.request("Qqemu.PhyMemMode:on"), "a value QEMU cannot parse gets the empty reply");
    }

    @Test
    void monitorPhysIsTheSameSwitch() throws Exception {
        RspClient gdb = serve(inspectable());
        assertTrue(monitor(gdb, "phys on", true).startsWith("physical memory mode is on"));
        assertEquals("1", gdb.request("qqemu.PhyMemMode"));
        assertEquals("00010203", gdb.request("m0,4"));
        assertEquals("OK", gdb.request("Qqemu.PhyMemMode:0"));
        assertTrue(monitor(gdb, "phys", true).startsWith("physical memory mode is off"));
    }

    @Test
    void aNewSessionStartsInVirtualMode() throws Exception {
        InspectableTarget target = inspectable();
        LoopbackListener listener = new LoopbackListener();
        GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS);
        open.add(target);
        open.add(server);
        server.start();
        try (RspClient first = new RspClient(listener.port())) {
            assertEquals("OK", first.request("Qqemu.PhyMemMode:1"));
            first.request("D");
        }
        server.awaitNoSession(RspClient.READ_TIMEOUT_MILLIS);
        try (RspClient second = new RspClient(listener.port())) {
            assertEquals("0", second.request("qqemu.PhyMemMode"));
        }
    }

    @Test
    void aTargetWithoutPhysicalMemoryLeavesQemusPacketsUnsupported() throws Exception {
        RspClient gdb = serve(MemoryTarget.builder(TestDescriptions.small(), "pc").memory(0x1000, 0x100).build());
        assertEquals("", gdb.request("qqemu.Supported"));
        assertEquals("", gdb.request("qqemu.PhyMemMode"));
        assertEquals("", gdb.request("Qqemu.PhyMemMode:1"));
        assertEquals("00000000", gdb.request("m1000,4"), "memory packets stay virtual");
        assertEquals("phys: this target cannot address physical memory\n", monitor(gdb, "phys on", true));
    }

    @Test
    void statsCountsThePacketsOfThisSession() throws Exception {
        RspClient gdb = serve(inspectable());
        gdb.request("m1000,4");
        gdb.request("m1000,4");
        gdb.request("g");
        String stats = monitor(gdb, "stats", true);
        assertTrue(stats.matches("(?s).*\n  m +2\n.*"), stats);
        assertTrue(stats.matches("(?s).*\n  g +1\n.*"), stats);
        assertTrue(stats.matches("(?s).*\n  KVM_EXIT_IO +300\n.*"), stats);
        assertTrue(monitor(gdb, "stats", true).matches("(?s).*\n  qRcmd +1\n.*"), "the first stats command is counted by the second");
    }
}
