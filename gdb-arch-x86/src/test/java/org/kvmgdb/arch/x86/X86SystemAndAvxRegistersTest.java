package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.arch.contract.KernelLikeVcpu;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.kvm.KvmFpu;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmMsrs;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmSregs;
import org.kvmgdb.arch.x86.kvm.KvmXsave;

/**
 * The registers beyond GDB's core/sse/segments features, with the shipped description: control
 * registers and EFER in kvm_sregs, k_gs_base through KVM_GET/SET_MSRS, ymm upper halves and (with
 * them) the x87/SSE state in the XSAVE area; and single-register reads and writes that touch only the
 * struct the register lives in.
 */
class X86SystemAndAvxRegistersTest {
    private static final long CR0 = 0x8005_0033L, CR2 = 0xFFFF_8000_DEAD_0000L, CR3 = 0x2000L | 0x18,
            CR4 = 0x0000_0620L, CR8 = 0x5, EFER = 0x500, KERNEL_GS_BASE = 0xFFFF_8880_7FC0_0000L;

    private final TargetDescription td = X86Registers.targetDescription();
    private final X86RegisterAccess access = new X86RegisterAccess(td);
    private FakeVcpu vcpu;
    private byte[] xsaveBefore;

    @BeforeEach
    void kernelState() {
        KvmRegs regs = new KvmRegs().rip(0x100000).rflags(0x2).set(KvmRegs.RSP, 0x7FF_FF00).set(KvmRegs.RBP, 0x7FF_FF40);
        KvmSregs sregs = new KvmSregs().set(KvmSregs.CR0, CR0).set(KvmSregs.CR2, CR2).set(KvmSregs.CR3, CR3)
                .set(KvmSregs.CR4, CR4).set(KvmSregs.CR8, CR8).set(KvmSregs.EFER, EFER);
        // KVM_GET_FPU would answer something else: with AVX in the description it is not asked.
        KvmFpu fpu = new KvmFpu().fcw(0x7F).mxcsr(0x1F00);
        KvmXsave xsave = new KvmXsave().xstateBv(KvmXsave.XFEATURE_MASK_FP | KvmXsave.XFEATURE_MASK_SSE | KvmXsave.XFEATURE_MASK_YMM);
        // struct fxregs_state: cwd at 0, mxcsr at 24, mxcsr_mask at 28
        xsave.putBytes(0, Hex.bytes("7f03"), 0, 2);
        xsave.putBytes(24, Hex.bytes("801f0000ffff0200"), 0, 8);
        for (int i = 0; i < 16; i++) {
            byte[] high = new byte[16];
            Arrays.fill(high, (byte) (0xC0 + i));
            xsave.putBytes(KvmXsave.ymmHigh(i), high, 0, 16);
        }
        xsave.putBytes(160, Hex.bytes("11111111111111111111111111111111"), 0, 16); // xmm0 in the legacy region
        xsaveBefore = xsave.toBytes();
        vcpu = new FakeVcpu()
                .kernelState(KvmIoctls.KVM_GET_REGS, regs.toBytes())
                .kernelState(KvmIoctls.KVM_GET_SREGS, sregs.toBytes())
                .kernelState(KvmIoctls.KVM_GET_FPU, fpu.toBytes())
                .kernelState(KvmIoctls.KVM_GET_XSAVE, xsaveBefore);
        vcpu.msrs().value(KvmMsrs.MSR_KERNEL_GS_BASE, KERNEL_GS_BASE);
    }

    private int regnum(String name) {
        return td.register(name).orElseThrow().regnum();
    }

    private int at(String name) {
        return td.offsetOf(regnum(name));
    }

