/*
 * The guest the watchpoint end-to-end tests debug with real gdb (WatchpointTest): globals written
 * and read at known lines. The tests name lines of this file: keep them stable or update the tests.
 */
#include "guest.h"

struct point {
    long x;
    long y;
};

struct point origin = {3, 4};
long counter;
long readings = 5;      /* only read */
long total;

void count_to(int n) {
    for (int i = 0; i < n; i++) {
        counter++;
    }
}

void move_origin(long dy) {
    origin.y += dy;
}

long sum_readings(int n) {
    long sum = 0;
    for (int i = 0; i < n; i++) {
        sum += readings;
    }
    return sum;
}

void watch_main(unsigned long vcpu, unsigned long vcpus, unsigned long ram) {
    if (vcpu != 0) {
        park();
    }
    count_to(3);
    move_origin(6);
    total = sum_readings(2) + counter + origin.y;
    serial_puts("watch guest done\n");
    guest_exit((unsigned int) total);
}

GUEST_ENTRY(watch_main);
