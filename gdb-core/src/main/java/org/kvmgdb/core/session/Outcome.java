package org.kvmgdb.core.session;

import java.util.List;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.target.ResumeRequest;

/** What a handler wants the session to do after a packet. */
sealed interface Outcome {

    /** Send this reply payload. */
    record Reply(byte[] payload) implements Outcome {
    }

    /**
     * Send the hex of {@code data[offset .. offset + length)} ({@code m}, {@code g}, {@code p}): encoded
     * straight into the outgoing frame. The bytes may be a buffer the handler reuses; they are sent
     * before the next packet is handled.
     */
    record HexReply(byte[] data, int offset, int length) implements Outcome {
    }

    /** Send these replies in order: console output ({@code O} packets) before the final one, as for {@code qRcmd}. */
    record Packets(List<byte[]> payloads) implements Outcome {
        public Packets {
            payloads = List.copyOf(payloads);
        }
    }

    /** Resume the target; the reply is the stop reply, sent when it stops. */
    record Resume(ResumeRequest request) implements Outcome {
    }

    /** {@code QStartNoAckMode}: reply {@code OK} with an ack, then no more acks either way. */
    record StartNoAck() implements Outcome {
    }

    /** {@code D}: reply {@code OK}, detach the target, end the session. */
    record Detach() implements Outcome {
    }

    /** {@code k}: kill the target, end the session; gdb expects no reply. */
    record Kill() implements Outcome {
    }

    static Outcome reply(byte[] payload) {
        return new Reply(payload);
    }

    static Outcome hexReply(byte[] data) {
        return new HexReply(data, 0, data.length);
    }

    static Outcome reply(String payload) {
        return new Reply(Replies.ascii(payload));
    }
}
