/*
 * The kvmgdb guest ABI (DESIGN.md): every vCPU starts at the ELF entry in 64-bit long mode with
 * RAM identity-mapped, RDI = vCPU index, RSI = vCPU count, RDX = RAM size, RSP = top of its stack.
 * COM1 at 0x3F8 prints to the launcher's stdout; writing v to port 0xF4 ends the VM with exit
 * status (v << 1) | 1, like QEMU's isa-debug-exit.
 */
#ifndef KVMGDB_GUEST_H
#define KVMGDB_GUEST_H

#define COM1_THR 0x3F8
#define COM1_LSR 0x3FD
#define EXIT_PORT 0xF4

static inline void outb(unsigned short port, unsigned char value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(unsigned short port, unsigned int value) {
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline unsigned char inb(unsigned short port) {
    unsigned char v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void serial_putc(char c) {
    while ((inb(COM1_LSR) & 0x20) == 0) {
    }
    outb(COM1_THR, (unsigned char) c);
}

static inline void serial_puts(const char *s) {
    while (*s) {
        serial_putc(*s++);
    }
}

static inline void serial_putu(unsigned long v) {
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do {
        buf[--i] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    serial_puts(&buf[i]);
}

/* Ends the VM: the launcher exits with (code << 1) | 1. */
static inline __attribute__((noreturn)) void guest_exit(unsigned int code) {
    outl(EXIT_PORT, code);
    for (;;) {
        __asm__ volatile("hlt");
    }
}

static inline __attribute__((noreturn)) void park(void) {
    for (;;) {
        __asm__ volatile("hlt");
    }
}

/*
 * The entry point: the VMM enters with RSP 16-byte aligned and no return address, so call into C
 * to give it the alignment the SysV ABI expects at a function's first instruction.
 */
#define GUEST_ENTRY(main_fn)                                                     \
    __asm__(".section .text.entry, \"ax\"\n"                                     \
            ".global _start\n"                                                   \
            "_start:\n"                                                          \
            "  xor %rbp, %rbp\n"                                                 \
            "  call " #main_fn "\n"                                              \
            "1: hlt\n"                                                           \
            "  jmp 1b\n"                                                         \
            ".previous\n")

#endif
