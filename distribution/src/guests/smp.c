/*
 * The two-vCPU guest of the end-to-end tests (SmpDebuggingTest), launched with --cpus 2: both vCPUs
 * run smp_main. They meet at a rendezvous and call shared_work() at about the same moment; then
 * vCPU 1 counts for ever (calling vcpu1_checkpoint() once gdb arms it) while vCPU 0 spins until gdb
 * releases it, steps through a few lines, runs loop_line() and ends the VM. The tests find lines by
 * the markers in comments (LINE: name), so lines may move.
 *
 * loop_line()'s loop is a do-while on one line: gcc then gives the line one entry in gdb's line
 * table, so `next` over it is one range step (a for loop's jump to its condition gets an entry of
 * its own, and `next` takes two).
 */
#include "guest.h"

volatile unsigned long arrived;
volatile unsigned long hits[2];
volatile unsigned long spins[2];
volatile unsigned long armed; /* set from gdb to a spins[0] value: vCPU 1 calls vcpu1_checkpoint() once vCPU 0 has spun past it */
volatile int release;   /* set from gdb: vCPU 0 leaves its spin loop */
int loops = 1000;       /* iterations of the loop line; the range-stepping benchmark changes it */
long results[2];
long loop_total;

long shared_work(unsigned long vcpu) {
    hits[vcpu & 1]++; /* LINE: shared body */
    return (long) vcpu * 10 + 1;
}

void vcpu1_checkpoint(unsigned long count) {
    results[1] = (long) count; /* LINE: checkpoint body */
}

long loop_line(int n) {
    long total = 0, i = 0; /* LINE: before loop */
    do total += i++; while (i < n); /* LINE: loop */
    return total; /* LINE: after loop */
}

void smp_main(unsigned long vcpu, unsigned long vcpus, unsigned long ram) {
    (void) ram;
    __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
    while (arrived < vcpus) {
    }
    results[vcpu & 1] = shared_work(vcpu); /* LINE: call shared */
    if (vcpu != 0) {
        for (;;) {
            spins[1]++; /* LINE: vcpu1 spin */
            if (armed && spins[0] > armed) {
                armed = 0;
                vcpu1_checkpoint(spins[1]);
            }
        }
    }
    while (!release) spins[0]++; /* LINE: vcpu0 spin */
    long a = 1; /* LINE: after release */
    long b = a + 1;
    loop_total = loop_line(loops) + b - 2; /* LINE: call loop */
    serial_puts("smp guest done\n");
    guest_exit(0);
}

GUEST_ENTRY(smp_main);
