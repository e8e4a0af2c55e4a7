package org.kvmgdb.core.kvm;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.kvmgdb.api.arch.DebugControl;
import org.kvmgdb.api.arch.DebugStop;
import org.kvmgdb.api.arch.GuestDebug;
import org.kvmgdb.api.arch.StopClassifier;
import org.kvmgdb.api.hypervisor.KvmRunHeader;
import org.kvmgdb.core.target.ResumeRequest;
import org.tinylog.Logger;

/**
 * The platform thread of one vCPU and its {@code KVM_RUN} loop. It serves port I/O and MMIO itself
 * and comes back to its {@link RunControl} for everything else: a debug exit, {@code hlt} while
 * stepping, the end of the VM, or a kick.
 *
 * <p>Kicking (KVM-HERE.md): the thread blocks {@link #KICK_SIGNAL} for itself and gives KVM a mask
 * without it ({@code KVM_SET_SIGNAL_MASK}), so the signal can only arrive inside {@code KVM_RUN},
 * which then returns {@code EINTR}; a kick sent while the thread is outside stays pending and makes
 * the next {@code KVM_RUN} return at once, so none is lost. No handler is installed: the pending
 * signal is taken off with {@code sigtimedwait} and a zero timeout.
 *
 * <p>State is guarded by {@link Vm#lock}, except what only this thread touches.
 */
final class VcpuRunner {
    /** SIGRTMIN+3: real-time, so the JVM leaves it alone, and queued per thread. */
    static final int KICK_SIGNAL = Sys.sigrtmin() + 3;

    /**
     * What to run.
     *
     * @param action     continue, step, or step within a range
     * @param control    the guest-debug state to run with (applied only when it changed)
     * @param guestDebug how to apply {@code control}; null when the VM has never been debugged
     * @param classifier how to read debug exits; null when no debugger is attached
     * @param watches    stepped watchpoints to check after every single step (the control then
     *                   single-steps even a continue); null when there are none
     */
    record Work(ResumeRequest.Action action, DebugControl control, GuestDebug guestDebug, StopClassifier classifier,
            Watchpoints.Armed watches) {
        Work(ResumeRequest.Action action, DebugControl control, GuestDebug guestDebug, StopClassifier classifier) {
            this(action, control, guestDebug, classifier, null);
        }

        boolean stepping() {
            return !(action instanceof ResumeRequest.Continue);
        }
    }

    /** How the thread enters the guest; a test replaces {@code KVM_RUN} to replay recorded exits through the same handling. */
    @FunctionalInterface
    interface Entry {
        /** Runs the vCPU until its next exit, now in {@code kvm_run}; false when a signal interrupted it. */
        boolean enter(Vcpu vcpu);
    }

    private final Vm vm;
    private final Vcpu vcpu;
    private final Devices devices;
    private final Object lock;
    private final Thread thread;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile int tid;
    private volatile RuntimeException setupFailure;

    // Guarded by lock.
    private Work work;
    private boolean running;
    private volatile boolean stopRequested;
    private boolean halted;
    private boolean terminated;

    // Only this thread.
    private DebugControl applied = DebugControl.OFF;
    /** Set while the architecture masks interrupts for a step ({@link GuestDebug#maskInterruptsForStep}). */
    private GuestDebug.Unmask unmask;
    private ByteBuffer kickSet;
    private final ByteBuffer zeroTimeout = ByteBuffer.allocateDirect(LibC.TIMESPEC_SIZE);
    /** A stepped watch whose bytes this vCPU changed in the current run, not yet reported ({@link #enter}). */
    private Watchpoints.Watch written;
    /** The only vCPU of its VM: no other can execute between its step and the compare, so no lock is needed for them. */
    private boolean soleVcpu;
    /** One view of {@code kvm_run} for the classifier, made once rather than per exit. */
    private ByteBuffer runView;
    private volatile Entry entry = Vcpu::enter;

    VcpuRunner(Vm vm, Vcpu vcpu, Devices devices) {
        this.vm = vm;
        this.vcpu = vcpu;
        this.devices = devices;
        this.lock = vm.lock;
        this.thread = new Thread(this::loop, "vcpu-" + vcpu.index());
        thread.setDaemon(true);
    }

