package org.kvmgdb.arch.x86.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.api.hypervisor.KvmRunHeader;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.FakeVm;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.fake.Recorded;

class KvmStructsTest {

    /**
     * The request numbers gcc computes from {@code <linux/kvm.h>} (printf("%lx", KVM_GET_REGS) ...)
     * on the build machine; a wrong struct size or direction changes them.
     */
    @Test
    void ioctlNumbersMatchTheKernelHeaders() {
        assertEquals(0x8090ae81L, KvmIoctls.KVM_GET_REGS);
        assertEquals(0x4090ae82L, KvmIoctls.KVM_SET_REGS);
        assertEquals(0x8138ae83L, KvmIoctls.KVM_GET_SREGS);
        assertEquals(0x4138ae84L, KvmIoctls.KVM_SET_SREGS);
        assertEquals(0x81a0ae8cL, KvmIoctls.KVM_GET_FPU);
        assertEquals(0x41a0ae8dL, KvmIoctls.KVM_SET_FPU);
        assertEquals(0x4048ae9bL, KvmIoctls.KVM_SET_GUEST_DEBUG);
        assertEquals(0xc008ae05L, KvmIoctls.KVM_GET_SUPPORTED_CPUID);
        assertEquals(0x4008ae90L, KvmIoctls.KVM_SET_CPUID2);
        assertEquals(0x8040ae9fL, KvmIoctls.KVM_GET_VCPU_EVENTS);
        assertEquals(0x4040aea0L, KvmIoctls.KVM_SET_VCPU_EVENTS);
        assertEquals(0x8080aea1L, KvmIoctls.KVM_GET_DEBUGREGS);
        assertEquals(0x4080aea2L, KvmIoctls.KVM_SET_DEBUGREGS);
        assertEquals(0xc008ae88L, KvmIoctls.KVM_GET_MSRS);
        assertEquals(0x4008ae89L, KvmIoctls.KVM_SET_MSRS);
        assertEquals(0x9000aea4L, KvmIoctls.KVM_GET_XSAVE);
        assertEquals(0x5000aea5L, KvmIoctls.KVM_SET_XSAVE);
    }

    @Test
    void structSizesMatchTheKernelHeaders() {
        assertEquals(144, new KvmRegs().buffer().capacity());
        assertEquals(312, new KvmSregs().buffer().capacity());
        assertEquals(416, new KvmFpu().buffer().capacity());
        assertEquals(72, new KvmGuestDebug().buffer().capacity());
        assertEquals(64, new KvmVcpuEvents().buffer().capacity());
        assertEquals(128, new KvmDebugRegs().buffer().capacity());
        assertEquals(8 + 3 * 40, new KvmCpuid2(3).buffer().capacity());
        // sizeof(struct kvm_msrs) = 8, sizeof(struct kvm_msr_entry) = 16 with data at 8
        assertEquals(8 + 2 * 16, new KvmMsrs(1, 2).buffer().capacity());
        assertEquals(8, KvmMsrs.DATA);
        assertEquals(4096, new KvmXsave().buffer().capacity());
    }

    @Test
    void sregsDecodeTheResetStateAKernelReturned() {
        KvmSregs s = new KvmSregs();
        s.fromBytes(Hex.bytes(Recorded.RESET_SREGS));
        KvmSegment cs = s.segment(KvmSregs.CS);
        assertEquals(0xFFFF0000L, cs.base());
        assertEquals(0xFFFF, cs.limit());
        assertEquals(0xF000, cs.selector());
        assertEquals(0xB, cs.type());
        assertTrue(cs.present());
        assertTrue(cs.s());
        assertFalse(cs.l());
        KvmSegment ds = s.segment(KvmSregs.DS);
        assertEquals(0, ds.base());
        assertEquals(3, ds.type());
        assertEquals(0xB, s.segment(KvmSregs.TR).type());
        assertFalse(s.segment(KvmSregs.TR).s());
        assertEquals(2, s.segment(KvmSregs.LDT).type());
        assertEquals(0xFFFF, s.tableLimit(KvmSregs.GDT));
        assertEquals(0xFFFF, s.tableLimit(KvmSregs.IDT));
        assertEquals(0x60000010L, s.cr0());
        assertEquals(0, s.cr3());
        assertEquals(0, s.efer());
        assertEquals(0xFEE00900L, s.get(KvmSregs.APIC_BASE));
    }

