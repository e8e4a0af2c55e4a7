package org.kvmgdb.core.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;

/**
 * An in-memory {@link DebugTarget} for any {@link TargetDescription}, so the session (and gdb itself,
 * in distribution's end-to-end tests) can be exercised without KVM.
 *
 * <p>N threads, each with a register file in {@code g} layout; one flat byte memory at
 * {@code [base, base + size)}; breakpoints that are remembered but plant nothing, unless the builder
 * asks for {@link Builder#plantsSoftwareBreakpoints planted} software breakpoints. A tiny execution
 * model makes resuming observable: an "instruction" only adds {@code instructionSize} to the pc
 * register (little-endian, named at construction). A step executes one instruction. A continue
 * executes instructions on a background thread, one per thread per round, until some thread's pc
 * is on a breakpoint (checked before executing, as a CPU traps before it executes the breakpoint
 * address), reaches the exit address (the guest exits with the configured status), or
 * {@link #interrupt()} is called (SIGINT). After {@link #detach()} the threads run on the same way,
 * without breakpoints, until {@link #attach()} or {@link #close()}.
 */
public final class MemoryTarget implements DebugTarget, AutoCloseable {
    /** Pace of the execution model, so a running target does not burn a CPU. */
    private static final long ROUND_NANOS = 50_000;
    private static final int SIGKILL = 9;

    private enum Mode { STOPPED, RUNNING, FREE_RUNNING, EXITED, KILLED }

    private final TargetDescription description;
    private final int threadCount;
    private final RegisterDescriptor pc;
    private final int pcOffset;
    private final int instructionSize;
    private final long memoryBase;
    private final byte[] memory;
    private final Long exitAddress;
    private final int exitStatus;
    private final Set<BreakpointType> supported;
    private final boolean rangeStepping;
    /** The bytes a software breakpoint puts into memory as the guest sees it, or null when none are planted. */
    private final byte[] breakpointInstruction;

    private final byte[][] registers;
    private final Map<BreakpointType, Map<Long, Integer>> breakpoints = new EnumMap<>(BreakpointType.class);
    private Mode mode = Mode.STOPPED;
    private StopEvent currentStop;
    private Thread runner;
    private volatile boolean interruptRequested;
    private volatile boolean halt;
    private volatile RuntimeException interruptFailure;
    /** A stop was decided and its listener has not returned yet. */
    private boolean reporting;
    private int attachCount;
    private int detachCount;
    private final List<ResumeRequest> resumes = new ArrayList<>();
    /** The thread each {@code Z} named, in order (one flat memory: it changes nothing else here). */
    private final List<Integer> insertThreads = new ArrayList<>();

    private MemoryTarget(Builder b) {
        this.description = b.description;
        this.threadCount = b.threads;
        this.pc = description.register(b.pcRegister)
                .orElseThrow(() -> new IllegalArgumentException("no register " + b.pcRegister + " in the description"));
        this.pcOffset = description.offsetOf(pc.regnum());
        this.instructionSize = b.instructionSize;
        this.memoryBase = b.memoryBase;
        this.memory = new byte[b.memorySize];
        this.exitAddress = b.exitAddress;
        this.exitStatus = b.exitStatus;
        this.supported = Collections.unmodifiableSet(EnumSet.copyOf(b.supported));
        this.rangeStepping = b.rangeStepping;
        this.breakpointInstruction = b.breakpointInstruction;
        this.registers = new byte[threadCount][description.gPacketSize()];
        for (BreakpointType type : BreakpointType.values()) {
            breakpoints.put(type, new TreeMap<>());
        }
        for (int t = 1; t <= threadCount; t++) {
            setPc(t, b.entry != null ? b.entry : memoryBase);
        }
        currentStop = new StopEvent.Signal(1, StopEvent.SIGTRAP, new StopEvent.Plain());
    }

    /** @param pcRegister the name of the program counter in {@code description}, e.g. {@code rip} or {@code pc} */
    public static Builder builder(TargetDescription description, String pcRegister) {
        return new Builder(description, pcRegister);
    }

    public static final class Builder {
        private final TargetDescription description;
        private final String pcRegister;
        private int threads = 1;
        private int instructionSize = 1;
        private long memoryBase;
        private int memorySize = 64 * 1024;
        private Long entry;
        private Long exitAddress;
        private int exitStatus;
        private EnumSet<BreakpointType> supported = EnumSet.of(BreakpointType.SOFTWARE, BreakpointType.HARDWARE);
        private boolean rangeStepping;
        private byte[] breakpointInstruction;

