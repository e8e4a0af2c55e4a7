package org.kvmgdb.e2e;

import java.nio.file.Path;

/** The gdb sessions over the tcp transport plugin, on an ephemeral loopback port. */
class GdbOverTcpTest extends GdbOverTransportContract {
    @Override
    String gdbAddress(Path work) {
        return "tcp:127.0.0.1:0";
    }
}
