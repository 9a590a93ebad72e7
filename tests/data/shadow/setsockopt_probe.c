/* Calls setsockopt as monerod does, from the main program, and prints for each
 * call "name rc value-after". */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

static void probe(const char *name, int fd, int level, int optname, int value)
{
    int after = -1;
    socklen_t length = sizeof after;
    int rc = setsockopt(fd, level, optname, &value, sizeof value);
    getsockopt(fd, level, optname, &after, &length);
    printf("%s %d %d\n", name, rc, after);
}

int main(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    probe("ip_tos", fd, IPPROTO_IP, IP_TOS, 0x10);
    probe("nodelay_on", fd, IPPROTO_TCP, TCP_NODELAY, 1);
    probe("nodelay_off", fd, IPPROTO_TCP, TCP_NODELAY, 0);
    probe("reuseaddr", fd, SOL_SOCKET, SO_REUSEADDR, 1);
    probe("bad_level", fd, 9999, 1, 1);
    return 0;
}
