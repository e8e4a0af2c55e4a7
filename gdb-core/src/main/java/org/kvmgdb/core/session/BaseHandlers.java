package org.kvmgdb.core.session;

import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.core.protocol.Command;
import org.kvmgdb.core.protocol.MemoryPackets.ReadMemory;
import org.kvmgdb.core.protocol.MemoryPackets.WriteMemory;
import org.kvmgdb.core.protocol.RegisterPackets.ReadRegister;
import org.kvmgdb.core.protocol.RegisterPackets.ReadRegisters;
import org.kvmgdb.core.protocol.RegisterPackets.WriteRegister;
import org.kvmgdb.core.protocol.RegisterPackets.WriteRegisters;
import org.kvmgdb.core.protocol.Replies;
import org.kvmgdb.core.target.PhysicalMemoryAccess;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/** {@code ? g G p P m M X D k}: the packets every stub serves; {@code m M X} in virtual or (QEMU's PhyMemMode) physical memory. */
final class BaseHandlers {
    /**
     * The most bytes one {@code m} reply carries: twice that in hex is our packet size, what gdb asks
     * for (a whole number of pages, so requests stay page-aligned). A larger request gets a short read,
     * which gdb continues from.
     */
    static final int MAX_READ = DebugSession.PACKET_SIZE / 2;

    private final SessionState state;
    /** The bytes of the {@code m} being answered, reused: {@link Outcome.HexReply} sends them before the next packet. */
    private final byte[] readBuffer = new byte[MAX_READ];

    BaseHandlers(SessionState state) {
        this.state = state;
    }

    void register(HandlerTable table) {
        table.on(Command.StopReason.class, c -> stopReason());
        table.on(ReadRegisters.class, c -> Outcome.hexReply(state.target.readRegisters(state.generalThread())));
        table.on(WriteRegisters.class, this::writeRegisters);
        table.on(ReadRegister.class, this::readRegister);
        table.on(WriteRegister.class, this::writeRegister);
        table.on(ReadMemory.class, this::readMemory);
        table.on(WriteMemory.class, this::writeMemory);
        table.on(Command.Detach.class, c -> new Outcome.Detach());
        table.on(Command.Kill.class, c -> new Outcome.Kill());
    }

    private Outcome stopReason() {
        StopEvent stop = state.target.currentStop();
        state.stopped(stop);
        return Outcome.reply(state.stopReply(stop));
    }

    private Outcome writeRegisters(WriteRegisters c) throws TargetException {
        int size = state.target.description().gPacketSize();
        if (c.data().length != size) {
            throw new TargetException(TargetException.EINVAL, "G: " + c.data().length + " bytes, the g layout has " + size);
        }
        state.target.writeRegisters(state.generalThread(), c.data());
        return Outcome.reply(Replies.OK);
    }

    private Outcome readRegister(ReadRegister c) throws TargetException {
        checkRegnum(c.regnum());
        return Outcome.hexReply(state.target.readRegister(state.generalThread(), c.regnum()));
    }

    private Outcome writeRegister(WriteRegister c) throws TargetException {
        checkRegnum(c.regnum());
        int size = state.target.description().register(c.regnum()).byteSize();
        if (c.value().length != size) {
            throw new TargetException(TargetException.EINVAL, "P: register " + c.regnum() + " has " + size + " bytes, got " + c.value().length);
        }
        state.target.writeRegister(state.generalThread(), c.regnum(), c.value());
        return Outcome.reply(Replies.OK);
    }

    private void checkRegnum(int regnum) throws TargetException {
        TargetDescription description = state.target.description();
        if (regnum >= description.registers().size()) {
            throw new TargetException(TargetException.EINVAL, "no register " + regnum);
        }
    }

    private Outcome readMemory(ReadMemory c) throws TargetException {
        int length = Math.min(c.length(), MAX_READ);
        byte[] buffer = readBuffer;
        int read = state.physicalMode
                ? physical().readPhysicalMemory(c.address(), buffer, length)
                : state.target.readMemory(state.generalThread(), c.address(), buffer, length);
        if (read == 0 && length > 0) {
            throw new TargetException(TargetException.EFAULT, "cannot read memory at 0x" + Long.toHexString(c.address()));
        }
        return new Outcome.HexReply(buffer, 0, read);
    }

    private Outcome writeMemory(WriteMemory c) throws TargetException {
        // An empty X is gdb's probe for binary downloads: the answer is just OK.
        if (c.data().length > 0 && state.physicalMode) {
            physical().writePhysicalMemory(c.address(), c.data());
        } else if (c.data().length > 0) {
            state.target.writeMemory(state.generalThread(), c.address(), c.data());
        }
        return Outcome.reply(Replies.OK);
    }

    /** Physical mode is only ever switched on for a target that has physical memory. */
    private PhysicalMemoryAccess physical() throws TargetException {
        return state.target.physicalMemory().orElseThrow(
                () -> new TargetException(TargetException.EINVAL, "this target has no physical memory access"));
    }
}
