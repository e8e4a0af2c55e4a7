package org.kvmgdb.api.transport;

/**
 * A way for a debugger to reach the stub: {@code tcp}, {@code unix}, ...
 *
 * <p>One {@code META-INF/services/org.kvmgdb.api.transport.TransportProvider} line per
 * implementation. Security defaults are the provider's business: it refuses, in
 * {@link #parse}, any address it would not be safe to listen on with the given options.
 */
public interface TransportProvider {

    /** The scheme before the first colon of a {@code --gdb} value, e.g. {@code "tcp"}. */
    String scheme();

    /** The accepted forms, for usage errors and {@code --help}, e.g. {@code "tcp:[HOST]:PORT"}. */
    String syntax();

    /**
     * Parses what follows {@code scheme:} in a {@code --gdb} value. Nothing is opened yet.
     *
     * @throws TransportAddressException when the text is malformed or the address is refused
     *     under {@code options}; the message says why and names the accepted forms
     */
    TransportAddress parse(String spec, TransportOptions options);

    /**
     * Availability probe (Netty's {@code isAvailable()}): why this transport cannot work on
     * this machine, or {@code null} when it can. A provider that is unavailable is listed but
     * not offered.
     */
    default String unavailabilityReason() {
        return null;
    }
}
