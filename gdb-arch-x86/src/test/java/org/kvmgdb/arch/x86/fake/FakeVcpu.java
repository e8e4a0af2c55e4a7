package org.kvmgdb.arch.x86.fake;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmMsrs;

/**
 * A vCPU that records every ioctl with the exact bytes the kernel would have received, and models
 * the kernel's GET/SET pairs: a KVM_SET_x stores its struct, a KVM_GET_x returns what is stored
 * (zeros, or bytes the test preloaded, such as a recorded kernel answer).
 */
public final class FakeVcpu implements VcpuHandle {
    /** One ioctl: its request and the argument's bytes as passed in. */
    public record Call(long request, byte[] bytes) {
        public String name() {
            return KvmIoctls.name(request);
        }
    }

    private static final Map<Long, Long> SET_TO_GET = Map.of(
            KvmIoctls.KVM_SET_REGS, KvmIoctls.KVM_GET_REGS,
            KvmIoctls.KVM_SET_SREGS, KvmIoctls.KVM_GET_SREGS,
            KvmIoctls.KVM_SET_FPU, KvmIoctls.KVM_GET_FPU,
            KvmIoctls.KVM_SET_VCPU_EVENTS, KvmIoctls.KVM_GET_VCPU_EVENTS,
            KvmIoctls.KVM_SET_DEBUGREGS, KvmIoctls.KVM_GET_DEBUGREGS,
            KvmIoctls.KVM_SET_XSAVE, KvmIoctls.KVM_GET_XSAVE);
    private static final Map<Long, Integer> GET_SIZES = Map.of(
            KvmIoctls.KVM_GET_REGS, 144, KvmIoctls.KVM_GET_SREGS, 312, KvmIoctls.KVM_GET_FPU, 416,
            KvmIoctls.KVM_GET_VCPU_EVENTS, 64, KvmIoctls.KVM_GET_DEBUGREGS, 128, KvmIoctls.KVM_GET_XSAVE, 4096);

    private final int index;
    private final VmHandle vm;
    private final Map<Long, byte[]> state = new HashMap<>();
    private final List<Call> calls = new ArrayList<>();
    /** The MSRs KVM_GET/SET_MSRS reach: MSR_KERNEL_GS_BASE, which the register access uses. */
    private final FakeMsrs msrs = new FakeMsrs(KvmMsrs.MSR_KERNEL_GS_BASE);
    private final ByteBuffer kvmRun = VcpuHandle.buffer(4096);

    public FakeVcpu(int index, VmHandle vm) {
        this.index = index;
        this.vm = vm;
    }

    public FakeVcpu() {
        this(0, new FakeVm());
    }

    /** Preloads what KVM_GET_x ({@code getRequest}) answers. */
    public FakeVcpu kernelState(long getRequest, byte[] bytes) {
        int size = GET_SIZES.get(getRequest);
        if (bytes.length != size) {
            throw new IllegalArgumentException(KvmIoctls.name(getRequest) + " takes " + size + " bytes, got " + bytes.length);
        }
        state.put(getRequest, bytes.clone());
        return this;
    }

    /** What KVM_GET_x would answer now. */
    public byte[] kernelState(long getRequest) {
        return state.getOrDefault(getRequest, new byte[GET_SIZES.get(getRequest)]).clone();
    }

    /** The vCPU's MSRs, as KVM_GET_MSRS would report them. */
    public FakeMsrs msrs() {
        return msrs;
    }

    public List<Call> calls() {
        return calls;
    }

    public List<String> callNames() {
        return calls.stream().map(Call::name).collect(Collectors.toList());
    }

    public List<Call> calls(long request) {
        return calls.stream().filter(c -> c.request() == request).collect(Collectors.toList());
    }

    public void clearCalls() {
        calls.clear();
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public VmHandle vm() {
        return vm;
    }

    @Override
    public int ioctl(long request, ByteBuffer arg) {
        if (!arg.isDirect() || arg.order() != java.nio.ByteOrder.LITTLE_ENDIAN) {
            throw new AssertionError("ioctl buffers must be direct and little-endian");
        }
        byte[] in = copy(arg);
        calls.add(new Call(request, in));
        if (request == KvmIoctls.KVM_GET_MSRS) {
            return msrs.get(arg);
        }
        if (request == KvmIoctls.KVM_SET_MSRS) {
            return msrs.set(arg);
        }
        if (GET_SIZES.containsKey(request)) {
            if (arg.capacity() != GET_SIZES.get(request)) {
                throw new HypervisorException(KvmIoctls.name(request) + " with a " + arg.capacity() + "-byte buffer", 14);
            }
            ByteBuffer dst = arg.duplicate();
            dst.clear();
            dst.put(kernelState(request));
        } else if (SET_TO_GET.containsKey(request)) {
            state.put(SET_TO_GET.get(request), in);
        }
        return 0;
    }

    @Override
    public void getOneReg(long id, ByteBuffer value) {
        throw new AssertionError("x86 does not use ONE_REG");
    }

    @Override
    public void setOneReg(long id, ByteBuffer value) {
        throw new AssertionError("x86 does not use ONE_REG");
    }

    @Override
    public ByteBuffer kvmRun() {
        return kvmRun;
    }

    static byte[] copy(ByteBuffer arg) {
        byte[] b = new byte[arg.capacity()];
        ByteBuffer src = arg.duplicate();
        src.clear();
        src.get(b);
        return b;
    }
}
