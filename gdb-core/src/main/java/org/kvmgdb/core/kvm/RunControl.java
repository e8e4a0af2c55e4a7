package org.kvmgdb.core.kvm;

/**
 * Who decides what happens when a vCPU stops: the VM itself while it runs free, a
 * {@link KvmTarget} while a debugger is attached.
 */
interface RunControl {

    /** Called on the runner's thread, with {@link Vm#lock} held, after it stopped running. */
    void vcpuStopped(VcpuRunner runner, Outcome outcome);
}
