/*
 * The guest the address-translation end-to-end tests debug (two vCPUs). vCPU 0 builds page tables
 * of its own that add an alias of low memory in the kernel half of the address space,
 * HIGH_ALIAS + physical, and switches CR3 to them. vCPU 1 stays on the VMM's boot tables, which
 * have no such mapping: like a vCPU stopped in user mode under KPTI, it lacks a kernel mapping
 * another vCPU has.
 */
#include "guest.h"

#define HIGH_ALIAS 0xffff800000000000UL
#define TABLE 0x3UL          /* present, writable */
#define PAGE_2M 0x83UL       /* present, writable, PS */
#define SIZE_2M (2UL << 20)

static unsigned long pml4[512] __attribute__((aligned(4096)));
static unsigned long pdpt[512] __attribute__((aligned(4096)));
static unsigned long pd[512] __attribute__((aligned(4096)));

const char message[] = "hello from the high half";
const char *volatile high_message;      /* message, read through the alias */
volatile unsigned long high_sum;        /* the sum of its bytes, read through the alias by the guest itself */

static inline unsigned long read_cr3(void) {
    unsigned long v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline void write_cr3(unsigned long v) {
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

/* The tests stop here: vCPU 0 runs on its own tables, vCPU 1 is parked on the boot ones. */
void tables_ready(void) {
    __asm__ volatile("" ::: "memory");
}

void paging_main(unsigned long vcpu, unsigned long vcpus, unsigned long ram) {
    (void) vcpus;
    if (vcpu != 0) {
        park();
    }
    /* The guest is linked and loaded at the same addresses (virtual = physical below 1 GiB). */
    const unsigned long *boot = (const unsigned long *) (read_cr3() & ~0xfffUL);
    for (int i = 0; i < 512; i++) {
        pml4[i] = boot[i];
    }
    for (unsigned long i = 0; i < 512 && i * SIZE_2M < ram; i++) {
        pd[i] = i * SIZE_2M | PAGE_2M;
    }
    pdpt[0] = (unsigned long) pd | TABLE;
    pml4[256] = (unsigned long) pdpt | TABLE; /* 256 * 512 GiB = 0xffff800000000000 sign-extended */
    write_cr3((unsigned long) pml4);

    high_message = (const char *) (HIGH_ALIAS + (unsigned long) message);
    unsigned long sum = 0;
    for (const char *p = high_message; *p; p++) {
        sum += (unsigned char) *p;
    }
    high_sum = sum;
    tables_ready();
    serial_puts("paging guest done\n");
    guest_exit(0);
}

GUEST_ENTRY(paging_main);
