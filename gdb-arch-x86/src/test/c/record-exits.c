/*
 * The probe that recorded the kernel bytes in src/test/java/org/kvmgdb/arch/x86/fake/Recorded.java
 * on a PVM host (see /work/shared/KVM-HERE.md). Not part of the build; to re-record:
 *   gcc -O0 -o record-exits record-exits.c && sudo ./record-exits
 * It prints the first 128 bytes of kvm_run and KVM_GET_VCPU_EVENTS after each exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#define RAM (4ul<<20)
static int kvm, vm, vcpu; static struct kvm_run *run; static uint8_t *mem;
static void die(const char*m){perror(m);exit(1);}
static void hexdump(const char *label, const void *p, size_t n){const uint8_t*b=p;printf("%s:",label);for(size_t i=0;i<n;i++)printf("%02x",b[i]);printf("\n");}
static void dumpexit(const char *what){
  struct kvm_regs r; ioctl(vcpu,KVM_GET_REGS,&r);
  printf("== %s exit_reason=%u rip=%llx\n", what, run->exit_reason, r.rip);
  hexdump("run0_128", run, 128);
  struct kvm_vcpu_events ev; memset(&ev,0,sizeof ev); if(ioctl(vcpu,KVM_GET_VCPU_EVENTS,&ev)<0) perror("events"); hexdump("events", &ev, sizeof ev);
}
static void setdbg(uint32_t control, uint64_t dr0, uint64_t dr1, uint64_t dr7){
  struct kvm_guest_debug d; memset(&d,0,sizeof d); d.control=control; d.arch.debugreg[0]=dr0; d.arch.debugreg[1]=dr1; d.arch.debugreg[7]=dr7;
  if(ioctl(vcpu,KVM_SET_GUEST_DEBUG,&d)<0) die("guestdbg");
}
int main(){
  kvm=open("/dev/kvm",O_RDWR); vm=ioctl(kvm,KVM_CREATE_VM,0);
  mem=mmap(0,RAM,PROT_READ|PROT_WRITE,MAP_SHARED|MAP_ANONYMOUS,-1,0);
  struct kvm_userspace_memory_region reg={0,0,0,RAM,(uint64_t)mem}; if(ioctl(vm,KVM_SET_USER_MEMORY_REGION,&reg)<0) die("mem");
  vcpu=ioctl(vm,KVM_CREATE_VCPU,0); int sz=ioctl(kvm,KVM_GET_VCPU_MMAP_SIZE,0);
  run=mmap(0,sz,PROT_READ|PROT_WRITE,MAP_SHARED,vcpu,0);
  printf("guestdbg2 cap=%x\n", ioctl(vm,KVM_CHECK_EXTENSION,KVM_CAP_SET_GUEST_DEBUG2));
  // page tables
  uint64_t *gdt=(uint64_t*)(mem+0x1000); gdt[0]=0; gdt[1]=0x00af9b000000ffffull; gdt[2]=0x00cf93000000ffffull;
  uint64_t *pml4=(uint64_t*)(mem+0x2000),*pdpt=(uint64_t*)(mem+0x3000),*pd=(uint64_t*)(mem+0x4000);
  pml4[0]=0x3000|3; pdpt[0]=0x4000|3; for(int i=0;i<2;i++) pd[i]=((uint64_t)i<<21)|0x83;
  // cpuid
  int n=256; struct kvm_cpuid2 *c=calloc(1,sizeof(*c)+n*sizeof(struct kvm_cpuid_entry2)); c->nent=n;
  if(ioctl(kvm,KVM_GET_SUPPORTED_CPUID,c)<0) die("cpuid"); printf("cpuid nent=%u\n",c->nent);
  if(ioctl(vcpu,KVM_SET_CPUID2,c)<0) die("setcpuid");
  struct kvm_sregs s; ioctl(vcpu,KVM_GET_SREGS,&s);
  hexdump("reset_sregs",&s,sizeof s);
  s.cr0=0x80050033; s.cr4=0x620; s.efer=0x500; s.cr3=0x2000; s.gdt.base=0x1000; s.gdt.limit=23;
  struct kvm_segment cs={0,0xffffffff,8,11,1,0,0,1,1,1,0,0,0}; s.cs=cs;
  struct kvm_segment ds={0,0xffffffff,16,3,1,0,1,1,0,1,0,0,0}; s.ds=s.es=s.fs=s.gs=s.ss=ds;
  if(ioctl(vcpu,KVM_SET_SREGS,&s)<0) die("sregs");
  struct kvm_fpu f; ioctl(vcpu,KVM_GET_FPU,&f); hexdump("reset_fpu_head",&f,160); printf("reset mxcsr=%x\n", f.mxcsr);
  f.fcw=0x37f; f.mxcsr=0x1f80; if(ioctl(vcpu,KVM_SET_FPU,&f)<0) die("fpu");
  uint8_t code[]={0x48,0xc7,0xc0,0x2a,0,0,0,   /* 100000 mov rax,42 */
     0x48,0x83,0xc0,0x01,0x90,                  /* 100007 add rax,1; nop */
     0x90,                                      /* 10000c nop */
     0x48,0x89,0x04,0x25,0x00,0x00,0x20,0x00,   /* 10000d mov [0x200000],rax */
     0xcc,                                      /* 100015 int3 */
     0x90, 0xf4};                               /* 100016 nop; hlt */
  memcpy(mem+0x100000,code,sizeof code);
  struct kvm_regs r; memset(&r,0,sizeof r); r.rip=0x100000; r.rflags=2; r.rsp=RAM; if(ioctl(vcpu,KVM_SET_REGS,&r)<0) die("regs");
  setdbg(KVM_GUESTDBG_ENABLE|KVM_GUESTDBG_SINGLESTEP,0,0,0);
  ioctl(vcpu,KVM_RUN,0); dumpexit("step1");
  ioctl(vcpu,KVM_RUN,0); dumpexit("step2 add");
  ioctl(vcpu,KVM_GET_FPU,&f); hexdump("xmm0",f.xmm[0],16);
  setdbg(KVM_GUESTDBG_ENABLE|KVM_GUESTDBG_USE_HW_BP|KVM_GUESTDBG_USE_SW_BP,0x10000c,0x200000,0x600|0x2|0x8|(0xdul<<20));
  ioctl(vcpu,KVM_RUN,0); dumpexit("hwbp DR0 nop");
  setdbg(KVM_GUESTDBG_ENABLE|KVM_GUESTDBG_USE_HW_BP|KVM_GUESTDBG_USE_SW_BP,0,0x200000,0x600|0x8|(0xdul<<20));
  ioctl(vcpu,KVM_RUN,0); dumpexit("watch on DR1 (write len8), then int3");
  printf("mem[0x200000]=%lx\n", *(uint64_t*)(mem+0x200000));
  ioctl(vcpu,KVM_RUN,0); dumpexit("again at int3");
  mem[0x100015]=0x90;
  setdbg(0,0,0,0);
  ioctl(vcpu,KVM_RUN,0); dumpexit("after restoring nop (expect hlt)");
  return 0;
}
