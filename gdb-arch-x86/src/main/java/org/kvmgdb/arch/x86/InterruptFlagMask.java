package org.kvmgdb.arch.x86;

import java.util.Optional;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.AddressTranslator.PagingState;
import org.kvmgdb.api.arch.AddressTranslator.Translation;
import org.kvmgdb.api.arch.GuestDebug.Unmask;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

/**
 * What stands in for KVM_GUESTDBG_BLOCKIRQ on kernels without it (before Linux 5.15): RFLAGS.IF
 * cleared for one single step and set again after it, so that a pending interrupt is not taken in
 * the step window and {@code stepi} does not land in the interrupt handler.
 *
 * <p>The guest must never see our IF. An instruction that reads or writes IF, or that would wait
 * for an interrupt, is stepped unmasked: {@code cli sti pushf popf iret int3 int n into int1 hlt
 * syscall sysret sysenter sysexit}. If the step raised an exception, the CPU pushed our RFLAGS in
 * the long-mode interrupt frame; the frame's IF is set again so the handler's {@code iretq}
 * returns with the guest's own flags, and the handler keeps the IF its gate gave it (an interrupt
 * gate clears it, the kind Linux uses for every vector). Without paging information (the pc not
 * mapped) nothing is masked.
 */
final class InterruptFlagMask {
    /** RFLAGS.IF, bit 9 (Intel SDM Vol. 1, 3.4.3). */
    static final long IF = 1L << 9;
    /** RFLAGS.RF, bit 16: set in the frame of a fault, so not compared there. */
    static final long RF = 1L << 16;
    /** The longest x86 instruction. */
    private static final int MAX_INSTRUCTION = 15;

    private final AddressTranslator translator;

    InterruptFlagMask(AddressTranslator translator) {
        this.translator = translator;
    }

    /** Clears IF for one step unless the guest has it clear already or the instruction involves IF. */
    Unmask mask(VcpuHandle vcpu) {
        KvmRegs regs = KvmRegs.read(vcpu);
        long rflags = regs.rflags();
        if ((rflags & IF) == 0) {
            return Unmask.NOTHING;
        }
        KvmSregs sregs = KvmSregs.read(vcpu);
        PagingState paging = translator.capture(vcpu);
        PhysicalMemory memory = vcpu.vm().memory();
        if (!safeToMask(instruction(paging, memory, regs.rip()))) {
            return Unmask.NOTHING;
        }
        long masked = rflags & ~IF;
        regs.rflags(masked).write(vcpu);
        Frame before = new Frame(regs.rip(), sregs.segment(KvmSregs.CS).selector(), masked, regs.get(KvmRegs.RSP));
        return v -> restore(v, before, paging, memory);
    }

    /** Where the step started: what an exception frame pushed by the step holds. */
    private record Frame(long rip, long cs, long rflags, long rsp) {
    }

    private void restore(VcpuHandle vcpu, Frame before, PagingState paging, PhysicalMemory memory) {
        KvmRegs regs = KvmRegs.read(vcpu);
        long rsp = regs.get(KvmRegs.RSP);
        // A fault pushes [RIP CS RFLAGS RSP SS], some vectors with an error code below them.
        for (long at : new long[] {rsp, rsp + 8}) {
            if (word(paging, memory, at) == before.rip() && word(paging, memory, at + 8) == before.cs()
                    && (word(paging, memory, at + 16) & ~RF) == (before.rflags() & ~RF)
                    && word(paging, memory, at + 24) == before.rsp()) {
                writeWord(paging, memory, at + 16, word(paging, memory, at + 16) | IF);
                return;
            }
        }
        regs.rflags(regs.rflags() | IF).write(vcpu);
    }

    /**
     * Whether IF can be cleared around this instruction without the guest noticing. The legacy
     * prefixes and a REX prefix are skipped to find the opcode; an unreadable byte means no.
     */
    static boolean safeToMask(int[] bytes) {
        int i = 0;
        while (i < bytes.length && isLegacyPrefix(bytes[i])) {
            i++;
        }
        if (i < bytes.length && (bytes[i] & 0xF0) == 0x40) {
            i++; // REX
        }
        if (i >= bytes.length || bytes[i] < 0) {
            return false;
        }
        switch (bytes[i]) {
            case 0x9C: // pushf: would store our IF
            case 0x9D: // popf
            case 0xCF: // iret
            case 0xFA: // cli
            case 0xFB: // sti
            case 0xCC: // int3
            case 0xCD: // int n
            case 0xCE: // into
            case 0xF1: // int1
            case 0xF4: // hlt: with IF clear it would wait for an NMI
                return false;
            case 0x0F: {
                if (i + 1 >= bytes.length || bytes[i + 1] < 0) {
                    return false;
                }
                int second = bytes[i + 1];
                // syscall, sysret, sysenter, sysexit load or save RFLAGS
                return second != 0x05 && second != 0x07 && second != 0x34 && second != 0x35;
            }
            default:
                return true;
        }
    }

    private static boolean isLegacyPrefix(int b) {
        switch (b) {
            case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65: // segment overrides
            case 0x66: case 0x67: // operand and address size
            case 0xF0: case 0xF2: case 0xF3: // lock, repne, rep
                return true;
            default:
                return false;
        }
    }

    /** Up to 15 bytes at {@code address}, -1 for each one that is not mapped. */
    private int[] instruction(PagingState paging, PhysicalMemory memory, long address) {
        int[] bytes = new int[MAX_INSTRUCTION];
        byte[] one = new byte[1];
        for (int i = 0; i < bytes.length; i++) {
            Optional<Long> physical = physical(paging, memory, address + i, 1);
            if (physical.isEmpty()) {
                bytes[i] = -1;
                continue;
            }
            memory.read(physical.get(), one, 0, 1);
            bytes[i] = one[0] & 0xFF;
        }
        return bytes;
    }

    /** The 8 bytes at virtual {@code address}, or a value no frame holds (-1 as RFLAGS has reserved bits) when not mapped. */
    private long word(PagingState paging, PhysicalMemory memory, long address) {
        Optional<Long> physical = physical(paging, memory, address, 8);
        return physical.isPresent() ? memory.readLong(physical.get()) : -1L;
    }

    private void writeWord(PagingState paging, PhysicalMemory memory, long address, long value) {
        physical(paging, memory, address, 8).ifPresent(p -> memory.writeLong(p, value));
    }

    /** The physical address of {@code length} bytes that lie in one page of RAM. */
    private Optional<Long> physical(PagingState paging, PhysicalMemory memory, long address, int length) {
        Optional<Translation> t = translator.translate(paging, memory, address);
        if (t.isEmpty() || t.get().bytesToPageEnd() < length || !memory.contains(t.get().physicalAddress(), length)) {
            return Optional.empty();
        }
        return Optional.of(t.get().physicalAddress());
    }
}
