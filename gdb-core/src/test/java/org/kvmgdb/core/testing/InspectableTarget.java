package org.kvmgdb.core.testing;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.DebugTarget;
import org.kvmgdb.core.target.PhysicalMemoryAccess;
import org.kvmgdb.core.target.ResumeRequest;
import org.kvmgdb.core.target.StopEvent;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.target.TargetInspection;

/**
 * A {@link MemoryTarget} with the optional capabilities the {@code monitor} and QEMU's PhyMemMode
 * use: a guest-physical RAM of its own (so a test can tell a physical read from a virtual one), and
 * an inspection with made-up vCPU states and counters and the given architecture commands, which
 * run on a {@link VcpuHandle} that knows only its index.
 */
public final class InspectableTarget implements DebugTarget, PhysicalMemoryAccess, TargetInspection, AutoCloseable {
    public final MemoryTarget memoryTarget;
    public final byte[] physical;
    private final List<MonitorCommand> commands;
    /** Every (thread, arguments) an architecture command was run with. */
    public final List<String> runs = new ArrayList<>();

    public InspectableTarget(MemoryTarget memoryTarget, int physicalSize, List<MonitorCommand> commands) {
        this.memoryTarget = memoryTarget;
        this.physical = new byte[physicalSize];
        this.commands = List.copyOf(commands);
    }

    // ---- the capabilities ----

    @Override
    public Optional<PhysicalMemoryAccess> physicalMemory() {
        return Optional.of(this);
    }

    @Override
    public Optional<TargetInspection> inspection() {
        return Optional.of(this);
    }

    @Override
    public synchronized int readPhysicalMemory(long address, byte[] buffer, int length) {
        if (address < 0 || address >= physical.length) {
            return 0;
        }
        int n = (int) Math.min(length, physical.length - address);
        System.arraycopy(physical, (int) address, buffer, 0, n);
        return n;
    }

    @Override
    public synchronized void writePhysicalMemory(long address, byte[] data) throws TargetException {
        if (address < 0 || address > physical.length - data.length) {
            throw new TargetException(TargetException.EFAULT, "outside RAM");
        }
        System.arraycopy(data, 0, physical, (int) address, data.length);
    }

    @Override
    public List<VcpuStatus> vcpus() {
        List<VcpuStatus> all = new ArrayList<>();
        for (int thread : threads()) {
            State state = thread == 2 ? State.HALTED : State.STOPPED;
            all.add(new VcpuStatus(thread, "vCPU " + (thread - 1), state, OptionalLong.of(0x100000L + 0x10 * thread)));
        }
        return all;
    }

    @Override
    public List<MonitorCommand> architectureCommands() {
        return commands;
    }

    @Override
    public String run(MonitorCommand command, int thread, List<String> arguments) throws TargetException {
        if (!threads().contains(thread)) {
            throw new TargetException(TargetException.EINVAL, "no thread " + thread);
        }
        runs.add(thread + " " + arguments);
        return command.run(new IndexOnlyVcpu(thread - 1), arguments);
    }

    @Override
    public List<VcpuCounters> counters() {
        List<VcpuCounters> all = new ArrayList<>();
        for (int thread : threads()) {
            all.add(new VcpuCounters(thread, "vCPU " + (thread - 1),
                    Map.of("KVM_EXIT_IO", 100L * thread, "KVM_EXIT_DEBUG", 7L), 3, 250_000_000L * thread));
        }
        return all;
    }

    /** A vCPU handle for commands that only print which vCPU they ran on. */
    private record IndexOnlyVcpu(int index) implements VcpuHandle {
        @Override
        public VmHandle vm() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int ioctl(long request, ByteBuffer arg) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void getOneReg(long id, ByteBuffer value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setOneReg(long id, ByteBuffer value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ByteBuffer kvmRun() {
            throw new UnsupportedOperationException();
        }
    }

    // ---- DebugTarget, from the MemoryTarget ----

    @Override
    public TargetDescription description() {
        return memoryTarget.description();
    }

    @Override
    public List<Integer> threads() {
        return memoryTarget.threads();
    }

    @Override
    public String threadName(int thread) {
        return memoryTarget.threadName(thread);
    }

    @Override
    public String threadExtraInfo(int thread) {
        return memoryTarget.threadExtraInfo(thread);
    }

    @Override
    public byte[] readRegisters(int thread) throws TargetException {
        return memoryTarget.readRegisters(thread);
    }

    @Override
    public void writeRegisters(int thread, byte[] registers) throws TargetException {
        memoryTarget.writeRegisters(thread, registers);
    }

    @Override
    public byte[] readRegister(int thread, int regnum) throws TargetException {
        return memoryTarget.readRegister(thread, regnum);
    }

    @Override
    public void writeRegister(int thread, int regnum, byte[] value) throws TargetException {
        memoryTarget.writeRegister(thread, regnum, value);
    }

    @Override
    public int readMemory(int thread, long address, byte[] buffer, int length) throws TargetException {
        return memoryTarget.readMemory(thread, address, buffer, length);
    }

    @Override
    public void writeMemory(int thread, long address, byte[] data) throws TargetException {
        memoryTarget.writeMemory(thread, address, data);
    }

    @Override
    public boolean supports(BreakpointType type) {
        return memoryTarget.supports(type);
    }

    @Override
    public void insertBreakpoint(BreakpointType type, long address, int kind) throws TargetException {
        memoryTarget.insertBreakpoint(type, address, kind);
    }

    @Override
    public void removeBreakpoint(BreakpointType type, long address, int kind) throws TargetException {
        memoryTarget.removeBreakpoint(type, address, kind);
    }

    @Override
    public void resume(ResumeRequest request, StopListener listener) throws TargetException {
        memoryTarget.resume(request, listener);
    }

    @Override
    public void interrupt() {
        memoryTarget.interrupt();
    }

    @Override
    public StopEvent currentStop() {
        return memoryTarget.currentStop();
    }

    @Override
    public void attach() {
        memoryTarget.attach();
    }

    @Override
    public void detach() {
        memoryTarget.detach();
    }

    @Override
    public void kill() {
        memoryTarget.kill();
    }

    @Override
    public void close() {
        memoryTarget.close();
    }
}
