package org.kvmgdb.transport.tcp;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.BeforeEach;

/** The whole contract again over IPv6 loopback; its real-gdb test proves gdb takes "[::1]:PORT". */
class TcpIpv6TransportContractTest extends TcpTransportContractTest {

    @BeforeEach
    void ipv6LoopbackIsUsable() {
        assumeTrue(ipv6LoopbackWorks(), "IPv6 loopback (::1) is not usable on this machine");
    }

    @Override
    protected String freshSpec() {
        return "[::1]:0";
    }

    static boolean ipv6LoopbackWorks() {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
