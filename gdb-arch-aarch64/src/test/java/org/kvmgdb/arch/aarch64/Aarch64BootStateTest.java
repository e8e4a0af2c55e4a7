package org.kvmgdb.arch.aarch64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.BootState.BootParameters;
import org.kvmgdb.api.arch.contract.KernelLikeVcpu;
import org.kvmgdb.api.hypervisor.PhysicalMemory;
import org.kvmgdb.api.hypervisor.testing.TestMemory;

/**
 * {@link Aarch64BootState} against a recording kernel: the exact ioctls an arm64 KVM would get to
 * boot a vCPU (VM ioctl KVM_ARM_PREFERRED_TARGET, vCPU ioctl KVM_ARM_VCPU_INIT with its
 * struct kvm_vcpu_init bytes, then KVM_SET_ONE_REG ids and values), in order. The ioctl numbers,
 * struct layout and ONE_REG ids themselves are checked against the kernel headers by
 * {@link Aarch64BootStateHeaderTest} and {@link KvmCoreRegsHeaderTest}.
 */
class Aarch64BootStateTest {
    /** arch/arm64/include/uapi/asm/kvm.h: KVM_ARM_TARGET_GENERIC_V8, what current kernels prefer. */
    private static final int KVM_ARM_TARGET_GENERIC_V8 = 5;
    private static final long MIB = 1 << 20;
    private static final long RAM = 128 * MIB;
    private static final long ENTRY = 0x4010_0000L;
    private static final long RESERVED = 64 * 1024;

    private final BootState boot = new Aarch64ArchitectureProvider().bootState().orElseThrow();

    /** A vCPU of a recording kernel, inside a VM that answers KVM_ARM_PREFERRED_TARGET as arch/arm64/kvm/arm.c does. */
    private static RecordingVcpu bootVcpu(int index, PhysicalMemory memory) {
        KernelLikeVcpu kernel = new KernelLikeVcpu(index).handle(Aarch64BootState.KVM_ARM_VCPU_INIT, b -> 0);
        return new RecordingVcpu(kernel, memory).handleVmIoctl(Aarch64BootState.KVM_ARM_PREFERRED_TARGET, arg -> {
            // kvm_vcpu_preferred_target(): memset(init, 0, sizeof(*init)); init->target = KVM_ARM_TARGET_GENERIC_V8.
            for (int i = 0; i < Aarch64BootState.VCPU_INIT_SIZE; i++) {
                arg.put(i, (byte) 0);
            }
            arg.putInt(0, KVM_ARM_TARGET_GENERIC_V8);
            return 0;
        });
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    @Test
    void theProviderOffersIt() {
        assertTrue(boot instanceof Aarch64BootState);
        assertEquals(Aarch64Platform.VIRT, boot.platform());
    }

    @Test
    void bootingVcpuOneOfTwoIsVcpuInitWithThePreferredTargetThenTheAbiRegisters() {
        TestMemory memory = TestMemory.sparse(Aarch64Platform.RAM_BASE, RAM);
        BootParameters p = new BootParameters(ENTRY, 2, RAM, RESERVED);
        RecordingVcpu vcpu = bootVcpu(1, memory);

        boot.prepareMemory(memory, p);
        boot.boot(vcpu, p);

        assertEquals(List.of("8020aeaf"), vcpu.vmIoctls, "one KVM_ARM_PREFERRED_TARGET on the VM fd");
        List<KernelLikeVcpu.Call> calls = vcpu.kernel.calls();
        List<String> seen = new ArrayList<>();
        for (KernelLikeVcpu.Call c : calls) {
            seen.add(c.op() + " " + Long.toHexString(c.requestOrId()) + " " + hex(c.bytes()));
        }
        assertEquals(List.of(
                // KVM_ARM_VCPU_INIT = _IOW(KVMIO, 0xae, struct kvm_vcpu_init): target 5, features[7] all 0.
                "ioctl 4020aeae 05000000" + "00".repeat(28),
                // regs.pc, regs.pstate, regs.regs[0..2], sp_el1: KVM_REG_ARM64 | U64 | KVM_REG_ARM_CORE | offset / 4.
                "KVM_SET_ONE_REG 6030000000100040 " + hex(u64(ENTRY)),
                "KVM_SET_ONE_REG 6030000000100042 " + hex(u64(0x3c5)),
                "KVM_SET_ONE_REG 6030000000100000 " + hex(u64(1)),
                "KVM_SET_ONE_REG 6030000000100002 " + hex(u64(2)),
                "KVM_SET_ONE_REG 6030000000100004 " + hex(u64(RAM)),
                // The top of RAM (0x4800_0000) less one 64 KiB stack for vCPU 0.
                "KVM_SET_ONE_REG 6030000000100044 " + hex(u64(0x47ff_0000L))), seen);
    }

    @Test
    void vcpuZerosStackEndsAtTheTopOfRamAndEveryVcpuGetsItsOwn64KiB() {
        TestMemory memory = TestMemory.sparse(Aarch64Platform.RAM_BASE, RAM);
        BootParameters p = new BootParameters(ENTRY, 4, RAM, RESERVED);
        List<Long> stacks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            RecordingVcpu vcpu = bootVcpu(i, memory);
            boot.boot(vcpu, p);
            stacks.add(vcpu.kernel.oneRegLong(KvmCoreRegs.SP_EL1));
            assertEquals(i, vcpu.kernel.oneRegLong(KvmCoreRegs.x(0)));
            assertEquals(4, vcpu.kernel.oneRegLong(KvmCoreRegs.x(1)));
            assertEquals(ENTRY, vcpu.kernel.oneRegLong(KvmCoreRegs.PC));
        }
        assertEquals(List.of(0x4800_0000L, 0x47ff_0000L, 0x47fe_0000L, 0x47fd_0000L), stacks);
    }

