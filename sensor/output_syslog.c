#define _GNU_SOURCE /* POLLRDHUP */
/* Syslog EVE output: RFC 5424 messages carrying the EVE JSON as MSG, over
 * TCP with octet-counting framing (RFC 6587 3.4.1), over UDP (one message a
 * datagram, RFC 5426), or over TLS (RFC 5425; built when libssl is linked,
 * SW_WITH_LIBSSL).
 *
 * Plain syslog has no application acknowledgement: lines are counted as
 * delivered once the kernel took them. Before every batch we check whether
 * the receiver closed the connection (a syslog receiver never writes), so a
 * receiver that went away does not swallow the next batch; what sat unread
 * in a killed receiver's socket buffer is beyond any sender's reach (use
 * Redis when that matters). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef SW_WITH_LIBSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#include "sensor/output.h"

#define FRAME_LINES 128
#define HDR_MAX 400

typedef struct sl {
    sw_output_config c;
    int fd;
    char host[256];
    char procid[16];
    char *fbuf;  /* frames of one round */
    size_t fcap;
    size_t fend[FRAME_LINES], lend[FRAME_LINES];
#ifdef SW_WITH_LIBSSL
    SSL_CTX *ctx;
    SSL *ssl;
#endif
} sl;

static void *sl_create(const sw_output_config *c, char *err, size_t errlen)
{
    sl *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "output %s: out of memory", c->name);
        return NULL;
    }
    s->c = *c;
    s->fd = -1;
    if (gethostname(s->host, sizeof(s->host) - 1) != 0 || !s->host[0])
        strcpy(s->host, "-");
    for (char *p = s->host; *p; p++)
        if (*p <= ' ' || *p > '~')
            *p = '_';
    snprintf(s->procid, sizeof(s->procid), "%d", (int)getpid());
    s->fcap = (size_t)SW_OUT_MAX_LINE + FRAME_LINES * (size_t)(HDR_MAX + 16) + (256u << 10);
    s->fbuf = malloc(s->fcap);
    if (!s->fbuf) {
        snprintf(err, errlen, "output %s: out of memory", c->name);
        free(s);
        return NULL;
    }
#ifdef SW_WITH_LIBSSL
    if (c->tls) {
        s->ctx = SSL_CTX_new(TLS_client_method());
        if (!s->ctx) {
            snprintf(err, errlen, "output %s: TLS init failed", c->name);
            free(s->fbuf);
            free(s);
            return NULL;
        }
        SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
        if (c->tls_verify) {
            SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
            int ok = c->tls_ca[0] ? SSL_CTX_load_verify_locations(s->ctx, c->tls_ca, NULL)
                                  : SSL_CTX_set_default_verify_paths(s->ctx);
            if (ok != 1) {
                snprintf(err, errlen, "output %s: cannot load CA %s", c->name, c->tls_ca);
                SSL_CTX_free(s->ctx);
                free(s->fbuf);
                free(s);
                return NULL;
            }
        }
        if (c->tls_cert[0] &&
            (SSL_CTX_use_certificate_chain_file(s->ctx, c->tls_cert) != 1 ||
             SSL_CTX_use_PrivateKey_file(s->ctx, c->tls_key[0] ? c->tls_key : c->tls_cert,
                                         SSL_FILETYPE_PEM) != 1)) {
            snprintf(err, errlen, "output %s: cannot load client certificate %s", c->name,
                     c->tls_cert);
            SSL_CTX_free(s->ctx);
            free(s->fbuf);
            free(s);
            return NULL;
        }
    }
#endif
    return s;
}

static void sl_disconnect(void *t)
{
    sl *s = t;
#ifdef SW_WITH_LIBSSL
    if (s->ssl) {
        SSL_shutdown(s->ssl); /* close_notify: the receiver knows it got all */
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
#endif
    if (s->fd >= 0) {
        /* Closing a TCP socket with unread input (TLS session tickets the
         * server sent) resets the connection, and a reset makes the
         * receiver throw away lines it has not read yet. Say we are done,
         * take what the peer still sends (briefly), then close. */
        if (s->c.syslog_tcp) {
            shutdown(s->fd, SHUT_WR);
            char junk[4096];
            for (int i = 0; i < 50; i++) {
                struct pollfd p = {.fd = s->fd, .events = POLLIN};
                if (poll(&p, 1, 20) <= 0)
                    break;
                ssize_t r = read(s->fd, junk, sizeof junk);
                if (r <= 0)
                    break;
            }
        }
        close(s->fd);
    }
    s->fd = -1;
}

static void sl_destroy(void *t)
{
    sl *s = t;
    sl_disconnect(s);
#ifdef SW_WITH_LIBSSL
    if (s->ctx)
        SSL_CTX_free(s->ctx);
#endif
    free(s->fbuf);
    free(s);
}

static int sl_connect(void *t, char *err, size_t errlen)
{
    sl *s = t;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = s->c.syslog_tcp ? SOCK_STREAM : SOCK_DGRAM;
    char port[8];
    snprintf(port, sizeof(port), "%u", s->c.port);
    int rc = getaddrinfo(s->c.server, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", s->c.server, gai_strerror(rc));
        return -1;
    }
    rc = -1;
    for (struct addrinfo *ai = res; ai && rc != 0; ai = ai->ai_next) {
        s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s->fd < 0)
            continue;
        if (sw_out_connect_fd(s->fd, ai->ai_addr, ai->ai_addrlen, s->c.timeout_us) == 0) {
            rc = 0;
            break;
        }
        close(s->fd);
        s->fd = -1;
    }
    freeaddrinfo(res);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%s: %s", s->c.server, port, strerror(errno));
        return -1;
    }
    sw_out_set_timeouts(s->fd, s->c.timeout_us);
