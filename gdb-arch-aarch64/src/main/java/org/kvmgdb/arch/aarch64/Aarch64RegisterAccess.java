package org.kvmgdb.arch.aarch64;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.VcpuHandle;

/**
 * The {@code g} packet of {@link Aarch64Registers} read and written through {@code KVM_GET_ONE_REG}
 * and {@code KVM_SET_ONE_REG}, one register at a time (arm64 KVM has no KVM_GET_REGS).
 *
 * <ul>
 *   <li>x0..x30, pc: their U64 core registers, verbatim.
 *   <li>sp: the stack pointer the vCPU uses, as GDB means it: SP_EL1 when PSTATE.EL is 1 or more and
 *       PSTATE.SPSel is 1 (modes EL1h), otherwise SP_EL0 ({@code regs.sp}). A {@code G} decides with
 *       the cpsr it carries.
 *   <li>cpsr: the low 32 bits of the U64 {@code regs.pstate}; a write keeps the upper 32 bits.
 *   <li>v0..v31: U128 core registers, verbatim (a little-endian host stores __uint128_t in the same
 *       byte order as the {@code g} packet).
 *   <li>fpsr, fpcr: U32 core registers, verbatim.
 *   <li>The system feature: sctlr_el1 ... contextidr_el1 as their {@code ARM64_SYS_REG} ids
 *       ({@link KvmSysRegs}); elr_el1, spsr_el1 ({@code spsr[KVM_SPSR_EL1]}), sp_el0
 *       ({@code regs.sp}) and sp_el1 as core registers; all verbatim. sp_el0 and sp_el1 are the same
 *       state as GDB's {@code sp} in the matching mode; a {@code G} writes the {@code sp} slot after
 *       them, so it wins when the two disagree.
 *   <li>cntvct_el0: read through {@code KVM_REG_ARM_TIMER_CNT} and read-only. KVM takes a write of
 *       it as a new counter offset for the whole VM (or ignores it once userspace has used
 *       KVM_ARM_SET_COUNTER_OFFSET), which is not "set this vCPU's register". A {@code P} to it is
 *       refused with an error; a {@code G} always carries every register, including the counter
 *       value gdb read some time ago, so {@code G} leaves the counter alone.
 * </ul>
 *
 * <p>KVM checks the mode bits of a PSTATE write and refuses an invalid one (EINVAL); a {@code G}
 * writes cpsr first, so such a packet fails before it has changed anything else.
 */
public final class Aarch64RegisterAccess implements RegisterAccess {
    /** PSTATE.SPSel: bit 0 of the mode field (SPSR_ELx.M[0]). */
    static final long PSTATE_SPSEL = 1L;
    /** PSTATE.EL: bits 3:2. */
    static final int PSTATE_EL_SHIFT = 2;
    static final long PSTATE_EL_MASK = 3L << PSTATE_EL_SHIFT;

    private enum Kind { VERBATIM, STACK_POINTER, CPSR, READ_ONLY }

    /** How one register of the g packet maps to ONE_REG. */
    private record Slot(RegisterDescriptor register, int offset, Kind kind, long id) {
    }

    private final TargetDescription description;
    private final List<Slot> slots = new ArrayList<>();
    private final Slot cpsr;

    /** @throws IllegalArgumentException if the description has a register this class cannot map */
    public Aarch64RegisterAccess(TargetDescription description) {
        this.description = description;
        Slot cpsrSlot = null;
        for (RegisterDescriptor r : description.registers()) {
            Slot slot = slotFor(r, description.offsetOf(r.regnum()));
            slots.add(slot);
            if (slot.kind() == Kind.CPSR) {
                cpsrSlot = slot;
            }
        }
        if (cpsrSlot == null) {
            throw new IllegalArgumentException("no cpsr in the description: sp cannot be chosen");
        }
        this.cpsr = cpsrSlot;
    }

