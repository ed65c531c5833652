/* Thresholds were chosen on real tunnel names (dnscat2 hex labels in
 * ndpi-dns_exfiltration.pcap, iodine base32) against common long benign
 * names (CDN hosts, _dmarc/_domainkey records): benign long labels are
 * mostly words and repeat characters, encoded data spreads over an alphabet
 * of 16-32 symbols. */
#include "sensor/dnstunnel.h"

#include <math.h>
#include <stdint.h>

double sw_dns_entropy(const char *s, size_t n)
{
    unsigned cnt[256] = {0};
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.')
            continue;
        cnt[(uint8_t)s[i]]++;
        m++;
    }
    if (m == 0)
        return 0.0;
    double h = 0.0;
    for (int c = 0; c < 256; c++) {
        if (cnt[c] == 0)
            continue;
        double p = (double)cnt[c] / (double)m;
        h -= p * log2(p);
    }
    return h;
}

static size_t count_chars(const char *s, size_t n, size_t *digits, size_t *vowels)
{
    size_t m = 0;
    *digits = *vowels = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.')
            continue;
        m++;
        if (c >= '0' && c <= '9')
            (*digits)++;
        else if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u')
            (*vowels)++;
    }
    return m;
}

bool sw_dns_sub_encoded(const char *sub, size_t n)
{
    size_t digits, vowels;
    size_t m = count_chars(sub, n, &digits, &vowels);
    if (m < 24)
        return false;
    return sw_dns_entropy(sub, n) >= 3.3;
}

bool sw_dns_sub_random(const char *sub, size_t n)
{
    size_t digits, vowels;
    size_t m = count_chars(sub, n, &digits, &vowels);
    if (m < 8)
        return false;
    return sw_dns_entropy(sub, n) >= 2.8;
}

bool sw_dns_label_dga(const char *label, size_t n)
{
    size_t digits, vowels;
    size_t m = count_chars(label, n, &digits, &vowels);
    if (m < 10)
        return false;
    for (size_t i = 0; i < n; i++)
        if (label[i] == '-' || label[i] == '.')
            return false; /* words-joined-by-dashes, not DGA output */
    double h = sw_dns_entropy(label, n);
    double vr = (double)vowels / (double)m;
    /* letters-only DGAs keep few vowels; alphanumeric ones mix digits in */
    return h >= 3.0 && (vr < 0.22 || (digits >= 2 && digits < m));
}

/* Length of the label at s[0..n) up to the next dot (or n). */
static size_t label_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '.')
        i++;
    return i;
}

static bool ipv4_labels(const char *s, size_t n)
{
    size_t off = 0;
    for (int k = 0; k < 4; k++) {
        if (off >= n)
            return false;
        size_t l = label_len(s + off, n - off);
        if (l == 0 || l > 3)
            return false;
        unsigned v = 0;
        for (size_t i = 0; i < l; i++) {
            char c = s[off + i];
            if (c < '0' || c > '9')
                return false;
            v = v * 10 + (unsigned)(c - '0');
        }
        if (v > 255 || (l > 1 && s[off] == '0'))
            return false;
        off += l;
        /* the fourth label may end the part below the registered domain */
        if (k < 3) {
            if (off >= n || s[off] != '.')
                return false;
            off++;
        }
    }
    return off == n || s[off] == '.';
}

static bool ipv6_nibbles(const char *s, size_t n)
{
    /* "x." 32 times, the last one possibly without its dot */
    if (n < 63)
        return false;
    for (size_t k = 0; k < 32; k++) {
        char c = s[2 * k];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex)
            return false;
        size_t next = 2 * k + 1;
        if (next < n && s[next] != '.')
            return false;
        if (next >= n && k < 31)
            return false;
    }
    return true;
}

bool sw_dns_sub_is_addr(const char *sub, size_t n)
{
    return ipv4_labels(sub, n) || ipv6_nibbles(sub, n);
}