#ifdef SW_WITH_LIBSSL
    if (s->ctx) {
        s->ssl = SSL_new(s->ctx);
        if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1) {
            snprintf(err, errlen, "TLS setup failed");
            return -1;
        }
        SSL_set_tlsext_host_name(s->ssl, s->c.server);
        if (s->c.tls_verify)
            SSL_set1_host(s->ssl, s->c.server);
        if (SSL_connect(s->ssl) != 1) {
            snprintf(err, errlen, "%s:%s: TLS handshake failed", s->c.server, port);
            return -1;
        }
    }
#endif
    return 0;
}

/* RFC 5424 TIMESTAMP from the event's own "timestamp" (EVE's
 * 2026-11-21T09:13:05.123456+0000 becomes ...+00:00); "-" if absent. */
static size_t sl_ts(const char *line, size_t n, char *out)
{
    static const char pre[] = "{\"timestamp\":\"";
    const size_t pl = sizeof(pre) - 1;
    if (n < pl + 31 || memcmp(line, pre, pl) != 0 || line[pl + 31] != '"') {
        out[0] = '-';
        return 1;
    }
    const char *t = line + pl;
    for (size_t i = 0; i < 31; i++)
        if ((unsigned char)t[i] <= ' ' || t[i] == '"')
            return (out[0] = '-', 1);
    memcpy(out, t, 29); /* ...SS.uuuuuu+HH */
    out[29] = ':';
    memcpy(out + 30, t + 29, 2);
    return 32;
}

/* Frames up to FRAME_LINES lines starting at buf; returns lines framed. */
static size_t sl_frame(sl *s, const char *buf, size_t len, size_t *flen)
{
    size_t off = 0, fo = 0, k = 0;
    int pri = s->c.syslog_facility * 8 + s->c.syslog_severity;
    while (off < len && k < FRAME_LINES) {
        const char *l = buf + off;
        const char *nl = memchr(l, '\n', len - off);
        size_t n = nl ? (size_t)(nl - l) : len - off;
        if (k && fo + n + HDR_MAX + 16 > s->fcap)
            break;
        char hdr[HDR_MAX], ts[40];
        size_t tl = sl_ts(l, n, ts);
        int hl = snprintf(hdr, sizeof(hdr), "<%d>1 %.*s %s %s %s - - ", pri, (int)tl, ts,
                          s->host, s->c.syslog_ident, s->procid);
        if (hl < 0 || (size_t)hl >= sizeof(hdr))
            hl = 0;
        if (s->c.syslog_tcp)
            fo += (size_t)snprintf(s->fbuf + fo, 16, "%zu ", (size_t)hl + n);
        memcpy(s->fbuf + fo, hdr, (size_t)hl);
        memcpy(s->fbuf + fo + hl, l, n);
        fo += (size_t)hl + n;
        off += n + (nl ? 1 : 0);
        s->fend[k] = fo;
        s->lend[k] = off;
        k++;
    }
    *flen = fo;
    return k;
}

static int sl_write(sl *s, const char *b, size_t n, size_t *w)
{
#ifdef SW_WITH_LIBSSL
    if (s->ssl) {
        *w = 0;
        while (*w < n) {
            size_t k = 0;
            if (SSL_write_ex(s->ssl, b + *w, n - *w, &k) != 1)
                return -1;
            *w += k;
        }
        return 0;
    }
#endif
    return sw_out_send_all(s->fd, b, n, w);
}

static bool sl_gone(sl *s)
{
#ifdef SW_WITH_LIBSSL
    if (s->ssl) {
        /* TLS 1.3 servers send session tickets, so readable is normal;
         * only a FIN or an error means the receiver left. */
        struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};
        return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLERR | POLLHUP));
    }
#endif
    return sw_out_peer_gone(s->fd);
}

static int sl_send(void *t, const char *buf, size_t len, size_t *done, uint64_t *rej)
{
    sl *s = t;
    *done = 0;
    if (s->c.syslog_tcp && sl_gone(s))
        return -1;
    while (*done < len) {
        size_t flen, k = sl_frame(s, buf + *done, len - *done, &flen);
        if (s->c.syslog_tcp) {
            size_t w = 0;
            int rc = sl_write(s, s->fbuf, flen, &w);
            if (rc != 0) {
                /* Whole frames went out; a cut frame dies with the
                 * connection (the receiver drops it), so resend it. */
                size_t i = 0;
                while (i < k && s->fend[i] <= w)
                    i++;
                *done += i ? s->lend[i - 1] : 0;
                return -1;
            }
        } else {
            size_t prev = 0;
            for (size_t i = 0; i < k; i++) {
                size_t n = s->fend[i] - prev;
                ssize_t w;
                do
                    w = send(s->fd, s->fbuf + prev, n, MSG_NOSIGNAL);
                while (w < 0 && errno == EINTR);
                if (w < 0 && errno == EMSGSIZE) {
                    (*rej)++;
                } else if (w < 0) {
                    *done += i ? s->lend[i - 1] : 0;
                    return -1;
                }
                prev = s->fend[i];
            }
        }
        *done += s->lend[k - 1];
    }
    return 0;
}

const sw_transport sw_transport_syslog = {sl_create, sl_connect, sl_send, sl_disconnect,
                                          sl_destroy};
