/*
 * The guest the fault-injection tests run (FaultInjectionTest): a debugger is made to vanish at
 * chosen moments and the guest must end exactly as it does with no debugger at all. It
 *   1. does a fixed amount of work (a sieve and a mix over it, into .bss),
 *   2. spins in hold_here() while `hold` is set (0 as built: an undebugged run passes at once;
 *      tests set it to 1 over the wire so that there is a running guest to fault against), and
 *      prints "holding N" every TICK_TURNS turns there, so tests can see it run on,
 *   3. rewrites what a debugger may have changed on purpose (the hold state, `scratch`),
 *   4. prints an FNV-1a checksum over its whole image (text, rodata, data, bss: every byte a
 *      debugger could have patched, from _start, the first byte, to guest.ld's __image_end), and
 *   5. exits through the exit port with EXIT_CODE.
 * A breakpoint byte left behind, a debug register left armed or a half-applied write shows up
 * as another checksum or another exit status. The tests find lines by their LINE: markers.
 */
#include "guest.h"

#define EXIT_CODE 5
#define TICK_TURNS 20000UL
#define PRIMES_BELOW 4096

extern const unsigned char _start[], __image_end[]; /* guest.ld puts _start's section first */

volatile int hold;              /* set to 1 from a debugger: the guest stays in hold_here() until it is 0 again */
volatile int stall;             /* set to 1 from a debugger: spin_turns() does not return (a `next` that never ends) */
volatile unsigned long turns;   /* spin_turns()'s count; the guest zeroes it before the checksum */
volatile unsigned long ticks;   /* "holding N" lines printed; zeroed before the checksum */
unsigned char scratch[64];      /* a debugger's completed write lands here; rewrite_scratch() puts it back */
/* Never written by the guest: a partial write that the stub wrongly applied would change the checksum. */
unsigned char constants[] = "the guest never writes these bytes; a debugger's half write must not";
unsigned char composite[PRIMES_BELOW];
unsigned long mixed;
int work_rounds = 2;            /* how long step 1 runs */
int exit_code = EXIT_CODE;

static void sieve(void) {
    for (int n = 2; n < PRIMES_BELOW; n++) {
        composite[n] = 0;
    }
    for (int n = 2; n * n < PRIMES_BELOW; n++) {
        if (!composite[n]) {
            for (int m = n * n; m < PRIMES_BELOW; m += n) {
                composite[m] = 1;
            }
        }
    }
}

static void work(void) {
    for (int round = 0; round < work_rounds; round++) {
        sieve();
        for (int n = 2; n < PRIMES_BELOW; n++) {
            if (!composite[n]) {
                mixed = mixed * 31 + (unsigned long) n + (unsigned long) round;
            }
        }
    }
}

void spin_turns(void) {
    unsigned long i = 0;
    do turns++; while (stall || (hold && ++i < TICK_TURNS)); /* LINE: spin */
}

void hold_here(void) {
    while (hold) {
        spin_turns();
        ticks++;
        serial_puts("holding ");
        serial_putu(ticks);
        serial_puts("\n");
    }
}

void rewrite_scratch(void) {
    for (int i = 0; i < (int) sizeof scratch; i++) {
        scratch[i] = (unsigned char) (i * 7 + 1); /* LINE: rewrite */
    }
    hold = 0;
    stall = 0;
    turns = 0;
    ticks = 0;
}

unsigned long checksum_image(void) {
    unsigned long h = 0xcbf29ce484222325UL; /* FNV-1a, 64-bit */
    for (const unsigned char *p = _start; p < __image_end; p++) {
        h = (h ^ *p) * 0x100000001b3UL;
    }
    return h;
}

void faults_main(unsigned long vcpu, unsigned long vcpus, unsigned long ram) {
    (void) vcpus;
    (void) ram;
    if (vcpu != 0) {
        park();
    }
    serial_puts("faults guest started\n");
    work();
    serial_puts("work done\n");
    hold_here();
    rewrite_scratch();
    unsigned long sum = checksum_image();
    serial_puts("checksum ");
    serial_putu(sum);
    serial_puts("\n");
    guest_exit(exit_code);
}

GUEST_ENTRY(faults_main);
