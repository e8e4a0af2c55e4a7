/*
 * The guest the end-to-end tests debug with real gdb. Each function exists for one gdb command
 * the tests exercise (break/finish/step/next/until/bt/print/set var); keep line numbers of the
 * marked lines stable or update the tests that name them.
 */
#include "guest.h"

struct point {
    long x;
    long y;
};

struct point origin = {3, 4};
long counter;
int exit_code = 3;      /* the tests change it with `set var` and check the VM's exit status */
volatile int spin;      /* set to 1 from gdb to make the guest spin until interrupted */

long add(long a, long b) {
    long sum = a + b;
    return sum;
}

long square(long v) {
    return v * v;
}

long factorial(long n) {
    if (n <= 1) {
        return 1;
    }
    return n * factorial(n - 1);
}

long distance2(const struct point *p) {
    long dx = p->x;
    long dy = p->y;
    return square(dx) + square(dy);
}

long loop_sum(int n) {
    long total = 0;
    for (int i = 0; i < n; i++) {
        total += i;
    }
    return total;
}

void spin_forever(void) {
    while (spin) {
        counter++;
    }
}

void e2e_main(unsigned long vcpu, unsigned long vcpus, unsigned long ram) {
    if (vcpu != 0) {
        park();
    }
    long a = add(2, 3);
    long f = factorial(5);
    long d = distance2(&origin);
    long s = loop_sum(10);
    counter = a + f + d + s;
    spin_forever();
    serial_puts("e2e guest done\n");
    guest_exit(exit_code);
}

GUEST_ENTRY(e2e_main);
