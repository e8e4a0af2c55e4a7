package org.kvmgdb.arch.x86.kvm;

import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * {@code struct kvm_xsave} (arch/x86/include/uapi/asm/kvm.h), 4096 bytes ({@code __u32 region[1024]}),
 * for KVM_GET_XSAVE and KVM_SET_XSAVE: the vCPU's XSAVE area in the standard (non-compacted) format,
 * its state components at the offsets CPUID leaf 0xD gives on the host.
 *
 * <p>4096 bytes is the whole area unless the VMM enabled a dynamic feature (AMX) with
 * {@code arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM)}; this one does not, and KVM_GET_XSAVE refuses with
 * EINVAL rather than truncate when the area is bigger.
 */
public final class KvmXsave extends KvmStruct {
    public static final int SIZE = 4096;

    // 0..511: the legacy region, struct fxregs_state (arch/x86/include/asm/fpu/types.h): the x87
    // and SSE state in FXSAVE's layout.
    public static final int LEGACY_REGION = 0;
    //   u16 cwd; u16 swd; u16 twd (the abridged tag in its low byte); u16 fop;
    static final int FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6;
    //   u64 rip; u64 rdp;  (the 64-bit format: FPU instruction and data pointers)
    static final int FX_RIP = 8, FX_RDP = 16;
    //   u32 mxcsr; u32 mxcsr_mask;
    static final int FX_MXCSR = 24;
    //   u32 st_space[32]: ST(i) in 16-byte slots;  u32 xmm_space[64]: XMMi in 16-byte slots
    static final int FX_ST = 32, FX_XMM = 160;
    // 512..575: the XSAVE header. XSTATE_BV: which components hold state (a clear bit means the
    // component is in its initial state, whatever its bytes say).
    public static final int XSTATE_BV = 512;
    // XCOMP_BV: 0 in the standard format, which is the only one KVM_SET_XSAVE accepts.
    public static final int XCOMP_BV = 520;
    // State component 2 (AVX): the upper 128 bits of ymm0..ymm15, 16 bytes each, at
    // CPUID.(EAX=0DH,ECX=2).EBX = 576, size EAX = 256 (the same on every CPU with AVX).
    public static final int YMM_HI128 = 576;
    public static final int YMM_HI128_STRIDE = 16;

    /** XSTATE_BV bits (arch/x86/include/asm/fpu/types.h: XFEATURE_MASK_FP, _SSE, _YMM). */
    public static final long XFEATURE_MASK_FP = 1L << 0, XFEATURE_MASK_SSE = 1L << 1, XFEATURE_MASK_YMM = 1L << 2;

    public KvmXsave() {
        super(SIZE);
    }

    /** KVM_GET_XSAVE. */
    public static KvmXsave read(VcpuHandle vcpu) {
        KvmXsave xsave = new KvmXsave();
        vcpu.ioctl(KvmIoctls.KVM_GET_XSAVE, xsave.buffer);
        return xsave;
    }

    /** KVM_SET_XSAVE. */
    public void write(VcpuHandle vcpu) {
        vcpu.ioctl(KvmIoctls.KVM_SET_XSAVE, buffer);
    }

    /**
     * The legacy region as a {@code struct kvm_fpu}, field by field as the kernel's KVM_GET_FPU
     * fills one from the same fxregs_state. Components whose XSTATE_BV bit is clear already hold
     * their initial values here: KVM_GET_XSAVE writes those, not stale bytes.
     */
    public KvmFpu legacyRegion() {
        KvmFpu fpu = new KvmFpu();
        byte[] b = new byte[16 * 16];
        for (int i = 0; i < 8; i++) {
            buffer.get(FX_ST + i * 16, b, 0, 16);
            fpu.putBytes(KvmFpu.st(i), b, 0, 16);
        }
        buffer.get(FX_XMM, b, 0, 16 * 16);
        fpu.putBytes(KvmFpu.xmm(0), b, 0, 16 * 16);
        return fpu.fcw(buffer.getShort(FX_FCW) & 0xFFFF)
                .fsw(buffer.getShort(FX_FSW) & 0xFFFF)
                .ftwx(buffer.get(FX_FTW) & 0xFF)
                .lastOpcode(buffer.getShort(FX_FOP) & 0xFFFF)
                .lastIp(buffer.getLong(FX_RIP))
                .lastDp(buffer.getLong(FX_RDP))
                .mxcsr(buffer.getInt(FX_MXCSR));
    }

    /**
     * Puts {@code fpu} into the legacy region (as KVM_SET_FPU does; mxcsr_mask and the reserved bytes
     * stay) and marks the x87 and SSE components present in XSTATE_BV, so that KVM loads them and
     * not their initial state.
     */
    public KvmXsave legacyRegion(KvmFpu fpu) {
        byte[] b = new byte[16 * 16];
        for (int i = 0; i < 8; i++) {
            fpu.getBytes(KvmFpu.st(i), b, 0, 16);
            buffer.put(FX_ST + i * 16, b, 0, 16);
        }
        fpu.getBytes(KvmFpu.xmm(0), b, 0, 16 * 16);
        buffer.put(FX_XMM, b, 0, 16 * 16);
        buffer.putShort(FX_FCW, (short) fpu.fcw());
        buffer.putShort(FX_FSW, (short) fpu.fsw());
        buffer.putShort(FX_FTW, (short) fpu.ftwx());
        buffer.putShort(FX_FOP, (short) fpu.lastOpcode());
        buffer.putLong(FX_RIP, fpu.lastIp());
        buffer.putLong(FX_RDP, fpu.lastDp());
        buffer.putInt(FX_MXCSR, fpu.mxcsr());
        return xstateBv(xstateBv() | XFEATURE_MASK_FP | XFEATURE_MASK_SSE);
    }

    /** Offset of the upper 16 bytes of ymm{@code i}. */
    public static int ymmHigh(int i) {
        checkIndex(i, 16, "ymm");
        return YMM_HI128 + i * YMM_HI128_STRIDE;
    }

    public long xstateBv() {
        return buffer.getLong(XSTATE_BV);
    }

    public KvmXsave xstateBv(long value) {
        buffer.putLong(XSTATE_BV, value);
        return this;
    }

    /** Copies {@code length} bytes at {@code offset} into {@code dst}. */
    public void getBytes(int offset, byte[] dst, int at, int length) {
        buffer.get(offset, dst, at, length);
    }

    public KvmXsave putBytes(int offset, byte[] src, int at, int length) {
        buffer.put(offset, src, at, length);
        return this;
    }
}
