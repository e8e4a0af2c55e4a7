package org.kvmgdb.arch.x86;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.kvm.KvmFpu;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmMsrs;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmRun;
import org.kvmgdb.arch.x86.kvm.KvmSegment;
import org.kvmgdb.arch.x86.kvm.KvmSregs;
import org.kvmgdb.arch.x86.kvm.KvmStruct;
import org.kvmgdb.arch.x86.kvm.KvmXsave;
import org.tinylog.Logger;

/**
 * x86-64 registers in the {@code g} layout of a {@link TargetDescription}, through KVM_GET/SET_REGS,
 * KVM_GET/SET_SREGS, KVM_GET/SET_FPU, KVM_GET/SET_MSRS and KVM_GET/SET_XSAVE. Registers are found by
 * GDB name, so the table may order them as it likes; a register this class does not know reads as
 * zeros and ignores writes.
 *
 * <p>GDB's view of the x87/SSE state follows its amd64 FXSAVE handling (gdb/amd64-tdep.c,
 * gdb/i387-tdep.c): {@code fioff}/{@code fiseg} are the low and high halves of the 64-bit FPU
 * instruction pointer (likewise {@code fooff}/{@code foseg} for the data pointer), {@code fop} is
 * 11 bits, {@code ftag} is the full tag word rebuilt from FXSAVE's abridged one. The segment
 * selectors are the {@code kvm_segment} selectors; writing one keeps the rest of that segment
 * (base, limit, attributes), and {@code fs_base}/{@code gs_base} are those segments' bases.
 *
 * <p>The control registers and {@code efer} are kvm_sregs fields: KVM checks a write there
 * (KVM_SET_SREGS fails with EINVAL on a combination the CPU would refuse). EFER comes from kvm_sregs,
 * not from KVM_GET_MSRS, which returned 0 for it on a PVM host while kvm_sregs had 0x500
 * (KVM-HERE.md). Without an in-kernel local APIC, KVM_RUN takes CR8 from {@code kvm_run.cr8}
 * (userspace owns the TPR then), so a write of {@code cr8} goes there too. {@code k_gs_base} is
 * MSR_KERNEL_GS_BASE through KVM_GET/SET_MSRS.
 *
 * <p>{@code ymm0h}..{@code ymm15h} are the AVX component of the XSAVE area. When the description has
 * them, the x87 and SSE registers come from the XSAVE area's legacy region as well, not from
 * KVM_GET/SET_FPU: KVM loads a component whose XSTATE_BV bit is clear as its initial state, and
 * KVM_SET_FPU leaves XSTATE_BV alone, so an xmm written through it into a vCPU whose SSE state is
 * still initial (every vCPU at boot: XSTATE_BV = 0) reads back through KVM_GET_FPU but not through
 * KVM_GET_XSAVE, and is not what the guest gets. A write through the XSAVE area marks what it
 * changed present: x87 and SSE together, AVX for a ymm half. A description without AVX keeps
 * using kvm_fpu.
 *
 * <p>Every read or write issues the GET ioctls of the structs the registers asked for live in, and
 * nothing else: a {@code p} of {@code rip} is one KVM_GET_REGS. {@link #writeAll} only issues a SET
 * ioctl for a struct whose bytes changed, so writing back what {@link #readAll} returned touches
 * nothing.
 */
public final class X86RegisterAccess implements RegisterAccess {
    private final TargetDescription description;
    private final Field[] fields;
    /** The structs the description's registers live in. */
    private final EnumSet<Source> used = EnumSet.noneOf(Source.class);
    /** The MSR indices the description's registers need, in KVM_GET_MSRS order. */
    private final int[] msrs;
    /** The description has XSAVE registers: the x87/SSE ones come from the XSAVE area too. */
    private final boolean fpuFromXsave;