        private Builder(TargetDescription description, String pcRegister) {
            this.description = description;
            this.pcRegister = pcRegister;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        /** Bytes the pc advances per instruction. */
        public Builder instructionSize(int bytes) {
            this.instructionSize = bytes;
            return this;
        }

        public Builder memory(long base, int size) {
            this.memoryBase = base;
            this.memorySize = size;
            return this;
        }

        /** Where every thread's pc starts (default: the memory base). */
        public Builder entry(long pc) {
            this.entry = pc;
            return this;
        }

        /** A pc at which the guest exits with {@code status} (reported as {@code W}). */
        public Builder exitAt(long address, int status) {
            this.exitAddress = address;
            this.exitStatus = status;
            return this;
        }

        /** The {@code Z} types served (default: software and hardware breakpoints). */
        public Builder supports(BreakpointType first, BreakpointType... rest) {
            this.supported = EnumSet.of(first, rest);
            return this;
        }

        /** Offer {@code vCont;r} (default: not offered). */
        public Builder rangeStepping() {
            this.rangeStepping = true;
            return this;
        }

        /**
         * Software breakpoints put {@code instruction} into memory as the guest sees it ({@link #peek}),
         * as a real stub plants {@code int3}: the debugger's reads ({@code m}) still show the bytes under
         * it, a write over one changes the byte it hides, and removing it or detaching restores them.
         * Inserting one outside memory fails with EFAULT.
         */
        public Builder plantsSoftwareBreakpoints(byte... instruction) {
            this.breakpointInstruction = instruction.clone();
            return this;
        }

        public MemoryTarget build() {
            return new MemoryTarget(this);
        }
    }

    // ---- DebugTarget ----

    @Override
    public TargetDescription description() {
        return description;
    }

    @Override
    public List<Integer> threads() {
        List<Integer> ids = new ArrayList<>();
        for (int t = 1; t <= threadCount; t++) {
            ids.add(t);
        }
        return ids;
    }

    @Override
    public String threadName(int thread) {
        return "cpu " + (thread - 1);
    }

    @Override
    public synchronized String threadExtraInfo(int thread) {
        return mode == Mode.STOPPED ? "stopped at 0x" + Long.toHexString(pc(thread)) : mode.name().toLowerCase();
    }

    @Override
    public synchronized byte[] readRegisters(int thread) throws TargetException {
        return registers[index(thread)].clone();
    }

    @Override
    public synchronized void writeRegisters(int thread, byte[] g) throws TargetException {
        byte[] file = registers[index(thread)];
        if (g.length != file.length) {
            throw new TargetException(TargetException.EINVAL, "g layout has " + file.length + " bytes, got " + g.length);
        }
        System.arraycopy(g, 0, file, 0, file.length);
    }

    @Override
    public synchronized byte[] readRegister(int thread, int regnum) throws TargetException {
        RegisterDescriptor r = register(regnum);
        byte[] value = new byte[r.byteSize()];
        System.arraycopy(registers[index(thread)], description.offsetOf(regnum), value, 0, value.length);
        return value;
    }

    @Override
    public synchronized void writeRegister(int thread, int regnum, byte[] value) throws TargetException {
        RegisterDescriptor r = register(regnum);
        if (value.length != r.byteSize()) {
            throw new TargetException(TargetException.EINVAL, r.name() + " has " + r.byteSize() + " bytes");
        }
        System.arraycopy(value, 0, registers[index(thread)], description.offsetOf(regnum), value.length);
    }

    @Override
    public synchronized int readMemory(int thread, long address, byte[] buffer, int length) throws TargetException {
        index(thread);
        long offset = address - memoryBase;
        if (Long.compareUnsigned(address, memoryBase) < 0 || Long.compareUnsigned(offset, memory.length) >= 0) {
            return 0;
        }
        int n = (int) Math.min(length, memory.length - offset);
        System.arraycopy(memory, (int) offset, buffer, 0, n);
        return n;
    }

    @Override
    public synchronized void writeMemory(int thread, long address, byte[] data) throws TargetException {
        index(thread);
        long offset = address - memoryBase;
        if (!inMemory(address, data.length)) {
            throw new TargetException(TargetException.EFAULT, "no memory at 0x" + Long.toHexString(address) + " for " + data.length + " bytes");
        }
        System.arraycopy(data, 0, memory, (int) offset, data.length);
    }

    private boolean inMemory(long address, int length) {
        long offset = address - memoryBase;
        return Long.compareUnsigned(address, memoryBase) >= 0 && Long.compareUnsigned(offset, memory.length) <= 0
                && offset <= memory.length - length;
    }

    @Override
    public boolean supports(BreakpointType type) {
        return supported.contains(type);
    }

    @Override
    public boolean supportsRangeStepping() {
        return rangeStepping;
    }

    @Override
    public synchronized void insertBreakpoint(int thread, BreakpointType type, long address, int kind) throws TargetException {
        insertThreads.add(thread);
        insertBreakpoint(type, address, kind);
    }

