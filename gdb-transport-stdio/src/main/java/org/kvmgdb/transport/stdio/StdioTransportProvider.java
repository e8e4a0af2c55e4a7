package org.kvmgdb.transport.stdio;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;
import java.util.function.Supplier;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.api.transport.TransportProvider;

/**
 * {@code --gdb stdio}: the protocol on the process's own stdin and stdout, QEMU's {@code -gdb stdio}.
 * gdb starts the stub itself and talks to it through a pipe: {@code target remote | kvmgdb run
 * --gdb stdio -S guest.elf}. No port, no socket file: only the gdb that started the stub can
 * reach it, so there is nothing to secure and {@code --gdb-allow-remote} has nothing to add.
 *
 * <p>There is exactly one connection, there from the start ({@link StdioListener}). From the
 * moment it is bound, fd 1 carries the protocol alone: {@code System.out} is pointed at stderr, and
 * the launcher sends the guest's serial output and every log line to stderr (gdb shows what its
 * child writes there).
 */
public final class StdioTransportProvider implements TransportProvider {

    static final String SCHEME = "stdio";
    static final String SYNTAX = "stdio";

    /** The debugger's two directions as this process sees them. */
    record Streams(InputStream fromGdb, OutputStream toGdb, String peer) {
        Streams {
            Objects.requireNonNull(fromGdb, "fromGdb");
            Objects.requireNonNull(toGdb, "toGdb");
            Objects.requireNonNull(peer, "peer");
        }
    }

    private final Supplier<Streams> streams;

    /** The provider ServiceLoader makes: the process's fd 0 and fd 1. */
    public StdioTransportProvider() {
        this(StdioTransportProvider::processStreams);
    }

    /** For tests: other streams in place of fd 0 and fd 1 (the contract suite uses pipes). */
    StdioTransportProvider(Supplier<Streams> streams) {
        this.streams = streams;
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public String syntax() {
        return SYNTAX;
    }

    @Override
    public TransportAddress parse(String spec, TransportOptions options) {
        // "stdio" and "stdio:" both arrive here as an empty spec.
        if (spec == null || !spec.isEmpty()) {
            throw new TransportAddressException("stdio:" + spec + ": stdio takes no address; write just " + SYNTAX
                    + " (in gdb: target remote | kvmgdb run --gdb stdio GUEST.elf).");
        }
        return new StdioAddress(streams);
    }

    /**
     * fd 0 and fd 1, unbuffered. Called once, at bind: from then on nothing else may write to fd 1,
     * so {@code System.out} is pointed at stderr (a stray println must not corrupt the packets).
     */
    private static Streams processStreams() {
        System.setOut(System.err);
        return new Streams(new FileInputStream(FileDescriptor.in), new FileOutputStream(FileDescriptor.out), peerOfThisProcess());
    }

    /** Who is on the other end of our stdin: the process that started us (gdb, or the shell gdb ran us with). */
    private static String peerOfThisProcess() {
        return ProcessHandle.current().parent()
                .map(p -> SCHEME + " (parent process " + p.pid() + p.info().command().map(c -> " " + c).orElse("") + ")")
                .orElse(SCHEME + " (parent process gone)");
    }
}
