/*
 * The physical limit for single-stepping on this host: a loop of KVM_RUN single steps on a
 * two-instruction guest loop (inc %rax; jmp back) in long mode, the way KVM-HERE.md measured it.
 * bench/single-step.sh and bench/stepped-watch.sh print it next to the stub's own figures, taken on
 * the same machine at the same time; bench/run.sh's "internal" figure divides by it. Not part of the
 * Maven build. Usage: single-step [STEPS [RUNS]] (default 200000 steps, 7 runs after one warm-up).
 * Prints the median, and a line "RESULT c_steps_per_s=N" for scripts.
 */
#include <linux/kvm.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <stdint.h>
int main(int argc,char**argv){
 int kvm=open("/dev/kvm",O_RDWR); int vm=ioctl(kvm,KVM_CREATE_VM,0);
 size_t ram=16<<20; uint8_t*mem=mmap(0,ram,PROT_READ|PROT_WRITE,MAP_SHARED|MAP_ANONYMOUS|MAP_NORESERVE,-1,0);
 struct kvm_userspace_memory_region r={0,0,0,ram,(uint64_t)mem}; ioctl(vm,KVM_SET_USER_MEMORY_REGION,&r);
 int vcpu=ioctl(vm,KVM_CREATE_VCPU,0); int sz=ioctl(kvm,KVM_GET_VCPU_MMAP_SIZE,0);
 struct kvm_run*run=mmap(0,sz,PROT_READ|PROT_WRITE,MAP_SHARED,vcpu,0);
 uint64_t*pml4=(uint64_t*)(mem+0x2000),*pdpt=(uint64_t*)(mem+0x3000),*pd=(uint64_t*)(mem+0x4000);
 pml4[0]=0x3000|3; pdpt[0]=0x4000|3; for(int i=0;i<8;i++) pd[i]=(i*0x200000ULL)|0x83;
 uint8_t code[]={0x48,0xff,0xc0,0xeb,0xfb}; memcpy(mem+0x100000,code,sizeof code); /* inc rax; jmp back */
 struct kvm_sregs s; ioctl(vcpu,KVM_GET_SREGS,&s);
 struct kvm_segment cs={0,0xffffffff,8,11,1,0,1,0,1,1,0,0}, ds={0,0xffffffff,0x10,3,1,0,1,1,0,1,0,0};
 s.cs=cs; s.ds=s.es=s.fs=s.gs=s.ss=ds; s.cr0=0x80050033; s.cr3=0x2000; s.cr4=1<<5; s.efer=0x500;
 ioctl(vcpu,KVM_SET_SREGS,&s);
 struct kvm_regs g={0}; g.rip=0x100000; g.rflags=2; g.rsp=ram; ioctl(vcpu,KVM_SET_REGS,&g);
 struct kvm_guest_debug d={0}; d.control=KVM_GUESTDBG_ENABLE|KVM_GUESTDBG_SINGLESTEP; ioctl(vcpu,KVM_SET_GUEST_DEBUG,&d);
 int n=argc>1?atoi(argv[1]):200000, runs=argc>2?atoi(argv[2]):7; if(n<1||runs<1||runs>100){fprintf(stderr,"usage: single-step [STEPS [RUNS]]\n");return 2;}
 double rates[100];
 for(int k=-1;k<runs;k++){ struct timespec a,b; clock_gettime(CLOCK_MONOTONIC,&a);
  for(int i=0;i<n;i++){ if(ioctl(vcpu,KVM_RUN,0)<0||run->exit_reason!=KVM_EXIT_DEBUG){printf("bad %d\n",run->exit_reason);return 1;} }
  clock_gettime(CLOCK_MONOTONIC,&b); if(k>=0) rates[k]=n/((b.tv_sec-a.tv_sec)+(b.tv_nsec-a.tv_nsec)/1e9);}
 for(int i=0;i<runs;i++)for(int j=i+1;j<runs;j++)if(rates[j]<rates[i]){double t=rates[i];rates[i]=rates[j];rates[j]=t;}
 double median=runs%2?rates[runs/2]:(rates[runs/2-1]+rates[runs/2])/2;
 printf("C KVM_RUN single steps: median %.0f steps/s over %d runs of %d steps (min %.0f max %.0f)\n",median,runs,n,rates[0],rates[runs-1]);
 printf("RESULT c_steps_per_s=%.0f\n",median);
}
