/*
 * The SMP guest of gdb-core's KVM tests (KvmTargetSmpTest): every vCPU runs the same code.
 * Freestanding x86-64, entered in long mode with RDI = vCPU index, RSI = vCPU count (DESIGN.md).
 *
 * Every vCPU registers at a rendezvous and waits there until the test sets `go` and all vCPUs have
 * arrived; then each calls shared() `rounds` times (counting in hits[vcpu]) and spins for ever
 * (counting in spins[vcpu]). With `probe` set, vCPU 0 first runs flags_probe(). sum_to() is for
 * range stepping: one loop, many instructions.
 */

volatile int go;
volatile int probe;
volatile unsigned long arrived;
volatile unsigned long hits[8];
volatile unsigned long spins[8];
volatile unsigned long flags_seen;
volatile long sum;
int rounds = 3;
int sum_n = 1000;

int shared(unsigned long vcpu)
{
    hits[vcpu & 7]++;
    return (int) vcpu;
}

long sum_to(int n)
{
    long total = 0;
    for (int i = 0; i < n; i++) {
        __asm__ volatile(".globl sum_to_body\nsum_to_body:");
        total += i;
    }
    return total;
}

/*
 * Turns interrupts on (there is no interrupt controller, so none comes) and keeps what pushf saw,
 * running freely: the guest's own RFLAGS. The four nops after flags_probe_nops leave RFLAGS alone,
 * so a debugger stepping them must keep showing that value.
 */
void flags_probe(void)
{
    unsigned long f;
    __asm__ volatile("sti\n\tpushfq\n\tpopq %0" : "=r"(f));
    flags_seen = f;
    __asm__ volatile(".globl flags_probe_nops\nflags_probe_nops:\n\tnop\n\tnop\n\tnop\n\tnop\n\tcli");
}

__attribute__((noreturn, section(".text.start"))) void _start(unsigned long vcpu, unsigned long vcpus)
{
    __atomic_fetch_add(&arrived, 1, __ATOMIC_SEQ_CST);
    while (!go || arrived < vcpus) {
    }
    if (vcpu == 0 && probe) {
        flags_probe();
    }
    if (vcpu == 0) {
        sum = sum_to(sum_n);
    }
    for (int i = 0; i < rounds; i++) {
        shared(vcpu);
    }
    for (;;) {
        spins[vcpu & 7]++;
    }
}
