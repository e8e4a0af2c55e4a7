package org.kvmgdb.core.target;

import java.util.List;
import java.util.Optional;
import org.kvmgdb.api.arch.TargetDescription;

/**
 * What the debug session drives: a set of threads (vCPUs) that run and stop together (all-stop),
 * their registers, their memory and breakpoints. The KVM VM implements it; so does an in-memory
 * test target, so the session is tested without KVM.
 *
 * <p>Thread ids are GDB thread ids: positive, vCPU index + 1. Methods other than {@link #resume}
 * and {@link #interrupt} are called only while every thread is stopped, from the session's thread.
 */
public interface DebugTarget {

    /** The register table; {@code g} layout and {@code target.xml} both come from it. */
    TargetDescription description();

    /** Live thread ids in ascending order. */
    List<Integer> threads();

    /** A short human name shown by {@code info threads}, e.g. {@code "vCPU 0"}. */
    String threadName(int thread);

    /** Free text for {@code qThreadExtraInfo}, e.g. {@code "stopped at 0x100000"}. */
    String threadExtraInfo(int thread);

    /** All registers in {@code g} layout ({@code description().gPacketSize()} bytes). */
    byte[] readRegisters(int thread) throws TargetException;

    void writeRegisters(int thread, byte[] registers) throws TargetException;

    /** One register's bytes (target byte order). */
    byte[] readRegister(int thread, int regnum) throws TargetException;

    void writeRegister(int thread, int regnum, byte[] value) throws TargetException;

    /**
     * Several registers at once, in the order of {@code regnums} (a stop reply's expedited ones). The
     * default reads them one by one; a target overrides it to fetch shared state once.
     */
    default byte[][] readRegisters(int thread, int[] regnums) throws TargetException {
        byte[][] values = new byte[regnums.length][];
        for (int i = 0; i < regnums.length; i++) {
            values[i] = readRegister(thread, regnums[i]);
        }
        return values;
    }

    /**
     * Reads up to {@code length} bytes of the thread's virtual memory. Stops at the first byte that
     * cannot be read and returns how many were read (0 when none could be). Never shows the
     * breakpoint instructions the target itself inserted.
     */
    int readMemory(int thread, long address, byte[] buffer, int length) throws TargetException;

    /** Writes all of {@code data} or fails without a partial effect that matters to gdb. */
    void writeMemory(int thread, long address, byte[] data) throws TargetException;

    /** Which {@code Z} types this target serves; gdb is told the others are unsupported. */
    boolean supports(BreakpointType type);

    /** {@code Z}: idempotent; inserting twice is one breakpoint. */
    void insertBreakpoint(BreakpointType type, long address, int kind) throws TargetException;

    /**
     * {@code Z} with gdb's {@code Hg} thread: a target whose threads may see different address
     * spaces (vCPUs with their own page tables) translates {@code address} as that thread sees it,
     * like {@code m}. {@code thread} 0 or -1 means any. The default ignores the thread. Removal
     * needs no thread: a target remembers where it planted each breakpoint.
     */
    default void insertBreakpoint(int thread, BreakpointType type, long address, int kind) throws TargetException {
        insertBreakpoint(type, address, kind);
    }

    /** {@code z}: idempotent; removing one that is not there succeeds. */
    void removeBreakpoint(BreakpointType type, long address, int kind) throws TargetException;

    /**
     * Resumes threads as {@code request} says and returns at once. The target calls
     * {@code listener} exactly once, from any thread, with the event that stopped it; by then
     * every thread is stopped again (all-stop). The listener does the session's work at once on
     * that thread (it sends the stop reply, and may call this target again), so call it without
     * holding a lock that this target's other methods take.
     */
    void resume(ResumeRequest request, StopListener listener) throws TargetException;

    /**
     * Whether {@link ResumeRequest.RangeStep} is served: the target steps inside the range itself and
     * stops only when the pc leaves it, so gdb's {@code step}/{@code next} cost one round trip per
     * line. The session offers {@code vCont;r} only when this is true.
     */
    default boolean supportsRangeStepping() {
        return false;
    }

    /** Asks a running target to stop (gdb's Ctrl-C). It reports {@link StopEvent.Signal} with SIGINT. Safe from any thread. */
    void interrupt();

    /** Why the target is stopped now, for {@code ?}. */
    StopEvent currentStop();

    /**
     * A debugger arrives: stop every thread (all-stop) and return once they are stopped, so the
     * session may call the other methods. Called once at the start of each session, before any
     * packet is served; a target a previous debugger left running ({@link #detach}) stops here.
     * The default does nothing, for targets that are stopped whenever no debugger is attached.
     */
    default void attach() {
    }

    /** The debugger leaves: remove every breakpoint, clear debug state, let the guest run on. */
    void detach();

    /** {@code k}: end the guest. */
    void kill();

    /** Guest-physical memory access, for {@code Qqemu.PhyMemMode} and {@code monitor phys}; none by default. */
    default Optional<PhysicalMemoryAccess> physicalMemory() {
        return Optional.empty();
    }

    /** What {@code monitor} commands inspect beyond this interface (vCPU states, architecture commands, counters); none by default. */
    default Optional<TargetInspection> inspection() {
        return Optional.empty();
    }

    /** Called with the single event that ends a {@link #resume}. */
    @FunctionalInterface
    interface StopListener {
        void stopped(StopEvent event);
    }
}
