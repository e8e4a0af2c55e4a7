package org.kvmgdb.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.core.registry.ProviderEntry;
import org.kvmgdb.core.registry.ProviderRegistry;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.testing.MemoryTarget;

/**
 * Real gdb against an in-memory target served by {@link GdbServer} over a real transport: the
 * transport and the architecture plugins are the ones on the class path, found through the provider
 * registry as the launcher finds them. Each transport runs the same gdb sessions by extending this
 * class with the {@code --gdb} value it listens on.
 */
abstract class GdbOverTransportContract {
    private static final long BASE = 0x100000;
    private static final long DATA = BASE + 0x40;
    private static final long X86_STACK = BASE + 0xfff0;

    @TempDir
    Path work;

    /** The {@code --gdb} value to listen on, e.g. {@code tcp:127.0.0.1:0}. */
    abstract String gdbAddress(Path work);

    @Test
    void x86_64RegistersMemoryWriteAndDetach() throws Exception {
        GdbBatch gdb = GdbBatch.gdb();
        TargetDescription x86 = architecture("x86-64").targetDescription();
        MemoryTarget target = MemoryTarget.builder(x86, "rip").memory(BASE, 0x10000).entry(BASE).build();
        set(target, "rax", 0x1122334455667788L);
        set(target, "rbx", 0x42);
        set(target, "rsp", X86_STACK);
        set(target, "eflags", 0x246);
        set(target, "cs", 0x10);
        set(target, "ss", 0x18);
        set(target, "r15", -1L);
        byte[] data = pattern();
        target.poke(DATA, data);

        try (Served served = serve(target)) {
            GdbBatch.Result out = gdb.section("connect").commands("target remote " + served.listener.gdbTarget())
                    .section("registers").commands("info registers")
                    .section("memory").commands(String.format("x/16xb 0x%x", DATA))
                    .section("write").commands(String.format("set {char}0x%x = 1", DATA + 5), String.format("x/16xb 0x%x", DATA))
                    .section("detach").commands("detach")
                    .run();

            assertTrue(out.section("connect").contains("Remote debugging using " + served.listener.gdbTarget()), out.toString());
            String registers = out.section("registers");
            assertRegister(registers, "rax", "0x1122334455667788", "1234605616436508552");
            assertRegister(registers, "rbx", "0x42", "66");
            assertRegister(registers, "rsp", "0x10fff0", "0x10fff0");
            assertRegister(registers, "r15", "0xffffffffffffffff", "-1");
            assertRegister(registers, "rip", "0x100000", "0x100000");
            assertRegister(registers, "eflags", "0x246", "[ PF ZF IF ]");
            assertRegister(registers, "cs", "0x10", "16");
            assertRegister(registers, "ss", "0x18", "24");
            assertRegister(registers, "fs_base", "0x0", "0");

            assertEquals(xb(DATA, data), out.section("memory"), out.toString());
            byte[] written = data.clone();
            written[5] = 1;
            assertTrue(out.section("write").endsWith(xb(DATA, written)), out.toString());
            assertArrayEquals(written, target.peek(DATA, 16), "the target's memory after set {char}");

            assertDetached(out, served, target);
        }
    }

    @Test
    void aarch64RegistersMemoryWriteAndDetach() throws Exception {
        GdbBatch gdb = GdbBatch.multiarch();
        TargetDescription aarch64 = architecture("aarch64").targetDescription();
        MemoryTarget target = MemoryTarget.builder(aarch64, "pc").instructionSize(4).memory(BASE, 0x10000).entry(BASE + 0x80).build();
        set(target, "x0", 0xdeadbeefcafef00dL);
        set(target, "x1", 7);
        set(target, "sp", BASE + 0x8000);
        set(target, "cpsr", 0x3c5); // EL1h with D, A, I and F masked: how a guest kernel starts
        byte[] data = pattern();
        target.poke(DATA, data);

        try (Served served = serve(target)) {
            GdbBatch.Result out = gdb.section("connect").commands("target remote " + served.listener.gdbTarget())
                    .section("registers").commands("info registers pc x0 sp cpsr")
                    .section("memory").commands(String.format("x/16xb 0x%x", DATA))
                    .section("write").commands(String.format("set {char}0x%x = 1", DATA + 5), String.format("x/16xb 0x%x", DATA))
                    .section("detach").commands("detach")
                    .run();

            assertTrue(out.section("connect").contains("Remote debugging using " + served.listener.gdbTarget()), out.toString());
            String registers = out.section("registers");
            assertRegister(registers, "pc", "0x100080", "0x100080");
            assertRegister(registers, "x0", "0xdeadbeefcafef00d", Long.toString(0xdeadbeefcafef00dL));
            assertRegister(registers, "sp", "0x108000", "0x108000");
            // gdb 13 decodes cpsr with the flags type of aarch64-core.xml.
            assertTrue(Pattern.compile("(?m)^cpsr +0x3c5 +\\[ .*\\bEL=1\\b.*\\]$").matcher(registers).find(), registers);
            assertEquals(4, registers.lines().filter(l -> !l.isBlank()).count(), "exactly the four registers asked for:\n" + registers);

            assertEquals(xb(DATA, data), out.section("memory"), out.toString());
            byte[] written = data.clone();
            written[5] = 1;
            assertTrue(out.section("write").endsWith(xb(DATA, written)), out.toString());
            assertArrayEquals(written, target.peek(DATA, 16), "the target's memory after set {char}");

            assertDetached(out, served, target);
        }
    }