    @Test
    void vcpuInitComesBeforeAnyRegisterWriteAsKvmRequires() {
        // An arm64 KVM refuses KVM_SET_ONE_REG on a vCPU that has not had KVM_ARM_VCPU_INIT (ENOEXEC).
        RecordingVcpu vcpu = bootVcpu(0, TestMemory.sparse(Aarch64Platform.RAM_BASE, RAM));
        boot.boot(vcpu, new BootParameters(ENTRY, 1, RAM, RESERVED));
        KernelLikeVcpu.Call first = vcpu.kernel.calls().get(0);
        assertEquals("ioctl", first.op());
        assertEquals(Aarch64BootState.KVM_ARM_VCPU_INIT, first.requestOrId());
        assertEquals(1, vcpu.kernel.calls().stream().filter(c -> c.op().equals("ioctl")).count());
    }

    @Test
    void prepareMemoryWritesNothingWithTheMmuOff() {
        TestMemory memory = TestMemory.flat(Aarch64Platform.RAM_BASE, (int) (2 * MIB));
        boot.prepareMemory(memory, new BootParameters(ENTRY, 1, 2 * MIB, RESERVED));
        assertArrayEquals(new byte[(int) (2 * MIB)], memory.bytes());
    }

    @Test
    void ramThatIsNotAtTheVirtBaseIsRefused() {
        TestMemory atZero = TestMemory.sparse(0, RAM);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> boot.prepareMemory(atZero, new BootParameters(ENTRY, 1, RAM, RESERVED)));
        assertEquals("AArch64 RAM must start at guest-physical 0x40000000, this VM's starts at 0x0", e.getMessage());
    }

    @Test
    void stacksThatDoNotFitAboveTheReservedBytesAreRefusedBeforeAnyVcpuIsTouched() {
        long ram = 256 * 1024; // 64 KiB reserved + room for three 64 KiB stacks
        TestMemory memory = TestMemory.sparse(Aarch64Platform.RAM_BASE, ram);
        boot.prepareMemory(memory, new BootParameters(ENTRY, 3, ram, RESERVED));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> boot.prepareMemory(memory, new BootParameters(ENTRY, 4, ram, RESERVED)));
        assertEquals("4 vCPU stacks of 64 KiB do not fit in 0 MiB of RAM above the 64 KiB reserved", e.getMessage());

        RecordingVcpu fourth = bootVcpu(3, memory);
        assertThrows(IllegalArgumentException.class, () -> boot.boot(fourth, new BootParameters(ENTRY, 4, ram, RESERVED)));
        assertEquals(List.of(), fourth.kernel.calls(), "nothing reached KVM");
        assertEquals(List.of(), fourth.vmIoctls);
    }
}
