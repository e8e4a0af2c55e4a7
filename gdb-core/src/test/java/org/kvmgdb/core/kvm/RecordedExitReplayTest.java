package org.kvmgdb.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.kvmgdb.api.arch.AddressTranslator;
import org.kvmgdb.api.arch.ArchitectureProvider;
import org.kvmgdb.api.arch.BootState;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.HardwareSlot;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.arch.SoftwareBreakpoint;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.arch.TargetDescription;
import org.kvmgdb.api.hypervisor.VcpuHandle;
import org.kvmgdb.api.hypervisor.VmHandle;
import org.kvmgdb.arch.x86.kvm.KvmIoctls;
import org.kvmgdb.core.target.BreakpointType;
import org.kvmgdb.core.target.StopEvent;

/**
 * Exits that only hardware KVM produces (a guest's {@code int3} as KVM_EXIT_DEBUG #BP, data
 * breakpoint hits as #DB with DR6.Bn), replayed through the real {@link KvmTarget} on the real test
 * guest: the vCPU thread's {@code KVM_RUN} is replaced for one call by copying the recorded
 * {@code kvm_run} bytes into the vCPU's own {@code kvm_run} ({@link VcpuRunner#entry}); everything
 * after that (classification by the x86 plugin, the target's decisions, the stop gdb is told, the
 * real vCPU running on) is the product's code. The x86 plugin's ioctls are recorded on the way to
 * the kernel, so the tests can assert their exact bytes; KVM_SET_VCPU_EVENTS is not passed on
 * (the PVM host cannot deliver exceptions to this guest, KVM-HERE.md) and KVM_GET_VCPU_EVENTS is
 * answered with the bytes recorded on this host.
 *
 * <p>The {@code kvm_run} shapes follow arch/x86/kvm/vmx/vmx.c handle_exception_nmi: #BP with
 * {@code debug.arch.exception} 3 and {@code pc} the linear address of the {@code 0xCC}; #DB with
 * exception 1, {@code pc} after the instruction, {@code dr6} with the matching Bn and the active-low
 * bits, {@code dr7} the guest-debug DR7 in force.
 */
class RecordedExitReplayTest {
    private static final int T1 = 1;
    /** KVM_EXIT_DEBUG, include/uapi/linux/kvm.h. */
    private static final int KVM_EXIT_DEBUG = 4;
    /** KVM_GET_VCPU_EVENTS as recorded on this host at a debug exit: nothing pending, flags 0x0d. */
    private static final String VCPU_EVENTS = "00000000000000000000000000000000" + "000000000d000000" + "00".repeat(40);
    private static final StopEvent EXITED = new StopEvent.Exited(TestGuest.EXIT_STATUS);

    @RegisterExtension
    final KvmTargetHarness harness = new KvmTargetHarness();

    private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
    private final Recorder recorder = new Recorder();
    private final Replay replay = new Replay();
    private Vm vm;
    private KvmTarget target;

    private void attach(boolean debugRegistersFire) throws Exception {
        vm = harness.boot(1, serial, TestGuest.MODE_RUN);
        target = harness.own(new KvmTarget(vm, new RecordingX86(recorder), () -> debugRegistersFire));
        target.attach();
        vm.runners().get(0).entry(replay);
    }

    private static StopEvent.Signal trap(StopEvent.Reason reason) {
        return new StopEvent.Signal(T1, StopEvent.SIGTRAP, reason);
    }

