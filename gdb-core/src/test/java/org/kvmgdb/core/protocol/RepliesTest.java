package org.kvmgdb.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.StopEvent;

class RepliesTest {

    private static StopEvent signal(int thread, int signal, StopEvent.Reason reason) {
        return new StopEvent.Signal(thread, signal, reason);
    }

    @Test
    void breakpointReasonsOnlyWhenGdbUnderstandsThem() {
        StopEvent sw = signal(1, StopEvent.SIGTRAP, new StopEvent.SoftwareBreak());
        StopEvent hw = signal(0x1a, StopEvent.SIGTRAP, new StopEvent.HardwareBreak());
        assertEquals("T05thread:1;swbreak:;", Replies.stop(sw, true, true));
        assertEquals("T05thread:1;", Replies.stop(sw, false, true));
        assertEquals("T05thread:1a;hwbreak:;", Replies.stop(hw, true, true));
        assertEquals("T05thread:1a;", Replies.stop(hw, true, false));
    }

    @Test
    void plainStopsInterruptsAndWatchpoints() {
        assertEquals("T02thread:3;", Replies.stop(signal(3, StopEvent.SIGINT, new StopEvent.Plain()), true, true));
        assertEquals("T05thread:1;watch:601000;",
                Replies.stop(signal(1, 5, new StopEvent.Watch(BreakpointType.WRITE_WATCHPOINT, 0x601000)), true, true));
        assertEquals("T05thread:1;rwatch:10;",
                Replies.stop(signal(1, 5, new StopEvent.Watch(BreakpointType.READ_WATCHPOINT, 0x10)), false, false));
        assertEquals("T05thread:1;awatch:10;",
                Replies.stop(signal(1, 5, new StopEvent.Watch(BreakpointType.ACCESS_WATCHPOINT, 0x10)), false, false));
    }

    @Test
    void exitAndTermination() {
        assertEquals("W00", Replies.stop(new StopEvent.Exited(0), true, true));
        assertEquals("W07", Replies.stop(new StopEvent.Exited(7), true, true));
        // The guest ABI's exit status (v << 1) | 1 can need more than two digits.
        assertEquals("W1ff", Replies.stop(new StopEvent.Exited(0x1ff), true, true));
        assertEquals("X09", Replies.stop(new StopEvent.Terminated(9), true, true));
    }

    @Test
    void expeditedRegistersFollowTheThreadAsNumberColonTargetOrderBytes() {
        Map<Integer, byte[]> registers = new LinkedHashMap<>();
        registers.put(6, new byte[] {0x40, (byte) 0xff, 0x7f, 0, 0, 0, 0, 0});
        registers.put(0x10, new byte[] {0, 0x10, 0x10, 0, 0, 0, 0, 0});
        registers.put(0x123, new byte[] {1, 2});
        StopEvent sw = signal(1, StopEvent.SIGTRAP, new StopEvent.SoftwareBreak());
        assertEquals("T05thread:1;06:40ff7f0000000000;10:0010100000000000;123:0102;swbreak:;",
                Replies.stop(sw, true, true, registers));
        // Only a T reply carries them.
        assertEquals("W03", Replies.stop(new StopEvent.Exited(3), true, true, registers));
        assertEquals("X09", Replies.stop(new StopEvent.Terminated(9), true, true, registers));
    }

    @Test
    void errorsCarryTheErrnoInHex() {
        assertEquals("E0e", new String(Replies.error(14), StandardCharsets.US_ASCII));
        assertEquals("E16", new String(Replies.error(22), StandardCharsets.US_ASCII));
    }
}
