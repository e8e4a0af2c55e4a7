package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.arch.HardwareSlot.Kind;
import org.kvmgdb.arch.x86.X86GuestDebug;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.TargetException;

/**
 * {@link Watchpoints} without KVM: range splitting with the x86 slot rules, slot accounting, the
 * stepped fallback and its compare, over a small mapping of host memory standing in for guest RAM
 * (identity-mapped, as the guest ABI maps it).
 */
class WatchpointsTest {
    private static final X86GuestDebug X86 = new X86GuestDebug();
    private static final Watchpoints.Translation IDENTITY = virtual -> virtual < 0x10000 ? virtual : -1;

    private final GuestMemory ram = GuestMemory.allocate(0x10000);

    @AfterEach
    void unmap() {
        ram.unmap();
    }

    private static HardwareSlot write(long address, int length) {
        return new HardwareSlot(Kind.WRITE, address, length);
    }

    // ---- splitting ----

    @Test
    void anAlignedRangeOfASlotLengthIsOnePiece() {
        assertEquals(List.of(write(0x1000, 8)), Watchpoints.split(Kind.WRITE, 0x1000, 8, X86));
        assertEquals(List.of(write(0x1004, 4)), Watchpoints.split(Kind.WRITE, 0x1004, 4, X86));
        assertEquals(List.of(write(0x1003, 1)), Watchpoints.split(Kind.WRITE, 0x1003, 1, X86));
    }

    @Test
    void anUnalignedRangeIsSplitIntoAlignedPieces() {
        assertEquals(List.of(write(0x1001, 1), write(0x1002, 2), write(0x1004, 1)), Watchpoints.split(Kind.WRITE, 0x1001, 4, X86));
        assertEquals(List.of(write(0x1006, 2), write(0x1008, 8), write(0x1010, 2)), Watchpoints.split(Kind.WRITE, 0x1006, 12, X86));
        assertEquals(List.of(new HardwareSlot(Kind.READ, 0x1000, 2), new HardwareSlot(Kind.READ, 0x1002, 1)),
                Watchpoints.split(Kind.READ, 0x1000, 3, X86), "3 bytes: no 3-byte length");
    }

    @Test
    void aLongRangeTakesAsManyEightBytePiecesAsItNeeds() {
        List<HardwareSlot> pieces = Watchpoints.split(Kind.ACCESS, 0x2000, 32, X86);
        assertEquals(List.of(new HardwareSlot(Kind.ACCESS, 0x2000, 8), new HardwareSlot(Kind.ACCESS, 0x2008, 8),
                new HardwareSlot(Kind.ACCESS, 0x2010, 8), new HardwareSlot(Kind.ACCESS, 0x2018, 8)), pieces);
        assertTrue(X86.fits(pieces), "four pieces: DR0-DR3");
        assertFalse(X86.fits(Watchpoints.split(Kind.ACCESS, 0x2001, 32, X86)), "unaligned, the same range needs more than four");
    }

    /** An architecture that programs any range up to two aligned doublewords as one slot (arm64's BAS watchpoints). */
    @Test
    void aRangeTheArchitectureTakesWholeIsOnePiece() {
        org.kvmgdb.api.arch.GuestDebug twoDoublewords = new org.kvmgdb.api.arch.GuestDebug() {
            @Override
            public boolean fits(List<HardwareSlot> slots) {
                return slots.stream().allMatch(s -> ((s.address() + s.length() - 1) >>> 3) - (s.address() >>> 3) <= 1);
            }

            @Override
            public void apply(org.kvmgdb.api.hypervisor.VcpuHandle vcpu, org.kvmgdb.api.arch.DebugControl control) {
            }
        };
        assertEquals(List.of(write(0x1004, 12)), Watchpoints.split(Kind.WRITE, 0x1004, 12, twoDoublewords));
        assertEquals(List.of(write(0x1004, 8), write(0x100c, 12)), Watchpoints.split(Kind.WRITE, 0x1004, 20, twoDoublewords),
                "20 bytes over three doublewords: the largest power of two that fits, then the rest whole");
    }

    // ---- debug registers ----

    @Test
    void debugRegisterWatchesTakeTheSlotsAfterTheExecuteBreakpoints() throws TargetException {
        Watchpoints w = new Watchpoints(X86, () -> true);
        List<HardwareSlot> execute = List.of(new HardwareSlot(Kind.EXECUTE, 0x5000, 1));
        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1001, 2, execute, IDENTITY, ram);
        w.insert(BreakpointType.READ_WATCHPOINT, 0x1008, 1, execute, IDENTITY, ram);

        assertEquals(List.of(write(0x1001, 1), write(0x1002, 1), new HardwareSlot(Kind.READ, 0x1008, 1)), w.slots());
        assertFalse(w.stepping());
        assertSame(w.ofPiece(write(0x1001, 1)), w.ofPiece(write(0x1002, 1)), "both pieces of the unaligned watch");
        assertEquals(0x1001, w.ofPiece(write(0x1002, 1)).address);
        assertEquals(BreakpointType.READ_WATCHPOINT, w.ofPiece(new HardwareSlot(Kind.READ, 0x1008, 1)).type);
        assertNull(w.ofPiece(write(0x1008, 1)), "a write piece there is nobody's");