    @Test
    void segmentEncodesEveryFieldAtItsOffset() {
        KvmSregs s = new KvmSregs();
        s.segment(KvmSregs.SS, new KvmSegment(0x1122334455667788L, 0xAABBCCDD, 0x1234, 0x5, true, 3,
                true, false, true, false, true, true));
        byte[] b = s.toBytes();
        assertEquals("8877665544332211" + "ddccbbaa" + "3412" + "05" + "01" + "03" + "01" + "00" + "01" + "00" + "01" + "01" + "00",
                Hex.of(java.util.Arrays.copyOfRange(b, 120, 144)));
        assertEquals(new KvmSegment(0x1122334455667788L, 0xAABBCCDD, 0x1234, 0x5, true, 3,
                true, false, true, false, true, true), s.segment(KvmSregs.SS));
        // nothing else touched
        for (int i = 0; i < b.length; i++) {
            if (i < 120 || i >= 144) {
                assertEquals(0, b[i], "byte " + i);
            }
        }
    }

    @Test
    void fpuFieldsSitAtTheHeaderOffsets() {
        KvmFpu f = new KvmFpu().fcw(0x037F).fsw(0x3800).ftwx(0x81).lastOpcode(0x7FF)
                .lastIp(0x1122334455667788L).lastDp(0x0102030405060708L).mxcsr(0x1F80);
        f.putBytes(KvmFpu.st(7), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 10);
        f.putBytes(KvmFpu.xmm(15), new byte[] {(byte) 0xEE}, 0, 1);
        byte[] b = f.toBytes();
        assertEquals(0x037F, Hex.le16(b, 128));
        assertEquals(0x3800, Hex.le16(b, 130));
        assertEquals(0x81, b[132] & 0xFF);
        assertEquals(0x7FF, Hex.le16(b, 134));
        assertEquals(0x1122334455667788L, Hex.le64(b, 136));
        assertEquals(0x0102030405060708L, Hex.le64(b, 144));
        assertEquals(1, b[112]);
        assertEquals(10, b[121]);
        assertEquals((byte) 0xEE, b[152 + 15 * 16]);
        assertEquals(0x1F80, Hex.le32(b, 408));
    }

    @Test
    void guestDebugPutsControlThenEightDebugRegisters() {
        KvmGuestDebug d = new KvmGuestDebug().control(0x00030003).debugreg(0, 0x100000).debugreg(7, 0x601);
        byte[] b = d.toBytes();
        assertEquals(0x00030003, Hex.le32(b, 0));
        assertEquals(0, Hex.le32(b, 4));
        assertEquals(0x100000, Hex.le64(b, 8));
        assertEquals(0x601, Hex.le64(b, 8 + 7 * 8));
    }

    @Test
    void kvmRunDebugFieldsOfARecordedSingleStep() {
        ByteBuffer run = Hex.buffer(Recorded.RUN_SINGLE_STEP, 4096);
        assertEquals(KvmRunHeader.KVM_EXIT_DEBUG, KvmRun.exitReason(run));
        assertEquals(1, KvmRun.debugException(run));
        assertEquals(0x100007L, KvmRun.debugPc(run));
        assertEquals(0xFFFF4FF0L, KvmRun.debugDr6(run));
        assertEquals(0, KvmRun.debugDr7(run));
    }

    @Test
    void kvmRunEmulationFailureCarriesTheFetchedInstructionBytes() {
        ByteBuffer run = Hex.buffer(Recorded.RUN_INT3_EMULATION_FAILURE, 4096);
        assertEquals(KvmRunHeader.KVM_EXIT_INTERNAL_ERROR, KvmRun.exitReason(run));
        assertEquals(KvmRunHeader.KVM_INTERNAL_ERROR_EMULATION, KvmRun.internalSuberror(run));
        assertEquals(8, KvmRun.internalNdata(run));
        byte[] insn = KvmRun.emulationFailureInstruction(run);
        assertEquals(15, insn.length);
        assertEquals("cc90f4000000000000000000000000", Hex.of(insn));
    }

