package org.kvmgdb.arch.x86.fake;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.api.hypervisor.VmHandle;

/** A VM handle that answers capabilities and /dev/kvm ioctls from what the test gave it, and records them. */
public final class FakeVm implements VmHandle {
    /** How the fake "kernel" answers a system ioctl: fill {@code arg}, return the result or throw. */
    public interface SystemIoctl {
        int handle(long request, ByteBuffer arg);
    }

    private final Map<Integer, Integer> capabilities = new HashMap<>();
    private final List<Integer> capabilityQueries = new ArrayList<>();
    private final List<FakeVcpu.Call> systemCalls = new ArrayList<>();
    private final PhysicalMemory memory;
    private SystemIoctl system = (request, arg) -> {
        throw new AssertionError("unexpected system ioctl 0x" + Long.toHexString(request));
    };

    public FakeVm(PhysicalMemory memory) {
        this.memory = memory;
    }

    public FakeVm() {
        this(TestMemory.sparse(128L << 20));
    }

    public FakeVm capability(int capability, int value) {
        capabilities.put(capability, value);
        return this;
    }

    public FakeVm onSystemIoctl(SystemIoctl handler) {
        this.system = handler;
        return this;
    }

    public List<Integer> capabilityQueries() {
        return capabilityQueries;
    }

    public List<FakeVcpu.Call> systemCalls() {
        return systemCalls;
    }

    @Override
    public int checkExtension(int capability) {
        capabilityQueries.add(capability);
        return capabilities.getOrDefault(capability, 0);
    }

    @Override
    public int ioctl(long request, ByteBuffer arg) {
        throw new AssertionError("unexpected VM ioctl 0x" + Long.toHexString(request));
    }

    @Override
    public int systemIoctl(long request, ByteBuffer arg) {
        systemCalls.add(new FakeVcpu.Call(request, FakeVcpu.copy(arg)));
        return system.handle(request, arg);
    }

    @Override
    public PhysicalMemory memory() {
        return memory;
    }
}