        // DR0-DR3 are all taken (one execute breakpoint, three pieces): no room for a read watch...
        TargetException full = assertThrows(TargetException.class,
                () -> w.insert(BreakpointType.READ_WATCHPOINT, 0x1011, 2, execute, IDENTITY, ram));
        assertEquals(TargetException.ENOSPC, full.errno());
        // ...while a write watch falls back to stepping.
        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1011, 2, execute, IDENTITY, ram);
        assertTrue(w.stepping());
        assertEquals(3, w.slots().size(), "the stepped watch takes no slot");

        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1001, 2, execute, IDENTITY, ram); // idempotent
        assertEquals(3, w.slots().size());
        w.remove(BreakpointType.WRITE_WATCHPOINT, 0x1001, 2);
        assertEquals(List.of(new HardwareSlot(Kind.READ, 0x1008, 1)), w.slots());
        w.remove(BreakpointType.WRITE_WATCHPOINT, 0x1001, 2); // idempotent
    }

    // ---- stepped ----

    @Test
    void whereDataBreakpointsNeverFireWritesAreSteppedAndReadsRefused() throws TargetException {
        Watchpoints w = new Watchpoints(X86, () -> false);
        TargetException read = assertThrows(TargetException.class,
                () -> w.insert(BreakpointType.READ_WATCHPOINT, 0x1000, 4, List.of(), IDENTITY, ram));
        assertEquals(TargetException.EINVAL, read.errno());
        assertThrows(TargetException.class, () -> w.insert(BreakpointType.ACCESS_WATCHPOINT, 0x1000, 4, List.of(), IDENTITY, ram));
        assertTrue(w.isEmpty());

        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1001, 3, List.of(), IDENTITY, ram);
        assertTrue(w.stepping());
        assertEquals(List.of(), w.slots());
    }

    @Test
    void aSteppedWatchSeesAChangeOfAnyOfItsBytesAndNothingElse() throws TargetException {
        ram.write(0x1000, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0, 12);
        Watchpoints w = new Watchpoints(X86, () -> false);
        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1001, 10, List.of(), IDENTITY, ram);
        Watchpoints.Armed armed = w.arm(IDENTITY, ram);
        assertNotNull(armed);
        assertNull(armed.afterStep(), "nothing changed");

        ram.write(0x1000, new byte[] {99}, 0, 1);
        ram.write(0x100B, new byte[] {99}, 0, 1);
        assertNull(armed.afterStep(), "the bytes either side are not watched");
        ram.write(0x1000, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0, 12);
        assertNull(armed.afterStep(), "the same value written again is no change");

        ram.write(0x100A, new byte[] {42}, 0, 1);
        Watchpoints.Watch changed = armed.afterStep();
        assertNotNull(changed, "the last watched byte");
        assertEquals(0x1001, changed.address);
        assertEquals(4, armed.steps(), "every check counts as a step");
    }

    /** One vCPU's step claims a change (KvmWatchpointSmpTest): the vCPUs stepping after it, and the next round, do not see it again. */
    @Test
    void aChangeIsToldOnceAndTheNextRoundStartsFromIt() throws TargetException {
        Watchpoints w = new Watchpoints(X86, () -> false);
        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1000, 4, List.of(), IDENTITY, ram);
        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1010, 4, List.of(), IDENTITY, ram);
        Watchpoints.Armed armed = w.arm(IDENTITY, ram);

        ram.write(0x1001, new byte[] {5}, 0, 1);
        ram.write(0x1012, new byte[] {6}, 0, 1); // one instruction changed both watches
        Watchpoints.Watch changed = armed.afterStep();
        assertNotNull(changed);
        assertEquals(0x1000, changed.address, "the first of them is told");
        assertNull(armed.afterStep(), "the next vCPU to step made no change");
        assertNull(w.arm(IDENTITY, ram).afterStep(), "nor is it found again in the next round");

        ram.write(0x1013, new byte[] {7}, 0, 1);
        assertEquals(0x1010, w.arm(IDENTITY, ram).afterStep().address, "a later change is told");
    }

    @Test
    void aWatchAcrossAPageBoundaryIsComparedOnBothPages() throws TargetException {
        // Two virtual pages mapped to physical pages far apart: 0x3000 -> 0x8000, 0x4000 -> 0x2000.
        Watchpoints.Translation split = virtual -> (virtual & ~0xFFFL) == 0x3000 ? 0x8000 + (virtual & 0xFFF)
                : (virtual & ~0xFFFL) == 0x4000 ? 0x2000 + (virtual & 0xFFF) : -1;
        Watchpoints w = new Watchpoints(X86, () -> false);
        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x3FFC, 8, List.of(), split, ram);
        Watchpoints.Armed armed = w.arm(split, ram);

        ram.write(0x4002, new byte[] {1}, 0, 1); // identity-wise inside the range, but not where it is mapped
        assertNull(armed.afterStep());
        ram.write(0x2003, new byte[] {1}, 0, 1); // virtual 0x4003, the range's last byte
        assertNotNull(armed.afterStep());
    }

    @Test
    void whatGdbWritesItselfIsNotAChange() throws TargetException {
        Watchpoints w = new Watchpoints(X86, () -> false);
        w.insert(BreakpointType.WRITE_WATCHPOINT, 0x1000, 4, List.of(), IDENTITY, ram);
        w.arm(IDENTITY, ram);
        ram.write(0x1002, new byte[] {7}, 0, 1);
        w.written(0x1002, 1); // gdb's M packet, at the physical address it went to
        assertNull(w.arm(IDENTITY, ram).afterStep());
    }

    @Test
    void anUnmappedRangeCannotBeWatched() {
        Watchpoints w = new Watchpoints(X86, () -> false);
        TargetException e = assertThrows(TargetException.class,
                () -> w.insert(BreakpointType.WRITE_WATCHPOINT, 0xFFFE, 4, List.of(), IDENTITY, ram));
        assertEquals(TargetException.EFAULT, e.errno());
        assertTrue(w.isEmpty());
    }
}
