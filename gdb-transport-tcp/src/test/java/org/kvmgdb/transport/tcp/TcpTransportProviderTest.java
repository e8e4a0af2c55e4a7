package org.kvmgdb.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.kvmgdb.api.transport.Connection;
import org.kvmgdb.api.transport.TransportAddressException;
import org.kvmgdb.api.transport.TransportOptions;

/** What is particular to TCP: loopback by default, remote only when asked, socket options. */
class TcpTransportProviderTest {

    private static final TransportOptions REMOTE = new TransportOptions(true);
    private final TcpTransportProvider provider = new TcpTransportProvider();

    @Test
    void emptyHostMeansIpv4Loopback() throws IOException {
        assertEquals("tcp:127.0.0.1:1234", provider.parse(":1234", TransportOptions.DEFAULTS).describe());
        try (var listener = provider.parse(":0", TransportOptions.DEFAULTS).bind()) {
            InetSocketAddress bound = (InetSocketAddress) ((TcpListener) listener).serverSocket().getLocalSocketAddress();
            assertTrue(bound.getAddress().isLoopbackAddress(), "bound to " + bound);
            assertTrue(bound.getAddress() instanceof Inet4Address, "bound to " + bound);
        }
    }

    @Test
    void portZeroShowsTheRealPort() throws IOException {
        try (var listener = provider.parse(":0", TransportOptions.DEFAULTS).bind()) {
            int port = ((TcpListener) listener).serverSocket().getLocalPort();
            assertNotEquals(0, port);
            assertEquals("127.0.0.1:" + port, listener.gdbTarget());
            assertEquals("tcp:127.0.0.1:" + port, listener.describe());
        }
    }

    @Test
    void localhostIsAccepted() throws IOException {
        var address = provider.parse("localhost:0", TransportOptions.DEFAULTS);
        try (var listener = address.bind();
                var client = SocketChannel.open(TcpTransportContractTest.gdbTargetAddress(listener.gdbTarget()));
                var connection = listener.accept()) {
            assertTrue(InetAddress.getByName("localhost").isLoopbackAddress());
            assertTrue(connection.peer().startsWith("tcp:"), connection.peer());
        }
    }

    @Test
    void ipv6Loopback() throws IOException {
        assumeTrue(TcpIpv6TransportContractTest.ipv6LoopbackWorks(), "IPv6 loopback (::1) is not usable on this machine");
        assertEquals("tcp:[::1]:1234", provider.parse("[::1]:1234", TransportOptions.DEFAULTS).describe());
        try (var listener = provider.parse("[::1]:0", TransportOptions.DEFAULTS).bind();
                var client = SocketChannel.open(TcpTransportContractTest.gdbTargetAddress(listener.gdbTarget()));
                var connection = listener.accept()) {
            int port = ((TcpListener) listener).serverSocket().getLocalPort();
            assertEquals("[::1]:" + port, listener.gdbTarget());
            assertEquals("tcp:[::1]:" + port, listener.describe());
            assertTrue(connection.peer().startsWith("tcp:[::1]:"), connection.peer());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0:1234", "[::]:1234", "192.0.2.1:1234", "[2001:db8::1]:1234", "8.8.8.8:0"})
    void nonLoopbackIsRefusedWithoutAllowRemote(String spec) {
        TransportAddressException e = assertThrows(TransportAddressException.class,
                () -> provider.parse(spec, TransportOptions.DEFAULTS));
        assertTrue(e.getMessage().contains("--gdb-allow-remote"), e.getMessage());
        assertTrue(e.getMessage().contains("not a loopback address"), e.getMessage());
    }

    @Test
    void allowRemoteAcceptsTheWildcardAndGdbReachesItThroughLoopback() throws IOException {
        assertEquals("tcp:192.0.2.1:1234", provider.parse("192.0.2.1:1234", REMOTE).describe());
        try (var listener = provider.parse("0.0.0.0:0", REMOTE).bind()) {
            int port = ((TcpListener) listener).serverSocket().getLocalPort();
            assertEquals("tcp:0.0.0.0:" + port, listener.describe());
            assertEquals("127.0.0.1:" + port, listener.gdbTarget());
            try (var client = SocketChannel.open(TcpTransportContractTest.gdbTargetAddress(listener.gdbTarget()));
                    var connection = listener.accept()) {
                assertFalse(connection.peer().isBlank());
            }
        }
    }

    @Test
    void malformedMessagesSayWhatIsWrong() {
        assertMessage("1234", "did you mean tcp::1234?");
        assertMessage(":65536", "0 to 65535");
        assertMessage("localhost:", "port is missing");
        assertMessage("::1:1234", "in brackets");
        assertMessage("no-such-host.invalid:1234", "unknown host");
    }

    private void assertMessage(String spec, String part) {
        TransportAddressException e = assertThrows(TransportAddressException.class,
                () -> provider.parse(spec, TransportOptions.DEFAULTS));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertTrue(e.getMessage().contains("tcp:[HOST]:PORT"), e.getMessage());
    }

    @Test
    void acceptedSocketsHaveTcpNoDelay() throws IOException {
        try (var listener = provider.parse(":0", TransportOptions.DEFAULTS).bind();
                var client = SocketChannel.open(TcpTransportContractTest.gdbTargetAddress(listener.gdbTarget()));
                Connection connection = listener.accept()) {
            assertTrue(((TcpConnection) connection).socket().getTcpNoDelay());
        }
    }

    @Test
    void serverSocketHasReuseAddress() throws IOException {
        try (var listener = provider.parse(":0", TransportOptions.DEFAULTS).bind()) {
            assertTrue(((TcpListener) listener).serverSocket().getReuseAddress());
        }
    }

    @Test
    void aPortInUseIsReportedWithTheAddress() throws IOException {
        try (var first = provider.parse(":0", TransportOptions.DEFAULTS).bind()) {
            var again = provider.parse(first.describe().substring("tcp:".length()), TransportOptions.DEFAULTS);
            BindException e = assertThrows(BindException.class, again::bind);
            assertTrue(e.getMessage().startsWith(first.describe() + ": Address already in use"), e.getMessage());
            assertTrue(e.getMessage().contains("pick another port, or port 0"), "says what to do: " + e.getMessage());
        }
    }
}
