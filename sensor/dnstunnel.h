/* Lexical signals of DNS tunnels and DGA domains: pure functions on one
 * name, no state (the per-host counters live in the beacon tracker). */
#ifndef SW_DNSTUNNEL_H
#define SW_DNSTUNNEL_H

#include <stdbool.h>
#include <stddef.h>

/* Shannon entropy in bits per character of s[0..n). */
double sw_dns_entropy(const char *s, size_t n);
/* The part of a name below its registered domain ("a1b2.c3" for
 * "a1b2.c3.evil.com") looks like encoded data: long and high-entropy. Dots
 * are ignored so that data split over several labels counts as a whole. */
bool sw_dns_sub_encoded(const char *sub, size_t n);
/* The same, with a lower bar: random-looking (for counting unique names). */
bool sw_dns_sub_random(const char *sub, size_t n);
/* The first label of a registered domain ("xkqjzvbw" of "xkqjzvbw.com")
 * looks machine-generated. */
bool sw_dns_label_dga(const char *label, size_t n);
/* sub[0..n) starts with an IP address written as DNS labels: four decimal
 * labels 0..255 (reversed IPv4, "4.3.2.1.zen" of a DNSBL lookup,
 * "...origin.asn" of a whois-by-DNS lookup) or 32 one-hex-digit labels
 * (IPv6 nibbles). Such names carry an address, not encoded data. */
bool sw_dns_sub_is_addr(const char *sub, size_t n);

#endif