    @Test
    void kvmRunWithoutInstructionBytesGivesNone() {
        // An older kernel: suberror 1 and ndata 0.
        ByteBuffer run = Hex.buffer("0000000000000000 11000000 00000000 0000000000000000 0000000000000000 01000000 00000000", 4096);
        assertEquals(0, KvmRun.emulationFailureInstruction(run).length);
        // flags without the INSTRUCTION_BYTES bit
        ByteBuffer noFlag = Hex.buffer(Recorded.RUN_INT3_EMULATION_FAILURE, 4096);
        noFlag.putLong(KvmRun.EMULATION_FAILURE_FLAGS, 0);
        assertEquals(0, KvmRun.emulationFailureInstruction(noFlag).length);
    }

    @Test
    void supportedCpuidAsksWithTheFullEntryArrayAndSetsOnlyTheReturnedEntries() {
        FakeVm vm = new FakeVm().onSystemIoctl((request, arg) -> {
            assertEquals(KvmIoctls.KVM_GET_SUPPORTED_CPUID, request);
            assertEquals(256, arg.getInt(0), "nent on input is the capacity");
            arg.putInt(0, 2);
            arg.putInt(8, 0); // entry 0: function 0
            arg.putInt(8 + 12, 0x1F);
            arg.putInt(48, 1); // entry 1: function 1
            arg.putInt(48 + 16, 0x00010800);
            return 0;
        });
        KvmCpuid2 cpuid = KvmCpuid2.supported(vm);
        assertEquals(2, cpuid.count());
        assertEquals(0x1F, cpuid.get(0, KvmCpuid2.EAX));
        assertEquals(0x00010800, cpuid.get(1, KvmCpuid2.EBX));
        FakeVcpu vcpu = new FakeVcpu(0, vm);
        cpuid.setOn(vcpu);
        byte[] sent = vcpu.calls(KvmIoctls.KVM_SET_CPUID2).get(0).bytes();
        assertEquals(8 + 2 * 40, sent.length);
        assertEquals(2, Hex.le32(sent, 0));
        assertEquals(1, Hex.le32(sent, 48));
    }

    @Test
    void supportedCpuidGrowsTheBufferOnE2big() {
        List<Integer> capacities = new ArrayList<>();
        FakeVm vm = new FakeVm().onSystemIoctl((request, arg) -> {
            int nent = arg.getInt(0);
            capacities.add(nent);
            if (nent < 300) {
                throw new HypervisorException("KVM_GET_SUPPORTED_CPUID", 7); // E2BIG
            }
            arg.putInt(0, 1);
            return 0;
        });
        assertEquals(1, KvmCpuid2.supported(vm).count());
        assertEquals(List.of(256, 1024), capacities);
    }

    @Test
    void supportedCpuidPassesOtherErrorsOn() {
        FakeVm vm = new FakeVm().onSystemIoctl((request, arg) -> {
            throw new HypervisorException("KVM_GET_SUPPORTED_CPUID", 22);
        });
        HypervisorException e = assertThrows(HypervisorException.class, () -> KvmCpuid2.supported(vm));
        assertEquals(22, e.errno());
    }

    @Test
    void vcpuEventsFieldsSitAtTheHeaderOffsets() {
        KvmVcpuEvents ev = new KvmVcpuEvents();
        ev.fromBytes(Hex.bytes(Recorded.VCPU_EVENTS));
        assertEquals(0x0D, ev.flags());
        ev.u8(KvmVcpuEvents.EXCEPTION_INJECTED, 1).u8(KvmVcpuEvents.EXCEPTION_NR, 3)
                .u8(KvmVcpuEvents.EXCEPTION_HAS_PAYLOAD, 1).exceptionPayload(0x4000).errorCode(0x12345678);
        byte[] b = ev.toBytes();
        assertArrayEquals(new byte[] {1, 3, 0, 0}, java.util.Arrays.copyOf(b, 4));
        assertEquals(0x12345678, Hex.le32(b, 4));
        assertEquals(0x0D, Hex.le32(b, 20));
        assertEquals(1, b[55]);
        assertEquals(0x4000, Hex.le64(b, 56));
    }
}
