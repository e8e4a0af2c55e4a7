/** The ELF64 loader of the guest ABI: PT_LOAD segments at their physical addresses, refusals in one line. */
package org.kvmgdb.core.elf;
