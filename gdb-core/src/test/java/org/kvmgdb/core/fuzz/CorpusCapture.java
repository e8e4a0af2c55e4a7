package org.kvmgdb.core.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.Listener;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.session.SessionOptions;
import org.kvmgdb.core.testing.BatchGdb;
import org.kvmgdb.core.testing.LoopbackListener;
import org.kvmgdb.core.testing.MemoryTarget;

/**
 * Records what real gdb sends in a few sessions (the raw bytes: acks, packets, escapes, as they came
 * over TCP) against the fuzz harness's own target, and writes them as seed files for the fuzzers.
 * Not a test: run it by hand to refresh the seeds (needs /usr/bin/gdb), from the repository root:
 * <pre>
 * mvn -q -o -pl gdb-core -am test-compile
 * java -cp "gdb-core/target/test-classes:gdb-core/target/classes:gdb-api/target/classes:gdb-api/target/test-classes:$(
 *     find ~/.m2/repository -name jna-5.17.0.jar -o -name 'tinylog-*-2.7.0.jar' -o -name junit-jupiter-api-5.13.4.jar \
 *     -o -name 'opentest4j-*.jar' | tr '\n' :)" org.kvmgdb.core.fuzz.CorpusCapture gdb-core/src/test/resources/org/kvmgdb/core/fuzz
 * </pre>
 */
public final class CorpusCapture {
    private CorpusCapture() {
    }

    /** gdb command lists, by seed name; addresses are inside {@link SessionHarness}'s memory. */
    static Map<String, List<String>> sessions() {
        Map<String, List<String>> sessions = new LinkedHashMap<>();
        sessions.put("break-continue-step-x-detach", List.of(
                "info registers rip", "x/8xb 0x1000", "break *0x1010", "continue", "stepi", "info registers rip",
                "x/4xw 0x1010", "delete", "detach"));
        sessions.put("set-memory-and-registers", List.of(
                "set {int}0x1100 = 0x12345678", "x/1xw 0x1100", "set {char[8]}0x1200 = \"a$#}*b\\003\"",
                "x/8xb 0x1200", "set $rax = 0x1122334455667788", "p/x $rax", "p $rip", "detach"));
        sessions.put("watch-hbreak-threads", List.of(
                "info threads", "thread 2", "watch *(int *)0x1300", "stepi", "delete", "hbreak *0x1040",
                "tbreak *0x1030", "continue", "continue", "info threads", "x/16xb $pc - 8", "detach"));
        sessions.put("breakpoints-then-kill", List.of(
                "break *0x1008", "break *0x1009", "continue", "x/2i $pc", "stepi", "stepi", "break *0x1020", "continue", "kill"));
        return sessions;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "src/test/resources/org/kvmgdb/core/fuzz");
        for (Map.Entry<String, List<String>> session : sessions().entrySet()) {
            byte[] recorded = record(session.getValue());
            for (String dir : List.of("SessionFuzzTestInputs/session", "PacketDecoderFuzzTestInputs/decoder")) {
                Path file = out.resolve(dir).resolve(session.getKey());
                Files.createDirectories(file.getParent());
                Files.write(file, recorded);
            }
            System.out.println(session.getKey() + ": " + recorded.length + " bytes");
        }
    }

    static byte[] record(List<String> commands) throws IOException, InterruptedException {
        BatchGdb.assumeInstalled();
        MemoryTarget target = SessionHarness.newTarget();
        ByteArrayOutputStream recorded = new ByteArrayOutputStream();
        RecordingListener listener = new RecordingListener(new LoopbackListener(), recorded);
        try (GdbServer server = new GdbServer(listener, target, SessionOptions.DEFAULTS).start()) {
            System.out.println(BatchGdb.run(null, listener.gdbTarget(), commands.toArray(new String[0])));
        } finally {
            target.close();
        }
        synchronized (recorded) {
            return recorded.toByteArray();
        }
    }

    /** A listener whose connections copy every byte gdb sends into {@code recorded}. */
    private record RecordingListener(Listener inner, ByteArrayOutputStream recorded) implements Listener {
        @Override
        public Connection accept() throws IOException {
            Connection c = inner.accept();
            return new Connection() {
                @Override
                public InputStream input() throws IOException {
                    return new FilterInputStream(c.input()) {
                        @Override
                        public int read(byte[] b, int off, int len) throws IOException {
                            int n = super.read(b, off, len);
                            if (n > 0) {
                                synchronized (recorded) {
                                    recorded.write(b, off, n);
                                }
                            }
                            return n;
                        }
                    };
                }

                @Override
                public OutputStream output() throws IOException {
                    return c.output();
                }

                @Override
                public String peer() {
                    return c.peer();
                }

                @Override
                public void close() throws IOException {
                    c.close();
                }
            };
        }

        @Override
        public String describe() {
            return inner.describe();
        }

        @Override
        public String gdbTarget() {
            return inner.gdbTarget();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