    private static Slot slotFor(RegisterDescriptor r, int offset) {
        String name = r.name();
        Slot slot;
        if (name.matches("x([0-9]|[12][0-9]|30)")) {
            slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.x(Integer.parseInt(name.substring(1))));
        } else if (name.matches("v([0-9]|[12][0-9]|3[01])")) {
            slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.v(Integer.parseInt(name.substring(1))));
        } else {
            switch (name) {
                case "sp":
                    slot = new Slot(r, offset, Kind.STACK_POINTER, KvmCoreRegs.SP_EL0);
                    break;
                case "pc":
                    slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.PC);
                    break;
                case "cpsr":
                    slot = new Slot(r, offset, Kind.CPSR, KvmCoreRegs.PSTATE);
                    break;
                case "fpsr":
                    slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.FPSR);
                    break;
                case "fpcr":
                    slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.FPCR);
                    break;
                case "sctlr_el1":
                    slot = sys(r, offset, KvmSysRegs.SCTLR_EL1);
                    break;
                case "tcr_el1":
                    slot = sys(r, offset, KvmSysRegs.TCR_EL1);
                    break;
                case "ttbr0_el1":
                    slot = sys(r, offset, KvmSysRegs.TTBR0_EL1);
                    break;
                case "ttbr1_el1":
                    slot = sys(r, offset, KvmSysRegs.TTBR1_EL1);
                    break;
                case "mair_el1":
                    slot = sys(r, offset, KvmSysRegs.MAIR_EL1);
                    break;
                case "vbar_el1":
                    slot = sys(r, offset, KvmSysRegs.VBAR_EL1);
                    break;
                case "esr_el1":
                    slot = sys(r, offset, KvmSysRegs.ESR_EL1);
                    break;
                case "far_el1":
                    slot = sys(r, offset, KvmSysRegs.FAR_EL1);
                    break;
                case "tpidr_el1":
                    slot = sys(r, offset, KvmSysRegs.TPIDR_EL1);
                    break;
                case "contextidr_el1":
                    slot = sys(r, offset, KvmSysRegs.CONTEXTIDR_EL1);
                    break;
                case "elr_el1":
                    slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.ELR_EL1);
                    break;
                case "spsr_el1":
                    slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.SPSR_EL1);
                    break;
                case "sp_el0":
                    slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.SP_EL0);
                    break;
                case "sp_el1":
                    slot = new Slot(r, offset, Kind.VERBATIM, KvmCoreRegs.SP_EL1);
                    break;
                case "cntvct_el0":
                    slot = new Slot(r, offset, Kind.READ_ONLY, KvmSysRegs.id(KvmSysRegs.KVM_REG_ARM_TIMER_CNT));
                    break;
                default:
                    throw new IllegalArgumentException("no KVM register for " + name);
            }
        }
        if ((slot.kind() == Kind.VERBATIM || slot.kind() == Kind.READ_ONLY) && KvmCoreRegs.size(slot.id()) != r.byteSize()) {
            throw new IllegalArgumentException(name + " is " + r.byteSize() + " bytes but its ONE_REG id "
                    + Long.toHexString(slot.id()) + " carries " + KvmCoreRegs.size(slot.id()));
        }
        return slot;
    }

    private static Slot sys(RegisterDescriptor r, int offset, KvmSysRegs.Encoding encoding) {
        return new Slot(r, offset, Kind.VERBATIM, KvmSysRegs.id(encoding));
    }

    /** Whether gdb may not write this register ({@code P} gets an error, {@code G} leaves it alone). */
    public boolean readOnly(String name) {
        return slots.stream().anyMatch(s -> s.kind() == Kind.READ_ONLY && s.register().name().equals(name));
    }

    /** The ONE_REG id GDB's {@code sp} means for this PSTATE. */
    static long stackPointerId(long pstate) {
        boolean spsel = (pstate & PSTATE_SPSEL) != 0;
        boolean el0 = (pstate & PSTATE_EL_MASK) == 0;
        return spsel && !el0 ? KvmCoreRegs.SP_EL1 : KvmCoreRegs.SP_EL0;
    }

    @Override
    public byte[] readAll(VcpuHandle vcpu) {
        byte[] g = new byte[description.gPacketSize()];
        long pstate = getLong(vcpu, KvmCoreRegs.PSTATE);
        for (Slot s : slots) {
            switch (s.kind()) {
                case CPSR:
                    putLong(g, s.offset(), pstate, 4);
                    break;
                case STACK_POINTER:
                    putLong(g, s.offset(), getLong(vcpu, stackPointerId(pstate)), 8);
                    break;
                default:
                    ByteBuffer value = VcpuHandle.buffer(KvmCoreRegs.size(s.id()));
                    vcpu.getOneReg(s.id(), value);
                    value.get(0, g, s.offset(), s.register().byteSize());
                    break;
            }
        }
        return g;
    }

    @Override
    public void writeAll(VcpuHandle vcpu, byte[] g) {
        if (g.length != description.gPacketSize()) {
            throw new IllegalArgumentException("g packet of " + g.length + " bytes, expected " + description.gPacketSize());
        }
        // cpsr first: KVM validates the mode, and the new mode decides which SP gdb's sp is.
        long oldPstate = getLong(vcpu, KvmCoreRegs.PSTATE);
        long pstate = (oldPstate & 0xFFFF_FFFF_0000_0000L) | getLong(g, cpsr.offset(), 4);
        setLong(vcpu, KvmCoreRegs.PSTATE, pstate);
        for (Slot s : slots) {
            switch (s.kind()) {
                case CPSR:
                case READ_ONLY:
                case STACK_POINTER:
                    break;
                default:
                    setVerbatim(vcpu, s, g, s.offset());
                    break;
            }
        }
        // sp last: it is SP_EL0 or SP_EL1, which the system feature also carries; gdb's sp wins.
        for (Slot s : slots) {
            if (s.kind() == Kind.STACK_POINTER) {
                setLong(vcpu, stackPointerId(pstate), getLong(g, s.offset(), 8));
            }
        }
    }

    /** A {@code p}: a register kept verbatim is one GET_ONE_REG; sp and cpsr need PSTATE, so they read everything. */
    @Override
    public byte[] readRegister(VcpuHandle vcpu, TargetDescription layout, int regnum) {
        Slot s = slot(layout, regnum);
        if (s.kind() == Kind.VERBATIM || s.kind() == Kind.READ_ONLY) {
            ByteBuffer value = VcpuHandle.buffer(KvmCoreRegs.size(s.id()));
            vcpu.getOneReg(s.id(), value);
            byte[] bytes = new byte[s.register().byteSize()];
            value.get(0, bytes);
            return bytes;
        }
        return RegisterAccess.super.readRegister(vcpu, layout, regnum);
    }

    /**
     * A {@code P}: a register kept verbatim is one SET_ONE_REG; cpsr is PSTATE's low half, sp the
     * stack pointer PSTATE selects; a read-only one is refused.
     *
     * @throws IllegalArgumentException for a read-only register (the session answers with an error)
     */
    @Override
    public void writeRegister(VcpuHandle vcpu, TargetDescription layout, int regnum, byte[] value) {
        Slot s = slot(layout, regnum);
        switch (s.kind()) {
            case READ_ONLY:
                throw new IllegalArgumentException(s.register().name() + " is read-only");
            case VERBATIM:
                if (value.length != s.register().byteSize()) {
                    throw new IllegalArgumentException(s.register().name() + " is " + s.register().byteSize() + " bytes, got " + value.length);
                }
                setVerbatim(vcpu, s, value, 0);
                break;
            case CPSR: {
                // PSTATE alone: a new mode only changes which stack pointer gdb's sp means. Writing
                // every register back (the default) would put the old mode's sp into the new one's.
                long pstate = (getLong(vcpu, KvmCoreRegs.PSTATE) & 0xFFFF_FFFF_0000_0000L) | getLong(value, 0, 4);
                setLong(vcpu, KvmCoreRegs.PSTATE, pstate);
                break;
            }
            case STACK_POINTER:
                setLong(vcpu, stackPointerId(getLong(vcpu, KvmCoreRegs.PSTATE)), getLong(value, 0, 8));
                break;
            default:
                RegisterAccess.super.writeRegister(vcpu, layout, regnum, value);
                break;
        }
    }

    /** The slot of {@code regnum}, found by the name {@code layout} gives it. */
    private Slot slot(TargetDescription layout, int regnum) {
        String name = layout.register(regnum).name();
        return slots.stream().filter(s -> s.register().name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no register " + name + " in the AArch64 description"));
    }

    private static void setVerbatim(VcpuHandle vcpu, Slot s, byte[] from, int offset) {
        ByteBuffer value = VcpuHandle.buffer(KvmCoreRegs.size(s.id()));
        value.put(0, from, offset, s.register().byteSize());
        vcpu.setOneReg(s.id(), value);
    }

    @Override
    public long programCounter(VcpuHandle vcpu) {
        return getLong(vcpu, KvmCoreRegs.PC);
    }

    @Override
    public void setProgramCounter(VcpuHandle vcpu, long pc) {
        setLong(vcpu, KvmCoreRegs.PC, pc);
    }

    private static long getLong(VcpuHandle vcpu, long id) {
        ByteBuffer value = VcpuHandle.buffer(8);
        vcpu.getOneReg(id, value);
        return value.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private static void setLong(VcpuHandle vcpu, long id, long v) {
        ByteBuffer value = VcpuHandle.buffer(8);
        value.putLong(0, v);
        vcpu.setOneReg(id, value);
    }

    private static void putLong(byte[] g, int offset, long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            g[offset + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long getLong(byte[] g, int offset, int bytes) {
        long v = 0;
        for (int i = bytes - 1; i >= 0; i--) {
            v = (v << 8) | (g[offset + i] & 0xFF);
        }
        return v;
    }
}
