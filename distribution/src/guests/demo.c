/*
 * The kvmgdb demo guest: a tiny bare-metal program to debug. It walks a list of planets, computes
 * a few values with small functions, prints them on COM1 and exits with status 0 (the launcher exits 1,
 * QEMU isa-debug-exit style: (0 << 1) | 1).
 *
 * Try: break orbit_days, continue, bt, finish, print *p, next, step, watch total_km ...
 */
#include "guest.h"

struct planet {
    const char *name;
    unsigned long distance_mkm; /* mean distance from the sun, million km */
    unsigned int moons;
};

static const struct planet planets[] = {
    {"Mercury", 58, 0}, {"Venus", 108, 0}, {"Earth", 150, 1}, {"Mars", 228, 2},
};

unsigned long total_km;   /* a global to print, set or watch */
volatile int keep_going = 1;

/* Integer square root by Newton's method: something to step through. */
unsigned long isqrt(unsigned long n) {
    unsigned long x = n, y = (x + 1) / 2;
    while (y < x) {
        x = y;
        y = (x + n / x) / 2;
    }
    return x;
}

/* Kepler's third law, scaled so that Earth (150 million km) gives 365 days: T^2 = 365^2 (a/150)^3. */
unsigned long orbit_days(const struct planet *p) {
    unsigned long a = p->distance_mkm;
    unsigned long cube = a * a * a;
    return isqrt(cube * 365 * 365 / (150UL * 150 * 150));
}

static void report(const struct planet *p, unsigned long days) {
    serial_puts(p->name);
    serial_puts(": ");
    serial_putu(days);
    serial_puts(" days, ");
    serial_putu(p->moons);
    serial_puts(p->moons == 1 ? " moon\n" : " moons\n");
}

void demo_main(unsigned long vcpu, unsigned long vcpus, unsigned long ram) {
    if (vcpu != 0) {
        park();
    }
    serial_puts("kvmgdb demo guest: ");
    serial_putu(vcpus);
    serial_puts(" vCPU(s), ");
    serial_putu(ram >> 20);
    serial_puts(" MiB RAM\n");
    for (unsigned int i = 0; i < sizeof planets / sizeof planets[0]; i++) {
        unsigned long days = orbit_days(&planets[i]);
        total_km += planets[i].distance_mkm;
        report(&planets[i], days);
    }
    serial_puts("done\n");
    guest_exit(0);
}

GUEST_ENTRY(demo_main);
