package org.kvmgdb.core.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.StopEvent;

/** Reply payloads (before framing). */
public final class Replies {
    /** The empty reply: "not supported". */
    public static final byte[] EMPTY = new byte[0];
    public static final byte[] OK = ascii("OK");

    private Replies() {
    }

    public static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** {@code Exx}: an errno in two hex digits (gdb shows the number; values above 0xff are truncated). */
    public static byte[] error(int errno) {
        return ascii("E" + Hex.byte2(errno & 0xff));
    }

    /**
     * A stop reply: {@code T05thread:1;swbreak:;}, {@code W00}, {@code X09}.
     *
     * @param swbreak whether gdb offered {@code swbreak+} (else a software breakpoint is a plain trap)
     * @param hwbreak whether gdb offered {@code hwbreak+}
     */
    public static String stop(StopEvent event, boolean swbreak, boolean hwbreak) {
        return stop(event, swbreak, hwbreak, Map.of());
    }

    /**
     * A stop reply with expedited registers: {@code T05thread:1;06:80ff...;07:00ff...;10:0010...;}.
     * Each is {@code NN:VALUE;}, the register's number in hex and its bytes in target order, which gdb
     * puts in its register cache for the stopped thread instead of asking for them with {@code g}.
     * They are only sent with a {@code T} reply.
     *
     * @param expedited register number to value, in the order to send them
     */
    public static String stop(StopEvent event, boolean swbreak, boolean hwbreak, Map<Integer, byte[]> expedited) {
        if (event instanceof StopEvent.Exited e) {
            return "W" + exitStatus(e.status());
        }
        if (event instanceof StopEvent.Terminated t) {
            return "X" + Hex.byte2(t.signal());
        }
        StopEvent.Signal s = (StopEvent.Signal) event;
        StringBuilder reply = new StringBuilder("T").append(Hex.byte2(s.signal()));
        reply.append("thread:").append(Hex.number(s.thread())).append(';');
        expedited.forEach((regnum, value) -> reply.append(regnum < 0x100 ? Hex.byte2(regnum) : Hex.number(regnum))
                .append(':').append(Hex.encode(value)).append(';'));
        StopEvent.Reason reason = s.reason();
        if (reason instanceof StopEvent.SoftwareBreak && swbreak) {
            reply.append("swbreak:;");
        } else if (reason instanceof StopEvent.HardwareBreak && hwbreak) {
            reply.append("hwbreak:;");
        } else if (reason instanceof StopEvent.Watch w) {
            reply.append(watchName(w.type())).append(':').append(Hex.number(w.address())).append(';');
        }
        return reply.toString();
    }

    /** The exit status in at least two hex digits (the guest ABI's {@code (v << 1) | 1} can exceed 0xff). */
    private static String exitStatus(int status) {
        String hex = Integer.toHexString(status);
        return hex.length() < 2 ? "0" + hex : hex;
    }

    private static String watchName(BreakpointType type) {
        switch (type) {
            case READ_WATCHPOINT:
                return "rwatch";
            case ACCESS_WATCHPOINT:
                return "awatch";
            default:
                return "watch";
        }
    }
}
