package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.GuestDebug.Unmask;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.FakeVm;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.arch.x86.kvm.KvmGuestDebug;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;

/**
 * Interrupts are kept out of a single step: KVM_GUESTDBG_BLOCKIRQ where the kernel offers it, RFLAGS.IF
 * cleared and restored around the step where it does not. Checked on the bytes of the ioctls the
 * "kernel" receives (struct kvm_regs: rip at 128, rflags at 136; struct kvm_guest_debug: control at 0).
 */
class StepInterruptMaskingTest {
    /** KVM_CAP_SET_GUEST_DEBUG2 as this project's hosts report it (KVM-HERE.md): BLOCKIRQ included. */
    private static final int CAP_WITH_BLOCKIRQ = 0x1F0003;
    /** A kernel before 5.15: every flag but BLOCKIRQ. */
    private static final int CAP_WITHOUT_BLOCKIRQ = 0x0F0003;
    private static final long RIP = 0x100000, RSP = 0x7F000;
    private static final long IF = 1L << 9;
    private static final DebugControl STEP = new DebugControl(true, true, true, List.of());

    private final TestMemory memory = TestMemory.sparse(16L << 20);

    /** A vCPU with paging off (linear = physical), at {@link #RIP} with {@code rflags}, the instruction bytes there. */
    private FakeVcpu vcpu(int capability, long rflags, String instruction) {
        FakeVcpu vcpu = new FakeVcpu(0, new FakeVm(memory).capability(KvmIoctls.KVM_CAP_SET_GUEST_DEBUG2, capability));
        vcpu.kernelState(KvmIoctls.KVM_GET_REGS, regs(RIP, RSP, rflags));
        byte[] sregs = new byte[312];
        ByteBuffer.wrap(sregs).order(ByteOrder.LITTLE_ENDIAN).putShort(12, (short) 0x8); // cs.selector
        vcpu.kernelState(KvmIoctls.KVM_GET_SREGS, sregs);
        byte[] code = Hex.bytes(instruction);
        memory.write(RIP, code, 0, code.length);
        vcpu.clearCalls();
        return vcpu;
    }

