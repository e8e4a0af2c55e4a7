package org.kvmgdb.core.session;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.kvmgdb.core.protocol.Framing;
import org.kvmgdb.core.protocol.QueryPackets.StartNoAckMode;
import org.kvmgdb.core.protocol.QueryPackets.Supported;
import org.kvmgdb.core.protocol.QueryPackets.XferRead;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.target.TargetException;

/** {@code qSupported}, {@code qXfer:features:read}, {@code qXfer:threads:read}, {@code QStartNoAckMode}. */
final class FeatureHandlers {
    /** Our {@code qSupported} answer; {@code PacketSize} is hex. */
    static final String SUPPORTED = "PacketSize=" + Integer.toHexString(DebugSession.PACKET_SIZE)
            + ";qXfer:features:read+;qXfer:threads:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+";

    private final SessionState state;
    private byte[] targetXml;
    private final ThreadListXfer threadList;

    FeatureHandlers(SessionState state) {
        this.state = state;
        this.threadList = new ThreadListXfer(state);
    }

    void register(HandlerTable table) {
        table.on(Supported.class, this::supported);
        table.on(XferRead.class, this::xferRead);
        table.on(StartNoAckMode.class, c -> new Outcome.StartNoAck());
    }

    /** swbreak/hwbreak stop reasons may only be reported to a gdb that said it understands them. */
    private Outcome supported(Supported c) {
        state.swbreak = c.offers("swbreak");
        state.hwbreak = c.offers("hwbreak");
        return Outcome.reply(SUPPORTED);
    }

    /** {@code target.xml} ({@code features}) or the thread list ({@code threads}, whose annex is empty). */
    private Outcome xferRead(XferRead c) throws TargetException {
        if (c.object().equals("threads")) {
            return c.annex().isEmpty() ? window(threadList.document(c.offset()), c) : Outcome.reply("E00");
        }
        if (!c.object().equals("features")) {
            return Outcome.reply(Replies.EMPTY);
        }
        if (!c.annex().equals("target.xml")) {
            // The manual's answer for an annex we do not have.
            return Outcome.reply("E00");
        }
        return window(targetXml(), c);
    }

    /**
     * One window of a document: {@code m} and data when more follows, {@code l} and data (perhaps
     * none) when this is the end. The data is binary, so it is escaped.
     */
    private static Outcome window(byte[] xml, XferRead c) {
        // Unsigned: gdb's offsets are 64-bit, and one of 8000000000000000 or more is negative as a long.
        if (Long.compareUnsigned(c.offset(), xml.length) >= 0) {
            return Outcome.reply("l");
        }
        int offset = (int) c.offset();
        int length = Math.min(c.length(), xml.length - offset);
        ByteArrayOutputStream reply = new ByteArrayOutputStream(length + 16);
        reply.write(offset + length < xml.length ? 'm' : 'l');
        reply.writeBytes(Framing.escape(xml, offset, length));
        return Outcome.reply(reply.toByteArray());
    }

    private byte[] targetXml() {
        if (targetXml == null) {
            targetXml = state.target.description().toXml().getBytes(StandardCharsets.UTF_8);
        }
        return targetXml;
    }
}
