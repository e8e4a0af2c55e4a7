package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.testing.RspClient;

/**
 * On a real guest under {@code bin/kvmgdb run --gdb tcp:127.0.0.1:0 -S}: while one debugger is
 * attached, a second connection is told why in one line and closed; the first session goes on as if
 * nothing happened, and its detach still puts the guest back (breakpoint byte restored) to run to
 * its own end.
 */
class OneDebuggerAtATimeTest {
    /** e2e.c's {@code exit_code} as built (3), as the exit port turns it into a status. */
    private static final int GUEST_EXIT_STATUS = 3 << 1 | 1;

    @Test
    void theSecondDebuggerGetsOneLineAndTheFirstGoesOn() throws Exception {
        LaunchedGuest.requireKvm();
        Path elf = LaunchedGuest.guest("e2e.elf");
        try (LaunchedGuest guest = LaunchedGuest.startWaiting(elf)) {
            String target = guest.awaitGdbTarget();
            int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
            OptionalInt status;
            try (RspClient first = new RspClient(port)) {
                String stop = first.request("?");
                assertTrue(stop.startsWith("T05"), stop);
                String registersBefore = first.request("g");
                // 0x100000 is where the guest is linked (guest.ld) and enters: the first instruction it runs.
                assertEquals("OK", first.request("Z0,100000,1"));

                try (RspClient second = new RspClient(port)) {
                    String line = second.readToEnd();
                    assertTrue(line.matches("kvmgdb: a debugger is already attached \\(from tcp:127\\.0\\.0\\.1:\\d+\\); one at a time\n"),
                            "one line, then the connection closed: '" + line + "'");
                }

                // The first session did not notice: same registers, its breakpoint still in place.
                assertEquals(registersBefore, first.request("g"));
                assertEquals("OK", first.request("z0,100000,1"));
                assertEquals("OK", first.request("Z0,100000,1"));
                assertEquals("OK", first.request("D"));
            }
            status = guest.awaitExit();
            assertEquals(GUEST_EXIT_STATUS, status.orElse(-1), "after the detach the guest ran to its own end:\n" + guest);
            assertTrue(guest.stdout().contains("e2e guest done"), guest.toString());
            assertTrue(guest.stderr().contains("refused a debugger from tcp:127.0.0.1:"), "logged: " + guest);
        }
    }
}
