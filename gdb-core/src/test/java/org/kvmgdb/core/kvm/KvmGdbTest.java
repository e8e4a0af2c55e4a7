package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.testing.LoopbackListener;
import org.kvmgdb.core.testing.BatchGdb;

/**
 * Real gdb, the session engine and {@link KvmTarget} on the real test guest: the pieces of issue 3
 * together, short of the launcher and transports (distribution's end-to-end tests add those).
 */
class KvmGdbTest {

    @Test
    void gdbBreaksStepsAndSeesTheGuestExit() throws Exception {
        TestGuest.assumeKvm();
        BatchGdb.assumeInstalled();
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (Kvm kvm = Kvm.open(); Vm vm = TestGuest.boot(kvm, 1, serial, TestGuest.MODE_RUN)) {
            KvmTarget target = new KvmTarget(vm, X86ForTests.provider());
            LoopbackListener listener = new LoopbackListener();
            try (GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS).start()) {
                String out = BatchGdb.run(TestGuest.elf(), listener.gdbTarget(),
                        "info registers rip",
                        "break add",
                        "hbreak scale",
                        "continue",
                        "bt",
                        "print a",
                        "print b",
                        "continue",
                        "print a",
                        "delete 1",
                        "continue",
                        "print p->x",
                        "print *p",
                        "stepi",
                        "finish",
                        "print origin",
                        "continue");
                System.out.println(out); // in target/surefire-reports, for whoever reads a failure
                assertTrue(out.matches("(?s).*rip\\s+0x100000\\s+0x100000 <_start>.*"), out);
                assertTrue(out.matches("(?s).*Breakpoint 1, add \\(a=1, b=10\\) at .*guest\\.c:\\d+.*"), out);
                assertTrue(out.matches("(?s).*#0  add \\(a=1, b=10\\).*\\n#1  0x[0-9a-f]+ in _start \\(cpu=0, .*"), out);
                assertTrue(out.contains("$1 = 1"), out);
                assertTrue(out.contains("$2 = 10"), out);
                assertTrue(out.contains("$3 = 2"), out);
                assertTrue(out.matches("(?s).*Breakpoint 2, scale \\(p=0x[0-9a-f]+ <origin>, k=3\\).*"), out);
                assertTrue(out.contains("$4 = 3"), out);
                assertTrue(out.contains("$5 = {x = 3, y = 4}"), out);
                assertTrue(out.matches("(?s).*Value returned is \\$\\d+ = 21.*"), out);
                assertTrue(out.contains("{x = 3, y = 4}"), out);
                assertTrue(out.contains("[Inferior 1 (Remote target) exited with code 0257]"), out);
            }
            assertEquals(TestGuest.EXIT_STATUS, vm.awaitExit().status());
            assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
        }
    }
}
