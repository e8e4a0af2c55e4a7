package org.kvmgdb.core.session;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * The target {@link SessionWarmup}'s session drives: the real target's register table, and either
 * the real target's reads (a guest held before its first instruction: every vCPU is stopped) or
 * its own zeroed registers and memory. Everything that would change something happens here only:
 * register and memory writes land in scratch copies, breakpoints are a set, a resume "stops" at
 * once on the calling thread. So the real guest's memory, registers, breakpoints and run state are
 * never touched, and the session's handlers still take the paths a real session takes.
 */
final class ScratchTarget implements DebugTarget {
    /** Where the scratch memory starts when there is no real target to read. */
    static final long SCRATCH_BASE = 0x100000;
    private static final int SCRATCH_SIZE = 4096;

    private final DebugTarget real;
    private final boolean readReal;
    private final byte[] registers;
    private final byte[] memory = new byte[SCRATCH_SIZE];
    private final Set<Long> breakpoints = new HashSet<>();
    private final Map<Long, byte[]> written = new HashMap<>();

    /** @param readReal whether reads go to {@code real} (only when its every thread is stopped and no session has it) */
    ScratchTarget(DebugTarget real, boolean readReal) {
        this.real = real;
        this.readReal = readReal;
        this.registers = new byte[real.description().gPacketSize()];
    }

    @Override
    public org.kvmgdb.api.arch.TargetDescription description() {
        return real.description();
    }

    @Override
    public List<Integer> threads() {
        return readReal ? real.threads() : List.of(1);
    }

    @Override
    public String threadName(int thread) {
        return readReal ? real.threadName(thread) : "vCPU " + (thread - 1);
    }

    @Override
    public String threadExtraInfo(int thread) {
        return readReal ? real.threadExtraInfo(thread) : "stopped at 0x" + Long.toHexString(SCRATCH_BASE);
    }

    @Override
    public byte[] readRegisters(int thread) throws TargetException {
        return readReal ? real.readRegisters(thread) : registers.clone();
    }

    @Override
    public byte[][] readRegisters(int thread, int[] regnums) throws TargetException {
        return readReal ? real.readRegisters(thread, regnums) : DebugTarget.super.readRegisters(thread, regnums);
    }

    @Override
    public byte[] readRegister(int thread, int regnum) throws TargetException {
        if (readReal) {
            return real.readRegister(thread, regnum);
        }
        byte[] value = new byte[description().register(regnum).byteSize()];
        System.arraycopy(registers, description().offsetOf(regnum), value, 0, value.length);
        return value;
    }

    @Override
    public void writeRegisters(int thread, byte[] values) {
        // scratch only: the real registers are never written
    }

    @Override
    public void writeRegister(int thread, int regnum, byte[] value) {
        // scratch only
    }

    @Override
    public int readMemory(int thread, long address, byte[] buffer, int length) throws TargetException {
        if (readReal) {
            return real.readMemory(thread, address, buffer, length);
        }
        long offset = address - SCRATCH_BASE;
        if (offset < 0 || offset >= SCRATCH_SIZE) {
            return 0;
        }
        int n = (int) Math.min(length, SCRATCH_SIZE - offset);
        System.arraycopy(memory, (int) offset, buffer, 0, n);
        return n;
    }

    @Override
    public void writeMemory(int thread, long address, byte[] data) {
        written.put(address, data.clone()); // scratch only: the guest's memory is never written
    }

    @Override
    public boolean supports(BreakpointType type) {
        return type == BreakpointType.SOFTWARE || type == BreakpointType.HARDWARE;
    }

    @Override
    public void insertBreakpoint(BreakpointType type, long address, int kind) {
        breakpoints.add(address);
    }

    @Override
    public void removeBreakpoint(BreakpointType type, long address, int kind) {
        breakpoints.remove(address);
    }

    /** Stops at once, on this thread: a continue as at a breakpoint, a step as a finished step. */
    @Override
    public void resume(ResumeRequest request, StopListener listener) {
        int thread = threads().get(0);
        ResumeRequest.Action action = request.actionFor(thread);
        StopEvent.Reason reason = action instanceof ResumeRequest.Continue ? new StopEvent.SoftwareBreak() : new StopEvent.Plain();
        listener.stopped(new StopEvent.Signal(thread, StopEvent.SIGTRAP, reason));
    }

    @Override
    public void interrupt() {
        // never running
    }

    @Override
    public StopEvent currentStop() {
        return new StopEvent.Signal(threads().get(0), StopEvent.SIGTRAP, new StopEvent.Plain());
    }

    @Override
    public void detach() {
        breakpoints.clear();
    }

    @Override
    public void kill() {
        // nothing runs here
    }
}
