package org.kvmgdb.e2e;

import java.nio.file.Path;

/** The gdb sessions over the unix transport plugin: gdb's {@code target remote PATH} to a socket file. */
class GdbOverUnixTest extends GdbOverTransportContract {
    @Override
    String gdbAddress(Path work) {
        return "unix:" + work.resolve("gdb.sock");
    }
}