    @Test
    void readAllTakesControlRegistersFromSregsKernelGsBaseFromMsrsAndYmmFromXsave() {
        byte[] g = access.readAll(vcpu);
        assertEquals(CR0, Hex.le64(g, at("cr0")));
        assertEquals(CR2, Hex.le64(g, at("cr2")));
        assertEquals(CR3, Hex.le64(g, at("cr3")));
        assertEquals(CR4, Hex.le64(g, at("cr4")));
        assertEquals(CR8, Hex.le64(g, at("cr8")));
        assertEquals(EFER, Hex.le64(g, at("efer")));
        assertEquals(KERNEL_GS_BASE, Hex.le64(g, at("k_gs_base")));
        assertEquals("c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", Hex.of(Arrays.copyOfRange(g, at("ymm0h"), at("ymm0h") + 16)));
        assertEquals("cfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcf", Hex.of(Arrays.copyOfRange(g, at("ymm15h"), at("ymm15h") + 16)));
        // x87/SSE from the XSAVE area's legacy region, not KVM_GET_FPU
        assertEquals("11111111111111111111111111111111", Hex.of(Arrays.copyOfRange(g, at("xmm0"), at("xmm0") + 16)));
        assertEquals(0x37F, Hex.le32(g, at("fctrl")));
        assertEquals(0x1F80, Hex.le32(g, at("mxcsr")));
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE"), vcpu.callNames());
    }

    @Test
    void kvmGetMsrsAsksForKernelGsBaseInOneEntry() {
        access.readAll(vcpu);
        byte[] asked = vcpu.calls(KvmIoctls.KVM_GET_MSRS).get(0).bytes();
        // struct kvm_msrs { nmsrs = 1, pad = 0 } then kvm_msr_entry { index = 0xc0000102, reserved = 0, data = 0 }
        assertEquals("01000000" + "00000000" + "020100c0" + "00000000" + "0000000000000000", Hex.of(asked));
    }

    @Test
    void writingBackWhatWasReadSetsNothing() {
        byte[] g = access.readAll(vcpu);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE"), vcpu.callNames());
    }

