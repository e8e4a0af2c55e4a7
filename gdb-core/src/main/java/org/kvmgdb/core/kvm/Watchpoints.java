package org.kvmgdb.core.kvm;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.TargetException;
import org.tinylog.Logger;

/**
 * gdb's data watchpoints ({@code Z2} write, {@code Z3} read, {@code Z4} access) for a
 * {@link KvmTarget}, in one of two ways:
 * <ul>
 * <li><b>debug registers</b>, where data breakpoints fire on this host ({@link DataBreakpointProbe}):
 *     the range is split into pieces the architecture can program (x86: 1, 2, 4 or 8 bytes, aligned
 *     to their length), one slot each. x86 has no read-only watchpoint, so a read watchpoint is
 *     programmed as read-or-write; a hit that changed the watched bytes was a write, and is not
 *     reported (gdb itself reasons the same way for {@code rwatch}); the vCPU simply goes on.</li>
 * <li><b>stepped</b>, where data breakpoints never fire (PVM, KVM-HERE.md) or the slots are taken:
 *     every resumed vCPU single-steps in its own thread and compares the watched bytes with what
 *     was last seen after each instruction ({@link Armed}); a change ends the round as a write
 *     watchpoint hit, after the instruction that made it, as a debug register would. The vCPUs'
 *     steps take turns while a watch is stepped, so the hit is told on the vCPU that wrote. Only write
 *     watchpoints can be stepped: telling a read needs the instruction's memory operands, which the
 *     stub does not decode, so {@code Z3}/{@code Z4} are refused with an error in this mode.</li>
 * </ul>
 * The watched bytes are read straight from guest RAM through views made when the round starts
 * (one page-table walk per page per resume), so a step costs one {@code KVM_RUN} and a compare.
 *
 * <p>Guarded by the target's lock; an {@link Armed} lives for one round and is shared by its vCPU
 * threads, which update {@link Watch#seen} only under {@link Armed#stepping}, while the round runs.
 */
final class Watchpoints {
    /** Translates a virtual address to guest-physical, or -1 when it is not mapped. */
    @FunctionalInterface
    interface Translation {
        long physical(long virtualAddress);
    }

    /** The page tables a watch is located through: those of the gdb thread it was inserted for (0: any). */
    @FunctionalInterface
    interface Translations {
        Translation of(int thread) throws TargetException;
    }

    /** One {@code Z2}/{@code Z3}/{@code Z4} as gdb asked for it. */
    static final class Watch {
        final BreakpointType type;
        final long address;
        final int length;
        /** The gdb thread ({@code Hg}) whose page tables locate the watch; 0 when gdb named none. */
        final int thread;
        /** The debug-register pieces, in order; empty when the watch is stepped. */
        final List<HardwareSlot> slots;
        /** The bytes as gdb last saw them: at insert, at its last hit, after gdb wrote them. */
        byte[] seen;
        /** Where the bytes are now, set by {@link #arm}: one view per page; null when not mapped. */
        ByteBuffer[] views;
        long[] physical;

        Watch(BreakpointType type, long address, int length, int thread, List<HardwareSlot> slots) {
            this.type = type;
            this.address = address;
            this.length = length;
            this.thread = thread;
            this.slots = List.copyOf(slots);
        }

        boolean stepped() {
            return slots.isEmpty();
        }

        /** The bytes now in guest RAM, or null when the watch is not mapped. */
        byte[] current() {
            if (views == null) {
                return null;
            }
            byte[] now = new byte[length];
            int at = 0;
            for (ByteBuffer view : views) {
                int n = view.capacity();
                view.get(0, now, at, n);
                at += n;
            }
            return now;
        }

        /** Whether guest RAM differs from what gdb last saw. Safe from any thread (reads only). */
        boolean changed() {
            ByteBuffer[] v = views;
            if (v == null) {
                return false;
            }
            int at = 0;
            for (ByteBuffer view : v) {
                for (int i = 0, n = view.capacity(); i < n; i++) {
                    if (view.get(i) != seen[at + i]) {
                        return true;
                    }
                }
                at += view.capacity();
            }
            return false;
        }

