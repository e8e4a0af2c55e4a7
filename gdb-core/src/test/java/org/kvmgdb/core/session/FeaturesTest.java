package org.kvmgdb.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.kvmgdb.core.testing.TestDescriptions.smallExpedited;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.core.testing.MemoryTarget;
import org.kvmgdb.core.testing.RspClient;
import org.kvmgdb.core.testing.ServedTarget;
import org.kvmgdb.core.testing.TestDescriptions;

/** qSupported negotiation, qXfer:features:read windows, vCont?. */
class FeaturesTest {
    private static final String SUPPORTED = "PacketSize=40000;qXfer:features:read+;qXfer:threads:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+";

    @Test
    void qSupportedAnswersTheSameWhateverGdbOffers() throws Exception {
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").build());
             RspClient gdb = served.connect()) {
            assertEquals(SUPPORTED, gdb.request("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386"));
            assertEquals(SUPPORTED, gdb.request("qSupported"));
        }
    }

    /**
     * Found by the fuzzer: an offset of 2^63 or more is negative as a long, passed the "past the end"
     * check and made the session answer E05 from an exception.
     */
    @Test
    void qXferOffsetsPastTwoToTheSixtyThirdAreAfterTheEnd() throws Exception {
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").build());
             RspClient gdb = served.connect()) {
            assertEquals("l", gdb.request("qXfer:threads:read::ffffffffffffffff,1000"));
            assertEquals("l", gdb.request("qXfer:features:read:target.xml:8000000000000000,1000"));
        }
    }

    @Test
    void breakpointStopReasonsFollowWhatGdbOffered() throws Exception {
        // gdb that offers neither: a breakpoint stop is a plain SIGTRAP.
        assertEquals("T05thread:1;" + smallExpedited(0, 0x108), stopAtBreakpoint("qSupported:multiprocess+", 0));
        assertEquals("T05thread:1;" + smallExpedited(0, 0x108), stopAtBreakpoint("qSupported:swbreak-;hwbreak+", 0));
        assertEquals("T05thread:1;" + smallExpedited(0, 0x108) + "swbreak:;", stopAtBreakpoint("qSupported:swbreak+", 0));
        assertEquals("T05thread:1;" + smallExpedited(0, 0x108) + "hwbreak:;", stopAtBreakpoint("qSupported:hwbreak+", 1));
        assertEquals("T05thread:1;" + smallExpedited(0, 0x108), stopAtBreakpoint("qSupported:swbreak+", 1));
    }

    private static String stopAtBreakpoint(String qSupported, int type) throws Exception {
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").entry(0x100).build());
             RspClient gdb = served.connect()) {
            assertEquals(SUPPORTED, gdb.request(qSupported));
            assertEquals("OK", gdb.request("Z" + type + ",108,1"));
            gdb.post("c");
            return gdb.awaitReply();
        }
    }

    @Test
    void targetXmlReadInWindowsReassemblesExactly() throws Exception {
        TargetDescription description = TestDescriptions.small();
        byte[] xml = description.toXml().getBytes(StandardCharsets.UTF_8);
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(description, "pc").build());
             RspClient gdb = served.connect()) {
            ByteArrayOutputStream whole = new ByteArrayOutputStream();
            int windows = 0;
            while (true) {
                String reply = gdb.request("qXfer:features:read:target.xml:" + Integer.toHexString(whole.size()) + ",40");
                windows++;
                byte[] data = reply.substring(1).getBytes(StandardCharsets.ISO_8859_1);
                whole.writeBytes(data);
                if (reply.charAt(0) == 'l') {
                    break;
                }
                assertEquals('m', reply.charAt(0), reply);
                assertEquals(0x40, data.length, "a full window before the last");
            }
            assertEquals(description.toXml(), whole.toString(StandardCharsets.UTF_8));
            assertEquals((xml.length + 0x3f) / 0x40, windows);
            // Past the end: an empty last window.
            assertEquals("l", gdb.request("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length) + ",40"));
            assertEquals("l", gdb.request("qXfer:features:read:target.xml:ffff,40"));
            // The whole document in one window.
            assertEquals("l" + description.toXml(), gdb.request("qXfer:features:read:target.xml:0,ffff"));
            // A window that ends exactly at the end is the last.
            String tail = gdb.request("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length - 5) + ",5");
            assertEquals("l" + description.toXml().substring(xml.length - 5), tail);
        }
    }

    @Test
    void unknownAnnexAndObjects() throws Exception {
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").build());
             RspClient gdb = served.connect()) {
            assertEquals("E00", gdb.request("qXfer:features:read:i386-64bit.xml:0,40"));
            assertEquals("", gdb.request("qXfer:libraries:read::0,40"));
            assertEquals("", gdb.request("qXfer:features:write:target.xml:0:00"));
        }
    }

    @Test
    void binaryWindowsAreEscaped() throws Exception {
        // A feature name with all four special bytes; the XML carries them raw, the reply must escape them.
        String name = "org.kvmgdb.test.$#}*";
        TargetDescription description = new TargetDescription("kvmgdb-test", null, List.of(new Feature(name, List.of(),
                List.of(new RegisterDescriptor("pc", 64, "code_ptr", null, 0)))));
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(description, "pc").build());
             RspClient gdb = served.connect()) {
            gdb.sendPacket("qXfer:features:read:target.xml:0,ffff");
            gdb.expect('+');
            byte[] raw = gdb.readPacketBytes();
            String escaped = new String(raw, StandardCharsets.ISO_8859_1);
            assertTrue(escaped.contains("org.kvmgdb.test.}\u0004}\u0003}\u005d}\n"), escaped);
            ByteArrayOutputStream unescaped = new ByteArrayOutputStream();
            for (int i = 1; i < raw.length; i++) {
                unescaped.write(raw[i] == '}' ? raw[++i] ^ 0x20 : raw[i]);
            }
            assertEquals(description.toXml(), unescaped.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void vContQueryOffersContinueAndStepWithAndWithoutSignal() throws Exception {
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").build());
             RspClient gdb = served.connect()) {
            assertEquals("vCont;c;C;s;S", gdb.request("vCont?"));
        }
    }

    @Test
    void vContQueryOffersRangeSteppingOnlyForATargetThatRangeSteps() throws Exception {
        try (ServedTarget served = new ServedTarget(MemoryTarget.builder(TestDescriptions.small(), "pc").rangeStepping().build());
             RspClient gdb = served.connect()) {
            assertEquals("vCont;c;C;s;S;r", gdb.request("vCont?"));
        }
    }
}