    public X86RegisterAccess(TargetDescription description) {
        this.description = description;
        Map<String, Field> known = knownFields();
        fields = new Field[description.registers().size()];
        List<Integer> msrList = new ArrayList<>();
        for (RegisterDescriptor r : description.registers()) {
            Field f = known.get(r.name());
            if (f == null) {
                Logger.debug("x86 register {} is not backed by KVM state; it reads as zeros", r.name());
                f = new Unbacked(r.byteSize());
            } else if (f.size() != r.byteSize()) {
                throw new IllegalArgumentException("register " + r.name() + " is " + r.byteSize()
                        + " bytes in the target description; KVM state gives it " + f.size());
            }
            if (f instanceof Msr) {
                msrList.add(((Msr) f).index);
            }
            if (f.source() != Source.NONE) {
                used.add(f.source());
            }
            fields[r.regnum()] = f;
        }
        msrs = msrList.stream().mapToInt(Integer::intValue).toArray();
        fpuFromXsave = used.contains(Source.XSAVE);
    }

    @Override
    public byte[] readAll(VcpuHandle vcpu) {
        State s = State.read(vcpu, used, msrs, fpuFromXsave);
        byte[] g = new byte[description.gPacketSize()];
        for (int regnum = 0; regnum < fields.length; regnum++) {
            fields[regnum].read(s, g, description.offsetOf(regnum));
        }
        return g;
    }

    @Override
    public void writeAll(VcpuHandle vcpu, byte[] g) {
        if (g.length != description.gPacketSize()) {
            throw new IllegalArgumentException("g packet is " + description.gPacketSize() + " bytes, got " + g.length);
        }
        State before = State.read(vcpu, used, msrs, fpuFromXsave);
        State after = before.copy();
        for (int regnum = 0; regnum < fields.length; regnum++) {
            fields[regnum].write(after, g, description.offsetOf(regnum));
        }
        after.writeChanged(vcpu, before);
    }

    /** Reads only the struct {@code regnum} lives in (nothing for a register KVM does not have). */
    @Override
    public byte[] readRegister(VcpuHandle vcpu, TargetDescription layout, int regnum) {
        Field f = field(layout, regnum);
        State s = State.read(vcpu, sourceOf(f), msrs, fpuFromXsave);
        byte[] g = new byte[f.size()];
        f.read(s, g, 0);
        return g;
    }

    /** Reads each struct the registers live in once (a stop reply's rip, rsp and rbp: one KVM_GET_REGS). */
    @Override
    public byte[][] readRegisters(VcpuHandle vcpu, TargetDescription layout, int[] regnums) {
        Field[] wanted = new Field[regnums.length];
        EnumSet<Source> sources = EnumSet.noneOf(Source.class);
        for (int i = 0; i < regnums.length; i++) {
            wanted[i] = field(layout, regnums[i]);
            sources.addAll(sourceOf(wanted[i]));
        }
        State s = State.read(vcpu, sources, msrs, fpuFromXsave);
        byte[][] values = new byte[regnums.length][];
        for (int i = 0; i < regnums.length; i++) {
            values[i] = new byte[wanted[i].size()];
            wanted[i].read(s, values[i], 0);
        }
        return values;
    }

    /** Reads the struct {@code regnum} lives in and sets it again if the value changed it. */
    @Override
    public void writeRegister(VcpuHandle vcpu, TargetDescription layout, int regnum, byte[] value) {
        Field f = field(layout, regnum);
        if (value.length != f.size()) {
            throw new IllegalArgumentException(description.register(regnum).name() + " is " + f.size() + " bytes, got " + value.length);
        }
        State before = State.read(vcpu, sourceOf(f), msrs, fpuFromXsave);
        State after = before.copy();
        f.write(after, value, 0);
        after.writeChanged(vcpu, before);
    }

    /** Regnums mean what this access's description says; another layout is a caller's mistake. */
    private Field field(TargetDescription layout, int regnum) {
        if (layout != description) {
            throw new IllegalArgumentException("this register access serves its own description, not " + layout.architecture()
                    + " with " + layout.registers().size() + " registers");
        }
        return fields[regnum];
    }

