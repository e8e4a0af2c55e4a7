package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_fpu} (arch/x86/include/uapi/asm/kvm.h), 416 bytes, for KVM_GET_FPU and
 * KVM_SET_FPU: the legacy FXSAVE image. {@code fpr[i]} is ST(i) in stack order, not the physical
 * register; {@code ftwx} is FXSAVE's abridged tag byte (one "not empty" bit per physical register).
 */
public final class KvmFpu extends KvmStruct {
    public static final int SIZE = 416;

    // __u8  fpr[8][16];   80-bit value in the low 10 bytes of each
    public static final int FPR = 0;
    public static final int FPR_STRIDE = 16;
    // __u16 fcw;
    public static final int FCW = 128;
    // __u16 fsw;
    public static final int FSW = 130;
    // __u8  ftwx;  /* in fxsave format */
    public static final int FTWX = 132;
    // __u8  pad1;          at 133
    // __u16 last_opcode;
    public static final int LAST_OPCODE = 134;
    // __u64 last_ip;   64-bit FIP (the 64-bit FXSAVE layout has no FCS)
    public static final int LAST_IP = 136;
    // __u64 last_dp;   64-bit FDP
    public static final int LAST_DP = 144;
    // __u8  xmm[16][16];
    public static final int XMM = 152;
    public static final int XMM_STRIDE = 16;
    // __u32 mxcsr;
    public static final int MXCSR = 408;
    // __u32 pad2;          at 412

    /** Bytes of an x87 register value (80-bit extended precision). */
    public static final int ST_BYTES = 10;

    public KvmFpu() {
        super(SIZE);
    }

    /** KVM_GET_FPU. */
    public static KvmFpu read(VcpuHandle vcpu) {
        KvmFpu fpu = new KvmFpu();
        vcpu.ioctl(KvmIoctls.KVM_GET_FPU, fpu.buffer);
        return fpu;
    }

    /** KVM_SET_FPU. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_FPU, buffer);
    }

    /** Offset of ST(i)'s 10 bytes. */
    public static int st(int i) {
        checkIndex(i, 8, "st");
        return FPR + i * FPR_STRIDE;
    }

    /** Offset of XMMi's 16 bytes. */
    public static int xmm(int i) {
        checkIndex(i, 16, "xmm");
        return XMM + i * XMM_STRIDE;
    }

    public void getBytes(int offset, byte[] dst, int dstOffset, int length) {
        buffer.get(offset, dst, dstOffset, length);
    }

    public void putBytes(int offset, byte[] src, int srcOffset, int length) {
        buffer.put(offset, src, srcOffset, length);
    }

    public int fcw() {
        return buffer.getShort(FCW) & 0xFFFF;
    }

    public KvmFpu fcw(int v) {
        buffer.putShort(FCW, (short) v);
        return this;
    }

    public int fsw() {
        return buffer.getShort(FSW) & 0xFFFF;
    }

    public KvmFpu fsw(int v) {
        buffer.putShort(FSW, (short) v);
        return this;
    }

    public int ftwx() {
        return buffer.get(FTWX) & 0xFF;
    }

    public KvmFpu ftwx(int v) {
        buffer.put(FTWX, (byte) v);
        return this;
    }

    public int lastOpcode() {
        return buffer.getShort(LAST_OPCODE) & 0xFFFF;
    }

    public KvmFpu lastOpcode(int v) {
        buffer.putShort(LAST_OPCODE, (short) v);
        return this;
    }

    public long lastIp() {
        return buffer.getLong(LAST_IP);
    }

    public KvmFpu lastIp(long v) {
        buffer.putLong(LAST_IP, v);
        return this;
    }

    public long lastDp() {
        return buffer.getLong(LAST_DP);
    }

    public KvmFpu lastDp(long v) {
        buffer.putLong(LAST_DP, v);
        return this;
    }

    public int mxcsr() {
        return buffer.getInt(MXCSR);
    }

    public KvmFpu mxcsr(int v) {
        buffer.putInt(MXCSR, v);
        return this;
    }
}
