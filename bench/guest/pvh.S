/*
 * The boot shim that lets QEMU start the bench guest: a PVH ELF note (XEN_ELFNOTE_PHYS32_ENTRY)
 * names pvh_entry, which QEMU's -kernel loader finds in a PT_NOTE segment; its option ROM
 * (pvh.bin) jumps there in 32-bit protected mode with paging off (Xen's docs/misc/pvh.pandoc).
 * The shim builds what kvmgdb's guest ABI promises (DESIGN.md): identity-mapped RAM with 2 MiB
 * pages, 64-bit long mode, interrupts off, RDI = vCPU index 0, RSI = vCPU count 1, RDX = RAM
 * size, RSP = top of RAM; then it jumps to the ELF entry, _start. kvmgdb never runs any of this:
 * it enters at the ELF entry in long mode itself and ignores PT_NOTE segments.
 *
 * RAM size is fixed at BENCH_RAM (run.sh gives both QEMU -m and kvmgdb --memory this size).
 */
#define BENCH_RAM (128 << 20)
#define XEN_ELFNOTE_PHYS32_ENTRY 18   /* xen/include/public/elfnote.h */

/*
 * The note. QEMU's read_pvh_start_addr (hw/i386/x86.c) reads the descriptor of a 64-bit ELF as
 * 8 bytes, at the name rounded up to the PT_NOTE segment's p_align: keep the section 4-aligned,
 * so the descriptor sits right after the 4-byte name "Xen", and make it a .quad.
 */
    .section .note.Xen, "a", @note
    .p2align 2
    .long 2f - 1f                      /* n_namesz */
    .long 4f - 3f                      /* n_descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY     /* n_type */
1:  .asciz "Xen"
2:  .p2align 2
3:  .quad pvh_entry
4:  .p2align 2

    .section .text.pvh, "ax"
    .code32
    .global pvh_entry
pvh_entry:
    cli
    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] -> i * 2 MiB (present, writable, PS): the first GiB */
    movl $pvh_pdpt, %eax
    orl $0x3, %eax
    movl %eax, pvh_pml4
    movl $pvh_pd, %eax
    orl $0x3, %eax
    movl %eax, pvh_pdpt
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, pvh_pd(, %ecx, 8)
    movl $0, pvh_pd + 4(, %ecx, 8)
    incl %ecx
    cmpl $512, %ecx
    jb 1b

    movl %cr4, %eax
    orl $(1 << 5), %eax                /* CR4.PAE */
    movl %eax, %cr4
    movl $pvh_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx             /* IA32_EFER */
    rdmsr
    orl $(1 << 8), %eax                /* EFER.LME */
    wrmsr
    movl $0x80050033, %eax             /* CR0 as kvmgdb sets it: PG, AM, WP, NE, ET, MP, PE */
    movl %eax, %cr0
    lgdt pvh_gdt_desc
    ljmp $0x08, $pvh_long

    .code64
pvh_long:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    xorl %edi, %edi                    /* vCPU index */
    movl $1, %esi                      /* vCPU count */
    movq $BENCH_RAM, %rdx              /* RAM size */
    movq %rdx, %rsp                    /* top of RAM, 16-byte aligned */
    pushq $0x2
    popfq                              /* RFLAGS = 0x2: interrupts off */
    jmp _start

    .section .rodata.pvh, "a"
    .p2align 3
pvh_gdt:
    .quad 0
    .quad 0x00af9b000000ffff           /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf93000000ffff           /* 0x10: flat data */
pvh_gdt_desc:
    .word pvh_gdt_desc - pvh_gdt - 1
    .long pvh_gdt

    .section .bss.pvh, "aw", @nobits
    .p2align 12
pvh_pml4: .skip 4096
pvh_pdpt: .skip 4096
pvh_pd:   .skip 4096

    .section .note.GNU-stack, "", @progbits
