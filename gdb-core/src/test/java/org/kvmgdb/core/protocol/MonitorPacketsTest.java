package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.protocol.MonitorPackets.PhyMemModeQuery;
import org.kvmgdb.core.protocol.MonitorPackets.PhyMemModeSet;
import org.kvmgdb.core.protocol.MonitorPackets.QemuSupported;
import org.kvmgdb.core.protocol.MonitorPackets.Rcmd;

class MonitorPacketsTest {
    private static Command parse(String packet) {
        return PacketParser.parse(packet.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void qRcmdCarriesTheCommandLineInHex() {
        // gdb: (gdb) monitor info mem 0x100000 0x200000
        assertEquals(new Rcmd("info mem 0x100000 0x200000"), parse("qRcmd," + Hex.encodeText("info mem 0x100000 0x200000")));
        assertEquals(new Rcmd("help"), parse("qRcmd,68656c70"));
        assertEquals(new Rcmd("HELP"), parse("qRcmd,48454C50"), "upper-case hex digits too");
    }

    @Test
    void aBareMonitorIsAnEmptyLine() {
        assertEquals(new Rcmd(""), parse("qRcmd,"));
        assertEquals(new Rcmd(""), parse("qRcmd"));
    }

    @Test
    void qRcmdWithBadHexIsMalformed() {
        assertInstanceOf(Command.Malformed.class, parse("qRcmd,68656c7"));
        assertInstanceOf(Command.Malformed.class, parse("qRcmd,zz"));
        assertInstanceOf(Command.Malformed.class, parse("qRcmd:6865"));
    }

    @Test
    void qemuPhyMemModePacketsParseAsQemuDoes() {
        assertEquals(new QemuSupported(), parse("qqemu.Supported"));
        assertEquals(new PhyMemModeQuery(), parse("qqemu.PhyMemMode"));
        assertEquals(new PhyMemModeSet(true), parse("Qqemu.PhyMemMode:1"));
        assertEquals(new PhyMemModeSet(false), parse("Qqemu.PhyMemMode:0"));
        assertEquals(new PhyMemModeSet(true), parse("Qqemu.PhyMemMode:ff"), "any non-zero hex value is on");
        assertEquals(new PhyMemModeSet(false), parse("Qqemu.PhyMemMode:0x0"));
        // What QEMU's parser cannot read matches no command of its table: the empty reply.
        assertInstanceOf(Command.Unknown.class, parse("Qqemu.PhyMemMode:on"));
        assertInstanceOf(Command.Unknown.class, parse("Qqemu.PhyMemMode:"));
        assertInstanceOf(Command.Unknown.class, parse("Qqemu.PhyMemMode"));
        assertInstanceOf(Command.Unknown.class, parse("qqemu.sstepbits"));
    }

    @Test
    void outputIsHexInOPacketsOfWholeLines() {
        List<byte[]> packets = MonitorPackets.outputPackets("one\ntwo\n");
        assertEquals(1, packets.size());
        assertEquals("O" + Hex.encodeText("one\ntwo\n"), new String(packets.get(0), StandardCharsets.US_ASCII));
        assertEquals(List.of(), MonitorPackets.outputPackets(""));
    }

    @Test
    void longOutputIsSplitAfterALineAndReassemblesExactly() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            text.append("line ").append(i).append(" of some monitor output\n");
        }
        List<byte[]> packets = MonitorPackets.outputPackets(text.toString());
        assertTrue(packets.size() > 1);
        StringBuilder back = new StringBuilder();
        for (byte[] p : packets) {
            String s = new String(p, StandardCharsets.US_ASCII);
            assertEquals('O', s.charAt(0));
            byte[] bytes = Hex.decode(s.substring(1));
            assertTrue(bytes.length <= MonitorPackets.OUTPUT_CHUNK);
            String chunk = new String(bytes, StandardCharsets.UTF_8);
            assertTrue(chunk.endsWith("\n"), "each packet ends a line: " + chunk);
            back.append(chunk);
        }
        assertEquals(text.toString(), back.toString());
    }

    @Test
    void aLineLongerThanAPacketIsCutAtTheLimit() throws Exception {
        String line = "x".repeat(MonitorPackets.OUTPUT_CHUNK + 10);
        List<byte[]> packets = MonitorPackets.outputPackets(line);
        assertEquals(2, packets.size());
        assertEquals(MonitorPackets.OUTPUT_CHUNK, Hex.decode(new String(packets.get(0), StandardCharsets.US_ASCII).substring(1)).length);
    }
}