    private static EnumSet<Source> sourceOf(Field f) {
        return f.source() == Source.NONE ? EnumSet.noneOf(Source.class) : EnumSet.of(f.source());
    }

    /**
     * kvm_regs and kvm_sregs: what a stop's readers share (rip for the classifier and the stop,
     * rip/rsp/rbp for the stop reply, the paging state for memory). Neither changes while the
     * vCPU is stopped: without an in-kernel irqchip nothing else injects into it.
     */
    @Override
    public long[] cacheableReads() {
        return new long[] {KvmIoctls.KVM_GET_REGS, KvmIoctls.KVM_GET_SREGS};
    }

    @Override
    public long programCounter(VcpuHandle vcpu) {
        return KvmRegs.read(vcpu).rip();
    }

    @Override
    public void setProgramCounter(VcpuHandle vcpu, long pc) {
        KvmRegs regs = KvmRegs.read(vcpu);
        regs.rip(pc).write(vcpu);
    }

    // ---- the register -> KVM struct mapping ----

    private enum Source { REGS, SREGS, FPU, MSRS, XSAVE, NONE }

    /**
     * The KVM structs of one vCPU that one read or write needs; the others stay null. When
     * {@code fpuFromXsave}, {@code fpu} is the XSAVE area's legacy region, not a KVM_GET_FPU answer.
     */
    private static final class State {
        boolean fpuFromXsave;
        KvmRegs regs;
        KvmSregs sregs;
        KvmFpu fpu;
        KvmMsrs msrs;
        KvmXsave xsave;

        static State read(VcpuHandle vcpu, Set<Source> sources, int[] msrIndices, boolean fpuFromXsave) {
            State s = new State();
            s.fpuFromXsave = fpuFromXsave;
            if (sources.contains(Source.REGS)) {
                s.regs = KvmRegs.read(vcpu);
            }
            if (sources.contains(Source.SREGS)) {
                s.sregs = KvmSregs.read(vcpu);
            }
            if (sources.contains(Source.MSRS)) {
                s.msrs = KvmMsrs.read(vcpu, msrIndices);
            }
            if (sources.contains(Source.XSAVE) || (fpuFromXsave && sources.contains(Source.FPU))) {
                s.xsave = KvmXsave.read(vcpu);
            }
            if (sources.contains(Source.FPU)) {
                s.fpu = fpuFromXsave ? s.xsave.legacyRegion() : KvmFpu.read(vcpu);
            }
            return s;
        }

        State copy() {
            State c = new State();
            c.fpuFromXsave = fpuFromXsave;
            c.regs = regs == null ? null : copyOf(regs, new KvmRegs());
            c.sregs = sregs == null ? null : copyOf(sregs, new KvmSregs());
            c.fpu = fpu == null ? null : copyOf(fpu, new KvmFpu());
            c.msrs = msrs == null ? null : copyOf(msrs, new KvmMsrs(indices(msrs)));
            c.xsave = xsave == null ? null : copyOf(xsave, new KvmXsave());
            return c;
        }

        private static <T extends KvmStruct> T copyOf(KvmStruct from, T to) {
            to.fromBytes(from.toBytes());
            return to;
        }

        private static int[] indices(KvmMsrs m) {
            int[] indices = new int[m.count()];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = m.index(i);
            }
            return indices;
        }

