package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.kvmgdb.core.protocol.ResumePackets.Kind;
import org.kvmgdb.core.protocol.ThreadPackets.ThreadId;

class PacketParserTest {

    private static Command parse(String packet) {
        return PacketParser.parse(packet.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void memoryPackets() {
        assertEquals(new MemoryPackets.ReadMemory(0xffffffff80001000L, 0x40), parse("mffffffff80001000,40"));
        MemoryPackets.WriteMemory m = assertInstanceOf(MemoryPackets.WriteMemory.class, parse("M1000,3:0a0b0c"));
        assertEquals(0x1000, m.address());
        assertArrayEquals(new byte[] {0x0a, 0x0b, 0x0c}, m.data());
    }

    /** {@code m} is read straight from the bytes; these are the edges where that way gives up to the text parser. */
    @Test
    void memoryReadAtTheEdgesOfItsNumbers() {
        assertEquals(new MemoryPackets.ReadMemory(-1L, 1), parse("mffffffffffffffff,1"));
        assertEquals(new MemoryPackets.ReadMemory(0x10, 0x40), parse("m000000000000000000010,040"));
        assertEquals(new MemoryPackets.ReadMemory(0, 0), parse("m0,0"));
        assertEquals(new MemoryPackets.ReadMemory(0x7ffffc0, 0x40), parse("m7FFFFC0,40"));
        assertInstanceOf(Command.Malformed.class, parse("m10000000000000000,1"), "17 significant digits");
        assertInstanceOf(Command.Malformed.class, parse("m1000,80000000"), "a length past an int");
        assertInstanceOf(Command.Malformed.class, parse("m1000,4,4"));
        assertInstanceOf(Command.Malformed.class, parse("m,4"));
    }

    @Test
    void binaryWriteUnescapesEveryDelimiterAndKeepsZeroBytes() {
        byte[] data = {'#', '$', '}', '*', 0x00, 0x03, (byte) 0xff};
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.writeBytes("X2000,7:".getBytes(StandardCharsets.US_ASCII));
        // As gdb escapes: $ # } * become } and the byte XOR 0x20.
        for (byte b : data) {
            if (b == '#' || b == '$' || b == '}' || b == '*') {
                packet.write('}');
                packet.write(b ^ 0x20);
            } else {
                packet.write(b);
            }
        }
        MemoryPackets.WriteMemory x = assertInstanceOf(MemoryPackets.WriteMemory.class, PacketParser.parse(packet.toByteArray()));
        assertEquals(0x2000, x.address());
        assertArrayEquals(data, x.data());
        // gdb's probe for X support: no data.
        assertEquals(0, assertInstanceOf(MemoryPackets.WriteMemory.class, parse("X2000,0:")).data().length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"m", "m1000", "m1000,", "mzz,4", "M1000,2:0a", "M1000,1:0g", "M1000,1", "X1000,2:a",
        "Gabc", "p", "pq", "P1=zz", "P1", "Z0,1000", "Z0,1000,1,2", "zq,1,1", "Cxyz", "S05;", "c12g", "Hg", "Tzz",
        "vCont;", "vCont;q", "vCont;c:zz", "vCont;r1", "qThreadExtraInfo", "qXfer:features:read:target.xml:0",
        "qXfer:features:read:target.xml"})
    void malformedPacketsBecomeAValueNeverAnException(String packet) {
        Command.Malformed malformed = assertInstanceOf(Command.Malformed.class, parse(packet), packet);
        assertFalse(malformed.reason().isEmpty());
    }

    /** Found by the fuzzer: {@code vCont;:1} made the parser index an empty action (StringIndexOutOfBoundsException). */
    @Test
    void vContThreadWithoutActionIsMalformedNotAParserError() {
        Command.Malformed malformed = assertInstanceOf(Command.Malformed.class, parse("vCont;:1"));
        assertEquals("vCont: thread 1 without an action", malformed.reason());
    }

    @Test
    void registerPackets() {
        assertEquals(new RegisterPackets.ReadRegisters(), parse("g"));
        assertArrayEquals(new byte[] {1, 2}, assertInstanceOf(RegisterPackets.WriteRegisters.class, parse("G0102")).data());
        assertEquals(new RegisterPackets.ReadRegister(0x10), parse("p10"));
        RegisterPackets.WriteRegister p = assertInstanceOf(RegisterPackets.WriteRegister.class, parse("P1a=efbeadde"));
        assertEquals(0x1a, p.regnum());
        assertArrayEquals(new byte[] {(byte) 0xef, (byte) 0xbe, (byte) 0xad, (byte) 0xde}, p.value());
    }

    @Test
    void breakpointPacketsKeepTheTypeNumberAndIgnoreConditions() {
        assertEquals(new BreakpointPackets.InsertBreakpoint(0, 0x401000, 1), parse("Z0,401000,1"));
        assertEquals(new BreakpointPackets.RemoveBreakpoint(1, 0x401000, 4), parse("z1,401000,4"));
        assertEquals(new BreakpointPackets.InsertBreakpoint(2, 0x600000, 8), parse("Z2,600000,8"));
        assertEquals(new BreakpointPackets.InsertBreakpoint(0, 0x10, 1), parse("Z0,10,1;X3,220a05"));
        assertEquals(new BreakpointPackets.InsertBreakpoint(9, 0x10, 1), parse("Z9,10,1"));
    }

    @Test
    void resumePackets() {
        assertEquals(new ResumePackets.Continue(0, OptionalLong.empty()), parse("c"));
        assertEquals(new ResumePackets.Continue(0, OptionalLong.of(0x1000)), parse("c1000"));
        assertEquals(new ResumePackets.Continue(0x0b, OptionalLong.empty()), parse("C0b"));
        assertEquals(new ResumePackets.Continue(0x0b, OptionalLong.of(0x20)), parse("C0b;20"));
        assertEquals(new ResumePackets.Step(0, OptionalLong.empty()), parse("s"));
        assertEquals(new ResumePackets.Step(5, OptionalLong.empty()), parse("S05"));
        assertEquals(new ResumePackets.VContQuery(), parse("vCont?"));
    }

    @Test
    void vContWithPerThreadActions() {
        ResumePackets.VCont v = assertInstanceOf(ResumePackets.VCont.class, parse("vCont;s:1;C02:p1.3;r10,20:2;c"));
        assertEquals(List.of(
                new ResumePackets.Action(Kind.STEP, 0, 0, 0, new ThreadId(1)),
                new ResumePackets.Action(Kind.CONTINUE, 2, 0, 0, new ThreadId(3)),
                new ResumePackets.Action(Kind.RANGE_STEP, 0, 0x10, 0x20, new ThreadId(2)),
                new ResumePackets.Action(Kind.CONTINUE, 0, 0, 0, null)), v.actions());
        // ":-1" names every thread: the same as no thread.
        ResumePackets.VCont all = assertInstanceOf(ResumePackets.VCont.class, parse("vCont;c:-1"));
        assertNull(all.actions().get(0).thread());
    }

    @Test
    void threadPackets() {
        assertEquals(new ThreadPackets.SetThread('g', new ThreadId(2)), parse("Hg2"));
        assertEquals(new ThreadPackets.SetThread('c', ThreadId.ALL), parse("Hc-1"));
        assertEquals(new ThreadPackets.SetThread('g', ThreadId.ANY), parse("Hg0"));
        assertTrue(assertInstanceOf(ThreadPackets.SetThread.class, parse("Hgp1.-1")).thread().isAll());
        assertEquals(new ThreadPackets.ThreadAlive(new ThreadId(0x1f)), parse("T1f"));
        assertEquals(new ThreadPackets.CurrentThread(), parse("qC"));
        assertEquals(new ThreadPackets.ThreadInfoFirst(), parse("qfThreadInfo"));
        assertEquals(new ThreadPackets.ThreadInfoNext(), parse("qsThreadInfo"));
        assertEquals(new ThreadPackets.ThreadExtraInfo(new ThreadId(2)), parse("qThreadExtraInfo,2"));
        assertEquals(new ThreadPackets.Attached(), parse("qAttached"));
        assertEquals(new ThreadPackets.Attached(), parse("qAttached:1"));
    }

    @Test
    void queryPackets() {
        QueryPackets.Supported s = assertInstanceOf(QueryPackets.Supported.class,
                parse("qSupported:multiprocess+;swbreak+;hwbreak-;xmlRegisters=i386"));
        assertTrue(s.offers("swbreak"));
        assertFalse(s.offers("hwbreak"));
        assertFalse(s.offers("xmlRegisters"));
        assertEquals(List.of(), assertInstanceOf(QueryPackets.Supported.class, parse("qSupported")).features());
        assertEquals(new QueryPackets.XferRead("features", "target.xml", 0x7fe, 0xffb), parse("qXfer:features:read:target.xml:7fe,ffb"));
        assertEquals(new QueryPackets.StartNoAckMode(), parse("QStartNoAckMode"));
    }

    @Test
    void anythingElseIsUnknownByName() {
        assertEquals(new Command.Unknown("qTStatus"), parse("qTStatus"));
        assertEquals(new Command.Unknown("qSymbol"), parse("qSymbol::"));
        assertEquals(new Command.Unknown("vMustReplyEmpty"), parse("vMustReplyEmpty"));
        assertEquals(new Command.Unknown("vFile"), parse("vFile:setfs:0"));
        assertEquals(new Command.Unknown("qXfer:features:write"), parse("qXfer:features:write:target.xml:0:abc"));
        assertEquals(new Command.Unknown("!"), parse("!"));
        assertEquals(new Command.Unknown(""), parse(""));
        assertEquals(new Command.StopReason(), parse("?"));
        assertEquals(new Command.Detach(), parse("D"));
        assertEquals(new Command.Detach(), parse("D;1"));
        assertEquals(new Command.Kill(), parse("k"));
    }
}
