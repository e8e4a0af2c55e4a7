/**
 * x86 KVM structs as byte-exact codecs over direct little-endian buffers, and the ioctl numbers
 * that carry them. Every offset is commented with the header it comes from
 * (arch/x86/include/uapi/asm/kvm.h, include/uapi/linux/kvm.h); sizes and request numbers are
 * checked in tests against what gcc computes from those headers.
 */
package org.kvmgdb.arch.x86.kvm;