        /**
         * Issues the SET ioctl of each struct whose bytes differ from {@code before}. SET_SREGS and
         * SET_FPU have side effects (MMU context reset, FPU reload), so unchanged structs are skipped.
         */
        void writeChanged(VcpuHandle vcpu, State before) {
            if (regs != null && !regs.sameBytes(before.regs)) {
                regs.write(vcpu);
            }
            if (sregs != null && !sregs.sameBytes(before.sregs)) {
                sregs.write(vcpu);
                if (sregs.get(KvmSregs.CR8) != before.sregs.get(KvmSregs.CR8)) {
                    // Without an in-kernel APIC the next KVM_RUN sets CR8 from here; with one, it ignores it.
                    vcpu.kvmRun().putLong(KvmRun.CR8, sregs.get(KvmSregs.CR8));
                }
            }
            if (msrs != null && !msrs.sameBytes(before.msrs)) {
                msrs.write(vcpu);
            }
            boolean fpuChanged = fpu != null && !fpu.sameBytes(before.fpu);
            if (fpuChanged && fpuFromXsave) {
                xsave.legacyRegion(fpu);
            } else if (fpuChanged) {
                fpu.write(vcpu);
            }
            if (xsave != null && !xsave.sameBytes(before.xsave)) {
                xsave.write(vcpu);
            }
        }
    }

    private interface Field {
        int size();

        Source source();

        void read(State s, byte[] g, int at);

        void write(State s, byte[] g, int at);
    }

    private static Map<String, Field> knownFields() {
        Map<String, Field> m = new HashMap<>();
        // GDB's amd64 order (rax rbx rcx rdx rsi rdi rbp rsp) differs from kvm_regs' (... rsp rbp).
        String[] gprNames = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"};
        int[] gprOffsets = {KvmRegs.RAX, KvmRegs.RBX, KvmRegs.RCX, KvmRegs.RDX, KvmRegs.RSI, KvmRegs.RDI,
            KvmRegs.RBP, KvmRegs.RSP, KvmRegs.R8, KvmRegs.R9, KvmRegs.R10, KvmRegs.R11, KvmRegs.R12,
            KvmRegs.R13, KvmRegs.R14, KvmRegs.R15, KvmRegs.RIP};
        for (int i = 0; i < gprNames.length; i++) {
            m.put(gprNames[i], new Gpr(gprOffsets[i]));
        }
        m.put("eflags", new Eflags());
        String[] segNames = {"cs", "ss", "ds", "es", "fs", "gs"};
        int[] segOffsets = {KvmSregs.CS, KvmSregs.SS, KvmSregs.DS, KvmSregs.ES, KvmSregs.FS, KvmSregs.GS};
        for (int i = 0; i < segNames.length; i++) {
            m.put(segNames[i], new Selector(segOffsets[i]));
        }
        m.put("fs_base", new SegmentBase(KvmSregs.FS));
        m.put("gs_base", new SegmentBase(KvmSregs.GS));
        for (int i = 0; i < 8; i++) {
            m.put("st" + i, new FpuBytes(KvmFpu.st(i), KvmFpu.ST_BYTES));
        }
        for (int i = 0; i < 16; i++) {
            m.put("xmm" + i, new FpuBytes(KvmFpu.xmm(i), 16));
        }
        m.put("fctrl", new FpuWord(f -> f.fcw(), (f, v) -> f.fcw(v & 0xFFFF)));
        m.put("fstat", new FpuWord(f -> f.fsw(), (f, v) -> f.fsw(v & 0xFFFF)));
        m.put("ftag", new FpuWord(X87Tags::fullTagWord, (f, v) -> f.ftwx(X87Tags.abridge(v))));
        // 64-bit FXSAVE: FIP/FDP are 64-bit offsets; GDB shows their high halves as fiseg/foseg.
        m.put("fioff", new FpuWord(f -> (int) f.lastIp(), (f, v) -> f.lastIp((f.lastIp() & ~0xFFFF_FFFFL) | (v & 0xFFFF_FFFFL))));
        m.put("fiseg", new FpuWord(f -> (int) (f.lastIp() >>> 32), (f, v) -> f.lastIp((f.lastIp() & 0xFFFF_FFFFL) | ((long) v << 32))));
        m.put("fooff", new FpuWord(f -> (int) f.lastDp(), (f, v) -> f.lastDp((f.lastDp() & ~0xFFFF_FFFFL) | (v & 0xFFFF_FFFFL))));
        m.put("foseg", new FpuWord(f -> (int) (f.lastDp() >>> 32), (f, v) -> f.lastDp((f.lastDp() & 0xFFFF_FFFFL) | ((long) v << 32))));
        // The opcode is 11 bits; leave the other bits of the field as they are (GDB does the same).
        m.put("fop", new FpuWord(f -> f.lastOpcode() & 0x7FF, (f, v) -> f.lastOpcode((f.lastOpcode() & ~0x7FF) | (v & 0x7FF))));
        m.put("mxcsr", new FpuWord(KvmFpu::mxcsr, KvmFpu::mxcsr));
        m.put("k_gs_base", new Msr(KvmMsrs.MSR_KERNEL_GS_BASE));
        String[] controlNames = {"cr0", "cr2", "cr3", "cr4", "cr8", "efer"};
        int[] controlOffsets = {KvmSregs.CR0, KvmSregs.CR2, KvmSregs.CR3, KvmSregs.CR4, KvmSregs.CR8, KvmSregs.EFER};
        for (int i = 0; i < controlNames.length; i++) {
            m.put(controlNames[i], new SregsWord(controlOffsets[i]));
        }
        for (int i = 0; i < 16; i++) {
            m.put("ymm" + i + "h", new YmmHigh(i));
        }
        return m;
    }

    private static long getLE(byte[] g, int at, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (g[at + i] & 0xFF);
        }
        return v;
    }

    private static void putLE(byte[] g, int at, int size, long v) {
        for (int i = 0; i < size; i++) {
            g[at + i] = (byte) (v >>> (8 * i));
        }
    }

    /** A 64-bit general register or rip. */
    private static final class Gpr implements Field {
        private final int offset;

        Gpr(int offset) {
            this.offset = offset;
        }

        public int size() {
            return 8;
        }

        public Source source() {
            return Source.REGS;
        }

        public void read(State s, byte[] g, int at) {
            putLE(g, at, 8, s.regs.get(offset));
        }

        public void write(State s, byte[] g, int at) {
            s.regs.set(offset, getLE(g, at, 8));
        }
    }

    /** GDB's eflags is 32 bits; the upper half of RFLAGS is reserved and kept. */
    private static final class Eflags implements Field {
        public int size() {
            return 4;
        }

        public Source source() {
            return Source.REGS;
        }

        public void read(State s, byte[] g, int at) {
            putLE(g, at, 4, s.regs.rflags());
        }

        public void write(State s, byte[] g, int at) {
            s.regs.rflags((s.regs.rflags() & ~0xFFFF_FFFFL) | getLE(g, at, 4));
        }
    }

    /** A segment selector, 32 bits in GDB's layout, 16 in the CPU. */
    private static final class Selector implements Field {
        private final int segment;

        Selector(int segment) {
            this.segment = segment;
        }

        public int size() {
            return 4;
        }

        public Source source() {
            return Source.SREGS;
        }

        public void read(State s, byte[] g, int at) {
            putLE(g, at, 4, s.sregs.segment(segment).selector());
        }

        public void write(State s, byte[] g, int at) {
            int selector = (int) getLE(g, at, 4) & 0xFFFF;
            KvmSegment current = s.sregs.segment(segment);
            if (current.selector() != selector) {
                s.sregs.segment(segment, current.withSelector(selector));
            }
        }
    }

    /** fs_base / gs_base: the hidden base of FS / GS (the FS_BASE / GS_BASE MSRs in long mode). */
    private static final class SegmentBase implements Field {
        private final int segment;

        SegmentBase(int segment) {
            this.segment = segment;
        }

        public int size() {
            return 8;
        }

        public Source source() {
            return Source.SREGS;
        }

        public void read(State s, byte[] g, int at) {
            putLE(g, at, 8, s.sregs.segment(segment).base());
        }

        public void write(State s, byte[] g, int at) {
            long base = getLE(g, at, 8);
            KvmSegment current = s.sregs.segment(segment);
            if (current.base() != base) {
                s.sregs.segment(segment, current.withBase(base));
            }
        }
    }

    /** A 64-bit kvm_sregs field: a control register or EFER. */
    private static final class SregsWord implements Field {
        private final int offset;

        SregsWord(int offset) {
            this.offset = offset;
        }

        public int size() {
            return 8;
        }

        public Source source() {
            return Source.SREGS;
        }

        public void read(State s, byte[] g, int at) {
            putLE(g, at, 8, s.sregs.get(offset));
        }

        public void write(State s, byte[] g, int at) {
            s.sregs.set(offset, getLE(g, at, 8));
        }
    }

    /** A 64-bit MSR through KVM_GET/SET_MSRS. */
    private static final class Msr implements Field {
        private final int index;

        Msr(int index) {
            this.index = index;
        }

        public int size() {
            return 8;
        }

        public Source source() {
            return Source.MSRS;
        }

        public void read(State s, byte[] g, int at) {
            putLE(g, at, 8, s.msrs.dataOf(index));
        }

        public void write(State s, byte[] g, int at) {
            s.msrs.dataOf(index, getLE(g, at, 8));
        }
    }

    /** ymm{@code i}h: the upper 128 bits of ymm{@code i}, in the XSAVE area's AVX component. */
    private static final class YmmHigh implements Field {
        private final int offset;

        YmmHigh(int i) {
            this.offset = KvmXsave.ymmHigh(i);
        }

        public int size() {
            return 16;
        }

        public Source source() {
            return Source.XSAVE;
        }

        public void read(State s, byte[] g, int at) {
            s.xsave.getBytes(offset, g, at, 16);
        }

        public void write(State s, byte[] g, int at) {
            byte[] current = new byte[16];
            s.xsave.getBytes(offset, current, 0, 16);
            if (!Arrays.equals(current, 0, 16, g, at, at + 16)) {
                // A component whose XSTATE_BV bit is clear is loaded as zeros, whatever its bytes.
                s.xsave.putBytes(offset, g, at, 16).xstateBv(s.xsave.xstateBv() | KvmXsave.XFEATURE_MASK_YMM);
            }
        }
    }

    /** Raw bytes of kvm_fpu: an st register (10 bytes) or an xmm register (16). */
    private static final class FpuBytes implements Field {
        private final int offset;
        private final int size;

        FpuBytes(int offset, int size) {
            this.offset = offset;
            this.size = size;
        }

        public int size() {
            return size;
        }

        public Source source() {
            return Source.FPU;
        }

        public void read(State s, byte[] g, int at) {
            s.fpu.getBytes(offset, g, at, size);
        }

        public void write(State s, byte[] g, int at) {
            s.fpu.putBytes(offset, g, at, size);
        }
    }

    /** A 32-bit GDB register derived from kvm_fpu fields. */
    private static final class FpuWord implements Field {
        private final java.util.function.ToIntFunction<KvmFpu> getter;
        private final java.util.function.ObjIntConsumer<KvmFpu> setter;

        FpuWord(java.util.function.ToIntFunction<KvmFpu> getter, java.util.function.ObjIntConsumer<KvmFpu> setter) {
            this.getter = getter;
            this.setter = setter;
        }

        public int size() {
            return 4;
        }

        public Source source() {
            return Source.FPU;
        }

        public void read(State s, byte[] g, int at) {
            putLE(g, at, 4, getter.applyAsInt(s.fpu) & 0xFFFF_FFFFL);
        }

        public void write(State s, byte[] g, int at) {
            setter.accept(s.fpu, (int) getLE(g, at, 4));
        }
    }

    /** A register the description has and KVM's structs do not: zeros, writes dropped. */
    private static final class Unbacked implements Field {
        private final int size;

        Unbacked(int size) {
            this.size = size;
        }

        public int size() {
            return size;
        }

        public Source source() {
            return Source.NONE;
        }

        public void read(State s, byte[] g, int at) {
            // already zero
        }

        public void write(State s, byte[] g, int at) {
        }
    }
}
