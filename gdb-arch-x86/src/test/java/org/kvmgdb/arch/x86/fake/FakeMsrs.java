package org.kvmgdb.arch.x86.fake;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.arch.x86.kvm.KvmMsrs;

/**
 * KVM_GET_MSRS and KVM_SET_MSRS as the kernel serves them (arch/x86/kvm/x86.c, msr_io): the
 * entries of {@code struct kvm_msrs} are processed in order until one names an MSR the vCPU does not
 * have; the result is how many were processed. More than 255 entries is E2BIG.
 */
public final class FakeMsrs {
    /** MAX_IO_MSRS in arch/x86/kvm/x86.c. */
    private static final int MAX_IO_MSRS = 256;
    private static final int E2BIG = 7;

    private final Map<Integer, Long> values = new HashMap<>();

    /** A vCPU that has these MSRs, all zero. */
    public FakeMsrs(int... known) {
        for (int index : known) {
            values.put(index, 0L);
        }
    }

    public long value(int index) {
        return values.get(index);
    }

    /** Sets an MSR as the guest would have left it. */
    public FakeMsrs value(int index, long value) {
        if (!values.containsKey(index)) {
            throw new IllegalArgumentException(String.format("MSR 0x%x is not one this vCPU has", index));
        }
        values.put(index, value);
        return this;
    }

    /** KVM_GET_MSRS: fills in the data of each entry, up to the first unknown MSR. */
    public int get(ByteBuffer arg) {
        ByteBuffer b = arg.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = entries(b);
        for (int i = 0; i < n; i++) {
            int at = KvmMsrs.HEADER_SIZE + i * KvmMsrs.ENTRY_SIZE;
            Long value = values.get(b.getInt(at + KvmMsrs.INDEX));
            if (value == null) {
                return i;
            }
            b.putLong(at + KvmMsrs.DATA, value);
        }
        return n;
    }

    /** KVM_SET_MSRS: stores the data of each entry, up to the first unknown MSR. */
    public int set(ByteBuffer arg) {
        ByteBuffer b = arg.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = entries(b);
        for (int i = 0; i < n; i++) {
            int at = KvmMsrs.HEADER_SIZE + i * KvmMsrs.ENTRY_SIZE;
            int index = b.getInt(at + KvmMsrs.INDEX);
            if (!values.containsKey(index)) {
                return i;
            }
            values.put(index, b.getLong(at + KvmMsrs.DATA));
        }
        return n;
    }

    private static int entries(ByteBuffer b) {
        int n = b.getInt(0);
        if (n < 0 || n >= MAX_IO_MSRS) {
            throw new HypervisorException("nmsrs " + n, E2BIG);
        }
        if (b.capacity() < KvmMsrs.HEADER_SIZE + n * KvmMsrs.ENTRY_SIZE) {
            throw new HypervisorException("kvm_msrs of " + n + " entries in " + b.capacity() + " bytes", 14);
        }
        return n;
    }
}
