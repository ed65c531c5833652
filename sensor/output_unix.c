#define _GNU_SOURCE /* memrchr, POLLRDHUP */
/* Unix socket EVE outputs (Suricata's unix_stream / unix_dgram): the
 * receiver (a log shipper) owns the socket path; we connect to it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sensor/output.h"

typedef struct ux {
    int fd;
    int type;
    struct sockaddr_un sa;
    uint64_t timeout_us;
} ux;

static void *ux_create(const sw_output_config *c, int type, char *err, size_t errlen)
{
    ux *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "output %s: out of memory", c->name);
        return NULL;
    }
    if (strlen(c->filename) >= sizeof(u->sa.sun_path)) {
        snprintf(err, errlen, "output %s: socket path too long: %s", c->name, c->filename);
        free(u);
        return NULL;
    }
    u->fd = -1;
    u->type = type;
    u->sa.sun_family = AF_UNIX;
    strcpy(u->sa.sun_path, c->filename);
    u->timeout_us = c->timeout_us;
    return u;
}

static void *ux_stream_create(const sw_output_config *c, char *err, size_t errlen)
{
    return ux_create(c, SOCK_STREAM, err, errlen);
}

static void *ux_dgram_create(const sw_output_config *c, char *err, size_t errlen)
{
    return ux_create(c, SOCK_DGRAM, err, errlen);
}

static int ux_connect(void *t, char *err, size_t errlen)
{
    ux *u = t;
    u->fd = socket(AF_UNIX, u->type | SOCK_CLOEXEC, 0);
    if (u->fd < 0 || sw_out_connect_fd(u->fd, &u->sa, sizeof(u->sa), u->timeout_us) != 0) {
        snprintf(err, errlen, "%s: %s", u->sa.sun_path, strerror(errno));
        return -1;
    }
    sw_out_set_timeouts(u->fd, u->timeout_us);
    return 0;
}

static void ux_disconnect(void *t)
{
    ux *u = t;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}

static void ux_destroy(void *t)
{
    ux_disconnect(t);
    free(t);
}

static int ux_stream_send(void *t, const char *buf, size_t len, size_t *done, uint64_t *rej)
{
    ux *u = t;
    *done = 0;
    if (sw_out_peer_gone(u->fd))
        return -1;
    size_t w = 0;
    int rc = sw_out_send_all(u->fd, buf, len, &w);
    if (rc == 0) {
        *done = len;
        return 0;
    }
    /* Resend from the first line not completely written. */
    const char *nl = w ? memrchr(buf, '\n', w) : NULL;
    *done = nl ? (size_t)(nl - buf) + 1 : 0;
    return -1;
}

/* One datagram per event, without the newline (the datagram is the frame). */
static int ux_dgram_send(void *t, const char *buf, size_t len, size_t *done, uint64_t *rej)
{
    ux *u = t;
    *done = 0;
    while (*done < len) {
        const char *s = buf + *done;
        const char *nl = memchr(s, '\n', len - *done);
        size_t n = nl ? (size_t)(nl - s) : len - *done;
        ssize_t w = send(u->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EMSGSIZE) {
            (*rej)++; /* can never fit a datagram */
        } else if (w < 0) {
            return -1;
        }
        *done += n + (nl ? 1 : 0);
    }
    return 0;
}

const sw_transport sw_transport_unix_stream = {ux_stream_create, ux_connect, ux_stream_send,
                                               ux_disconnect, ux_destroy};
const sw_transport sw_transport_unix_dgram = {ux_dgram_create, ux_connect, ux_dgram_send,
                                              ux_disconnect, ux_destroy};
