/**
 * gdb's {@code monitor} commands (the {@code qRcmd} packet): the {@link org.kvmgdb.core.monitor.Monitor}
 * that matches a command line to a command, one small class per built-in command, and the
 * architecture's own commands ({@link org.kvmgdb.api.arch.MonitorCommand}) run on the selected vCPU.
 * No I/O: the session turns the text a command returns into {@code O} packets.
 */
package org.kvmgdb.core.monitor;