        /** Whether some of its bytes are in guest-physical {@code [start, start + bytes)}, where {@link #arm} last found them. */
        boolean inPhysical(long start, long bytes) {
            ByteBuffer[] v = views;
            long[] p = physical;
            if (v == null || p == null) {
                return false;
            }
            for (int i = 0; i < p.length; i++) {
                if (start < p[i] + v[i].capacity() && p[i] < start + bytes) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String toString() {
            return String.format("%s 0x%x,%d%s", type, address, length, stepped() ? " (stepped)" : " " + slots);
        }
    }

    /**
     * What the vCPU threads check after each single step of a round: the stepped watches and the
     * bytes last seen, shared by every vCPU of the round; {@link #steps()} counts the checks, for the log.
     *
     * <p>A vCPU takes {@link #stepping} for one single step and the compare after it
     * ({@link #afterStep}), so no other vCPU executes anything in between: when the bytes differ,
     * the vCPU holding the lock made the change, and the snapshot moves on with it, so no other
     * vCPU claims the same change. Fair, so a vCPU going straight back for its next step cannot
     * starve the others; the only vCPU of a VM does not take it.
     */
    static final class Armed {
        /** Held across one vCPU's single step and its {@link #afterStep}. */
        final ReentrantLock stepping = new ReentrantLock(true);
        private final Watch[] watches;
        /**
         * Guarded by {@link #stepping}, or by being the VM's only vCPU (which compares without the
         * lock): the bytes as of the last step; a claimed change updates it.
         */
        private final byte[][] seen;
        /** Guarded like {@link #seen}; read once the round's vCPUs are stopped. Plain: an atomic would lock per step. */
        private long steps;

        private Armed(List<Watch> stepped) {
            this.watches = stepped.toArray(new Watch[0]);
            this.seen = new byte[watches.length][];
            for (int i = 0; i < watches.length; i++) {
                seen[i] = watches[i].seen.clone();
            }
        }

        /**
         * After one instruction, {@link #stepping} held by the vCPU that executed it: the first
         * stepped watch whose bytes changed, or null. Every changed watch takes its new bytes as
         * seen, here and for gdb ({@link Watch#seen}): the change is this vCPU's, told once.
         */
        Watch afterStep() {
            steps++;
            Watch first = null;
            for (int i = 0; i < watches.length; i++) {
                if (differs(watches[i], seen[i])) {
                    byte[] now = watches[i].current();
                    if (now == null) {
                        continue;
                    }
                    seen[i] = now;
                    watches[i].seen = now.clone();
                    if (first == null) {
                        first = watches[i];
                    }
                }
            }
            return first;
        }

        private static boolean differs(Watch w, byte[] expected) {
            ByteBuffer[] views = w.views;
            if (views == null) {
                return false;
            }
            int at = 0;
            for (ByteBuffer view : views) {
                int n = view.capacity();
                int i = 0;
                for (; i + 8 <= n; i += 8) {
                    if (view.getLong(i) != getLong(expected, at + i)) {
                        return true;
                    }
                }
                for (; i < n; i++) {
                    if (view.get(i) != expected[at + i]) {
                        return true;
                    }
                }
                at += n;
            }
            return false;
        }

        private static long getLong(byte[] b, int at) {
            long v = 0;
            for (int i = 7; i >= 0; i--) {
                v = (v << 8) | (b[at + i] & 0xFF);
            }
            return v;
        }

        /** Single steps checked so far in this round, over every vCPU. */
        long steps() {
            return steps;
        }
    }

    private final GuestDebug guestDebug;
    private final BooleanSupplier debugRegistersFire;
    private final List<Watch> watches = new ArrayList<>();

    /**
     * @param guestDebug         the architecture's slot encoding (what fits)
     * @param debugRegistersFire whether data breakpoints fire on this host; asked at the first insert
     */
    Watchpoints(GuestDebug guestDebug, BooleanSupplier debugRegistersFire) {
        this.guestDebug = guestDebug;
        this.debugRegistersFire = debugRegistersFire;
    }

    /**
     * {@code Z2}/{@code Z3}/{@code Z4}. Idempotent.
     *
     * @param executeSlots the hardware breakpoints in use, which take the first slots
     * @param translation  the page tables of the vCPU breakpoints are planted through
     */
    void insert(BreakpointType type, long address, int length, List<HardwareSlot> executeSlots, Translation translation,
            GuestMemory memory) throws TargetException {
        insert(type, address, length, 0, executeSlots, translation, memory);
    }

    /**
     * {@code Z2}/{@code Z3}/{@code Z4} for gdb thread {@code thread} (0: any), whose page tables
     * {@code translation} walks; {@link #armPerThread} locates the watch through the same thread's tables.
     */
    void insert(BreakpointType type, long address, int length, int thread, List<HardwareSlot> executeSlots, Translation translation,
            GuestMemory memory) throws TargetException {
        if (length <= 0) {
            throw new TargetException(TargetException.EINVAL, "a watchpoint covers at least one byte, not " + length);
        }
        if (find(type, address, length) != null) {
            return;
        }
        HardwareSlot.Kind kind = kind(type);
        List<HardwareSlot> slots = List.of();
        if (debugRegistersFire.getAsBoolean()) {
            List<HardwareSlot> pieces = split(kind, address, length, guestDebug);
            List<HardwareSlot> all = new ArrayList<>(executeSlots);
            all.addAll(slots());
            int inUse = all.size();
            if (pieces != null) {
                all.addAll(pieces);
            }
            if (pieces != null && guestDebug.fits(all)) {
                slots = pieces;
            } else if (type != BreakpointType.WRITE_WATCHPOINT) {
                throw new TargetException(TargetException.ENOSPC, String.format(
                        "no free debug registers for a %d-byte %s at 0x%x (%d slot(s) in use)", length, type, address, inUse));
            } else {
                Logger.info("watchpoint 0x{},{}: {} debug register slot(s) in use, emulated by single-stepping",
                        Long.toHexString(address), length, inUse);
            }
        } else if (type != BreakpointType.WRITE_WATCHPOINT) {
            // Telling a read from the bytes alone is impossible: it would need each instruction's
            // memory operands decoded. Refused, so gdb says it could not insert the watchpoint.
            throw new TargetException(TargetException.EINVAL, "data breakpoints do not fire on this host, and only write"
                    + " watchpoints can be emulated by single-stepping: " + type + " refused");
        }
        Watch w = new Watch(type, address, length, thread, slots);
        byte[] now = locate(w, translation, memory);
        if (now == null) {
            throw new TargetException(TargetException.EFAULT, String.format("cannot watch 0x%x,%d: not mapped", address, length));
        }
        w.seen = now;
        watches.add(w);
        Logger.debug("watchpoint {} inserted", w);
    }

    /** {@code z2}/{@code z3}/{@code z4}. Idempotent. */
    void remove(BreakpointType type, long address, int length) {
        Watch w = find(type, address, length);
        if (w != null) {
            watches.remove(w);
            Logger.debug("watchpoint {} removed", w);
        }
    }

    void clear() {
        watches.clear();
    }

    /** Whether {@code w} is still inserted (gdb has not removed it since it was hit). */
    boolean holds(Watch w) {
        return watches.contains(w);
    }

    boolean isEmpty() {
        return watches.isEmpty();
    }

    /** Whether a resumed vCPU must single-step for the watches. */
    boolean stepping() {
        for (Watch w : watches) {
            if (w.stepped()) {
                return true;
            }
        }
        return false;
    }

    /** The debug-register pieces of every watch, in slot order (after the execute breakpoints). */
    List<HardwareSlot> slots() {
        List<HardwareSlot> all = new ArrayList<>();
        for (Watch w : watches) {
            all.addAll(w.slots);
        }
        return all;
    }

    /** The watch that owns debug-register piece {@code piece} (one of {@link #slots()}), or null. */
    Watch ofPiece(HardwareSlot piece) {
        for (Watch w : watches) {
            if (w.slots.contains(piece)) {
                return w;
            }
        }
        return null;
    }

    /**
     * At the start of a round: where every watch is now (its page-table walk), and the stepped
     * watches for the vCPU threads, or null when none needs stepping. A watch whose bytes moved to
     * other physical pages takes the new bytes as what gdb saw.
     */
    Armed arm(Translation translation, GuestMemory memory) {
        try {
            return armPerThread(thread -> translation, memory);
        } catch (TargetException e) {
            throw new IllegalStateException(e); // one translation for every thread: nothing to look up
        }
    }

    /** {@link #arm(Translation, GuestMemory)}, each watch through its own thread's page tables. */
    Armed armPerThread(Translations translations, GuestMemory memory) throws TargetException {
        List<Watch> stepped = new ArrayList<>();
        Map<Integer, Translation> byThread = new HashMap<>();
        for (Watch w : watches) {
            long[] before = w.physical;
            Translation translation = byThread.get(w.thread);
            if (translation == null) {
                translation = translations.of(w.thread);
                byThread.put(w.thread, translation);
            }
            byte[] now = locate(w, translation, memory);
            if (now == null) {
                Logger.warn("watchpoint {} is not mapped now: it cannot fire until it is", w);
                continue;
            }
            if (!Arrays.equals(before, w.physical)) {
                w.seen = now;
            }
            if (w.stepped()) {
                stepped.add(w);
            }
        }
        return stepped.isEmpty() ? null : new Armed(stepped);
    }

    /** gdb wrote guest-physical {@code [physical, physical + length)}: what it wrote over a watch is what it has seen. */
    void written(long physical, int length) {
        for (Watch w : watches) {
            if (w.inPhysical(physical, length)) {
                byte[] now = w.current();
                if (now != null) {
                    w.seen = now;
                }
            }
        }
    }

    /** Makes the views of {@code w} through the page tables; returns its bytes, or null when not all are mapped. */
    private static byte[] locate(Watch w, Translation translation, GuestMemory memory) {
        List<ByteBuffer> views = new ArrayList<>();
        List<Long> physical = new ArrayList<>();
        int done = 0;
        while (done < w.length) {
            long virtual = w.address + done;
            long p = translation.physical(virtual);
            if (p < 0) {
                w.views = null;
                w.physical = null;
                return null;
            }
            int toPageEnd = (int) (4096 - (virtual & 4095)); // mappings are at least 4 KiB and 4 KiB aligned
            int n = Math.min(w.length - done, toPageEnd);
            if (!memory.contains(p, n)) {
                w.views = null;
                w.physical = null;
                return null;
            }
            views.add(memory.view(p, n));
            physical.add(p);
            done += n;
        }
        w.views = views.toArray(new ByteBuffer[0]);
        w.physical = physical.stream().mapToLong(Long::longValue).toArray();
        return w.current();
    }

    private Watch find(BreakpointType type, long address, int length) {
        for (Watch w : watches) {
            if (w.type == type && w.address == address && w.length == length) {
                return w;
            }
        }
        return null;
    }

    private static HardwareSlot.Kind kind(BreakpointType type) throws TargetException {
        switch (type) {
            case WRITE_WATCHPOINT:
                return HardwareSlot.Kind.WRITE;
            case READ_WATCHPOINT:
                return HardwareSlot.Kind.READ;
            case ACCESS_WATCHPOINT:
                return HardwareSlot.Kind.ACCESS;
            default:
                throw new TargetException(TargetException.EINVAL, type + " is not a watchpoint");
        }
    }

    /**
     * Splits {@code [address, address + length)} into the fewest pieces, left to right: the whole
     * rest when the architecture can program it as one slot ({@code fits}; arm64 takes any range and
     * spends a watchpoint register per doubleword), else the largest power of two it can program at
     * that address: on x86 4 bytes at 0x1001 become 1 at 0x1001, 2 at 0x1002 and 1 at 0x1004.
     *
     * @return the pieces, or null when some byte fits no slot at all
     */
    static List<HardwareSlot> split(HardwareSlot.Kind kind, long address, int length, GuestDebug guestDebug) {
        List<HardwareSlot> pieces = new ArrayList<>();
        long at = address;
        long end = address + length;
        while (at != end) {
            long left = end - at;
            HardwareSlot piece = null;
            if (Long.bitCount(left) > 1 && left <= Integer.MAX_VALUE) {
                HardwareSlot whole = new HardwareSlot(kind, at, (int) left);
                if (guestDebug.fits(List.of(whole))) {
                    piece = whole;
                }
            }
            for (long size = Long.highestOneBit(Math.min(left, 1L << 30)); piece == null && size >= 1; size >>= 1) {
                HardwareSlot candidate = new HardwareSlot(kind, at, (int) size);
                if (guestDebug.fits(List.of(candidate))) {
                    piece = candidate;
                    break;
                }
            }
            if (piece == null) {
                return null;
            }
            pieces.add(piece);
            at += piece.length();
        }
        return Collections.unmodifiableList(pieces);
    }
}
