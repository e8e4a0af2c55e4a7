/**
 * The KVM virtual machine monitor: JNA bindings, guest memory, vCPUs and their threads, the two
 * devices of the guest ABI, and {@link org.kvmgdb.core.kvm.KvmTarget}, the VM as gdb sees it.
 *
 * <ul>
 * <li>{@code LibC} binds libc with JNA direct mapping (no proxy per call) and {@code Sys} turns
 *     errno into {@link org.kvmgdb.core.kvm.KvmException} in one place; both are package-private.
 *     Every call into KVM (open, ioctl, mmap) goes through one {@link org.kvmgdb.core.kvm.KvmKernel}:
 *     the host's in the product, a simulated kernel in tests ({@code Kvm.open(KvmKernel)}), so an
 *     architecture this host cannot run (AArch64) is debugged through the real VMM and target.
 *     {@link org.kvmgdb.core.kvm.Kvm} opens /dev/kvm and says in one line why it cannot
 *     ({@link org.kvmgdb.core.kvm.KvmUnavailableException}, exit status 3).</li>
 * <li>{@link org.kvmgdb.core.kvm.Vm} owns RAM (one anonymous shared mapping, one memory slot at
 *     guest-physical 0) and one platform thread per vCPU running the KVM_RUN loop
 *     ({@code VcpuRunner}). Port I/O and MMIO are served on that thread; everything else goes to
 *     whoever controls the VM: the VM itself when it runs freely, a
 *     {@link org.kvmgdb.core.kvm.KvmTarget} while a debugger is attached.</li>
 * <li>A vCPU is stopped by a kick: SIGRTMIN+3 sent with tgkill, blocked in the thread except
 *     inside KVM_RUN (KVM_SET_SIGNAL_MASK), taken back with sigtimedwait; no handler
 *     (KVM-HERE.md).</li>
 * <li>{@link org.kvmgdb.core.kvm.Guest} is the launcher's path from an ELF file to a booted VM.</li>
 * </ul>
 */
package org.kvmgdb.core.kvm;