    @Override
    public synchronized void insertBreakpoint(BreakpointType type, long address, int kind) throws TargetException {
        checkSupported(type);
        if (type == BreakpointType.SOFTWARE && breakpointInstruction != null && !inMemory(address, breakpointInstruction.length)) {
            throw new TargetException(TargetException.EFAULT, "no memory at 0x" + Long.toHexString(address) + " for a breakpoint");
        }
        breakpoints.get(type).put(address, kind);
    }

    @Override
    public synchronized void removeBreakpoint(BreakpointType type, long address, int kind) throws TargetException {
        checkSupported(type);
        breakpoints.get(type).remove(address);
    }

    @Override
    public synchronized void resume(ResumeRequest request, StopListener listener) throws TargetException {
        if (mode != Mode.STOPPED) {
            throw new TargetException(TargetException.EPERM, "cannot resume: " + mode.name().toLowerCase());
        }
        Map<Integer, ResumeRequest.Action> actions = new TreeMap<>();
        for (int t = 1; t <= threadCount; t++) {
            ResumeRequest.Action action = request.actionFor(t);
            if (action != null) {
                actions.put(t, action);
            }
        }
        if (actions.isEmpty()) {
            throw new TargetException(TargetException.EINVAL, "no thread to resume in " + request);
        }
        resumes.add(request);
        mode = Mode.RUNNING;
        interruptRequested = false;
        halt = false;
        runner = new Thread(() -> execute(actions, listener), "memory-target run");
        runner.setDaemon(true);
        runner.start();
    }

    @Override
    public void interrupt() {
        RuntimeException failure = interruptFailure;
        if (failure != null) {
            interruptFailure = null;
            throw failure;
        }
        interruptRequested = true;
    }

    /** The next {@link #interrupt()} throws {@code failure} instead of stopping anything (a failed kick). */
    public void failNextInterrupt(RuntimeException failure) {
        interruptFailure = failure;
    }

    @Override
    public synchronized StopEvent currentStop() {
        return currentStop;
    }

    /** Stops threads a previous debugger left running. */
    @Override
    public void attach() {
        haltRunner();
        synchronized (this) {
            attachCount++;
            if (mode == Mode.FREE_RUNNING) {
                mode = Mode.STOPPED;
                currentStop = new StopEvent.Signal(1, StopEvent.SIGINT, new StopEvent.Plain());
            }
        }
    }

    @Override
    public synchronized void detach() {
        detachCount++;
        breakpoints.values().forEach(Map::clear);
        if (mode != Mode.STOPPED) {
            return;
        }
        Map<Integer, ResumeRequest.Action> all = new TreeMap<>();
        for (int t = 1; t <= threadCount; t++) {
            all.put(t, new ResumeRequest.Continue(0));
        }
        mode = Mode.FREE_RUNNING;
        halt = false;
        interruptRequested = false;
        runner = new Thread(() -> execute(all, null), "memory-target free run");
        runner.setDaemon(true);
        runner.start();
    }

    @Override
    public void kill() {
        haltRunner();
        synchronized (this) {
            mode = Mode.KILLED;
            currentStop = new StopEvent.Terminated(SIGKILL);
        }
    }

    @Override
    public void close() {
        haltRunner();
    }

    // ---- the execution model ----

    /** Runs rounds until a stop; with no listener (free run after detach) only the exit address or a halt stops it. */
    private void execute(Map<Integer, ResumeRequest.Action> actions, StopListener listener) {
        while (true) {
            StopEvent stop;
            synchronized (this) {
                if (halt) {
                    return;
                }
                stop = listener != null && interruptRequested
                        ? new StopEvent.Signal(actions.keySet().iterator().next(), StopEvent.SIGINT, new StopEvent.Plain())
                        : round(actions, listener != null);
                if (stop != null) {
                    mode = stop instanceof StopEvent.Signal ? Mode.STOPPED : Mode.EXITED;
                    currentStop = stop;
                    runner = null;
                    reporting = listener != null;
                }
            }
            if (stop != null) {
                if (listener != null) {
                    try {
                        listener.stopped(stop);
                    } finally {
                        synchronized (this) {
                            reporting = false;
                        }
                    }
                }
                return;
            }
            LockSupport.parkNanos(ROUND_NANOS);
        }
    }

