package org.kvmgdb.arch.x86;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.AddressTranslator.Translation;
import org.kvmgdb.api.arch.BootState.BootParameters;
import org.kvmgdb.arch.x86.X86PageWalker.X86PagingState;
import org.kvmgdb.arch.x86.fake.FakeVcpu;
import org.kvmgdb.arch.x86.fake.FakeVm;
import org.kvmgdb.arch.x86.fake.Hex;
import org.kvmgdb.arch.x86.fake.Recorded;
import org.kvmgdb.api.hypervisor.testing.TestMemory;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.arch.x86.kvm.KvmRegs;
import org.kvmgdb.arch.x86.kvm.KvmSregs;

class X86BootStateTest {
    private static final long MIB = 1L << 20, GIB = 1L << 30;
    private static final long RESERVED = 64 * 1024;
    private final X86BootState boot = new X86BootState();

    @Test
    void gdtHoldsNullCode64AndData() {
        TestMemory ram = TestMemory.sparse(128 * MIB);
        boot.prepareMemory(ram, new BootParameters(0x100000, 1, 128 * MIB, RESERVED));
        assertEquals("0000000000000000" + "ffff0000009baf00" + "ffff00000093cf00", Hex.of(ram.readBytes(0x1000, 24)));
        assertFalse(ram.touched(0), "page 0 is left alone");
    }

    @Test
    void pageTablesMapAllOf128MibWith2MibPages() {
        TestMemory ram = TestMemory.sparse(128 * MIB);
        boot.prepareMemory(ram, new BootParameters(0x100000, 1, 128 * MIB, RESERVED));
        assertEquals(0x3003L, ram.readLong(0x2000), "PML4[0] -> PDPT, present + writable");
        assertEquals(0L, ram.readLong(0x2008));
        assertEquals(0x4003L, ram.readLong(0x3000), "PDPT[0] -> PD");
        assertEquals(0L, ram.readLong(0x3008));
        assertEquals(0x83L, ram.readLong(0x4000), "PD[0]: 2 MiB page at 0, present + writable + PS");
        assertEquals(0x200083L, ram.readLong(0x4008));
        assertEquals(63 * 2 * MIB | 0x83, ram.readLong(0x4000 + 63 * 8));
        assertEquals(0L, ram.readLong(0x4000 + 64 * 8), "nothing past RAM");
    }

    @Test
    void severalGibNeedOneDirectoryPerGib() {
        long ram = 3 * GIB + MIB; // the last 2 MiB page is only half RAM; it is mapped whole
        TestMemory mem = TestMemory.sparse(ram);
        boot.prepareMemory(mem, new BootParameters(0x100000, 1, ram, RESERVED));
        for (int i = 0; i < 4; i++) {
            assertEquals(0x4003L + i * 0x1000, mem.readLong(0x3000 + i * 8));
        }
        assertEquals(0L, mem.readLong(0x3000 + 4 * 8));
        assertEquals(3 * GIB | 0x83, mem.readLong(0x7000));
        assertEquals(0L, mem.readLong(0x7008));
        assertEquals((3 * GIB - 2 * MIB) | 0x83, mem.readLong(0x6000 + 511 * 8));
    }

    @Test
    void theWalkerSeesAnIdentityMapOfAllRam() {
        long ram = 2 * GIB;
        TestMemory mem = TestMemory.sparse(ram);
        boot.prepareMemory(mem, new BootParameters(0x100000, 1, ram, RESERVED));
        X86PagingState state = new X86PagingState(X86BootState.CR0, X86BootState.PML4_ADDRESS, X86BootState.CR4, X86BootState.EFER);
        X86PageWalker walker = new X86PageWalker();
        for (long va : new long[] {0, 0x100000, 0x12345678, GIB + 0x1FFFFF, ram - 1}) {
            assertEquals(Optional.of(new Translation(va, 2 * MIB)), walker.translate(state, mem, va), Long.toHexString(va));
        }
        assertTrue(walker.translate(state, mem, ram).isEmpty(), "first byte past RAM is not mapped");
    }

