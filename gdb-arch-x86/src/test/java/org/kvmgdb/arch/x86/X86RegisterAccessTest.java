package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.Feature;
import org.kvmgdb.api.arch.RegisterDescriptor;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.fake.X86Descriptions;
import org.kvmgdb.arch.x86.kvm.KvmFpu;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmSegment;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

class X86RegisterAccessTest {
    private final TargetDescription td = X86Descriptions.gdb13();
    private final X86RegisterAccess access = new X86RegisterAccess(td);
    private FakeVcpu vcpu;

    @BeforeEach
    void kernelState() {
        KvmRegs regs = new KvmRegs();
        long[] offsets = {KvmRegs.RAX, KvmRegs.RBX, KvmRegs.RCX, KvmRegs.RDX, KvmRegs.RSI, KvmRegs.RDI, KvmRegs.RSP,
            KvmRegs.RBP, KvmRegs.R8, KvmRegs.R9, KvmRegs.R10, KvmRegs.R11, KvmRegs.R12, KvmRegs.R13, KvmRegs.R14, KvmRegs.R15};
        for (int i = 0; i < offsets.length; i++) {
            regs.set((int) offsets[i], 0x1000_0000_0000_0000L * (i + 1) + i); // kvm_regs order: rsp is 6th, rbp 7th
        }
        regs.rip(0xFFFF_8000_0010_0000L).rflags(0xDEAD_0000_0000_0246L);
        KvmSregs sregs = new KvmSregs();
        sregs.segment(KvmSregs.CS, KvmSegment.flatCode64(0x08));
        sregs.segment(KvmSregs.SS, KvmSegment.flatData(0x10));
        sregs.segment(KvmSregs.DS, KvmSegment.flatData(0x18));
        sregs.segment(KvmSregs.ES, KvmSegment.flatData(0x20));
        sregs.segment(KvmSregs.FS, KvmSegment.flatData(0x28).withBase(0x7FFF_1234_5000L));
        sregs.segment(KvmSregs.GS, KvmSegment.flatData(0x30).withBase(0xFFFF_8880_0000_0000L));
        sregs.set(KvmSregs.CR0, 0x80050033L);
        KvmFpu fpu = new KvmFpu().fcw(0x037F).fsw(6 << 11).ftwx(0xC0).lastOpcode(0xF800 | 0x1E8)
                .lastIp(0xAAAA_BBBB_CCCC_DDDDL).lastDp(0x1111_2222_3333_4444L).mxcsr(0x1F80);
        fpu.putBytes(KvmFpu.st(0), X87TagsTest.ONE, 0, 10);
        for (int i = 0; i < 16; i++) {
            byte[] x = new byte[16];
            Arrays.fill(x, (byte) (0xA0 + i));
            fpu.putBytes(KvmFpu.xmm(i), x, 0, 16);
        }
        vcpu = new FakeVcpu()
                .kernelState(KvmIoctls.KVM_GET_REGS, regs.toBytes())
                .kernelState(KvmIoctls.KVM_GET_SREGS, sregs.toBytes())
                .kernelState(KvmIoctls.KVM_GET_FPU, fpu.toBytes());
    }

    private int at(String name) {
        return td.offsetOf(td.register(name).orElseThrow().regnum());
    }

    private byte[] slice(byte[] g, String name) {
        int at = at(name);
        return Arrays.copyOfRange(g, at, at + td.register(name).orElseThrow().byteSize());
    }

