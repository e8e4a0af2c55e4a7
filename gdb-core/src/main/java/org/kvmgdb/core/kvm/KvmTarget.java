package org.kvmgdb.core.kvm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.AddressTranslator.Translation;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.PhysicalMemoryAccess;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.target.TargetInspection;
import org.tinylog.Logger;

/**
 * A {@link Vm} as gdb sees it: one thread per vCPU, all-stop.
 *
 * <p>While a debugger is attached this object is the VM's {@link RunControl}: every vCPU thread
 * reports to it when it stops. A resume starts a <em>round</em>; the first vCPU that stops for a
 * reason gdb must hear about decides the round's event, every other vCPU is kicked out of
 * {@code KVM_RUN}, and when the last one is stopped the event goes to the listener. A breakpoint
 * another vCPU hit meanwhile is kept and reported on the next resume, as gdbserver does.
 *
 * <p>Software breakpoints are planted through the vCPU's page tables (the architecture's
 * {@link AddressTranslator}, never {@code KVM_TRANSLATE}); the bytes they replaced are kept by
 * guest-physical address, so memory reads never show them and writes over them change the saved
 * bytes. A vCPU resumed on a breakpoint whose hit it reported first steps off it alone: original
 * bytes back, one single step with the others held, breakpoint back, then the resume. A vCPU that
 * was only stopped there (kicked just before the breakpoint) runs into it, as gdbserver lets it.
 *
 * <p>Memory is read through the selected vCPU's page tables; a kernel address they do not map is
 * tried in the other vCPUs' ({@link AddressSpaces}: KPTI). {@link PhysicalMemoryAccess} reads RAM
 * directly, and {@link KvmInspection} serves the {@code monitor} commands.
 *
 * <p>Data watchpoints are {@link Watchpoints}: debug-register pieces after the execute slots, or
 * stepped in the vCPU threads where data breakpoints never fire.
 */
public final class KvmTarget implements DebugTarget, PhysicalMemoryAccess, RunControl, AutoCloseable {
    private final Vm vm;
    private final Object lock;
    private final List<VcpuRunner> runners;
    private final TargetDescription description;
    private final RegisterAccess registers;
    private final GuestDebug guestDebug;
    private final StopClassifier classifier;
    private final AddressTranslator translator;
    private final SoftwareBreakpoint breakpointInstruction;
    private final ExecutorService reporter;
    private final Watchpoints watchpoints;
    private final TargetInspection inspection;

    // All guarded by lock.
    private final Map<Long, SoftwareSite> softwareBreakpoints = new LinkedHashMap<>();
    /** What our planted bytes replaced, by guest-physical address. */
    private final Map<Long, ShadowByte> shadow = new HashMap<>();
    /** Execute breakpoints, in slot order: slot n of every DebugControl is element n. */
    private final List<HardwareSlot> hardwareBreakpoints = new ArrayList<>();
    /** Breakpoint hits that lost the race to report; told on the next resume of their vCPU. */
    private final Map<VcpuRunner, DebugStop> pendingStops = new HashMap<>();
    /** Stepped watchpoint hits that lost the race to report, by the vCPU that wrote; told on its next resume. */
    private final Map<VcpuRunner, Watchpoints.Watch> pendingWatches = new HashMap<>();
    /** The pc of the breakpoint hit each vCPU last reported, until it runs again: where it may step off. */
    private final Map<VcpuRunner, Long> reportedHits = new HashMap<>();
    /**
     * A vCPU whose stepped watchpoint hit gdb was told of, on an architecture whose watchpoints stop
     * before the access: it stands after the writing instruction while gdb believes it stands on
     * it, so gdb's next single step of it, the step over the access, is answered without running it.
     */
    private VcpuRunner pastTheAccess;
    /**
     * Each stopped vCPU's paging state (KVM_GET_SREGS on x86), read once per stop instead of once per
     * memory request: after each {@code stepi} gdb reads the stack, after a breakpoint hit it reads
     * it twice, and a memory dump is one {@code m} per PacketSize / 2 bytes. Only running the vCPU or writing its
     * registers changes it, so every stop, attach and register write forgets it.
     */
    private final Map<VcpuRunner, AddressTranslator.PagingState> pagingThisStop = new HashMap<>();
    private StopEvent currentStop;
    private Round round;
    private boolean attached;
    /** The stepped watchpoints of the current round, which the vCPU threads check; null when none. */
    private Watchpoints.Armed armed;
    /** A finished round's report, to be delivered once the lock is released. */
    private Runnable report;

    /** A software breakpoint: gdb's address and the physical address of each planted byte. */
    private record SoftwareSite(long address, int kind, long[] physical) {
    }

    /** A byte of guest memory under a planted instruction; {@code users} breakpoints share it. */
    private static final class ShadowByte {
        byte original;
        final byte planted;
        int users = 1;

        ShadowByte(byte original, byte planted) {
            this.original = original;
            this.planted = planted;
        }
    }

    /** A vCPU that must step off a breakpoint at {@code pc} before the round can go on. */
    private record StepOver(VcpuRunner runner, long pc) {
    }

    /** One resume, from the request to the event that ends it. */
    private static final class Round {
        final ResumeRequest request;
        final StopListener listener;
        final ArrayDeque<StepOver> stepOvers = new ArrayDeque<>();
        StepOver steppingOver;
        StopEvent event;

        Round(ResumeRequest request, StopListener listener) {
            this.request = request;
            this.listener = listener;
        }
    }

    /**
     * @param vm   a booted VM, stopped (started later by a resume) or running freely (stopped by
     *             {@link #attach})
     * @param arch its architecture; register access, guest debug, stop classification and address
     *             translation are required
     */
    public KvmTarget(Vm vm, ArchitectureProvider arch) {
        this(vm, arch, () -> DataBreakpointProbe.debugRegistersFire(vm.kvm().kernel(), arch));
    }