    /** The first 64 bytes of a KVM_EXIT_DEBUG {@code kvm_run}: exit_reason at 8, kvm_debug_exit_arch at 32. */
    private static byte[] debugExit(int exception, long pc, long dr6, long dr7) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(8, KVM_EXIT_DEBUG).putInt(32, exception).putLong(40, pc).putLong(48, dr6).putLong(56, dr7);
        return b.array();
    }

    /** A #DB for slot n with the DR7 the stub last programmed (what VMX reads from GUEST_DR7). */
    private LongFunction<byte[]> dataHit(int slot, long pc) {
        return dr7 -> debugExit(1, pc, 0xFFFF0FF0L | (1L << slot), dr7);
    }

    // ---- the guest's own int3 ----

    @Test
    void aGuestsOwnInt3IsInjectedBackAsBreakpointExceptionAndGdbHearsNothing() throws Exception {
        attach(false);
        long add = TestGuest.address("add");
        target.insertBreakpoint(BreakpointType.SOFTWARE, add, 1);
        long own = TestGuest.address("_start"); // where the vCPU stands: as if the guest had an int3 there
        replay.exits.add(dr7 -> debugExit(3, own, 0, 0));

        // The replayed #BP is not ours: the guest gets it, and the first stop gdb hears is its own breakpoint.
        assertEquals(trap(new StopEvent.SoftwareBreak()), harness.continueAll());
        assertEquals(0, replay.exits.size(), "the recorded exit was replayed");

        assertEquals(List.of("KVM_GET_VCPU_EVENTS", "KVM_SET_VCPU_EVENTS"), recorder.names(KvmIoctls.KVM_GET_VCPU_EVENTS,
                KvmIoctls.KVM_SET_VCPU_EVENTS));
        // kvm_vcpu_events (arch/x86/include/uapi/asm/kvm.h): exception.injected 1, nr 3 (#BP),
        // has_error_code 0, pending 0, error_code 0; everything else as KVM_GET_VCPU_EVENTS gave it.
        assertEquals("01030000" + "00000000" + "0000000000000000" + "00000000" + "0d000000" + "00".repeat(40),
                HexFormat.of().formatHex(recorder.last(KvmIoctls.KVM_SET_VCPU_EVENTS)));

        target.removeBreakpoint(BreakpointType.SOFTWARE, add, 1);
        assertEquals(EXITED, harness.continueAll());
        assertEquals(TestGuest.GREETING, serial.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void anInt3OfOursIsReportedAndNotInjected() throws Exception {
        attach(false);
        long entry = TestGuest.address("_start");
        target.insertBreakpoint(BreakpointType.SOFTWARE, entry + 1, 1);
        replay.exits.add(dr7 -> debugExit(3, entry + 1, 0, 0));

        assertEquals(trap(new StopEvent.SoftwareBreak()), harness.continueAll());
        assertEquals(List.of(), recorder.names(KvmIoctls.KVM_SET_VCPU_EVENTS));
    }

    // ---- debug-register watchpoints ----

    @Test
    void aDataBreakpointHitIsReportedAsAWriteWatchpointOfItsSlot() throws Exception {
        attach(true);
        long never = TestGuest.address("halt_forever"); // an execute breakpoint first: it takes DR0
        long counter = TestGuest.address("global_counter");
        target.insertBreakpoint(BreakpointType.HARDWARE, never, 1);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        replay.exits.add(dataHit(1, TestGuest.address("scale") + 0x1e));

        assertEquals(trap(new StopEvent.Watch(BreakpointType.WRITE_WATCHPOINT, counter)), harness.continueAll());

        // kvm_guest_debug: control ENABLE | USE_HW_BP, DR0 = the breakpoint, DR1 = the watch,
        // DR7 = G0 | G1 | GE | bit 10, R/W1 = 01 (write), LEN1 = 11 (4 bytes).
        ByteBuffer set = recorder.lastBuffer(KvmIoctls.KVM_SET_GUEST_DEBUG);
        assertEquals(0x0002_0001, set.getInt(0));
        assertEquals(never, set.getLong(8));
        assertEquals(counter, set.getLong(16));
        assertEquals(0x00D0_060AL, set.getLong(64));
    }

    /**
     * Stepping off a hardware breakpoint runs without its execute slot, so the watch moves from DR1
     * to DR0 for that one instruction; a write in it is still the watch's.
     */
    @Test
    void aDataBreakpointHitWhileSteppingOffAHardwareBreakpointIsTheWatch() throws Exception {
        attach(true);
        long scale = TestGuest.address("scale");
        long counter = TestGuest.address("global_counter");
        target.insertBreakpoint(BreakpointType.HARDWARE, scale, 1);
        assertEquals(trap(new StopEvent.HardwareBreak()), harness.continueAll()); // a real DR0 hit on this host too
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        replay.exits.add(dataHit(0, scale + 1));

        assertEquals(trap(new StopEvent.Watch(BreakpointType.WRITE_WATCHPOINT, counter)), harness.continueAll());

        ByteBuffer stepOff = recorder.lastBuffer(KvmIoctls.KVM_SET_GUEST_DEBUG);
        assertEquals(counter, stepOff.getLong(8), "the watch in DR0 for the step");
        assertEquals(0x000D_0602L, stepOff.getLong(64), "G0 | GE | bit 10, R/W0 = 01, LEN0 = 11");
    }

    @Test
    void anUnalignedWatchIsSplitOverDebugRegistersAndAHitOnAnyPieceIsTheWatch() throws Exception {
        attach(true);
        long origin = TestGuest.address("origin"); // struct point {int x, y}: 4-aligned
        assertEquals(0, origin % 4);
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, origin + 1, 4);
        replay.exits.add(dataHit(2, TestGuest.address("scale")));

        assertEquals(trap(new StopEvent.Watch(BreakpointType.WRITE_WATCHPOINT, origin + 1)), harness.continueAll());

        // Bytes 1..4 of origin: 1 at +1, 2 at +2, 1 at +4 in DR0..DR2; G0 | G1 | G2 | GE | bit 10,
        // R/W 01 each, LEN 00, 01, 00.
        ByteBuffer set = recorder.lastBuffer(KvmIoctls.KVM_SET_GUEST_DEBUG);
        assertEquals(0x0002_0001, set.getInt(0));
        assertEquals(origin + 1, set.getLong(8));
        assertEquals(origin + 2, set.getLong(16));
        assertEquals(origin + 4, set.getLong(24));
        assertEquals(0, set.getLong(32));
        assertEquals(0x0151_062AL, set.getLong(64));
    }

    /**
     * x86 watches reads as read-or-write (DR7 R/W = 11). A hit that changed the watched bytes was a
     * write: not reported, the vCPU goes on. The next hit, which leaves them as they were, was a
     * read and is reported as {@code rwatch}.
     */
    @Test
    void aReadWatchpointHitThatChangedTheBytesWasAWriteAndIsNotReported() throws Exception {
        attach(true);
        long counter = TestGuest.address("global_counter");
        target.insertBreakpoint(BreakpointType.READ_WATCHPOINT, counter, 4);
        long pc = TestGuest.address("scale");
        replay.exits.add(dr7 -> {
            vm.memory().write(counter, TestGuest.le32(7), 0, 4); // the instruction that hit wrote 7
            return debugExit(1, pc, 0xFFFF0FF1L, dr7);
        });
        replay.exits.add(dataHit(0, pc));

        assertEquals(trap(new StopEvent.Watch(BreakpointType.READ_WATCHPOINT, counter)), harness.continueAll());
        assertEquals(0, replay.exits.size(), "both hits were replayed; only the second was reported");

        ByteBuffer set = recorder.lastBuffer(KvmIoctls.KVM_SET_GUEST_DEBUG);
        assertEquals(counter, set.getLong(8));
        assertEquals(0x00F_0602L, set.getLong(64), "G0 | GE | bit 10, R/W0 = 11 (read or write), LEN0 = 11");
        target.removeBreakpoint(BreakpointType.READ_WATCHPOINT, counter, 4);
        assertEquals(EXITED, harness.continueAll());
    }

    @Test
    void anAccessWatchpointReportsWritesToo() throws Exception {
        attach(true);
        long counter = TestGuest.address("global_counter");
        target.insertBreakpoint(BreakpointType.ACCESS_WATCHPOINT, counter, 4);
        replay.exits.add(dr7 -> {
            vm.memory().write(counter, TestGuest.le32(7), 0, 4);
            return debugExit(1, TestGuest.address("scale"), 0xFFFF0FF1L, dr7);
        });

        assertEquals(trap(new StopEvent.Watch(BreakpointType.ACCESS_WATCHPOINT, counter)), harness.continueAll());
    }

    @Test
    void aRemovedDataBreakpointIsNoLongerProgrammed() throws Exception {
        attach(true);
        long counter = TestGuest.address("global_counter");
        target.insertBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);
        target.removeBreakpoint(BreakpointType.WRITE_WATCHPOINT, counter, 4);

        assertEquals(EXITED, harness.continueAll());
        assertEquals(List.of(), recorder.names(KvmIoctls.KVM_SET_GUEST_DEBUG), "guest debug never had to be enabled");
    }

    // ---- the seams ----

    /** Replaces KVM_RUN with recorded exits, one per call, while there are any; then the real KVM_RUN. */
    private final class Replay implements VcpuRunner.Entry {
        /** Each makes the exit's bytes from the DR7 last programmed, and may change guest memory first. */
        final ArrayDeque<LongFunction<byte[]>> exits = new ArrayDeque<>();

        @Override
        public boolean enter(Vcpu vcpu) {
            LongFunction<byte[]> next;
            synchronized (exits) {
                next = exits.poll();
            }
            if (next == null) {
                return vcpu.enter();
            }
            ByteBuffer set = recorder.lastBuffer(KvmIoctls.KVM_SET_GUEST_DEBUG);
            byte[] exit = next.apply(set == null ? 0 : set.getLong(64));
            vcpu.run().put(0, exit);
            return true;
        }
    }

    /** Every ioctl the x86 plugin makes for guest debug and re-injection, with its bytes. */
    static final class Recorder {
        private final List<Map.Entry<Long, byte[]>> calls = Collections.synchronizedList(new ArrayList<>());

        VcpuHandle wrap(VcpuHandle real) {
            return new VcpuHandle() {
                @Override
                public int index() {
                    return real.index();
                }

                @Override
                public VmHandle vm() {
                    return real.vm();
                }

                @Override
                public int ioctl(long request, ByteBuffer arg) {
                    if (request == KvmIoctls.KVM_GET_VCPU_EVENTS) {
                        arg.duplicate().clear().put(HexFormat.of().parseHex(VCPU_EVENTS));
                        record(request, arg);
                        return 0;
                    }
                    record(request, arg);
                    return request == KvmIoctls.KVM_SET_VCPU_EVENTS ? 0 : real.ioctl(request, arg);
                }

                @Override
                public void getOneReg(long id, ByteBuffer value) {
                    real.getOneReg(id, value);
                }

                @Override
                public void setOneReg(long id, ByteBuffer value) {
                    real.setOneReg(id, value);
                }

                @Override
                public ByteBuffer kvmRun() {
                    return real.kvmRun();
                }
            };
        }

        private void record(long request, ByteBuffer arg) {
            byte[] b = new byte[arg.capacity()];
            arg.duplicate().clear().get(b);
            calls.add(Map.entry(request, b));
        }

        List<String> names(Long... requests) {
            Set<Long> wanted = Set.of(requests);
            List<String> names = new ArrayList<>();
            synchronized (calls) {
                for (Map.Entry<Long, byte[]> c : calls) {
                    if (wanted.contains(c.getKey())) {
                        names.add(KvmIoctls.name(c.getKey()));
                    }
                }
            }
            return names;
        }

        byte[] last(long request) {
            synchronized (calls) {
                for (int i = calls.size() - 1; i >= 0; i--) {
                    if (calls.get(i).getKey() == request) {
                        return calls.get(i).getValue();
                    }
                }
            }
            return null;
        }

        ByteBuffer lastBuffer(long request) {
            byte[] b = last(request);
            return b == null ? null : ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** The real x86-64 plugin, its guest debug and re-injection made through the {@link Recorder}. */
    private static final class RecordingX86 implements ArchitectureProvider {
        private final ArchitectureProvider real = X86ForTests.provider();
        private final GuestDebug guestDebug;
        private final StopClassifier classifier;

        RecordingX86(Recorder recorder) {
            GuestDebug debug = real.guestDebug().orElseThrow();
            StopClassifier stops = real.stopClassifier().orElseThrow();
            guestDebug = new GuestDebug() {
                @Override
                public boolean fits(List<HardwareSlot> slots) {
                    return debug.fits(slots);
                }

                @Override
                public void apply(VcpuHandle vcpu, DebugControl control) {
                    debug.apply(recorder.wrap(vcpu), control);
                }
            };
            classifier = new StopClassifier() {
                @Override
                public Optional<DebugStop> classify(VcpuHandle vcpu, int exitReason, ByteBuffer kvmRun) {
                    return stops.classify(vcpu, exitReason, kvmRun);
                }

                @Override
                public void reinject(VcpuHandle vcpu, DebugStop stop) {
                    stops.reinject(recorder.wrap(vcpu), stop);
                }
            };
        }

        @Override
        public String id() {
            return real.id();
        }

        @Override
        public int elfMachine() {
            return real.elfMachine();
        }

        @Override
        public TargetDescription targetDescription() {
            return real.targetDescription();
        }

        @Override
        public SoftwareBreakpoint softwareBreakpoint() {
            return real.softwareBreakpoint();
        }

        @Override
        public Optional<RegisterAccess> registerAccess() {
            return real.registerAccess();
        }

        @Override
        public Optional<GuestDebug> guestDebug() {
            return Optional.of(guestDebug);
        }

        @Override
        public Optional<StopClassifier> stopClassifier() {
            return Optional.of(classifier);
        }

        @Override
        public Optional<AddressTranslator> addressTranslator() {
            return real.addressTranslator();
        }

        @Override
        public Optional<BootState> bootState() {
            return real.bootState();
        }
    }
}