    @Test
    void readAllPutsEveryRegisterAtItsGOffset() {
        byte[] g = access.readAll(vcpu);
        assertEquals(td.gPacketSize(), g.length);
        assertEquals(0x1000_0000_0000_0000L, Hex.le64(g, at("rax")));
        assertEquals(0x2000_0000_0000_0001L, Hex.le64(g, at("rbx")));
        // GDB's rbp/rsp order is not kvm_regs' order
        assertEquals(0x8000_0000_0000_0007L, Hex.le64(g, at("rbp")));
        assertEquals(0x7000_0000_0000_0006L, Hex.le64(g, at("rsp")));
        assertEquals(0x0000_0000_0000_000FL, Hex.le64(g, at("r15")));
        assertEquals(0xFFFF_8000_0010_0000L, Hex.le64(g, at("rip")));
        assertEquals("46020000", Hex.of(slice(g, "eflags")));
        assertEquals("08000000", Hex.of(slice(g, "cs")));
        assertEquals("10000000", Hex.of(slice(g, "ss")));
        assertEquals("18000000", Hex.of(slice(g, "ds")));
        assertEquals("20000000", Hex.of(slice(g, "es")));
        assertEquals("28000000", Hex.of(slice(g, "fs")));
        assertEquals("30000000", Hex.of(slice(g, "gs")));
        assertEquals("0000000000000080ff3f", Hex.of(slice(g, "st0")));
        assertEquals("00000000000000000000", Hex.of(slice(g, "st1")));
        assertEquals(0x037F, Hex.le32(g, at("fctrl")));
        assertEquals(0x3000, Hex.le32(g, at("fstat")));
        // physical 6 (= ST0) valid, physical 7 marked in use and zero, the rest empty
        assertEquals(0x4FFF, Hex.le32(g, at("ftag")));
        assertEquals(0xAAAA_BBBBL, Hex.le32(g, at("fiseg")) & 0xFFFF_FFFFL);
        assertEquals(0xCCCC_DDDDL, Hex.le32(g, at("fioff")) & 0xFFFF_FFFFL);
        assertEquals(0x1111_2222, Hex.le32(g, at("foseg")));
        assertEquals(0x3333_4444, Hex.le32(g, at("fooff")));
        assertEquals(0x1E8, Hex.le32(g, at("fop")));
        assertEquals("a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0", Hex.of(slice(g, "xmm0")));
        assertEquals("afafafafafafafafafafafafafafafaf", Hex.of(slice(g, "xmm15")));
        assertEquals(0x1F80, Hex.le32(g, at("mxcsr")));
        assertEquals(0x7FFF_1234_5000L, Hex.le64(g, at("fs_base")));
        assertEquals(0xFFFF_8880_0000_0000L, Hex.le64(g, at("gs_base")));
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_FPU"), vcpu.callNames());
    }

    @Test
    void writingBackWhatWasReadSetsNothing() {
        byte[] g = access.readAll(vcpu);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_FPU"), vcpu.callNames());
    }