    /** Starts the thread and waits until it can be kicked. */
    void startThread() {
        thread.start();
        try {
            ready.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + vcpu, e);
        }
        if (setupFailure != null) {
            throw setupFailure;
        }
    }

    Vcpu vcpu() {
        return vcpu;
    }

    /** GDB's thread id: vCPU index + 1. */
    int threadId() {
        return vcpu.index() + 1;
    }

    /** Whether the thread is in (or on its way into) the guest. Lock held. */
    boolean running() {
        return running;
    }

    /** Whether the vCPU executed {@code hlt} and waits for something that will never come. Lock held. */
    boolean halted() {
        return halted;
    }

    /** A debugger moved the vCPU (wrote its registers): it is no longer parked in {@code hlt}. Lock held. */
    void clearHalted() {
        halted = false;
    }

    /**
     * The guest-debug state the vCPU last ran with, whose slot numbers a {@link DebugStop} names.
     * Only on this runner's own thread, as in {@link RunControl#vcpuStopped}.
     */
    DebugControl applied() {
        return applied;
    }

    /** Test seam: how the thread enters the guest from now on (default: {@code KVM_RUN}). */
    void entry(Entry replacement) {
        entry = replacement;
    }

    /** Sends the thread into the guest with {@code work}. Lock held; the vCPU must be stopped. */
    void start(Work next) {
        if (running) {
            throw new IllegalStateException(vcpu + " is already running");
        }
        if (terminated) {
            return;
        }
        work = next;
        running = true;
        stopRequested = false;
        lock.notifyAll();
    }

    /** Asks a running vCPU to stop; it reports {@link Outcome.Kicked} unless something else comes first. Lock held. */
    void kick() {
        if (!running || stopRequested) {
            return;
        }
        stopRequested = true;
        lock.notifyAll(); // a vCPU parked in hlt waits on the lock, not in KVM_RUN
        Sys.tgkill(tid, KICK_SIGNAL);
    }

    /** Ends the thread (the VM is being closed). Lock held. */
    void terminate() {
        terminated = true;
        if (running) {
            kick();
        }
        lock.notifyAll();
    }

    void join() throws InterruptedException {
        thread.join();
    }

    private void loop() {
        try {
            tid = Sys.gettid();
            kickSet = Sys.sigset(KICK_SIGNAL);
            ByteBuffer insideKvmRun = ByteBuffer.allocateDirect(LibC.SIGSET_T_SIZE).order(java.nio.ByteOrder.nativeOrder());
            Sys.pthreadSigmask(LibC.SIG_BLOCK, kickSet, insideKvmRun);
            Sys.removeSignal(insideKvmRun, KICK_SIGNAL);
            vcpu.setSignalMask(insideKvmRun); // once: KVM applies it on every KVM_RUN entry and exit itself
            soleVcpu = vm.vcpus().size() == 1;
            runView = vcpu.kvmRun();
        } catch (RuntimeException e) {
            setupFailure = e;
            ready.countDown();
            return;
        }
        ready.countDown();
        try {
            serve();
        } finally {
            synchronized (lock) {
                running = false;
                // A kick that came as the last run ended is still pending. When this thread ends the
                // JVM puts back the signal mask it started with, which does not block the kick, and
                // the kick's default action would end the whole process.
                drainKicks();
                lock.notifyAll();
            }
        }
    }

    /** Runs work until the VM ends this runner; lock held only between runs. */
    private void serve() {
        while (true) {
            Work next;
            synchronized (lock) {
                while (!terminated && work == null) {
                    waitOnLock();
                }
                if (terminated) {
                    running = false;
                    lock.notifyAll();
                    return;
                }
                next = work;
            }
            Outcome outcome;
            try {
                outcome = execute(next);
            } catch (RuntimeException e) {
                Logger.error(e, "{} failed", vcpu);
                outcome = new Outcome.Ended(VmExit.failed(vcpu + ": " + e.getMessage(), VmExit.GDB_SIGABRT));
            }
            Runnable afterwards = null;
            synchronized (lock) {
                work = null;
                running = false;
                try {
                    afterwards = vm.control().vcpuStopped(this, outcome);
                } catch (RuntimeException e) {
                    Logger.error(e, "handling the stop of {} failed", vcpu);
                }
                lock.notifyAll();
            }
            if (afterwards != null) {
                try {
                    afterwards.run();
                } catch (RuntimeException e) {
                    Logger.error(e, "reporting the stop of {} failed", vcpu);
                }
            }
        }
    }

    private Outcome execute(Work w) {
        if (!w.control().equals(applied) && w.guestDebug() != null) {
            w.guestDebug().apply(vcpu, w.control());
            applied = w.control();
        }
        try {
            return runGuest(w);
        } finally {
            unmaskInterrupts(); // whatever ended the run, the guest gets its own flags back
        }
    }

    /**
     * The run loop. Per single step of a stepped watchpoint it does {@code KVM_RUN}, the compare,
     * and a look at {@code kvm_run.debug}, and nothing else: no lock (one vCPU), no register read,
     * no allocation.
     */
    private Outcome runGuest(Work w) {
        ByteBuffer run = vcpu.run();
        StopClassifier classifier = w.classifier();
        // A continue that single-steps only for the watchpoints: a plain step goes straight on.
        boolean stepsForWatches = w.watches() != null && !w.stepping();
        written = null;
        while (true) {
            if (halted) { // only this thread sets it while the vCPU runs; the lock is for the wait
                // A halted vCPU has nothing to execute: a step ends at once, anything else waits for a kick.
                if (w.stepping()) {
                    return new Outcome.Halted();
                }
                synchronized (lock) {
                    while (!stopRequested && !terminated) {
                        waitOnLock();
                    }
                }
            }
            if (stopRequested) {
                drainKicks();
                // A change made by an instruction that a signal ended the KVM_RUN of is still this vCPU's.
                return written != null ? new Outcome.Watched(written, -1) : new Outcome.Kicked();
            }
            maskInterrupts(w);
            vcpu.forgetReads(); // as Vcpu.enter does, for an entry that replays exits instead
            if (!enter(w)) {
                unmaskInterrupts(); // EINTR: KVM finished any pending I/O before it returned
                drainKicks(); // interrupted: loop to see whether someone wants us stopped
                continue;
            }
            int reason = vcpu.exitReason();
            if (reason != KvmRunHeader.KVM_EXIT_IO && reason != KvmRunHeader.KVM_EXIT_MMIO) {
                // Port I/O and MMIO complete inside the next KVM_RUN: the registers stay untouched until then.
                unmaskInterrupts();
            }
            switch (reason) {
                case KvmRunHeader.KVM_EXIT_IO: {
                    VmExit exit = devices.portIo(run);
                    if (exit != null) {
                        return new Outcome.Ended(exit);
                    }
                    continue;
                }
                case KvmRunHeader.KVM_EXIT_MMIO: {
                    VmExit exit = devices.mmio(run);
                    if (exit != null) {
                        return new Outcome.Ended(exit);
                    }
                    continue;
                }
                case KvmRunHeader.KVM_EXIT_HLT:
                    synchronized (lock) {
                        halted = true;
                    }
                    if (w.stepping()) {
                        return new Outcome.Halted();
                    }
                    continue; // parks at the top of the loop
                case KvmRunHeader.KVM_EXIT_INTR:
                    continue;
                default:
                    break;
            }
            if (classifier != null) {
                runView.clear();
                if (stepsForWatches && written == null && classifier.singleStepped(vcpu, reason, runView)) {
                    continue; // a kick that came meanwhile is seen at the top: the continue ends as interrupted
                }
                Optional<DebugStop> stop = classifier.classify(vcpu, reason, runView);
                if (stop.isPresent()) {
                    if (w.watches() != null && stop.get().kind() == DebugStop.Kind.SINGLE_STEP) {
                        if (written != null) {
                            return new Outcome.Watched(written, stop.get().pc());
                        }
                        if (!w.stepping() && !stopRequested) {
                            continue; // (not reached for a plain step: see stepsForWatches above)
                        }
                    }
                    if (stillInRange(w.action(), stop.get()) && !stopRequested) {
                        continue;
                    }
                    return new Outcome.Debug(stop.get());
                }
            }
            return new Outcome.Ended(failure(reason, run));
        }
    }

    /**
     * {@code KVM_RUN}. While stepped watchpoints are armed, a single step and the compare after it
     * hold the round's {@link Watchpoints.Armed#stepping} lock: no other vCPU executes in between,
     * so a change of the watched bytes is this vCPU's, and is kept in {@link #written} to report.
     * Lock-free when nothing is watched or the vCPU is not single-stepping (it could not be
     * attributed then, and a free-running KVM_RUN must not hold up the others), and when this is
     * the VM's only vCPU (nobody else executes in between).
     */
    private boolean enter(Work w) {
        Watchpoints.Armed armed = w.watches();
        if (armed == null || !w.control().singleStep()) {
            return entry.enter(vcpu);
        }
        if (soleVcpu) {
            boolean entered = entry.enter(vcpu);
            compare(armed);
            return entered;
        }
        armed.stepping.lock();
        try {
            boolean entered = entry.enter(vcpu);
            compare(armed);
            return entered;
        } finally {
            armed.stepping.unlock();
        }
    }

    /** Compared even after EINTR: KVM completes a pending port input (which may store to RAM) before it returns. */
    private void compare(Watchpoints.Armed armed) {
        Watchpoints.Watch changed = armed.afterStep();
        if (changed != null && written == null) {
            written = changed;
        }
    }

    /**
     * A single step must not land in an interrupt handler: where the hypervisor cannot block
     * interrupts for the step, the architecture masks them around this one {@code KVM_RUN}.
     */
    private void maskInterrupts(Work w) {
        if (unmask == null && w.guestDebug() != null && w.control().singleStep() && w.control().blockInterrupts()) {
            unmask = w.guestDebug().maskInterruptsForStep(vcpu, w.control());
        }
    }

    private void unmaskInterrupts() {
        GuestDebug.Unmask u = unmask;
        unmask = null;
        if (u != null) {
            u.restore(vcpu);
        }
    }

    /** {@code vCont;r}: a single step that left the pc inside the range goes on stepping. */
    private static boolean stillInRange(ResumeRequest.Action action, DebugStop stop) {
        if (!(action instanceof ResumeRequest.RangeStep) || stop.kind() != DebugStop.Kind.SINGLE_STEP) {
            return false;
        }
        return ((ResumeRequest.RangeStep) action).contains(stop.pc());
    }

    /** Real-time signals queue: take every pending kick, so none makes a later KVM_RUN return early. */
    private void drainKicks() {
        while (Sys.sigtimedwaitNow(kickSet, zeroTimeout) > 0) {
            // taken
        }
    }

    private VmExit failure(int reason, ByteBuffer run) {
        String what;
        switch (reason) {
            case KvmRunHeader.KVM_EXIT_SHUTDOWN:
                return VmExit.shutdown(vcpu + ": KVM_EXIT_SHUTDOWN (the guest triple-faulted or shut the CPU down); the VM ends");
            case KvmRunHeader.KVM_EXIT_FAIL_ENTRY:
                what = String.format("KVM_EXIT_FAIL_ENTRY, hardware_entry_failure_reason 0x%x (the CPU state is invalid)",
                        run.getLong(KvmIoctl.Run.FAIL_ENTRY_REASON));
                return VmExit.failed(vcpu + ": " + what + "; the VM ends", VmExit.GDB_SIGABRT);
            case KvmRunHeader.KVM_EXIT_INTERNAL_ERROR:
                return VmExit.failed(vcpu + ": " + internalError(run) + "; the VM ends", VmExit.GDB_SIGILL);
            case KvmRunHeader.KVM_EXIT_SYSTEM_EVENT:
                what = "KVM_EXIT_SYSTEM_EVENT type " + run.getInt(KvmIoctl.Run.SYSTEM_EVENT_TYPE);
                return VmExit.shutdown(vcpu + ": " + what + "; the VM ends");
            default:
                what = KvmRunHeader.exitName(reason) + (reason == KvmRunHeader.KVM_EXIT_DEBUG ? " with no debugger to take it" : "");
                return VmExit.failed(vcpu + ": unexpected " + what + "; the VM ends", VmExit.GDB_SIGABRT);
        }
    }

    private static String internalError(ByteBuffer run) {
        int suberror = run.getInt(KvmIoctl.Run.INTERNAL_SUBERROR);
        int ndata = Math.min(run.getInt(KvmIoctl.Run.INTERNAL_NDATA), 16);
        StringBuilder s = new StringBuilder("KVM_EXIT_INTERNAL_ERROR suberror ").append(suberror);
        if (suberror == KvmRunHeader.KVM_INTERNAL_ERROR_EMULATION) {
            s.append(" (KVM could not emulate an instruction; on a PVM host that includes int3 with no debugger)");
        }
        if (ndata > 0) {
            s.append(", data");
            for (int i = 0; i < ndata; i++) {
                s.append(String.format(" 0x%x", run.getLong(KvmIoctl.Run.INTERNAL_DATA + 8 * i)));
            }
        }
        return s.toString();
    }

    private void waitOnLock() {
        try {
            lock.wait();
        } catch (InterruptedException e) {
            // vCPU threads are ended through terminate(), not interrupts; keep the flag for the record.
            Thread.currentThread().interrupt();
            terminated = true;
        }
    }

    @Override
    public String toString() {
        return vcpu.toString();
    }
}
