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

    private enum Kind { VERBATIM, STACK_POINTER, CPSR }

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
                default:
                    throw new IllegalArgumentException("no KVM register for " + name);
            }
        }
        if (slot.kind() == Kind.VERBATIM && KvmCoreRegs.size(slot.id()) != r.byteSize()) {
            throw new IllegalArgumentException(name + " is " + r.byteSize() + " bytes but its ONE_REG id "
                    + Long.toHexString(slot.id()) + " carries " + KvmCoreRegs.size(slot.id()));
        }
        return slot;
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
                    break;
                case STACK_POINTER:
                    setLong(vcpu, stackPointerId(pstate), getLong(g, s.offset(), 8));
                    break;
                default:
                    ByteBuffer value = VcpuHandle.buffer(KvmCoreRegs.size(s.id()));
                    value.put(0, g, s.offset(), s.register().byteSize());
                    vcpu.setOneReg(s.id(), value);
                    break;
            }
        }
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
