/*
 * monerosim's setsockopt shim for monerod and monero-wallet-rpc under Shadow 3.x.
 *
 * Monero sets two socket options on every connection that Shadow does not
 * implement and answers with ENOPROTOOPT, after which Monero drops the
 * connection:
 *   setsockopt(fd, IPPROTO_IP,  IP_TOS, ...)
 *   setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &0, ...)   (Shadow has no Nagle)
 * Here exactly those two calls succeed and do nothing; every other call goes on.
 *
 * Shadow preloads its own libc wrapper ahead of the user's LD_PRELOAD, so an
 * interposed setsockopt alone is never reached. The constructor therefore
 * rewrites the main program's GOT entries for setsockopt to point at the filter,
 * which forwards to the setsockopt that comes first in the global scope
 * (Shadow's). Only the main program's calls are filtered: libraries that call
 * setsockopt themselves (libzmq, libunbound) are disabled by monerod's flags.
 * setsockopt is still exported, so the shim also works when Shadow does not
 * preload its libc (experimental.use_preload_libc: false).
 *
 * Build: cc -shared -fPIC -O2 -Wall -o libmonerosim_shim.so setsockopt_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
static setsockopt_fn forward_to; /* set when the GOT is patched, else looked up lazily */

static int swallowed(int level, int optname, const void *optval, socklen_t optlen)
{
    int value;
    if (level == IPPROTO_IP && optname == IP_TOS) {
        return 1;
    }
    if (level == IPPROTO_TCP && optname == TCP_NODELAY && optval != NULL &&
        optlen >= (socklen_t)sizeof(int)) {
        memcpy(&value, optval, sizeof value);
        return value == 0;
    }
    return 0;
}

int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
    if (swallowed(level, optname, optval, optlen)) {
        return 0;
    }
    if (forward_to == NULL) {
        forward_to = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
    }
    if (forward_to != NULL) {
        return forward_to(fd, level, optname, optval, optlen);
    }
    return (int)syscall(SYS_setsockopt, fd, level, optname, optval, optlen);
}

/* The filter by a hidden name: in position-independent code "&setsockopt" would
 * resolve through the GOT to whichever setsockopt comes first globally. */
extern int own_setsockopt(int, int, int, const void *, socklen_t)
    __attribute__((alias("setsockopt"), visibility("hidden"), nothrow, leaf));

static int main_is_bind_now;

/* d_ptr values may or may not have been relocated in place by the loader. */
static uintptr_t dynamic_address(uintptr_t base, uintptr_t pointer)
{
    return pointer < base ? base + pointer : pointer;
}

static void patch_slot(uintptr_t slot)
{
    void **entry = (void **)slot;
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = slot & ~(uintptr_t)(page - 1);
    void *first;
    if (*entry == (void *)&own_setsockopt) {
        return; /* already bound to the filter (no libc preloaded ahead of us) */
    }
    /* Not *entry: in a lazily bound program that is still the PLT stub. */
    first = dlsym(RTLD_DEFAULT, "setsockopt");
    if (first == NULL || first == (void *)&own_setsockopt) {
        first = dlsym(RTLD_NEXT, "setsockopt");
    }
    if (first == NULL || mprotect((void *)start, (size_t)page, PROT_READ | PROT_WRITE) != 0) {
        return;
    }
    forward_to = (setsockopt_fn)first;
    *entry = (void *)&own_setsockopt;
    if (main_is_bind_now) {
        mprotect((void *)start, (size_t)page, PROT_READ); /* the slot is in RELRO */
    }
}

static void patch_relocations(uintptr_t base, const ElfW(Rela) *relocations, size_t size,
                              const ElfW(Sym) *symbols, const char *names)
{
    size_t i;
    for (i = 0; i < size / sizeof(ElfW(Rela)); i++) {
        unsigned type = ELF64_R_TYPE(relocations[i].r_info);
        const char *name = names + symbols[ELF64_R_SYM(relocations[i].r_info)].st_name;
        if ((type == R_X86_64_JUMP_SLOT || type == R_X86_64_GLOB_DAT) &&
            strcmp(name, "setsockopt") == 0) {
            patch_slot(base + relocations[i].r_offset);
        }
    }
}

static int patch_main_program(struct dl_phdr_info *info, size_t size, void *data)
{
    const ElfW(Dyn) *dyn = NULL;
    uintptr_t base = info->dlpi_addr, jmprel = 0, rela = 0, symtab = 0, strtab = 0;
    size_t pltrelsz = 0, relasz = 0;
    int i;
    (void)size;
    (void)data;
    for (i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
            dyn = (const ElfW(Dyn) *)(base + info->dlpi_phdr[i].p_vaddr);
        }
    }
    if (dyn == NULL) {
        return 1;
    }
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_JMPREL: jmprel = dynamic_address(base, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: pltrelsz = dyn->d_un.d_val; break;
        case DT_RELA: rela = dynamic_address(base, dyn->d_un.d_ptr); break;
        case DT_RELASZ: relasz = dyn->d_un.d_val; break;
        case DT_SYMTAB: symtab = dynamic_address(base, dyn->d_un.d_ptr); break;
        case DT_STRTAB: strtab = dynamic_address(base, dyn->d_un.d_ptr); break;
        case DT_FLAGS: main_is_bind_now |= (dyn->d_un.d_val & DF_BIND_NOW) != 0; break;
        case DT_FLAGS_1: main_is_bind_now |= (dyn->d_un.d_val & DF_1_NOW) != 0; break;
        default: break;
        }
    }
    if (symtab == 0 || strtab == 0) {
        return 1;
    }
    if (jmprel != 0) {
        patch_relocations(base, (const ElfW(Rela) *)jmprel, pltrelsz,
                          (const ElfW(Sym) *)symtab, (const char *)strtab);
    }
    if (rela != 0) {
        patch_relocations(base, (const ElfW(Rela) *)rela, relasz,
                          (const ElfW(Sym) *)symtab, (const char *)strtab);
    }
    return 1; /* the first object reported is the main program: stop there */
}

/* Runs once the loader has bound every symbol (BIND_NOW or not). */
__attribute__((constructor)) static void monerosim_shim_init(void)
{
    dl_iterate_phdr(patch_main_program, NULL);
}
