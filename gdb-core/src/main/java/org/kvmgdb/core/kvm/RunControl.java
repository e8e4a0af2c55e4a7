package org.kvmgdb.core.kvm;

/**
 * Who decides what happens when a vCPU stops: the VM itself while it runs free, a
 * {@link KvmTarget} while a debugger is attached.
 */
interface RunControl {

    /**
     * Called on the runner's thread, with {@link Vm#lock} held, after it stopped running.
     *
     * @return what to run on that thread once the lock is released (a stop report), or null
     */
    Runnable vcpuStopped(VcpuRunner runner, Outcome outcome);
}
