package org.kvmgdb.core.testing;

import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.kvmgdb.core.server.GdbServer;
import org.kvmgdb.core.session.DebugSession;
import org.kvmgdb.core.session.SessionOptions;

/** A {@link MemoryTarget} served by a {@link GdbServer} on a loopback port, and scripted debuggers to talk to it. */
public final class ServedTarget implements AutoCloseable {
    public final MemoryTarget target;
    public final LoopbackListener listener;
    public final GdbServer server;
    private final BlockingQueue<DebugSession.End> ends = new LinkedBlockingQueue<>();

    public ServedTarget(MemoryTarget target) throws IOException {
        this(target, SessionOptions.DEFAULTS);
    }

    public ServedTarget(MemoryTarget target, SessionOptions options) throws IOException {
        this.target = target;
        this.listener = new LoopbackListener();
        this.server = new GdbServer(listener, target, options);
        server.onSessionEnd(ends::add);
        server.start();
    }

    public RspClient connect() throws IOException {
        return new RspClient(listener.port());
    }

    /** How the next session ended; fails rather than hangs when none ends. */
    public DebugSession.End awaitSessionEnd() throws InterruptedException {
        DebugSession.End end = ends.poll(RspClient.READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        if (end == null) {
            throw new AssertionError("no session ended");
        }
        return end;
    }

    @Override
    public void close() {
        server.close();
        target.close();
    }
}
