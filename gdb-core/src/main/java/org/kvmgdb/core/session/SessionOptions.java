package org.kvmgdb.core.session;

/**
 * Choices for a debug session.
 *
 * @param logPackets {@code --log-packets}: log every packet in and out at info level
 */
public record SessionOptions(boolean logPackets) {
    public static final SessionOptions DEFAULTS = new SessionOptions(false);
}