    /** Ctrl-C in gdb while the target runs: gdb sends 0x03 over the transport and shows the SIGINT stop. */
    @Test
    void ctrlCStopsARunningTarget() throws Exception {
        GdbBatch gdb = GdbBatch.gdb();
        TargetDescription x86 = architecture("x86-64").targetDescription();
        // Room for the pc to move on for a minute, so that gdb can read the code where it stops.
        MemoryTarget target = MemoryTarget.builder(x86, "rip").memory(BASE, 0x100000).entry(BASE).build();

        try (Served served = serve(target)) {
            gdb.commands("target remote " + served.listener.gdbTarget())
                    .commands(GdbBatch.continueAndLogResume())
                    .section("stopped").commands("print/x $pc")
                    .section("detach").commands("detach");
            GdbBatch.Result out;
            try (GdbBatch.Running running = gdb.start()) {
                running.awaitResume();
                running.interrupt();
                out = running.await();
            }
            String stop = out.find("stopped", "\\$1 = (0x[0-9a-f]+)");
            assertTrue(out.output().contains("Program received signal SIGINT, Interrupt."), out.toString());
            assertTrue(Pattern.compile("(?m)^0x0*" + stop.substring(2) + " in \\?\\? \\(\\)$").matcher(out.output()).find(),
                    "gdb shows where it stopped:\n" + out);
            assertDetached(out, served, target);
        }
    }

    // ---- helpers ----

    /** A 16-byte pattern with a zero, a 0xff and the RSP specials ($ # } *) in it. */
    private static byte[] pattern() {
        return new byte[] {0x00, 0x11, 0x24, 0x23, 0x7d, 0x2a, 0x66, 0x77,
            (byte) 0x88, (byte) 0x99, (byte) 0xaa, (byte) 0xbb, (byte) 0xcc, (byte) 0xdd, (byte) 0xee, (byte) 0xff};
    }

    /** What {@code x/16xb ADDRESS} prints for these bytes: eight to a line. */
    private static String xb(long address, byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < bytes.length; i++) {
            if (i % 8 == 0) {
                s.append(String.format("0x%x:", address + i));
            }
            s.append(String.format("\t0x%02x", bytes[i] & 0xff));
            if (i % 8 == 7) {
                s.append('\n');
            }
        }
        return s.toString();
    }

    /** One line of {@code info registers}: name, hex value, natural value. */
    static void assertRegister(String registers, String name, String hex, String natural) {
        Pattern line = Pattern.compile("(?m)^" + Pattern.quote(name) + " +" + Pattern.quote(hex) + " +" + Pattern.quote(natural) + "$");
        assertTrue(line.matcher(registers).find(), name + " should be " + hex + " " + natural + " in:\n" + registers);
    }

    private static void assertDetached(GdbBatch.Result out, Served served, MemoryTarget target) throws InterruptedException {
        String detach = out.section("detach");
        // With no program file loaded, gdb names the remote target instead of "program: FILE".
        assertTrue(detach.contains("Detaching from pid Remote target"), out.toString());
        assertTrue(detach.contains("[Inferior 1 (Remote target) detached]"), out.toString());
        assertEquals(DebugSession.End.DETACHED, served.awaitSessionEnd(), "how the session ended");
        assertEquals(1, target.detachCount(), "the target was detached once");
        assertEquals(java.util.Set.of(), target.breakpoints(BreakpointType.SOFTWARE), "no breakpoint left behind");
    }

    private static void set(MemoryTarget target, String register, long value) throws TargetException {
        TargetDescription d = target.description();
        int regnum = d.register(register).orElseThrow(() -> new AssertionError("no register " + register)).regnum();
        int size = d.register(regnum).byteSize();
        ByteBuffer bytes = ByteBuffer.allocate(Math.max(size, 8)).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        byte[] raw = new byte[size];
        System.arraycopy(bytes.array(), 0, raw, 0, Math.min(size, 8));
        target.writeRegister(1, regnum, raw);
    }

    private static ArchitectureProvider architecture(String id) {
        ProviderRegistry registry = ProviderRegistry.load();
        return registry.architecture(id).map(ProviderEntry::provider)
                .orElseThrow(() -> new AssertionError("no " + id + " architecture on the class path: " + registry.architectures()));
    }

    private Served serve(MemoryTarget target) throws IOException {
        // The registry parses the value as `kvmgdb run --gdb VALUE` does, with the transport's own rules.
        Listener listener = ProviderRegistry.load().parseAddress(gdbAddress(work), TransportOptions.DEFAULTS).bind();
        return new Served(target, listener);
    }

    /** A target served on a listener; closing it ends the server and the target. */
    static final class Served implements AutoCloseable {
        final MemoryTarget target;
        final Listener listener;
        final GdbServer server;
        private final BlockingQueue<DebugSession.End> ends = new LinkedBlockingQueue<>();

        Served(MemoryTarget target, Listener listener) {
            this.target = target;
            this.listener = listener;
            this.server = new GdbServer(listener, target, SessionOptions.DEFAULTS);
            server.onSessionEnd(ends::add);
            server.start();
        }

        DebugSession.End awaitSessionEnd() throws InterruptedException {
            // gdb has exited when this is asked, so the session has ended or is about to; a hang guard only.
            DebugSession.End end = ends.poll(1, TimeUnit.MINUTES);
            if (end == null) {
                throw new AssertionError("the session did not end");
            }
            return end;
        }

        @Override
        public void close() {
            server.close();
            target.close();
        }
    }
}