    /** Each resumed thread executes one instruction; returns the event that ends the resume, if any. */
    private StopEvent round(Map<Integer, ResumeRequest.Action> actions, boolean debugged) {
        int stepped = 0;
        for (Map.Entry<Integer, ResumeRequest.Action> e : actions.entrySet()) {
            int thread = e.getKey();
            ResumeRequest.Action action = e.getValue();
            long address = pc(thread);
            if (action instanceof ResumeRequest.Continue) {
                if (exitAddress != null && address == exitAddress) {
                    return new StopEvent.Exited(exitStatus);
                }
                if (debugged && breakpoints.get(BreakpointType.SOFTWARE).containsKey(address)) {
                    return new StopEvent.Signal(thread, StopEvent.SIGTRAP, new StopEvent.SoftwareBreak());
                }
                if (debugged && breakpoints.get(BreakpointType.HARDWARE).containsKey(address)) {
                    return new StopEvent.Signal(thread, StopEvent.SIGTRAP, new StopEvent.HardwareBreak());
                }
                setPc(thread, address + instructionSize);
            } else if (action instanceof ResumeRequest.Step) {
                setPc(thread, address + instructionSize);
                stepped = stepped == 0 ? thread : stepped;
            } else {
                ResumeRequest.RangeStep range = (ResumeRequest.RangeStep) action;
                long next = address + instructionSize;
                setPc(thread, next);
                if (!range.contains(next)) {
                    stepped = stepped == 0 ? thread : stepped;
                }
            }
        }
        return stepped == 0 ? null : new StopEvent.Signal(stepped, StopEvent.SIGTRAP, new StopEvent.Plain());
    }

    private void haltRunner() {
        Thread thread;
        synchronized (this) {
            thread = runner;
            halt = true;
        }
        if (thread != null) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            runner = null;
        }
    }

    // ---- for tests ----

    public synchronized long pc(int thread) {
        return littleEndian(registers[thread - 1], pcOffset, pc.byteSize());
    }

    public synchronized void setPc(int thread, long value) {
        byte[] file = registers[thread - 1];
        for (int i = 0; i < pc.byteSize(); i++) {
            file[pcOffset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** A register's value by name, little-endian, for registers of up to 8 bytes. */
    public synchronized long register(int thread, String name) {
        RegisterDescriptor r = description.register(name).orElseThrow();
        return littleEndian(registers[thread - 1], description.offsetOf(r.regnum()), Math.min(8, r.byteSize()));
    }

    /** Memory as the guest sees it, without going through the debugger: with any planted breakpoint's bytes. */
    public synchronized byte[] peek(long address, int length) {
        byte[] out = new byte[length];
        System.arraycopy(memory, (int) (address - memoryBase), out, 0, length);
        if (breakpointInstruction != null) {
            for (long at : breakpoints.get(BreakpointType.SOFTWARE).keySet()) {
                for (int i = 0; i < breakpointInstruction.length; i++) {
                    long index = at + i - address;
                    if (index >= 0 && index < length) {
                        out[(int) index] = breakpointInstruction[i];
                    }
                }
            }
        }
        return out;
    }

    public synchronized void poke(long address, byte[] data) {
        System.arraycopy(data, 0, memory, (int) (address - memoryBase), data.length);
    }

    /** Addresses with a breakpoint of this type inserted now. */
    public synchronized Set<Long> breakpoints(BreakpointType type) {
        return new TreeSet<>(breakpoints.get(type).keySet());
    }

    /** The thread every thread-aware breakpoint insert named, in order. */
    public synchronized List<Integer> breakpointInsertThreads() {
        return new ArrayList<>(insertThreads);
    }

    /** Every resume request, in order. */
    public synchronized List<ResumeRequest> resumes() {
        return new ArrayList<>(resumes);
    }

    public synchronized int attachCount() {
        return attachCount;
    }

    public synchronized int detachCount() {
        return detachCount;
    }

    public synchronized boolean killed() {
        return mode == Mode.KILLED;
    }

    /** Running on its own after a detach (no debugger). */
    public synchronized boolean runningFreely() {
        return mode == Mode.FREE_RUNNING;
    }

    public synchronized boolean stopped() {
        return mode == Mode.STOPPED;
    }

    /** Resumed by the debugger and not yet stopped, or stopped with the stop report still on its way to the session. */
    public synchronized boolean stopReportPending() {
        return mode == Mode.RUNNING || reporting;
    }

    /** Resumed by the debugger and not yet stopped. */
    public synchronized boolean runningForDebugger() {
        return mode == Mode.RUNNING;
    }

    private int index(int thread) throws TargetException {
        if (thread < 1 || thread > threadCount) {
            throw new TargetException(TargetException.EINVAL, "no thread " + thread);
        }
        return thread - 1;
    }

    private RegisterDescriptor register(int regnum) throws TargetException {
        if (regnum < 0 || regnum >= description.registers().size()) {
            throw new TargetException(TargetException.EINVAL, "no register " + regnum);
        }
        return description.register(regnum);
    }

    private void checkSupported(BreakpointType type) throws TargetException {
        if (!supported.contains(type)) {
            throw new TargetException(TargetException.EINVAL, type + " not supported");
        }
    }

    private static long littleEndian(byte[] bytes, int offset, int size) {
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            value = value << 8 | (bytes[offset + i] & 0xff);
        }
        return value;
    }
}
