/* Stands in for Shadow's preloaded libc in a native test of the shim: it comes
 * first in LD_PRELOAD and answers the two socket options Shadow does not
 * implement with ENOPROTOOPT, as Shadow 3.x does; everything else goes to the
 * kernel. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
    int value = 1;
    if (optval != NULL && optlen >= (socklen_t)sizeof value) {
        memcpy(&value, optval, sizeof value);
    }
    if ((level == IPPROTO_IP && optname == IP_TOS) ||
        (level == IPPROTO_TCP && optname == TCP_NODELAY && value == 0)) {
        errno = ENOPROTOOPT;
        return -1;
    }
    return (int)syscall(SYS_setsockopt, fd, level, optname, optval, optlen);
}
