/*
 * The guest gdb-core's KVM tests run: freestanding x86-64, no libc, entered in long mode by the
 * VMM with RDI = vCPU index, RSI = vCPU count, RDX = RAM size (DESIGN.md, guest ABI).
 *
 * vCPU 0 prints a line to COM1, calls add() three times and scale() once, and ends through the
 * exit port with the sum (87, so the VM's exit status is (87 << 1) | 1 = 175). Other vCPUs count
 * forever. A test that wants something else writes `mode` before the first instruction: spin until
 * stop_spinning is set, halt forever, or execute an int3 of its own before the run.
 */

#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20
#define EXIT_PORT 0xF4

enum { MODE_RUN = 0, MODE_SPIN = 1, MODE_HALT = 2, MODE_INT3 = 3 };

struct point {
    int x;
    int y;
};

volatile int mode = MODE_RUN;
volatile int stop_spinning;
volatile unsigned long spin_count;
volatile unsigned long secondary_count[8];
struct point origin = {3, 4};
int global_counter;

static inline void outb(unsigned short port, unsigned char value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(unsigned short port, unsigned int value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline unsigned char inb(unsigned short port)
{
    unsigned char value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

void serial_putc(char c)
{
    while ((inb(COM1_LSR) & LSR_THR_EMPTY) == 0) {
    }
    outb(COM1, (unsigned char) c);
}

void serial_puts(const char *s)
{
    while (*s) {
        serial_putc(*s++);
    }
}

__attribute__((noreturn)) void exit_guest(unsigned int code)
{
    outl(EXIT_PORT, code);
    for (;;) {
        __asm__ volatile("hlt");
    }
}

int add(int a, int b)
{
    int sum = a + b;
    return sum;
}

int scale(struct point *p, int k)
{
    global_counter++;
    return add(p->x * k, p->y * k);
}

void spin(void)
{
    while (!stop_spinning) {
        spin_count++;
    }
}

void halt_forever(void)
{
    for (;;) {
        __asm__ volatile("hlt");
    }
}

/* The guest's own breakpoint instruction, not one a debugger planted (MODE_INT3). The guest has
 * no IDT of its own, so a #BP that reaches it shuts the vCPU down. */
void own_breakpoint(void)
{
    __asm__ volatile("int3");
}

__attribute__((noreturn)) void secondary(unsigned long cpu)
{
    for (;;) {
        secondary_count[cpu & 7]++;
    }
}

__attribute__((noreturn, section(".text.start"))) void _start(unsigned long cpu, unsigned long cpus, unsigned long ram)
{
    (void) cpus;
    (void) ram;
    if (cpu != 0) {
        secondary(cpu);
    }
    if (mode == MODE_SPIN) {
        spin();
    } else if (mode == MODE_HALT) {
        halt_forever();
    } else if (mode == MODE_INT3) {
        own_breakpoint();
    }
    serial_puts("hello from the kvmgdb test guest\n");
    int total = 0;
    for (int i = 1; i <= 3; i++) {
        total += add(i, 10 * i);
    }
    total += scale(&origin, 3);
    exit_guest((unsigned int) total);
}
