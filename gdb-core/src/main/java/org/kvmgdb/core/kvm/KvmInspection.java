package org.kvmgdb.core.kvm;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.kvmgdb.api.arch.MonitorCommand;
import org.kvmgdb.api.arch.RegisterAccess;
import org.kvmgdb.api.hypervisor.HypervisorException;
import org.kvmgdb.core.target.TargetException;
import org.kvmgdb.core.target.TargetInspection;

/** {@link KvmTarget}'s answers to the {@code monitor} commands: vCPU states, the architecture's commands, exit counters. */
final class KvmInspection implements TargetInspection {
    private final Vm vm;
    private final RegisterAccess registers;
    private final List<MonitorCommand> commands;

    KvmInspection(Vm vm, RegisterAccess registers, List<MonitorCommand> commands) {
        this.vm = vm;
        this.registers = registers;
        this.commands = List.copyOf(commands);
    }

    @Override
    public List<VcpuStatus> vcpus() {
        List<VcpuStatus> all = new ArrayList<>();
        synchronized (vm.lock) {
            for (VcpuRunner runner : vm.runners()) {
                State state = runner.running() ? State.RUNNING : runner.halted() ? State.HALTED : State.STOPPED;
                OptionalLong pc = OptionalLong.empty();
                if (state != State.RUNNING) {
                    try {
                        pc = OptionalLong.of(registers.programCounter(runner.vcpu()));
                    } catch (HypervisorException e) {
                        // shown without a pc
                    }
                }
                all.add(new VcpuStatus(runner.threadId(), runner.vcpu().toString(), state, pc));
            }
        }
        return all;
    }

    @Override
    public List<MonitorCommand> architectureCommands() {
        return commands;
    }

    @Override
    public String run(MonitorCommand command, int thread, List<String> arguments) throws TargetException {
        synchronized (vm.lock) {
            List<VcpuRunner> runners = vm.runners();
            if (thread < 1 || thread > runners.size()) {
                throw new TargetException(TargetException.EINVAL, "no thread " + thread);
            }
            VcpuRunner runner = runners.get(thread - 1);
            if (runner.running()) {
                throw new TargetException(TargetException.EPERM, runner + " is running");
            }
            try {
                return command.run(runner.vcpu(), arguments);
            } catch (HypervisorException e) {
                throw new TargetException(TargetException.EIO, command.name() + " on " + runner + ": " + e.getMessage());
            }
        }
    }

    @Override
    public List<VcpuCounters> counters() {
        List<VcpuCounters> all = new ArrayList<>();
        synchronized (vm.lock) {
            for (VcpuRunner runner : vm.runners()) {
                ExitCounters c = runner.vcpu().counters();
                all.add(new VcpuCounters(runner.threadId(), runner.vcpu().toString(), c.byReason(), c.interrupted(), c.nanosInGuest()));
            }
        }
        return all;
    }
}
