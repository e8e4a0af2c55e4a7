package org.kvmgdb.core.protocol;

/**
 * A packet from gdb, parsed. Each family's records live with its parser ({@link MemoryPackets},
 * {@link RegisterPackets}, {@link BreakpointPackets}, {@link ResumePackets}, {@link ThreadPackets},
 * {@link QueryPackets}, {@link MonitorPackets}, {@link LldbPackets}); the few single-letter commands without arguments are here.
 * {@link PacketParser#parse} never throws: bad input becomes {@link Malformed}, anything we do not
 * know becomes {@link Unknown} (which gets the empty reply).
 */
public sealed interface Command permits
        Command.StopReason, Command.Detach, Command.Kill, Command.Unknown, Command.Malformed,
        MemoryPackets.ReadMemory, MemoryPackets.WriteMemory,
        RegisterPackets.ReadRegisters, RegisterPackets.WriteRegisters, RegisterPackets.ReadRegister,
        RegisterPackets.WriteRegister,
        BreakpointPackets.InsertBreakpoint, BreakpointPackets.RemoveBreakpoint,
        ResumePackets.Continue, ResumePackets.Step, ResumePackets.VContQuery, ResumePackets.VCont,
        ThreadPackets.SetThread, ThreadPackets.ThreadAlive, ThreadPackets.CurrentThread,
        ThreadPackets.ThreadInfoFirst, ThreadPackets.ThreadInfoNext, ThreadPackets.ThreadExtraInfo,
        ThreadPackets.Attached,
        QueryPackets.Supported, QueryPackets.XferRead, QueryPackets.StartNoAckMode,
        MonitorPackets.Packet, LldbPackets.Packet {

    /** {@code ?}: why the target is stopped. */
    record StopReason() implements Command {
    }

    /** {@code D} or {@code D;pid}: the debugger leaves, the guest runs on. */
    record Detach() implements Command {
    }

    /** {@code k}: end the guest. */
    record Kill() implements Command {
    }

    /** A packet we do not implement; {@code name} is its command name, for logs. */
    record Unknown(String name) implements Command {
    }

    /** A packet of a known family that does not follow its grammar. */
    record Malformed(String packet, String reason) implements Command {
    }
}