    @Test
    void changingAGeneralRegisterSetsOnlyKvmRegs() {
        byte[] before = vcpu.kernelState(KvmIoctls.KVM_GET_REGS);
        byte[] g = access.readAll(vcpu);
        put64(g, at("rbp"), 0x0123_4567_89AB_CDEFL);
        put32(g, at("eflags"), 0x0000_0202);
        vcpu.clearCalls();
        access.writeAll(vcpu, g);
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_SREGS", "KVM_GET_FPU", "KVM_SET_REGS"), vcpu.callNames());
        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_REGS).get(0).bytes();
        assertEquals(0x0123_4567_89AB_CDEFL, Hex.le64(set, KvmRegs.RBP));
        // the reserved upper half of RFLAGS is left as KVM had it
        assertEquals(0xDEAD_0000_0000_0202L, Hex.le64(set, KvmRegs.RFLAGS));
        byte[] expected = before.clone();
        put64(expected, KvmRegs.RBP, 0x0123_4567_89AB_CDEFL);
        put64(expected, KvmRegs.RFLAGS, 0xDEAD_0000_0000_0202L);
        assertArrayEquals(expected, set);
    }

    @Test
    void writingASelectorKeepsTheRestOfTheSegment() {
        byte[] before = vcpu.kernelState(KvmIoctls.KVM_GET_SREGS);
        byte[] g = access.readAll(vcpu);
        put32(g, at("ds"), 0xFFFF_0033); // GDB sends 32 bits; the selector is the low 16
        access.writeAll(vcpu, g);
        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_SREGS).get(0).bytes();
        KvmSregs s = new KvmSregs();
        s.fromBytes(set);
        assertEquals(KvmSegment.flatData(0x33), s.segment(KvmSregs.DS));
        byte[] expected = before.clone();
        expected[KvmSregs.DS + 12] = 0x33;
        expected[KvmSregs.DS + 13] = 0x00;
        assertArrayEquals(expected, set);
        assertTrue(vcpu.calls(KvmIoctls.KVM_SET_FPU).isEmpty());
        assertTrue(vcpu.calls(KvmIoctls.KVM_SET_REGS).isEmpty());
    }

    @Test
    void fsBaseAndGsBaseAreTheSegmentBases() {
        byte[] g = access.readAll(vcpu);
        put64(g, at("fs_base"), 0x4000_0000L);
        put64(g, at("gs_base"), 0x5000_0000L);
        access.writeAll(vcpu, g);
        KvmSregs s = new KvmSregs();
        s.fromBytes(vcpu.kernelState(KvmIoctls.KVM_GET_SREGS));
        assertEquals(KvmSegment.flatData(0x28).withBase(0x4000_0000L), s.segment(KvmSregs.FS));
        assertEquals(KvmSegment.flatData(0x30).withBase(0x5000_0000L), s.segment(KvmSregs.GS));
    }

    @Test
    void x87ControlRegistersWriteBackIntoTheFxsaveFields() {
        byte[] g = access.readAll(vcpu);
        put32(g, at("fctrl"), 0x027F);
        put32(g, at("fstat"), 0x3800);         // TOP = 7
        put32(g, at("ftag"), 0x3FFF);          // only physical 7 in use
        put32(g, at("fiseg"), 0x0000_0001);
        put32(g, at("fioff"), 0x0040_1000);
        put32(g, at("foseg"), 0);
        put32(g, at("fooff"), 0x0060_2000);
        put32(g, at("fop"), 0xFFFF_F123);      // only 11 bits are the opcode
        put32(g, at("mxcsr"), 0x1F84);
        byte[] st3 = Hex.bytes("0102030405060708090a");
        System.arraycopy(st3, 0, g, at("st3"), 10);
        byte[] xmm7 = Hex.bytes("00112233445566778899aabbccddeeff");
        System.arraycopy(xmm7, 0, g, at("xmm7"), 16);
        access.writeAll(vcpu, g);

        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_FPU).get(0).bytes();
        assertEquals(0x027F, Hex.le16(set, KvmFpu.FCW));
        assertEquals(0x3800, Hex.le16(set, KvmFpu.FSW));
        assertEquals(0x80, set[KvmFpu.FTWX] & 0xFF);
        assertEquals(0x0000_0001_0040_1000L, Hex.le64(set, KvmFpu.LAST_IP));
        assertEquals(0x0000_0000_0060_2000L, Hex.le64(set, KvmFpu.LAST_DP));
        // the opcode's 11 bits change, the 5 bits above them stay as they were (0xF800)
        assertEquals(0xF800 | 0x123, Hex.le16(set, KvmFpu.LAST_OPCODE));
        assertEquals(0x1F84, Hex.le32(set, KvmFpu.MXCSR));
        assertEquals(Hex.of(st3), Hex.of(Arrays.copyOfRange(set, KvmFpu.st(3), KvmFpu.st(3) + 10)));
        assertEquals(Hex.of(xmm7), Hex.of(Arrays.copyOfRange(set, KvmFpu.xmm(7), KvmFpu.xmm(7) + 16)));
        // bytes 10..15 of each fpr slot are padding and stay untouched
        assertEquals(0, set[KvmFpu.st(3) + 10]);
    }

    @Test
    void programCounterIsRip() {
        assertEquals(0xFFFF_8000_0010_0000L, access.programCounter(vcpu));
        access.setProgramCounter(vcpu, 0x100015);
        byte[] set = vcpu.calls(KvmIoctls.KVM_SET_REGS).get(0).bytes();
        assertEquals(0x100015, Hex.le64(set, KvmRegs.RIP));
        assertEquals(0x1000_0000_0000_0000L, Hex.le64(set, KvmRegs.RAX), "other registers kept");
        assertEquals(0x100015, access.programCounter(vcpu));
    }

    @Test
    void aDescriptionWithOnlyGeneralRegistersNeverTouchesSregsOrFpu() {
        TargetDescription small = new TargetDescription("i386:x86-64", null, List.of(new Feature("org.gnu.gdb.i386.core",
                List.of(), List.of(new RegisterDescriptor("rax", 64, "int64", null, 0),
                        new RegisterDescriptor("orig_rax", 64, "int", null, 1),
                        new RegisterDescriptor("rip", 64, "code_ptr", null, 2)))));
        X86RegisterAccess a = new X86RegisterAccess(small);
        byte[] g = a.readAll(vcpu);
        assertEquals(24, g.length);
        assertEquals(0x1000_0000_0000_0000L, Hex.le64(g, 0));
        assertEquals(0, Hex.le64(g, 8), "a register KVM does not have reads as zero");
        assertEquals(0xFFFF_8000_0010_0000L, Hex.le64(g, 16));
        put64(g, 8, 42);
        a.writeAll(vcpu, g);
        assertEquals(List.of("KVM_GET_REGS", "KVM_GET_REGS"), vcpu.callNames());
    }

    @Test
    void aRegisterWithTheWrongSizeIsRefused() {
        TargetDescription wrong = new TargetDescription("i386:x86-64", null, List.of(new Feature("org.gnu.gdb.i386.core",
                List.of(), List.of(new RegisterDescriptor("eflags", 64, "int", null, 0)))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new X86RegisterAccess(wrong));
        assertTrue(e.getMessage().contains("eflags"), e.getMessage());
    }

    @Test
    void aGPacketOfTheWrongLengthIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> access.writeAll(vcpu, new byte[10]));
        assertTrue(vcpu.calls().isEmpty());
    }

    private static void put64(byte[] g, int at, long v) {
        for (int i = 0; i < 8; i++) {
            g[at + i] = (byte) (v >>> (8 * i));
        }
    }

    private static void put32(byte[] g, int at, int v) {
        for (int i = 0; i < 4; i++) {
            g[at + i] = (byte) (v >>> (8 * i));
        }
    }
}