    @Test
    void ramTooLargeForTheReservedAreaIsRefused() {
        long ram = 13 * GIB; // 13 page directories end at 0x11000 > 64 KiB
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> boot.prepareMemory(TestMemory.sparse(ram), new BootParameters(0x100000, 1, ram, RESERVED)));
        assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        long fits = 12 * GIB;
        boot.prepareMemory(TestMemory.sparse(fits), new BootParameters(0x100000, 1, fits, RESERVED));
    }

    /** The sregs written are KVM's reset state with exactly the long-mode fields changed (those KVM-HERE.md records as running). */
    @Test
    void bootSetsCpuidSregsRegsAndFpuForTheGuestAbi() {
        FakeVm vm = new FakeVm().onSystemIoctl((request, arg) -> supportedCpuid(arg));
        FakeVcpu vcpu = new FakeVcpu(2, vm).kernelState(KvmIoctls.KVM_GET_SREGS, Hex.bytes(Recorded.RESET_SREGS));
        boot.boot(vcpu, new BootParameters(0x100123, 4, 128 * MIB, RESERVED));

        assertEquals(List.of("KVM_SET_CPUID2", "KVM_GET_SREGS", "KVM_SET_SREGS", "KVM_SET_REGS", "KVM_SET_FPU"), vcpu.callNames());
        assertEquals(List.of(KvmIoctls.KVM_GET_SUPPORTED_CPUID), vm.systemCalls().stream().map(FakeVcpu.Call::request).toList());

        byte[] cpuid = vcpu.calls(KvmIoctls.KVM_SET_CPUID2).get(0).bytes();
        assertEquals(8 + 4 * 40, cpuid.length);
        assertEquals(4, Hex.le32(cpuid, 0));
        assertEquals(0x0201_0800, Hex.le32(cpuid, 8 + 40 + 16), "leaf 1 EBX[31:24]: APIC id 2");
        assertEquals(2, Hex.le32(cpuid, 8 + 80 + 24), "leaf 0xB.0 EDX: x2APIC id");
        assertEquals(2, Hex.le32(cpuid, 8 + 120 + 24), "leaf 0xB.1 EDX: x2APIC id");
        assertEquals(0x756E_6547, Hex.le32(cpuid, 8 + 16), "other leaves as KVM gave them");

        byte[] expected = Hex.bytes(Recorded.RESET_SREGS);
        String code = "0000000000000000" + "ffffffff" + "0800" + "0b" + "01" + "00" + "00" + "01" + "01" + "01" + "00" + "00" + "00";
        String data = "0000000000000000" + "ffffffff" + "1000" + "03" + "01" + "00" + "01" + "01" + "00" + "01" + "00" + "00" + "00";
        put(expected, KvmSregs.CS, code);
        for (int seg : new int[] {KvmSregs.DS, KvmSregs.ES, KvmSregs.FS, KvmSregs.GS, KvmSregs.SS}) {
            put(expected, seg, data);
        }
        put(expected, KvmSregs.GDT, "0010000000000000" + "1700");
        put(expected, KvmSregs.CR0, "3300058000000000");
        put(expected, KvmSregs.CR3, "0020000000000000");
        put(expected, KvmSregs.CR4, "2006000000000000");
        put(expected, KvmSregs.EFER, "0005000000000000");
        assertEquals(Hex.of(expected), Hex.of(vcpu.calls(KvmIoctls.KVM_SET_SREGS).get(0).bytes()));

        byte[] regs = new byte[144];
        put(regs, KvmRegs.RDX, "0000000800000000");   // RAM size 128 MiB
        put(regs, KvmRegs.RSI, "0400000000000000");   // 4 vCPUs
        put(regs, KvmRegs.RDI, "0200000000000000");   // index 2
        put(regs, KvmRegs.RSP, "0000fe0700000000");   // 128 MiB - 2 * 64 KiB
        put(regs, KvmRegs.RIP, "2301100000000000");
        put(regs, KvmRegs.RFLAGS, "0200000000000000");
        assertArrayEquals(regs, vcpu.calls(KvmIoctls.KVM_SET_REGS).get(0).bytes());

        byte[] fpu = new byte[416];
        put(fpu, 128, "7f03");      // fcw
        put(fpu, 408, "801f0000");  // mxcsr
        assertArrayEquals(fpu, vcpu.calls(KvmIoctls.KVM_SET_FPU).get(0).bytes());
    }

    @Test
    void stackTopIsSixteenByteAligned() {
        FakeVm vm = new FakeVm().onSystemIoctl((request, arg) -> supportedCpuid(arg));
        FakeVcpu vcpu = new FakeVcpu(0, vm);
        long ram = 128 * MIB + 12;
        boot.boot(vcpu, new BootParameters(0x100000, 1, ram, RESERVED));
        assertEquals(128 * MIB, Hex.le64(vcpu.calls(KvmIoctls.KVM_SET_REGS).get(0).bytes(), KvmRegs.RSP));
    }

    @Test
    void aVcpuWhoseStackWouldFallIntoTheReservedAreaIsRefusedBeforeAnyIoctl() {
        FakeVm vm = new FakeVm().onSystemIoctl((request, arg) -> supportedCpuid(arg));
        FakeVcpu vcpu = new FakeVcpu(32, vm);
        assertThrows(IllegalArgumentException.class, () -> boot.boot(vcpu, new BootParameters(0x100000, 33, 2 * MIB, RESERVED)));
        assertTrue(vcpu.calls().isEmpty());
        assertTrue(vm.systemCalls().isEmpty());
    }

    /** Four entries: leaf 0 ("Genu..."), leaf 1 with KVM's APIC id 0, leaf 0xB subleaves 0 and 1. */
    private static int supportedCpuid(ByteBuffer arg) {
        arg.putInt(0, 4);
        entry(arg, 0, 0, 0, 0x1F, 0x756E_6547, 0x6C65_746E, 0x4965_6E69);
        entry(arg, 1, 1, 0, 0x000806F8, 0x0001_0800, 0xFEFA_3203, 0x178B_FBFF);
        entry(arg, 2, 0xB, 0, 1, 1, 0x100, 0);
        entry(arg, 3, 0xB, 1, 0, 1, 0x201, 0);
        return 0;
    }

    private static void entry(ByteBuffer b, int i, int function, int index, int eax, int ebx, int ecx, int edx) {
        int at = 8 + 40 * i;
        b.putInt(at, function).putInt(at + 4, index).putInt(at + 8, function == 0xB ? 1 : 0)
                .putInt(at + 12, eax).putInt(at + 16, ebx).putInt(at + 20, ecx).putInt(at + 24, edx);
    }

    private static void put(byte[] b, int at, String hex) {
        byte[] v = Hex.bytes(hex);
        System.arraycopy(v, 0, b, at, v.length);
    }
}