    /** @param debugRegistersFire whether data breakpoints fire on this host (tests decide it themselves) */
    KvmTarget(Vm vm, ArchitectureProvider arch, BooleanSupplier debugRegistersFire) {
        this.vm = vm;
        this.lock = vm.lock;
        this.runners = vm.runners();
        this.description = arch.targetDescription();
        this.registers = required(arch, arch.registerAccess(), "register access");
        this.guestDebug = required(arch, arch.guestDebug(), "guest debug (single step, hardware breakpoints)");
        this.classifier = required(arch, arch.stopClassifier(), "stop classification");
        this.translator = required(arch, arch.addressTranslator(), "address translation");
        this.breakpointInstruction = arch.softwareBreakpoint();
        this.watchpoints = new Watchpoints(onThisVm(guestDebug, vm), debugRegistersFire);
        this.inspection = new KvmInspection(vm, registers, arch.monitorCommands());
        this.reporter = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kvm-stop-reporter");
            t.setDaemon(true);
            return t;
        });
    }

    /** The architecture's guest debug, with {@link GuestDebug#fits(List)} answered for this VM's host. */
    private static GuestDebug onThisVm(GuestDebug guestDebug, Vm vm) {
        return new GuestDebug() {
            @Override
            public boolean fits(List<HardwareSlot> slots) {
                return guestDebug.fits(vm, slots);
            }

            @Override
            public void apply(org.kvmgdb.api.hypervisor.VcpuHandle vcpu, DebugControl control) {
                guestDebug.apply(vcpu, control);
            }

            @Override
            public boolean watchpointStopsBeforeAccess() {
                return guestDebug.watchpointStopsBeforeAccess();
            }

            @Override
            public Optional<byte[]> dataWriteProbe(long codeAddress, long dataAddress) {
                return guestDebug.dataWriteProbe(codeAddress, dataAddress);
            }

            @Override
            public Unmask maskInterruptsForStep(org.kvmgdb.api.hypervisor.VcpuHandle vcpu, DebugControl control) {
                return guestDebug.maskInterruptsForStep(vcpu, control);
            }
        };
    }

    private static <T> T required(ArchitectureProvider arch, Optional<T> capability, String what) {
        return capability.orElseThrow(() -> new IllegalArgumentException(
                "architecture " + arch.id() + " offers no " + what + ", which debugging a KVM guest needs"));
    }

    // ---- session lifecycle ----

    /** Takes the VM over from free running: every vCPU is kicked and stopped before this returns. */
    @Override
    public void attach() {
        synchronized (lock) {
            if (attached) {
                // The previous debugger left without detaching because the guest was gone.
                VmExit exit = vm.exitLocked();
                if (exit != null) {
                    currentStop = stopEventFor(exit);
                }
                return;
            }
            attached = true;
            vm.setControl(this);
            for (VcpuRunner runner : runners) {
                runner.kick();
            }
            awaitAllStopped();
            pagingThisStop.clear(); // they ran freely until now
            long[] cacheable = registers.cacheableReads();
            for (VcpuRunner runner : runners) {
                runner.vcpu().cacheReads(cacheable); // stopped: their threads wait for work
            }
            VmExit exit = vm.exitLocked();
            currentStop = exit != null ? stopEventFor(exit) : new StopEvent.Signal(runners.get(0).threadId(), StopEvent.SIGTRAP, new StopEvent.Plain());
        }
    }

    @Override
    public void detach() {
        synchronized (lock) {
            if (!attached) {
                return;
            }
            if (round != null) {
                Logger.warn("detaching while the guest runs: stopping it first");
                kickAll();
                awaitAllStopped();
                round = null;
            }
            for (SoftwareSite site : new ArrayList<>(softwareBreakpoints.values())) {
                unplant(site);
            }
            softwareBreakpoints.clear();
            hardwareBreakpoints.clear();
            watchpoints.clear();
            armed = null;
            pendingStops.clear();
            pendingWatches.clear();
            reportedHits.clear();
            pastTheAccess = null;
            attached = false;
            // Debug state OFF is applied by each vCPU thread before it runs again.
            vm.startFreeRun(guestDebug);
        }
    }

    @Override
    public void kill() {
        Runnable pending;
        synchronized (lock) {
            vm.end(VmExit.killed());
            currentStop = stopEventFor(vm.exitLocked());
            if (round != null && round.event == null) {
                round.event = currentStop;
            }
            completeIfStopped();
            pending = takeReport();
        }
        deliverLater(pending);
    }

    /**
     * Ends the thread that delivers stop reports found outside a vCPU thread, once the reports
     * already queued are delivered; the {@link Guest} that made this target calls it as it closes.
     */
    @Override
    public void close() {
        reporter.shutdown();
    }

    /** Waits (lock held) until no vCPU thread is in the guest. */
    private void awaitAllStopped() {
        boolean interrupted = false;
        while (anyRunning()) {
            try {
                lock.wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- threads ----

    @Override
    public TargetDescription description() {
        return description;
    }

    @Override
    public List<Integer> threads() {
        List<Integer> ids = new ArrayList<>(runners.size());
        for (VcpuRunner runner : runners) {
            ids.add(runner.threadId());
        }
        return ids;
    }

    @Override
    public String threadName(int thread) {
        VcpuRunner runner = runnerOrNull(thread);
        return runner == null ? "" : "vCPU " + runner.vcpu().index();
    }

    @Override
    public String threadExtraInfo(int thread) {
        VcpuRunner runner = runnerOrNull(thread);
        if (runner == null) {
            return "";
        }
        synchronized (lock) {
            if (runner.running()) {
                return "running";
            }
            String where;
            try {
                // Not String.format: gdb reads the thread list after every stop, and a Formatter parses its pattern each time.
                where = "0x" + Long.toHexString(registers.programCounter(runner.vcpu()));
            } catch (HypervisorException e) {
                where = "an unknown pc";
            }
            return (runner.halted() ? "halted at " : "stopped at ") + where;
        }
    }

    private VcpuRunner runnerOrNull(int thread) {
        int index = thread - 1;
        return index >= 0 && index < runners.size() ? runners.get(index) : null;
    }

    private VcpuRunner stoppedRunner(int thread) throws TargetException {
        VcpuRunner runner = runnerOrNull(thread);
        if (runner == null) {
            throw new TargetException(TargetException.EINVAL, "no thread " + thread);
        }
        if (runner.running()) {
            throw new TargetException(TargetException.EPERM, "thread " + thread + " is running");
        }
        return runner;
    }

    // ---- registers ----

    @Override
    public byte[] readRegisters(int thread) throws TargetException {
        synchronized (lock) {
            VcpuRunner runner = stoppedRunner(thread);
            try {
                return registers.readAll(runner.vcpu());
            } catch (HypervisorException e) {
                throw new TargetException(TargetException.EIO, "reading the registers of thread " + thread + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void writeRegisters(int thread, byte[] values) throws TargetException {
        if (values.length != description.gPacketSize()) {
            throw new TargetException(TargetException.EINVAL, "registers are " + description.gPacketSize() + " bytes, got " + values.length);
        }
        synchronized (lock) {
            VcpuRunner runner = stoppedRunner(thread);
            writeAll(runner, values);
        }
    }

    /** Only the state that register lives in (one KVM_GET_REGS for rip): stop replies expedite a few this way. */
    @Override
    public byte[][] readRegisters(int thread, int[] regnums) throws TargetException {
        for (int regnum : regnums) {
            checkRegnum(regnum);
        }
        synchronized (lock) {
            VcpuRunner runner = stoppedRunner(thread);
            try {
                return registers.readRegisters(runner.vcpu(), description, regnums);
            } catch (HypervisorException e) {
                throw new TargetException(TargetException.EIO, "reading registers of thread " + thread + ": " + e.getMessage());
            }
        }
    }

    @Override
    public byte[] readRegister(int thread, int regnum) throws TargetException {
        checkRegnum(regnum);
        synchronized (lock) {
            VcpuRunner runner = stoppedRunner(thread);
            try {
                return registers.readRegister(runner.vcpu(), description, regnum);
            } catch (HypervisorException e) {
                throw new TargetException(TargetException.EIO, "reading register " + description.register(regnum).name()
                        + " of thread " + thread + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void writeRegister(int thread, int regnum, byte[] value) throws TargetException {
        checkRegnum(regnum);
        int size = description.register(regnum).byteSize();
        if (value.length != size) {
            throw new TargetException(TargetException.EINVAL, description.register(regnum).name() + " is " + size + " bytes, got " + value.length);
        }
        synchronized (lock) {
            VcpuRunner runner = stoppedRunner(thread);
            changingRegisters(runner, () -> registers.writeRegister(runner.vcpu(), description, regnum, value));
        }
    }

    private void checkRegnum(int regnum) throws TargetException {
        if (regnum < 0 || regnum >= description.registers().size()) {
            throw new TargetException(TargetException.EINVAL, "no register " + regnum);
        }
    }

    /** Writes all registers. */
    private void writeAll(VcpuRunner runner, byte[] all) throws TargetException {
        changingRegisters(runner, () -> registers.writeAll(runner.vcpu(), all));
    }

    /** Runs a register write; a vCPU whose pc the debugger moves is no longer parked in {@code hlt}. */
    private void changingRegisters(VcpuRunner runner, Runnable write) throws TargetException {
        try {
            long pcBefore = registers.programCounter(runner.vcpu());
            pagingThisStop.remove(runner); // gdb may write a control register
            write.run();
            if (registers.programCounter(runner.vcpu()) != pcBefore) {
                runner.clearHalted();
                pendingStops.remove(runner);
                pendingWatches.remove(runner); // like a kept breakpoint hit: it no longer stands where it wrote
                if (pastTheAccess == runner) {
                    pastTheAccess = null;
                }
                reportedHits.remove(runner);
            }
        } catch (HypervisorException | IllegalArgumentException e) {
            throw new TargetException(TargetException.EIO, "writing the registers of " + runner + ": " + e.getMessage());
        }
    }

    // ---- memory ----

    @Override
    public int readMemory(int thread, long address, byte[] buffer, int length) throws TargetException {
        synchronized (lock) {
            VcpuRunner runner = stoppedRunner(thread);
            GuestMemory memory = vm.memory();
            AddressSpaces spaces = addressSpaces(runner);
            int done = 0;
            while (done < length) {
                Optional<Translation> t = spaces.translate(address + done);
                if (t.isEmpty()) {
                    break;
                }
                long physical = t.get().physicalAddress();
                if (!memory.contains(physical, 1)) {
                    break; // mapped, but not to RAM
                }
                int chunk = (int) Math.min(length - done, Math.min(t.get().bytesToPageEnd(), memory.base() + memory.size() - physical));
                if (chunk <= 0) {
                    break;
                }
                memory.read(physical, buffer, done, chunk);
                unshadow(physical, buffer, done, chunk);
                done += chunk;
            }
            return done;
        }
    }

    @Override
    public void writeMemory(int thread, long address, byte[] data) throws TargetException {
        synchronized (lock) {
            VcpuRunner runner = stoppedRunner(thread);
            GuestMemory memory = vm.memory();
            AddressSpaces spaces = addressSpaces(runner);
            // Translate everything first: a write that cannot be completed changes nothing.
            List<long[]> chunks = new ArrayList<>();
            int done = 0;
            while (done < data.length) {
                Optional<Translation> t = spaces.translate(address + done);
                long physical = t.map(Translation::physicalAddress).orElse(-1L);
                if (t.isEmpty() || !memory.contains(physical, 1)) {
                    throw new TargetException(TargetException.EFAULT, String.format("0x%x is not mapped", address + done));
                }
                int chunk = (int) Math.min(data.length - done, Math.min(t.get().bytesToPageEnd(), memory.base() + memory.size() - physical));
                chunks.add(new long[] {physical, done, chunk});
                done += chunk;
            }
            for (long[] c : chunks) {
                writeShadowed(c[0], data, (int) c[1], (int) c[2]);
            }
        }
    }

    /** Writes guest-physical bytes; under a planted breakpoint the new byte becomes the saved original, the breakpoint stays. Lock held. */
    private void writeShadowed(long physical, byte[] data, int offset, int chunk) {
        byte[] bytes = new byte[chunk];
        System.arraycopy(data, offset, bytes, 0, chunk);
        for (int i = 0; i < chunk; i++) {
            ShadowByte s = shadow.get(physical + i);
            if (s != null) {
                s.original = bytes[i];
                bytes[i] = s.planted;
            }
        }
        vm.memory().write(physical, bytes, 0, chunk);
        breakpointInstruction.codePatched(vm, physical, chunk);
        watchpoints.written(physical, chunk);
    }

    // ---- physical memory (Qqemu.PhyMemMode, monitor phys) ----

    @Override
    public Optional<PhysicalMemoryAccess> physicalMemory() {
        return Optional.of(this);
    }

    @Override
    public int readPhysicalMemory(long address, byte[] buffer, int length) {
        synchronized (lock) {
            GuestMemory memory = vm.memory();
            if (!memory.contains(address, 1)) {
                return 0;
            }
            int n = (int) Math.min(length, memory.base() + memory.size() - address);
            memory.read(address, buffer, 0, n);
            unshadow(address, buffer, 0, n);
            return n;
        }
    }

    @Override
    public void writePhysicalMemory(long address, byte[] data) throws TargetException {
        synchronized (lock) {
            if (!vm.memory().contains(address, data.length)) {
                throw new TargetException(TargetException.EFAULT, String.format(
                        "guest-physical 0x%x + %d is outside RAM (0x%x bytes at 0x%x)", address, data.length, vm.memory().size(), vm.memory().base()));
            }
            writeShadowed(address, data, 0, data.length);
        }
    }

    @Override
    public Optional<TargetInspection> inspection() {
        return Optional.of(inspection);
    }

    private AddressTranslator.PagingState paging(VcpuRunner runner) throws TargetException {
        try {
            return capturedPaging(runner);
        } catch (HypervisorException e) {
            throw new TargetException(TargetException.EIO, "reading the paging state of " + runner + ": " + e.getMessage());
        }
    }

    /** The selected vCPU's address space, with the other stopped vCPUs' page tables as the fallback for kernel addresses (KPTI). */
    private AddressSpaces addressSpaces(VcpuRunner selected) throws TargetException {
        List<Supplier<AddressTranslator.PagingState>> others = new ArrayList<>();
        for (VcpuRunner other : runners) {
            if (other != selected && !other.running()) {
                others.add(() -> capturedPaging(other));
            }
        }
        return new AddressSpaces(translator, vm.memory(), paging(selected), others);
    }

    /** A stopped vCPU's paging state, read from the vCPU once per stop; lock held. */
    private AddressTranslator.PagingState capturedPaging(VcpuRunner runner) {
        AddressTranslator.PagingState state = pagingThisStop.get(runner);
        if (state == null) {
            state = translator.capture(runner.vcpu());
            pagingThisStop.put(runner, state);
        }
        return state;
    }

    /** Puts back, in bytes just read from guest-physical {@code physical}, what our breakpoints replaced. */
    private void unshadow(long physical, byte[] buffer, int offset, int length) {
        if (shadow.isEmpty()) {
            return;
        }
        for (Map.Entry<Long, ShadowByte> e : shadow.entrySet()) {
            long at = e.getKey() - physical;
            if (at >= 0 && at < length) {
                buffer[offset + (int) at] = e.getValue().original;
            }
        }
    }

    // ---- breakpoints ----

    /**
     * Every type. Data watchpoints use debug registers where they fire and are otherwise stepped
     * ({@link Watchpoints}); a read or access watchpoint that cannot be served gets an error, so gdb
     * says it could not insert it.
     */
    @Override
    public boolean supports(BreakpointType type) {
        return type != null;
    }

    @Override
    public void insertBreakpoint(BreakpointType type, long address, int kind) throws TargetException {
        insertBreakpoint(0, type, address, kind);
    }

    /**
     * Plants through the page tables of {@code thread}, gdb's {@code Hg} thread, as QEMU's gdbstub
     * does through its selected CPU: in an SMP guest whose vCPUs run different processes, a user
     * address means the page of the process gdb is looking at. The other stopped vCPUs remain the
     * fallback for kernel addresses (KPTI), as for {@code m}.
     */
    @Override
    public void insertBreakpoint(int thread, BreakpointType type, long address, int kind) throws TargetException {
        synchronized (lock) {
            VcpuRunner selected = breakpointRunner(thread);
            if (type == BreakpointType.SOFTWARE) {
                insertSoftware(selected, address, kind);
            } else if (type == BreakpointType.HARDWARE) {
                insertHardware(address);
            } else {
                watchpoints.insert(type, address, kind, thread > 0 ? thread : 0, hardwareBreakpoints, translation(selected), vm.memory());
            }
        }
    }

    /** The vCPU whose page tables a breakpoint for gdb thread {@code thread} is planted through; 0 or -1 (any): vCPU 0. Lock held. */
    private VcpuRunner breakpointRunner(int thread) throws TargetException {
        return thread > 0 ? stoppedRunner(thread) : runners.get(0);
    }

    @Override
    public void removeBreakpoint(BreakpointType type, long address, int kind) throws TargetException {
        synchronized (lock) {
            if (type == BreakpointType.SOFTWARE) {
                SoftwareSite site = softwareBreakpoints.remove(address);
                if (site != null) {
                    unplant(site);
                }
            } else if (type == BreakpointType.HARDWARE) {
                hardwareBreakpoints.removeIf(s -> s.kind() == HardwareSlot.Kind.EXECUTE && s.address() == address);
            } else {
                watchpoints.remove(type, address, kind);
            }
        }
    }

    private void insertSoftware(VcpuRunner selected, long address, int kind) throws TargetException {
        if (softwareBreakpoints.containsKey(address)) {
            return;
        }
        byte[] instruction = breakpointInstruction.instruction(kind);
        if (instruction == null) {
            throw new TargetException(TargetException.EINVAL, "breakpoint kind " + kind + " is not valid here");
        }
        if (!breakpointInstruction.accepts(address, kind)) {
            throw new TargetException(TargetException.EINVAL, String.format("no breakpoint of kind %d at 0x%x: not an instruction boundary", kind, address));
        }
        GuestMemory memory = vm.memory();
        AddressSpaces spaces = addressSpaces(selected);
        long[] physical = new long[instruction.length];
        for (int i = 0; i < instruction.length; i++) {
            Optional<Translation> t = spaces.translate(address + i);
            if (t.isEmpty() || !memory.contains(t.get().physicalAddress(), 1)) {
                throw new TargetException(TargetException.EFAULT, String.format("cannot insert a breakpoint at 0x%x: not mapped", address));
            }
            physical[i] = t.get().physicalAddress();
        }
        byte[] one = new byte[1];
        for (int i = 0; i < instruction.length; i++) {
            ShadowByte s = shadow.get(physical[i]);
            if (s != null) {
                s.users++;
            } else {
                memory.read(physical[i], one, 0, 1);
                shadow.put(physical[i], new ShadowByte(one[0], instruction[i]));
            }
            one[0] = instruction[i];
            memory.write(physical[i], one, 0, 1);
            breakpointInstruction.codePatched(vm, physical[i], 1);
        }
        softwareBreakpoints.put(address, new SoftwareSite(address, kind, physical));
    }

    /** Restores the bytes under a breakpoint that is going away. */
    private void unplant(SoftwareSite site) {
        GuestMemory memory = vm.memory();
        byte[] one = new byte[1];
        for (long physical : site.physical()) {
            ShadowByte s = shadow.get(physical);
            if (s == null || --s.users > 0) {
                continue;
            }
            shadow.remove(physical);
            one[0] = s.original;
            memory.write(physical, one, 0, 1);
            breakpointInstruction.codePatched(vm, physical, 1);
        }
    }

    /** Puts the original bytes back under a breakpoint for a step-off, keeping it registered. */
    private void lift(SoftwareSite site) {
        placeBytes(site, true);
    }

    private void replant(SoftwareSite site) {
        placeBytes(site, false);
    }

    private void placeBytes(SoftwareSite site, boolean original) {
        byte[] one = new byte[1];
        for (long physical : site.physical()) {
            ShadowByte s = shadow.get(physical);
            if (s != null) {
                one[0] = original ? s.original : s.planted;
                vm.memory().write(physical, one, 0, 1);
                breakpointInstruction.codePatched(vm, physical, 1);
            }
        }
    }

    private void insertHardware(long address) throws TargetException {
        HardwareSlot slot = new HardwareSlot(HardwareSlot.Kind.EXECUTE, address, 1);
        if (hardwareBreakpoints.contains(slot)) {
            return;
        }
        List<HardwareSlot> next = new ArrayList<>(hardwareBreakpoints);
        next.add(slot);
        next.addAll(watchpoints.slots());
        if (!guestDebug.fits(vm, next)) {
            throw new TargetException(TargetException.ENOSPC, "no free hardware breakpoint slot (" + hardwareBreakpoints.size() + " in use)");
        }
        hardwareBreakpoints.add(slot);
    }

    private boolean hardwareBreakpointAt(long pc) {
        for (HardwareSlot s : hardwareBreakpoints) {
            if (s.kind() == HardwareSlot.Kind.EXECUTE && s.address() == pc) {
                return true;
            }
        }
        return false;
    }

    /**
     * The guest-debug state a vCPU runs with: stepped watchpoints single-step a continue too, but
     * only gdb's own steps block interrupts.
     */
    private DebugControl control(boolean step) {
        return new DebugControl(step || watchpoints.stepping(), !softwareBreakpoints.isEmpty(), step, slots());
    }

    /** The state for stepping off {@code pc}: a single step, without an execute slot there (it would fire first). */
    private DebugControl controlSteppingOff(long pc) {
        List<HardwareSlot> slots = new ArrayList<>(slots());
        slots.removeIf(s -> s.kind() == HardwareSlot.Kind.EXECUTE && s.address() == pc);
        return new DebugControl(true, !softwareBreakpoints.isEmpty(), true, slots);
    }

    /** Every hardware slot: execute breakpoints first, then the watchpoints' debug-register pieces. */
    private List<HardwareSlot> slots() {
        if (watchpoints.isEmpty()) {
            return hardwareBreakpoints;
        }
        List<HardwareSlot> all = new ArrayList<>(hardwareBreakpoints);
        all.addAll(watchpoints.slots());
        return all;
    }

    private VcpuRunner.Work work(ResumeRequest.Action action, DebugControl control) {
        return new VcpuRunner.Work(action, control, guestDebug, classifier, armed);
    }

    private Watchpoints.Translation translation(VcpuRunner runner) throws TargetException {
        AddressSpaces spaces = addressSpaces(runner);
        return virtual -> spaces.translate(virtual).map(Translation::physicalAddress).orElse(-1L);
    }

    // ---- running ----

    @Override
    public void resume(ResumeRequest request, StopListener listener) throws TargetException {
        Runnable pending;
        synchronized (lock) {
            if (!attached) {
                throw new TargetException(TargetException.EPERM, "no debugger is attached");
            }
            if (round != null) {
                throw new TargetException(TargetException.EPERM, "the target is already running");
            }
            List<VcpuRunner> resumed = new ArrayList<>();
            for (VcpuRunner runner : runners) {
                if (request.actionFor(runner.threadId()) != null) {
                    resumed.add(runner);
                }
            }
            if (resumed.isEmpty()) {
                throw new TargetException(TargetException.EINVAL, "the request resumes no thread");
            }
            VcpuRunner past = pastTheAccess;
            pastTheAccess = null;
            if (past != null && resumed.size() == 1 && resumed.get(0) == past
                    && request.actionFor(past.threadId()) instanceof ResumeRequest.Step && vm.exitLocked() == null) {
                // gdb steps over the write the stepped watchpoint already let happen: done, where it is.
                Logger.debug("{}: the step over a stepped watchpoint's write is answered without running it", past);
                Round stepped = new Round(request, listener);
                stepped.event = new StopEvent.Signal(past.threadId(), StopEvent.SIGTRAP, new StopEvent.Plain());
                round = stepped;
                completeIfStopped();
                pending = takeReport();
                deliverLater(pending);
                return;
            }
            Round r = new Round(request, listener);
            VmExit exit = vm.exitLocked();
            if (exit != null) {
                r.event = stopEventFor(exit);
            }
            try {
                for (VcpuRunner runner : resumed) {
                    DebugStop kept = pendingStops.get(runner);
                    if (kept == null || r.event != null) {
                        continue; // once one is reported, the others wait for the next resume
                    }
                    pendingStops.remove(runner);
                    if (stillStandsAt(runner, kept)) {
                        r.event = signalFor(runner, kept);
                    }
                }
                for (VcpuRunner runner : resumed) {
                    Watchpoints.Watch wrote = pendingWatches.get(runner);
                    if (wrote == null || r.event != null) {
                        continue;
                    }
                    pendingWatches.remove(runner);
                    if (watchpoints.holds(wrote)) {
                        // The vCPU has not run since its write: it still stands right after the instruction.
                        r.event = watchHit(runner, wrote);
                    }
                }
                if (r.event == null && (!softwareBreakpoints.isEmpty() || !hardwareBreakpoints.isEmpty())) {
                    for (VcpuRunner runner : resumed) {
                        long pc = programCounter(runner);
                        Long hit = reportedHits.get(runner);
                        if (!runner.halted() && hit != null && hit == pc
                                && (softwareBreakpoints.containsKey(pc) || hardwareBreakpointAt(pc))) {
                            r.stepOvers.add(new StepOver(runner, pc));
                        }
                    }
                }
            } catch (HypervisorException e) {
                throw new TargetException(TargetException.EIO, "cannot resume: " + e.getMessage());
            }
            if (armed != null) {
                Logger.debug("stepped watchpoints: {} single steps in the last round", armed.steps());
            }
            armed = watchpoints.isEmpty() ? null : watchpoints.armPerThread(thread -> translation(breakpointRunner(thread)), vm.memory());
            round = r;
            advance(r);
            pending = takeReport();
        }
        deliverLater(pending);
    }

    /** Starts the next step-off, or everyone, or reports; lock held. */
    private void advance(Round r) {
        if (r.event != null) {
            completeIfStopped();
            return;
        }
        StepOver next = r.stepOvers.poll();
        if (next != null) {
            r.steppingOver = next;
            SoftwareSite site = softwareBreakpoints.get(next.pc());
            if (site != null) {
                lift(site);
            }
            reportedHits.remove(next.runner());
            next.runner().start(work(new ResumeRequest.Step(0), controlSteppingOff(next.pc())));
            return;
        }
        for (VcpuRunner runner : runners) {
            ResumeRequest.Action action = r.request.actionFor(runner.threadId());
            if (action != null) {
                boolean step = !(action instanceof ResumeRequest.Continue);
                reportedHits.remove(runner);
                runner.start(work(action, control(step)));
            }
        }
    }

    /** {@code vCont;r}: the vCPU thread steps through the range itself and comes back only when the pc leaves it. */
    @Override
    public boolean supportsRangeStepping() {
        return true;
    }

    @Override
    public void interrupt() {
        Runnable pending;
        synchronized (lock) {
            Round r = round;
            if (r == null || r.event != null) {
                return;
            }
            int thread = r.steppingOver != null ? r.steppingOver.runner().threadId() : firstResumed(r);
            r.event = new StopEvent.Signal(thread, StopEvent.SIGINT, new StopEvent.Plain());
            kickAll();
            completeIfStopped();
            pending = takeReport();
        }
        deliverLater(pending);
    }

    @Override
    public StopEvent currentStop() {
        synchronized (lock) {
            return currentStop;
        }
    }

    @Override
    public Runnable vcpuStopped(VcpuRunner runner, Outcome outcome) {
        pagingThisStop.remove(runner); // it ran
        Round r = round;
        if (r == null) {
            // Stopped by attach (or left over from a detach): nothing to report.
            if (outcome instanceof Outcome.Ended) {
                vm.end(((Outcome.Ended) outcome).exit());
            } else if (outcome instanceof Outcome.Debug) {
                keepIfBreakpoint(runner, ((Outcome.Debug) outcome).stop());
            }
            return null;
        }
        try {
            if (r.steppingOver != null && r.steppingOver.runner() == runner) {
                steppedOff(r, runner, outcome);
            } else {
                handle(r, runner, outcome);
                completeIfStopped();
            }
        } catch (RuntimeException e) {
            // An ioctl failed halfway (reading the pc, re-injecting a trap, replanting): the round
            // must still end with a report, or gdb waits for a stop reply forever.
            Logger.error(e, "handling the stop of {} failed; reporting it as a plain SIGTRAP stop", runner);
            endRoundAfterFailure(r, runner);
        }
        // The vCPU thread that stopped last reports, without a hand-off to another thread.
        return takeReport();
    }

    /**
     * Ends a round whose stop handling failed with a plain SIGTRAP stop of {@code runner}, once the
     * other vCPUs are out of the guest. A stop, not {@code X}: the VM is still there, so gdb keeps a
     * usable session (registers, memory, continue) and the log says what went wrong. Lock held.
     */
    private void endRoundAfterFailure(Round r, VcpuRunner runner) {
        if (round != r) {
            return; // the round was reported already
        }
        r.stepOvers.clear();
        if (r.steppingOver != null && r.steppingOver.runner() == runner) {
            r.steppingOver = null;
        }
        if (r.event == null) {
            r.event = new StopEvent.Signal(runner.threadId(), StopEvent.SIGTRAP, new StopEvent.Plain());
        }
        for (VcpuRunner other : runners) {
            try {
                other.kick();
            } catch (RuntimeException e) {
                Logger.error(e, "cannot kick {} out of the guest", other);
            }
        }
        completeIfStopped();
    }

    /** The vCPU that stepped off a breakpoint is back: breakpoint in again, then on with the round. */
    private void steppedOff(Round r, VcpuRunner runner, Outcome outcome) {
        StepOver done = r.steppingOver;
        r.steppingOver = null;
        SoftwareSite site = softwareBreakpoints.get(done.pc());
        if (site != null) {
            replant(site);
        }
        boolean stepped = outcome instanceof Outcome.Halted
                || (outcome instanceof Outcome.Debug && ((Outcome.Debug) outcome).stop().kind() == DebugStop.Kind.SINGLE_STEP)
                || ignoredReadHit(runner, outcome);
        if (stepped) {
            ResumeRequest.Action action = r.request.actionFor(runner.threadId());
            boolean finished = action instanceof ResumeRequest.Step
                    || (action instanceof ResumeRequest.RangeStep && !((ResumeRequest.RangeStep) action).contains(programCounter(runner)))
                    || (outcome instanceof Outcome.Halted && !(action instanceof ResumeRequest.Continue));
            if (finished && r.event == null) {
                r.event = new StopEvent.Signal(runner.threadId(), StopEvent.SIGTRAP, new StopEvent.Plain());
            }
        } else {
            handle(r, runner, outcome);
        }
        advance(r);
    }

    /** Turns a vCPU's stop into the round's event, or keeps it for later; lock held. */
    private void handle(Round r, VcpuRunner runner, Outcome outcome) {
        StopEvent candidate = null;
        if (outcome instanceof Outcome.Halted) {
            candidate = new StopEvent.Signal(runner.threadId(), StopEvent.SIGTRAP, new StopEvent.Plain());
        } else if (outcome instanceof Outcome.Debug) {
            DebugStop stop = ((Outcome.Debug) outcome).stop();
            if (stop.kind() == DebugStop.Kind.SOFTWARE_BREAKPOINT && !softwareBreakpoints.containsKey(stop.pc())) {
                // The guest's own breakpoint instruction: give it back, as if no debugger were here.
                Logger.debug("{}: trap at 0x{} is not one of ours; re-injecting it", runner, Long.toHexString(stop.pc()));
                classifier.reinject(runner.vcpu(), stop);
                goOn(r, runner);
                return;
            }
            if (r.event != null) {
                keepIfBreakpoint(runner, stop);
                return;
            }
            if (ignoredReadHit(runner, outcome)) {
                goOn(r, runner);
                return;
            }
            candidate = signalFor(runner, stop);
        } else if (outcome instanceof Outcome.Watched) {
            // The change is this vCPU's and already taken as seen (Watchpoints.Armed#afterStep): told
            // now, or on this vCPU's next resume when another stop is being reported.
            Watchpoints.Watch watch = ((Outcome.Watched) outcome).watch();
            if (r.event != null) {
                pendingWatches.put(runner, watch);
                return;
            }
            candidate = watchHit(runner, watch);
        } else if (outcome instanceof Outcome.Ended) {
            VmExit exit = ((Outcome.Ended) outcome).exit();
            vm.end(exit);
            candidate = stopEventFor(vm.exitLocked());
        }
        if (candidate != null && r.event == null) {
            r.event = candidate;
            kickAll();
        }
    }

    /** The event of a stepped watchpoint hit, which is reported after the writing instruction. Lock held. */
    private StopEvent watchHit(VcpuRunner runner, Watchpoints.Watch watch) {
        if (guestDebug.watchpointStopsBeforeAccess()) {
            pastTheAccess = runner;
        }
        return new StopEvent.Signal(runner.threadId(), StopEvent.SIGTRAP, new StopEvent.Watch(watch.type, watch.address));
    }

    /** Lets a vCPU whose stop gdb need not hear about run on with the round's action, unless the round is over. */
    private void goOn(Round r, VcpuRunner runner) {
        if (r.event == null) {
            ResumeRequest.Action action = r.request.actionFor(runner.threadId());
            runner.start(work(action, control(!(action instanceof ResumeRequest.Continue))));
        }
    }

    /**
     * A debug-register hit on a read watchpoint that changed the watched bytes: x86 can only watch
     * reads as read-or-write, so this was a write, and gdb does not hear of it. Records the new
     * bytes as seen either way; lock held.
     */
    private boolean ignoredReadHit(VcpuRunner runner, Outcome outcome) {
        if (!(outcome instanceof Outcome.Debug) || ((Outcome.Debug) outcome).stop().kind() != DebugStop.Kind.WATCHPOINT) {
            return false;
        }
        Watchpoints.Watch watch = watchOf(runner, ((Outcome.Debug) outcome).stop());
        if (watch == null) {
            return false;
        }
        boolean written = watch.changed();
        seen(watch);
        if (written && watch.type == BreakpointType.READ_WATCHPOINT) {
            Logger.debug("read watchpoint {} hit by a write: not reported", watch);
            return true;
        }
        return false;
    }

    /**
     * The watch whose debug-register piece fired: the slot is looked up in the control the vCPU ran
     * with (stepping off a breakpoint runs without its execute slot, which renumbers the others).
     * On the runner's own thread.
     */
    private Watchpoints.Watch watchOf(VcpuRunner runner, DebugStop stop) {
        List<HardwareSlot> slots = runner.applied().slots();
        return stop.slot() >= 0 && stop.slot() < slots.size() ? watchpoints.ofPiece(slots.get(stop.slot())) : null;
    }

    private static void seen(Watchpoints.Watch watch) {
        byte[] now = watch.current();
        if (now != null) {
            watch.seen = now;
        }
    }

    private void keepIfBreakpoint(VcpuRunner runner, DebugStop stop) {
        if (stop.kind() == DebugStop.Kind.SOFTWARE_BREAKPOINT || stop.kind() == DebugStop.Kind.HARDWARE_BREAKPOINT) {
            pendingStops.put(runner, stop);
        }
    }

    /** Whether a kept breakpoint hit still stands: the vCPU has not moved and the breakpoint is still there. */
    private boolean stillStandsAt(VcpuRunner runner, DebugStop stop) {
        if (programCounter(runner) != stop.pc()) {
            return false;
        }
        return stop.kind() == DebugStop.Kind.SOFTWARE_BREAKPOINT ? softwareBreakpoints.containsKey(stop.pc()) : hardwareBreakpointAt(stop.pc());
    }

    /** Reports the round once it has an event and every vCPU is stopped; lock held. */
    private void completeIfStopped() {
        Round r = round;
        if (r == null || r.event == null || r.steppingOver != null || anyRunning()) {
            return;
        }
        round = null;
        currentStop = r.event;
        try {
            rememberHit(r.event);
        } catch (RuntimeException e) {
            // Reported all the same: the vCPU then runs into the breakpoint again when resumed there.
            Logger.error(e, "cannot read the pc of the breakpoint hit {}", r.event);
        }
        StopEvent event = r.event;
        StopListener listener = r.listener;
        report = () -> listener.stopped(event);
    }

    /** A breakpoint hit gdb hears of: the vCPU steps off it when resumed there (unless gdb already did). */
    private void rememberHit(StopEvent event) {
        if (event instanceof StopEvent.Signal s
                && (s.reason() instanceof StopEvent.SoftwareBreak || s.reason() instanceof StopEvent.HardwareBreak)) {
            VcpuRunner runner = runnerOrNull(s.thread());
            if (runner != null) {
                reportedHits.put(runner, programCounter(runner));
            }
        }
    }

    /** Takes the report a finished round left, if any; lock held. */
    private Runnable takeReport() {
        Runnable r = report;
        report = null;
        return r;
    }

    /** Delivers a report found outside a vCPU thread, on the reporter thread, so no caller sees its listener called from inside its own call. */
    private void deliverLater(Runnable r) {
        if (r != null) {
            reporter.execute(r);
        }
    }

    private boolean anyRunning() {
        for (VcpuRunner runner : runners) {
            if (runner.running()) {
                return true;
            }
        }
        return false;
    }

    private void kickAll() {
        for (VcpuRunner runner : runners) {
            runner.kick();
        }
    }

    private int firstResumed(Round r) {
        for (VcpuRunner runner : runners) {
            if (r.request.actionFor(runner.threadId()) != null) {
                return runner.threadId();
            }
        }
        return runners.get(0).threadId();
    }

    private long programCounter(VcpuRunner runner) {
        return registers.programCounter(runner.vcpu());
    }

    private StopEvent.Signal signalFor(VcpuRunner runner, DebugStop stop) {
        StopEvent.Reason reason;
        switch (stop.kind()) {
            case SOFTWARE_BREAKPOINT:
                reason = new StopEvent.SoftwareBreak();
                break;
            case HARDWARE_BREAKPOINT:
                reason = new StopEvent.HardwareBreak();
                break;
            case WATCHPOINT:
                Watchpoints.Watch watch = watchOf(runner, stop);
                reason = watch == null ? new StopEvent.Plain() : new StopEvent.Watch(watch.type, watch.address);
                break;
            default:
                reason = new StopEvent.Plain();
                break;
        }
        return new StopEvent.Signal(runner.threadId(), StopEvent.SIGTRAP, reason);
    }

    /** What gdb is told when the VM ends: {@code W} with the process status, or {@code X} with a signal. */
    static StopEvent stopEventFor(VmExit exit) {
        return exit.byGuest() ? new StopEvent.Exited(exit.status() & 0xFF) : new StopEvent.Terminated(exit.gdbSignal());
    }
}
