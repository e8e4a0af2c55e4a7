package org.kvmgdb.transport.tcp;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;
import org.kvmgdb.api.transport.TransportAddress;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;
import org.kvmgdb.api.transport.TransportProvider;

/**
 * {@code --gdb tcp:[HOST]:PORT}, the forms of QEMU's {@code -gdb}: {@code tcp::1234},
 * {@code tcp:localhost:1234}, {@code tcp:[::1]:1234}.
 *
 * <p>Unlike QEMU, an empty HOST means 127.0.0.1, not every interface: whoever reaches the stub
 * can read and write all guest memory. A non-loopback address (including 0.0.0.0 and
 * {@code [::]}) is refused unless the user asked for it with {@code --gdb-allow-remote}.
 */
public final class TcpTransportProvider implements TransportProvider {

    static final String SCHEME = "tcp";
    static final String SYNTAX = "tcp:[HOST]:PORT";
    private static final String FORMS = SYNTAX + " (e.g. tcp::1234, tcp:localhost:1234, tcp:[::1]:1234)";

    // Host names as RFC 1123 allows, plus '_' which resolvers tolerate; checked before any lookup
    // so junk never reaches DNS.
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

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
        if (spec == null) {
            throw malformed("", "the address is missing");
        }
        String host;
        String port;
        if (spec.startsWith("[")) {
            int close = spec.indexOf(']');
            if (close < 0) {
                throw malformed(spec, "the '[' of an IPv6 address is not closed");
            }
            if (close + 1 >= spec.length() || spec.charAt(close + 1) != ':') {
                throw malformed(spec, "a ':' and the port must follow ']'");
            }
            host = spec.substring(1, close);
            port = spec.substring(close + 2);
            if (host.indexOf(':') < 0) {
                throw malformed(spec, "brackets are for IPv6 addresses only");
            }
        } else {
            int colon = spec.lastIndexOf(':');
            if (colon < 0) {
                String hint = PORT.matcher(spec).matches() ? "; did you mean tcp::" + spec + "?" : "";
                throw malformed(spec, "the port must follow a ':'" + hint);
            }
            host = spec.substring(0, colon);
            port = spec.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw malformed(spec, "write an IPv6 address in brackets, e.g. tcp:[::1]:1234");
            }
        }

        int portNumber = parsePort(spec, port);
        InetAddress address = resolve(spec, host);
        if (!address.isLoopbackAddress() && !options.allowRemote()) {
            throw new TransportAddressException("tcp:" + spec + ": " + address.getHostAddress()
                    + " is not a loopback address; other machines could reach the debugger there,"
                    + " and through it all of the guest's memory. Use 127.0.0.1, localhost or [::1],"
                    + " or add --gdb-allow-remote to listen there anyway.");
        }
        return new TcpAddress(address, portNumber);
    }

    private static int parsePort(String spec, String port) {
        if (port.isEmpty()) {
            throw malformed(spec, "the port is missing");
        }
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) > 65535) {
            throw malformed(spec, "the port must be a number from 0 to 65535 (0: the system picks one)");
        }
        return Integer.parseInt(port);
    }

    private static InetAddress resolve(String spec, String host) {
        if (host.isEmpty()) {
            // QEMU would bind every interface here; we bind loopback only.
            return loopbackIpv4();
        }
        boolean ipv6Literal = host.indexOf(':') >= 0;
        if (!ipv6Literal && !HOST_NAME.matcher(host).matches()) {
            throw malformed(spec, "'" + host + "' is not a host name or address");
        }
        try {
            InetAddress address = InetAddress.getByName(host);
            if (ipv6Literal && !(address instanceof Inet6Address)) {
                throw malformed(spec, "'" + host + "' is not an IPv6 address");
            }
            return address;
        } catch (UnknownHostException e) {
            throw malformed(spec, "unknown host '" + host + "'");
        }
    }

    private static InetAddress loopbackIpv4() {
        try {
            return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException e) {
            throw new AssertionError("a 4-byte address is always valid", e);
        }
    }

    private static TransportAddressException malformed(String spec, String why) {
        return new TransportAddressException("tcp:" + spec + ": " + why + ". Expected " + FORMS + ".");
    }
}
