package org.kvmgdb.core.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.kvmgdb.api.transport.Connection;

/**
 * A {@link Connection} with no socket: the test writes what gdb would send ({@link #send}) and takes
 * what the stub wrote ({@link #takeOutput}). It also tells whether the session's reader is blocked
 * waiting for bytes with nothing left to read ({@link #readerWaiting}), which is how a test knows
 * that everything it sent has been decoded, without sleeping.
 */
public final class InMemoryConnection implements Connection {
    private final Object lock = new Object();
    private final ByteArrayOutputStream inbound = new ByteArrayOutputStream();
    private int inboundRead;
    private boolean endOfInput;
    private boolean closed;
    private boolean readerWaiting;
    private final ByteArrayOutputStream outbound = new ByteArrayOutputStream();

    private final InputStream input = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            synchronized (lock) {
                while (inboundRead == inbound.size() && !endOfInput && !closed) {
                    readerWaiting = true;
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    } finally {
                        readerWaiting = false;
                    }
                }
                if (closed) {
                    throw new IOException("connection closed");
                }
                int available = inbound.size() - inboundRead;
                if (available == 0) {
                    return -1;
                }
                int n = Math.min(length, available);
                byte[] all = inbound.toByteArray();
                System.arraycopy(all, inboundRead, buffer, offset, n);
                inboundRead += n;
                if (inboundRead == inbound.size()) {
                    inbound.reset();
                    inboundRead = 0;
                }
                return n;
            }
        }
    };

    private final OutputStream output = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] data, int offset, int length) throws IOException {
            synchronized (lock) {
                if (closed) {
                    throw new IOException("connection closed");
                }
                outbound.write(data, offset, length);
            }
        }
    };

    /** Bytes from "gdb", read by the session in whatever pieces it asks for. */
    public void send(byte[] data) {
        synchronized (lock) {
            inbound.write(data, 0, data.length);
            lock.notifyAll();
        }
    }

    /** gdb hangs up: the session reads end of stream once it has read everything sent before. */
    public void endOfInput() {
        synchronized (lock) {
            endOfInput = true;
            lock.notifyAll();
        }
    }

    /** Whether the session's reader is blocked for more input, having read everything sent. */
    public boolean readerWaiting() {
        synchronized (lock) {
            // A reader woken by send() but not yet running still has the flag set: unread bytes say it is busy.
            return readerWaiting && inboundRead == inbound.size();
        }
    }

    /** Bytes sent that the session has not read yet. */
    public int unread() {
        synchronized (lock) {
            return inbound.size() - inboundRead;
        }
    }

    /** Everything the stub wrote since the last call. */
    public byte[] takeOutput() {
        synchronized (lock) {
            byte[] out = outbound.toByteArray();
            outbound.reset();
            return out;
        }
    }

    public boolean closed() {
        synchronized (lock) {
            return closed;
        }
    }

    @Override
    public InputStream input() {
        return input;
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public String peer() {
        return "in-memory";
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
    }
}
