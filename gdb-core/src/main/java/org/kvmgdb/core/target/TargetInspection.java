package org.kvmgdb.core.target;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.kvmgdb.api.arch.MonitorCommand;

/**
 * What gdb's {@code monitor} commands ask of a target beyond {@link DebugTarget}: the state of each
 * vCPU, the architecture's own commands run on a vCPU, and the hypervisor's counters. Called only
 * while every thread is stopped, from the session's thread.
 */
public interface TargetInspection {

    /** Each vCPU, in thread order. */
    List<VcpuStatus> vcpus();

    /** The commands the architecture adds ({@code info regs}, {@code info mem} on x86). */
    List<MonitorCommand> architectureCommands();

    /**
     * Runs one of {@link #architectureCommands()} on {@code thread}'s vCPU.
     *
     * @throws IllegalArgumentException from the command, for arguments it does not take
     * @throws TargetException          when the thread does not exist or the hypervisor fails
     */
    String run(MonitorCommand command, int thread, List<String> arguments) throws TargetException;

    /** Each vCPU's counters since the VM started, in thread order. */
    List<VcpuCounters> counters();

    /** What a vCPU is doing. */
    enum State {
        RUNNING, STOPPED, HALTED
    }

    /**
     * @param pc empty when it cannot be read (the vCPU runs)
     */
    record VcpuStatus(int thread, String name, State state, OptionalLong pc) {
    }

    /**
     * @param exitsByReason  {@code KVM_RUN} exits by reason ({@code KVM_EXIT_IO} ...), in reason order
     * @param interrupted    {@code KVM_RUN} calls a signal (a kick) ended before an exit
     * @param nanosInGuest   wall time spent inside {@code KVM_RUN}
     */
    record VcpuCounters(int thread, String name, Map<String, Long> exitsByReason, long interrupted, long nanosInGuest) {
        public VcpuCounters {
            exitsByReason = Collections.unmodifiableMap(new LinkedHashMap<>(exitsByReason));
        }

        public long exits() {
            return exitsByReason.values().stream().mapToLong(Long::longValue).sum();
        }
    }
}