    private static byte[] regs(long rip, long rsp, long rflags) {
        ByteBuffer b = ByteBuffer.allocate(144).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x1111); // rax: must come back untouched
        b.putLong(48, rsp);
        b.putLong(128, rip);
        b.putLong(136, rflags);
        return b.array();
    }

    private static long rflagsSet(FakeVcpu vcpu, int which) {
        return Hex.le64(vcpu.calls(KvmIoctls.KVM_SET_REGS).get(which).bytes(), 136);
    }

    @Test
    void whereKvmOffersBlockIrqItMasksAndTheRegistersAreNotTouched() {
        X86GuestDebug debug = new X86GuestDebug();
        FakeVcpu vcpu = vcpu(CAP_WITH_BLOCKIRQ, 0x202, "4889e5"); // mov %rsp,%rbp

        debug.apply(vcpu, STEP);
        int control = Hex.le32(vcpu.calls(KvmIoctls.KVM_SET_GUEST_DEBUG).get(0).bytes(), 0);
        assertEquals(KvmGuestDebug.KVM_GUESTDBG_BLOCKIRQ, control & KvmGuestDebug.KVM_GUESTDBG_BLOCKIRQ);

        vcpu.clearCalls();
        Unmask unmask = debug.maskInterruptsForStep(vcpu, STEP);
        unmask.restore(vcpu);
        assertEquals(List.of(), vcpu.callNames(), "KVM blocks interrupts itself: no register is read or written");
    }

    @Test
    void withoutBlockIrqIfIsClearedForTheStepAndSetAgainAfterIt() {
        X86GuestDebug debug = new X86GuestDebug();
        FakeVcpu vcpu = vcpu(CAP_WITHOUT_BLOCKIRQ, 0x202, "4889e5");

        debug.apply(vcpu, STEP);
        int control = Hex.le32(vcpu.calls(KvmIoctls.KVM_SET_GUEST_DEBUG).get(0).bytes(), 0);
        assertEquals(0, control & KvmGuestDebug.KVM_GUESTDBG_BLOCKIRQ, "not offered, not asked for");

        vcpu.clearCalls();
        Unmask unmask = debug.maskInterruptsForStep(vcpu, STEP);
        assertEquals(1, vcpu.calls(KvmIoctls.KVM_SET_REGS).size());
        byte[] masked = vcpu.calls(KvmIoctls.KVM_SET_REGS).get(0).bytes();
        assertEquals(0x002, Hex.le64(masked, 136), "IF cleared for the step");
        byte[] expected = regs(RIP, RSP, 0x002);
        assertArrayEquals(expected, masked, "nothing else changed");

        // The step: three bytes further, and the mov left the arithmetic flags as they were.
        vcpu.kernelState(KvmIoctls.KVM_GET_REGS, regs(RIP + 3, RSP, 0x002));
        unmask.restore(vcpu);
        assertEquals(2, vcpu.calls(KvmIoctls.KVM_SET_REGS).size());
        assertEquals(0x202, rflagsSet(vcpu, 1), "the guest's IF is back");
        assertEquals(RIP + 3, Hex.le64(vcpu.calls(KvmIoctls.KVM_SET_REGS).get(1).bytes(), 128), "where the step left it");
    }

    @Test
    void aGuestWithInterruptsOffIsLeftAlone() {
        FakeVcpu vcpu = vcpu(CAP_WITHOUT_BLOCKIRQ, 0x002, "4889e5");
        Unmask unmask = new X86GuestDebug().maskInterruptsForStep(vcpu, STEP);
        unmask.restore(vcpu);
        assertEquals(List.of(), vcpu.calls(KvmIoctls.KVM_SET_REGS));
    }

    @Test
    void instructionsThatSeeOrChangeIfAreSteppedUnmasked() {
        // pushf, pushfw (66), popf, cli, sti, iretq (REX.W), hlt, int3, int $0x80, into, int1, syscall,
        // sysretq, sysenter, sysexit, and the same behind a segment prefix and a lock/rep prefix.
        for (String insn : List.of("9c", "669c", "9d", "fa", "fb", "48cf", "f4", "cc", "cd80", "ce", "f1", "0f05",
                "480f07", "0f34", "0f35", "2e9c", "f3fa")) {
            FakeVcpu vcpu = vcpu(CAP_WITHOUT_BLOCKIRQ, 0x202, insn);
            new X86GuestDebug().maskInterruptsForStep(vcpu, STEP).restore(vcpu);
            assertEquals(List.of(), vcpu.calls(KvmIoctls.KVM_SET_REGS), insn + " must run with the guest's own IF");
        }
        for (String insn : List.of("90", "4801d8", "0f31", "e8fbffffff", "f390")) { // nop, add, rdtsc, call, pause
            FakeVcpu vcpu = vcpu(CAP_WITHOUT_BLOCKIRQ, 0x202, insn);
            new X86GuestDebug().maskInterruptsForStep(vcpu, STEP).restore(vcpu);
            assertEquals(2, vcpu.calls(KvmIoctls.KVM_SET_REGS).size(), insn + " is masked and unmasked");
        }
    }

    @Test
    void theDecoderSkipsPrefixesAndRefusesWhatItCannotRead() {
        assertFalse(InterruptFlagMask.safeToMask(new int[] {0x66, 0x48, 0x9C}));
        assertTrue(InterruptFlagMask.safeToMask(new int[] {0x66, 0x48, 0x89, 0xE5}));
        assertFalse(InterruptFlagMask.safeToMask(new int[] {-1, -1}), "pc not mapped");
        assertFalse(InterruptFlagMask.safeToMask(new int[] {0x0F, -1}), "second opcode byte not mapped");
        assertFalse(InterruptFlagMask.safeToMask(new int[] {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0}), "only prefixes");
    }

    @Test
    void aStepThatRaisedAnExceptionGetsIfBackInTheFramePushedForTheHandler() {
        FakeVcpu vcpu = vcpu(CAP_WITHOUT_BLOCKIRQ, 0x246, "488b00"); // mov (%rax),%rax: faults on a bad rax
        Unmask unmask = new X86GuestDebug().maskInterruptsForStep(vcpu, STEP);
        assertEquals(0x046, rflagsSet(vcpu, 0));

        // #PF delivered through an interrupt gate: the handler runs with IF clear; the frame has an
        // error code, then RIP CS RFLAGS(with RF) RSP SS.
        long frame = RSP - 48;
        long[] pushed = {0x2, RIP, 0x8, 0x046 | InterruptFlagMask.RF, RSP, 0x10};
        for (int i = 0; i < pushed.length; i++) {
            memory.writeLong(frame + 8L * i, pushed[i]);
        }
        vcpu.kernelState(KvmIoctls.KVM_GET_REGS, regs(0x200000, frame, 0x046));
        unmask.restore(vcpu);

        assertEquals(1, vcpu.calls(KvmIoctls.KVM_SET_REGS).size(), "the handler keeps the IF its gate gave it");
        assertEquals(0x246 | InterruptFlagMask.RF, memory.readLong(frame + 24), "iretq will give the guest its IF back");
        assertEquals(RIP, memory.readLong(frame + 8), "the rest of the frame is untouched");
    }

    @Test
    void ifIsRestoredEvenWhenTheStackDoesNotHoldAFrame() {
        FakeVcpu vcpu = vcpu(CAP_WITHOUT_BLOCKIRQ, 0x202 | 0x1, "4883c001"); // add $1,%rax
        Unmask unmask = new X86GuestDebug().maskInterruptsForStep(vcpu, STEP);
        memory.writeLong(RSP, RIP); // a return address that looks like our pc, but no CS or RFLAGS after it
        vcpu.kernelState(KvmIoctls.KVM_GET_REGS, regs(RIP + 4, RSP, 0x006));
        unmask.restore(vcpu);
        assertEquals(0x206, rflagsSet(vcpu, 1), "IF back; the add's own flags (CF clear, PF set) kept");
        assertEquals(IF, rflagsSet(vcpu, 1) & IF);
    }
}
