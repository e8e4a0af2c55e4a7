/**
 * The x86-64 architecture's KVM side: register access in GDB's {@code g} layout, the long-mode boot
 * state of the guest ABI, KVM_SET_GUEST_DEBUG encoding, classification of debug exits (including
 * the emulation-failure shape {@code int3} takes on PVM hosts) and a software page-table walker.
 * Pure Java against the gdb-api SPIs.
 */
package org.kvmgdb.arch.x86;
