package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_vcpu_events} (arch/x86/include/uapi/asm/kvm.h), 64 bytes, for
 * KVM_GET_VCPU_EVENTS and KVM_SET_VCPU_EVENTS: pending/injected exception, interrupt, NMI, SMI.
 */
public final class KvmVcpuEvents extends KvmStruct {
    public static final int SIZE = 64;

    // struct { __u8 injected; __u8 nr; __u8 has_error_code; __u8 pending; __u32 error_code; } exception;
    public static final int EXCEPTION_INJECTED = 0, EXCEPTION_NR = 1, EXCEPTION_HAS_ERROR_CODE = 2,
            EXCEPTION_PENDING = 3, EXCEPTION_ERROR_CODE = 4;
    // struct { __u8 injected; __u8 nr; __u8 soft; __u8 shadow; } interrupt;   at 8
    public static final int INTERRUPT = 8;
    // struct { __u8 injected; __u8 pending; __u8 masked; __u8 pad; } nmi;     at 12
    public static final int NMI = 12;
    // __u32 sipi_vector;
    public static final int SIPI_VECTOR = 16;
    // __u32 flags;
    public static final int FLAGS = 20;
    // struct { __u8 smm, pending, smm_inside_nmi, latched_init; } smi;        at 24
    public static final int SMI = 24;
    // struct { __u8 pending; } triple_fault;                                 at 28
    // __u8 reserved[26];                                                      at 29
    // __u8 exception_has_payload;
    public static final int EXCEPTION_HAS_PAYLOAD = 55;
    // __u64 exception_payload;
    public static final int EXCEPTION_PAYLOAD = 56;

    // KVM_VCPUEVENT_VALID_*: which optional parts KVM_SET_VCPU_EVENTS applies
    public static final int KVM_VCPUEVENT_VALID_NMI_PENDING = 0x01;
    public static final int KVM_VCPUEVENT_VALID_SIPI_VECTOR = 0x02;
    public static final int KVM_VCPUEVENT_VALID_SHADOW = 0x04;
    public static final int KVM_VCPUEVENT_VALID_SMM = 0x08;
    public static final int KVM_VCPUEVENT_VALID_PAYLOAD = 0x10;
    public static final int KVM_VCPUEVENT_VALID_TRIPLE_FAULT = 0x20;

    public KvmVcpuEvents() {
        super(SIZE);
    }

    /** KVM_GET_VCPU_EVENTS. */
    public static KvmVcpuEvents read(VcpuHandle vcpu) {
        KvmVcpuEvents events = new KvmVcpuEvents();
        vcpu.ioctl(KvmIoctls.KVM_GET_VCPU_EVENTS, events.buffer);
        return events;
    }

    /** KVM_SET_VCPU_EVENTS. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_VCPU_EVENTS, buffer);
    }

    public int u8(int offset) {
        return buffer.get(offset) & 0xFF;
    }

    public KvmVcpuEvents u8(int offset, int value) {
        buffer.put(offset, (byte) value);
        return this;
    }

    public int flags() {
        return buffer.getInt(FLAGS);
    }

    public KvmVcpuEvents flags(int flags) {
        buffer.putInt(FLAGS, flags);
        return this;
    }

    public KvmVcpuEvents errorCode(int code) {
        buffer.putInt(EXCEPTION_ERROR_CODE, code);
        return this;
    }

    public KvmVcpuEvents exceptionPayload(long payload) {
        buffer.putLong(EXCEPTION_PAYLOAD, payload);
        return this;
    }
}