    @Test
    void aControlRegisterWriteSetsSregsOnly() {
        byte[] before = vcpu.kernelState(KvmIoctls.KVM_GET_SREGS);
        byte[] g = access.readAll(vcpu);
        put64(g, at("cr8"), 0xF);
        put64(g, at("cr2"), 0x1234_5000L);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE", "KVM_SET_SREGS"),
                vcpu.callNames());
        byte[] expected = before.clone();
        put64(expected, KvmSregs.CR8, 0xF);
        put64(expected, KvmSregs.CR2, 0x1234_5000L);
        assertArrayEquals(expected, vcpu.calls(KvmIoctls.KVM_SET_SREGS).get(0).bytes());
        // without an in-kernel APIC, KVM_RUN loads CR8 from kvm_run.cr8 (offset 16)
        assertEquals(0xF, vcpu.kvmRun().getLong(16));
    }

    @Test
    void kvmRunCr8IsLeftAloneWhenCr8DoesNotChange() {
        vcpu.kvmRun().putLong(16, 0x77);
        access.writeRegister(vcpu, td, regnum("cr3"), le64(0x3000));
        assertEquals(0x77, vcpu.kvmRun().getLong(16));
    }

    @Test
    void kernelGsBaseIsWrittenWithKvmSetMsrs() {
        byte[] g = access.readAll(vcpu);
        put64(g, at("k_gs_base"), 0xFFFF_FFFF_8100_0000L);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE", "KVM_SET_MSRS"),
                vcpu.callNames());
        assertEquals("01000000" + "00000000" + "020100c0" + "00000000" + "00000081ffffffff",
                Hex.of(vcpu.calls(KvmIoctls.KVM_SET_MSRS).get(0).bytes()));
        assertEquals(0xFFFF_FFFF_8100_0000L, vcpu.msrs().value(KvmMsrs.MSR_KERNEL_GS_BASE));
    }

    @Test
    void aYmmWriteSetsTheAvxComponentAndMarksItPresent() {
        // KVM reported the AVX component in its initial state: XSTATE_BV without bit 2, zeros there.
        KvmXsave initial = new KvmXsave().xstateBv(KvmXsave.XFEATURE_MASK_FP | KvmXsave.XFEATURE_MASK_SSE);
        vcpu.kernelState(KvmIoctls.KVM_GET_XSAVE, initial.toBytes());
        byte[] g = access.readAll(vcpu);
        assertEquals("00000000000000000000000000000000", Hex.of(Arrays.copyOfRange(g, at("ymm5h"), at("ymm5h") + 16)));
        byte[] value = Hex.bytes("000102030405060708090a0b0c0d0e0f");
        System.arraycopy(value, 0, g, at("ymm5h"), 16);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);

        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE", "KVM_SET_XSAVE"),
                vcpu.callNames());
        byte[] expected = initial.toBytes();
        expected[KvmXsave.XSTATE_BV] = 0x7; // FP | SSE | YMM; nothing else in the header changes
        System.arraycopy(value, 0, expected, 576 + 5 * 16, 16);
        assertArrayEquals(expected, vcpu.calls(KvmIoctls.KVM_SET_XSAVE).get(0).bytes());
    }

    @Test
    void anXmmWriteGoesIntoTheLegacyRegionAndMarksX87AndSsePresent() {
        // A vCPU as KVM boots it: every component in its initial state, XSTATE_BV = 0, and the
        // initial values (FCW 0x37F, MXCSR 0x1F80) in the legacy region.
        KvmXsave initial = new KvmXsave();
        initial.putBytes(0, Hex.bytes("7f03"), 0, 2);
        initial.putBytes(24, Hex.bytes("801f0000ffff0200"), 0, 8);
        vcpu.kernelState(KvmIoctls.KVM_GET_XSAVE, initial.toBytes());
        byte[] xmm3 = Hex.bytes("00112233445566778899aabbccddeeff");

        access.writeRegister(vcpu, td, regnum("xmm3"), xmm3);

        assertEquals(List.of("KVM_GET_XSAVE", "KVM_SET_XSAVE"), vcpu.callNames());
        byte[] expected = initial.toBytes();
        System.arraycopy(xmm3, 0, expected, 160 + 3 * 16, 16); // fxregs_state.xmm_space
        expected[KvmXsave.XSTATE_BV] = 0x3; // FP | SSE
        assertArrayEquals(expected, vcpu.calls(KvmIoctls.KVM_SET_XSAVE).get(0).bytes());
    }

    @Test
    void x87RegistersLandAtTheirFxsaveOffsets() {
        byte[] g = access.readAll(vcpu);
        put32(g, at("fctrl"), 0x027F);
        put32(g, at("fstat"), 0x3800);         // TOP = 7
        put32(g, at("ftag"), 0x3FFF);          // only physical 7 in use
        put32(g, at("fiseg"), 0x0000_0001);
        put32(g, at("fioff"), 0x0040_1000);
        put32(g, at("fooff"), 0x0060_2000);
        put32(g, at("fop"), 0x0000_0123);
        put32(g, at("mxcsr"), 0x1F84);
        byte[] st0 = Hex.bytes("0102030405060708090a");
        System.arraycopy(st0, 0, g, at("st0"), 10);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);

        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE", "KVM_SET_XSAVE"), vcpu.callNames());
        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_XSAVE).get(0).bytes();
        assertEquals(0x027F, Hex.le16(set, 0));                      // cwd
        assertEquals(0x3800, Hex.le16(set, 2));                      // swd
        assertEquals(0x0080, Hex.le16(set, 4));                      // twd: the abridged tag, reserved byte 0
        assertEquals(0x0123, Hex.le16(set, 6));                      // fop
        assertEquals(0x0000_0001_0040_1000L, Hex.le64(set, 8));      // rip
        assertEquals(0x0000_0000_0060_2000L, Hex.le64(set, 16));     // rdp
        assertEquals(0x1F84, Hex.le32(set, 24));                     // mxcsr
        assertEquals(0x0002_FFFF, Hex.le32(set, 28), "mxcsr_mask stays as KVM gave it");
        assertEquals(Hex.of(st0), Hex.of(Arrays.copyOfRange(set, 32, 42)));   // st_space[0]
        assertEquals(0x7, Hex.le64(set, KvmXsave.XSTATE_BV));
        assertTrue(vcpu.calls(KvmIoctls.KVM_SET_FPU).isEmpty());
    }

    @Test
    void xmmAndYmmHalvesOfOneRegisterGoInOneSetXsave() {
        vcpu.kernelState(KvmIoctls.KVM_GET_XSAVE, new KvmXsave().toBytes());
        byte[] g = access.readAll(vcpu);
        byte[] low = Hex.bytes("22222222222222222222222222222222");
        byte[] high = Hex.bytes("33333333333333333333333333333333");
        System.arraycopy(low, 0, g, at("xmm0"), 16);
        System.arraycopy(high, 0, g, at("ymm0h"), 16);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE", "KVM_SET_XSAVE"), vcpu.callNames());
        byte[] xsave = vcpu.kernelState(KvmIoctls.KVM_GET_XSAVE);
        assertEquals(Hex.of(low), Hex.of(Arrays.copyOfRange(xsave, 160, 176)));
        assertEquals(Hex.of(high), Hex.of(Arrays.copyOfRange(xsave, 576, 592)));
        assertEquals(0x7, Hex.le64(xsave, KvmXsave.XSTATE_BV));
    }

    @Test
    void oneRegisterIsReadWithTheOneIoctlItNeeds() {
        assertEquals(0x100000, Hex.le64(access.readRegister(vcpu, td, regnum("rip")), 0));
        assertEquals(0x7FF_FF00, Hex.le64(access.readRegister(vcpu, td, regnum("rsp")), 0));
        assertEquals(0x7FF_FF40, Hex.le64(access.readRegister(vcpu, td, regnum("rbp")), 0));
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_REGS", "KVM_GET_REGS"), vcpu.callNames());
        vcpu.clearCalls();
        assertEquals(CR3, Hex.le64(access.readRegister(vcpu, td, regnum("cr3")), 0));
        assertEquals(EFER, Hex.le64(access.readRegister(vcpu, td, regnum("efer")), 0));
        assertEquals(KERNEL_GS_BASE, Hex.le64(access.readRegister(vcpu, td, regnum("k_gs_base")), 0));
        assertEquals("c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", Hex.of(access.readRegister(vcpu, td, regnum("ymm3h"))));
        assertEquals(0x1F80, Hex.le32(access.readRegister(vcpu, td, regnum("mxcsr")), 0));
        assertEquals(List.of("KVM_GET_SREGS", "KVM_GET_SREGS", "KVM_GET_MSRS", "KVM_GET_XSAVE", "KVM_GET_XSAVE"), vcpu.callNames());
    }

    @Test
    void aStopsExpeditedRegistersTakeOneIoctlTogether() {
        byte[][] values = access.readRegisters(vcpu, td, new int[] {regnum("rip"), regnum("rsp"), regnum("rbp")});
        assertEquals(0x100000, Hex.le64(values[0], 0));
        assertEquals(0x7FF_FF00, Hex.le64(values[1], 0));
        assertEquals(0x7FF_FF40, Hex.le64(values[2], 0));
        assertEquals(List.of("KVM_GET_REGS"), vcpu.callNames());
        vcpu.clearCalls();
        // Registers from several structs: each struct once.
        values = access.readRegisters(vcpu, td, new int[] {regnum("cr3"), regnum("rip"), regnum("efer"), regnum("rsp")});
        assertEquals(CR3, Hex.le64(values[0], 0));
        assertEquals(0x100000, Hex.le64(values[1], 0));
        assertEquals(EFER, Hex.le64(values[2], 0));
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS"), vcpu.callNames().stream().sorted().toList());
    }

    @Test
    void oneRegisterIsWrittenThroughItsStructOnly() {
        access.writeRegister(vcpu, td, regnum("cr4"), le64(CR4 | (1L << 18)));
        assertEquals(List.of("KVM_GET_SREGS", "KVM_SET_SREGS"), vcpu.callNames());
        assertEquals(CR4 | (1L << 18), Hex.le64(vcpu.kernelState(KvmIoctls.KVM_GET_SREGS), KvmSregs.CR4));
        vcpu.clearCalls();

        access.writeRegister(vcpu, td, regnum("rbx"), le64(42));
        access.writeRegister(vcpu, td, regnum("k_gs_base"), le64(0x1000));
        access.writeRegister(vcpu, td, regnum("ymm9h"), Hex.bytes("ffeeddccbbaa99887766554433221100"));
        assertEquals(List.of("KVM_GET_REGS", "KVM_SET_REGS", "KVM_GET_MSRS", "KVM_SET_MSRS", "KVM_GET_XSAVE", "KVM_SET_XSAVE"),
                vcpu.callNames());
        assertEquals(42, Hex.le64(vcpu.kernelState(KvmIoctls.KVM_GET_REGS), KvmRegs.RBX));
        assertEquals(0x1000, vcpu.msrs().value(KvmMsrs.MSR_KERNEL_GS_BASE));
        assertEquals("ffeeddccbbaa99887766554433221100", Hex.of(Arrays.copyOfRange(vcpu.kernelState(KvmIoctls.KVM_GET_XSAVE),
                KvmXsave.ymmHigh(9), KvmXsave.ymmHigh(9) + 16)));
        vcpu.clearCalls();

        // The same value again changes nothing, so nothing is set.
        access.writeRegister(vcpu, td, regnum("cr4"), le64(CR4 | (1L << 18)));
        assertEquals(List.of("KVM_GET_SREGS"), vcpu.callNames());
    }

    @Test
    void aWriteOfTheWrongSizeIsRefusedBeforeAnyIoctl() {
        assertThrows(IllegalArgumentException.class, () -> access.writeRegister(vcpu, td, regnum("cr0"), new byte[4]));
        assertTrue(vcpu.calls().isEmpty());
    }

    @Test
    void anMsrTheKernelRefusesIsAnError() {
        // KVM_SET_MSRS reports a refused entry by its count (0 of 1), not through errno.
        KernelLikeVcpu kernel = new KernelLikeVcpu(0)
                .handle(KvmIoctls.KVM_GET_MSRS, b -> 1)
                .handle(KvmIoctls.KVM_SET_MSRS, b -> 0);
        HypervisorException e = assertThrows(HypervisorException.class,
                () -> access.writeRegister(kernel, td, regnum("k_gs_base"), le64(0x8000_0000_0000_0000L)));
        assertTrue(e.getMessage().contains("KVM_SET_MSRS processed 0 of 1"), e.getMessage());
        assertTrue(e.getMessage().contains("0xc0000102"), e.getMessage());

        KernelLikeVcpu unreadable = new KernelLikeVcpu(0).handle(KvmIoctls.KVM_GET_MSRS, b -> 0);
        assertThrows(HypervisorException.class, () -> access.readRegister(unreadable, td, regnum("k_gs_base")));
    }

    @Test
    void regnumsOfAnotherDescriptionAreRefused() {
        TargetDescription other = org.kvmgdb.arch.x86.fake.X86Descriptions.gdb13();
        assertThrows(IllegalArgumentException.class, () -> access.readRegister(vcpu, other, 0));
        assertThrows(IllegalArgumentException.class, () -> access.writeRegister(vcpu, other, 0, new byte[8]));
        assertTrue(vcpu.calls().isEmpty());
    }

    private static byte[] le64(long v) {
        byte[] b = new byte[8];
        put64(b, 0, v);
        return b;
    }

    private static void put32(byte[] g, int at, int v) {
        for (int i = 0; i < 4; i++) {
            g[at + i] = (byte) (v >>> (8 * i));
        }
    }

    private static void put64(byte[] g, int at, long v) {
        for (int i = 0; i < 8; i++) {
            g[at + i] = (byte) (v >>> (8 * i));
        }
    }
}
