/*
 * The guest of bench/run.sh, run by both stubs: kvmgdb enters at _start in long mode; QEMU enters
 * at pvh.S's shim, which gets to _start in the same state. gdb stops at bench_ready() first, then
 * each figure does its part (see bench/figure.py):
 *   stepi  2000 single steps from bench_ready()'s stop: they end inside loop_line()'s loop;
 *   next   `next` over loop_line()'s loop line, NEXT_ITERATIONS iterations of 8 instructions;
 *   mem    16 MiB of RAM from 16 MiB up, identity-mapped by both;
 *   bp     bp_target(), called BP_CALLS times;
 *   idle   idle_halt(): hlt for ever, interrupts off.
 */
#include "guest.h"

#define NEXT_ITERATIONS 12500 /* 8 instructions an iteration at -O0: 100,000 for the line */
#define BP_CALLS 1000

volatile unsigned long bp_hits;
long next_total;

/* gdb's first stop on both stubs: everything before it (QEMU's firmware, the shim) is not measured. */
void bench_ready(void) {
    __asm__ volatile("" ::: "memory");
}

void bp_target(unsigned long i) {
    bp_hits += i;
}

/* A do-while on one line: gcc gives it one line-table entry, so gdb's `next` is one range step. */
long loop_line(int n) {
    long total = 0, i = 0;
    do total += i++; while (i < n); /* LINE: loop */
    return total;
}

void idle_halt(void) {
    for (;;) {
        __asm__ volatile("hlt");
    }
}

void bench_main(unsigned long vcpu, unsigned long vcpus, unsigned long ram) {
    (void) vcpu;
    (void) vcpus;
    (void) ram;
    serial_puts("bench guest: ready\n");
    bench_ready();
    next_total = loop_line(NEXT_ITERATIONS);
    for (unsigned long i = 0; i < BP_CALLS; i++) {
        bp_target(i);
    }
    serial_puts("bench guest: idle\n");
    idle_halt();
}

GUEST_ENTRY(bench_main);
