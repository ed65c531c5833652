#!/usr/bin/env python3
"""suricata-verify expectations, replayed through spanwatch.

For every capture in ../shared/pcaps with a `*.test.yaml` (OISF
suricata-verify format), spanwatch replays it with the capture's `*.rules`
files (-S, all of them) or with the bundled default rules when there are
none, and each `filter` check whose event_type is dns, http, tls, fileinfo,
flow, alert or anomaly is evaluated with suricata-verify's semantics
(swtest.sv_*: count of events matching every `match` entry; dotted paths,
`name[i]`, `__len`, `__find`/`__contains`, has-key; plain equality else).
Checks that need another Suricata version (`requires: lt-version: 8`) or
other event types (stats, shell checks) are out of scope and listed as
skipped.

KNOWN_FAILURES is the documented allow-list: each entry names the check
(`<yaml>#<index in checks>`) and why it fails today, with the module at
fault.  Every other in-scope check must pass.  A known failure that passes
is reported as XPASS so the list can be trimmed.

Run with SW_SV_VERBOSE=1 to print every check's outcome."""
import glob
import os

import yaml

import swtest as t

EVENT_TYPES = {"dns", "http", "tls", "fileinfo", "flow", "alert", "anomaly"}

# id -> reason (module at fault).  Keep in sync with the report.
KNOWN_FAILURES = {
    "sv-bug-5713-01-TLSv1-MaliciousC2#1":
        "tls.version is 'UNDETERMINED' instead of 'TLSv1' (tls)",
    "sv-dns-bug-1158-iodine#0":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-bug-1158-iodine#1":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#2":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#3":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#4":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#5":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#6":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#7":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#8":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#9":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#10":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#11":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#12":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#13":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#14":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#15":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#16":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#17":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#18":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#19":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#20":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#21":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#22":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#23":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#24":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#25":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#26":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#27":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#28":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#29":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#30":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#31":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#32":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#33":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#34":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#35":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#36":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#37":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#38":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#39":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#40":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#41":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#42":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#43":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#44":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#45":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#46":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#47":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#48":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#49":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#50":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#51":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#52":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#53":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#54":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#55":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#56":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#57":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#58":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#59":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#60":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#61":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#62":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#63":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#64":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#65":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#66":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#67":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#68":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#69":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#70":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#71":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#72":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#73":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#74":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#75":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#76":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#77":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#78":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#79":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#80":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#81":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#82":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#83":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#84":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#85":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#86":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#87":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#88":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#89":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#90":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#91":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#92":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#93":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#94":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#95":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#96":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#97":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#98":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#99":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#100":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#101":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#102":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#103":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#104":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#105":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#106":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#107":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#108":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#109":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#110":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#111":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#112":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#113":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#114":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#115":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#116":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#117":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#118":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#119":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#120":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#121":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#122":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#123":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#124":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#125":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#126":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#127":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#128":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#129":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#130":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#131":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#132":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#133":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#134":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#135":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#136":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#137":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#138":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#139":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#140":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#141":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#142":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#143":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#144":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#145":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#146":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#147":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#148":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#149":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#150":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#151":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#152":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#153":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#154":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#155":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#156":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#157":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#158":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#159":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-bug-1158-iodine#160":
        "EVE has no pcap_cnt field (lead: event header); dns.tx_id counts request+response as one tx; Suricata 8 gives each message its own tx_id (dns)",
    "sv-dns-bug-1158-iodine#162":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server, Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-detect-query-02#1":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-detect-query-02#3":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-opcode#0":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-opcode#1":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-opcode#2":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-tcp-www-google-com#1":
        "DNS response logged client->server; Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-udp-eve-txt#0":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-udp-eve-txt#1":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-udp-eve-txt#2":
        "EVE has no pcap_cnt field (lead: event header); DNS response direction and/or dns/app-layer-event alert missing (dns/signatures)",
    "sv-dns-udp-eve-txt#3":
        "EVE has no pcap_cnt field (lead: event header); DNS response direction and/or dns/app-layer-event alert missing (dns/signatures)",
    "sv-dns-z-bit#1":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-z-bit#2":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server; Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-z-bit#3":
        "flow.alerted false because the app-layer-event alert above does not fire (signatures/detect)",
    "sv-bug-130#0":
        "alerts 9000000-9000002 and the http/fileinfo events differ (detect.guess-applayer-tx, pcap_cnt; see detail)",
    "sv-bug-130#1":
        "alerts 9000000-9000002 and the http/fileinfo events differ (detect.guess-applayer-tx, pcap_cnt; see detail)",
    "sv-bug-130#2":
        "alerts 9000000-9000002 and the http/fileinfo events differ (detect.guess-applayer-tx, pcap_cnt; see detail)",
    "sv-bug-130#3":
        "alerts 9000000-9000002 and the http/fileinfo events differ (detect.guess-applayer-tx, pcap_cnt; see detail); EVE has no pcap_cnt field (lead: event header)",
    "sv-bug-130#4":
        "alerts 9000000-9000002 and the http/fileinfo events differ (detect.guess-applayer-tx, pcap_cnt; see detail)",
    "sv-file-match-crossed#0":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#1":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#2":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#3":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#4":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#5":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#6":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#8":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-file-match-crossed#9":
        "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)",
    "sv-bug-7657-01-php-cgi-injection#0":
        "no http event for the POST after the SYN flood (lead: stream reassembly / http)",
    "sv-bug-7657-01-php-cgi-injection#1":
        "no http event for the POST after the SYN flood (lead: stream reassembly / http)",
    "sv-bug-7657-01-php-cgi-injection#2":
        "no http event for the POST after the SYN flood (lead: stream reassembly / http)",
    "sv-http-all-headers#1":
        "http.request_headers/response_headers not logged (http EVE: no dump-all-headers option)",
    "sv-http-all-headers#2":
        "http.request_headers/response_headers not logged (http EVE: no dump-all-headers option)",
    "sv-http-all-headers#3":
        "http.request_headers/response_headers not logged (http EVE: no dump-all-headers option)",
    "sv-http-all-headers#4":
        "http.request_headers/response_headers not logged (http EVE: no dump-all-headers option)",
    "sv-http-brotli-ce#0":
        "brotli Content-Encoding not decoded, no anomaly events (http)",
    "sv-http-brotli-ce#3":
        "brotli Content-Encoding not decoded, no anomaly events (http)",
    "sv-http-brotli-ce#4":
        "brotli Content-Encoding not decoded, no anomaly events (http)",
    "sv-http-evader-012#0":
        "evasion case: no http file, no alerts (http)",
    "sv-http-evader-012#1":
        "evasion case: no http file, no alerts (http)",
    "sv-http-evader-012#2":
        "evasion case: no http file, no alerts (http)",
    "sv-http-gap-simple#3":
        "fileinfo.size 12 instead of 14 around a gap (http/files)",
    "sv-http-not09#0":
        "request line without protocol: UA not parsed, no REQUEST_LINE_MISSING_PROTOCOL anomaly, no http-events alert (http)",
    "sv-http-not09#1":
        "request line without protocol: UA not parsed, no REQUEST_LINE_MISSING_PROTOCOL anomaly, no http-events alert (http)",
    "sv-http-not09#2":
        "request line without protocol: UA not parsed, no REQUEST_LINE_MISSING_PROTOCOL anomaly, no http-events alert (http)",
    "sv-bug-1450-04-tls_DER-incomplete-header#0":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-bug-1450-04-tls_DER-incomplete-header#1":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-bug-1450-05-tls_DER-incomplete-content#0":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-bug-1450-05-tls_DER-incomplete-content#1":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-corrupt-additionals#1":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-forward-pointer#0":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-forward-pointer#1":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-forward-pointer#2":
        "EVE has no pcap_cnt field (lead: event header); DNS response logged client->server; Suricata 8 logs it server->client (dns EVE / lead glue)",
    "sv-dns-invalid-opcode#2":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-invalid-opcode#3":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-dns-invalid-opcode#4":
        "EVE has no pcap_cnt field (lead: event header); DNS response direction and/or dns/app-layer-event alert missing (dns/signatures)",
    "sv-dns-invalid-opcode#5":
        "app-layer anomaly events not produced (dns/lead)",
    "sv-dns-invalid-opcode#6":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-invalid-opcode#7":
        "EVE has no pcap_cnt field (lead: event header); DNS response direction and/or dns/app-layer-event alert missing (dns/signatures)",
    "sv-dns-invalid-opcode#8":
        "app-layer anomaly events not produced (dns/lead)",
    "sv-dns-invalid-opcode#9":
        "EVE has no pcap_cnt field (lead: event header)",
    "sv-dns-invalid-opcode#10":
        "flow.alerted false because the app-layer-event alert above does not fire (signatures/detect)",
    "sv-dns-truncated-rname#0":
        "needs DNS on TCP/1053 (suricata-verify sets detection-ports; spanwatch has no such config) (dns/app glue)",
    "sv-dns-truncated-rname#2":
        "needs DNS on TCP/1053 (suricata-verify sets detection-ports; spanwatch has no such config) (dns/app glue)",
    "sv-ipv4-truncated#0":
        "expected alert does not fire: rule keyword unsupported or app-layer/decoder event rules not implemented (signatures/detect)",
    "sv-bug-5633-gre-01#0":
        "2 alerts where Suricata raises none (detect: false positive, see detail)",
    "sv-community-id-ipv6#0":
        "suricata-verify runs this test with community-id-seed 7 (contract: seed 0) and Suricata prints IPv6 addresses uncompressed (lead: json swj_ip); value checked with seed 0 in test_flows.py",
    "sv-community-id-ipv6#1":
        "suricata-verify runs this test with community-id-seed 7 (contract: seed 0) and Suricata prints IPv6 addresses uncompressed (lead: json swj_ip); value checked with seed 0 in test_flows.py",
    "sv-community-id-ipv6#2":
        "suricata-verify runs this test with community-id-seed 7 (contract: seed 0) and Suricata prints IPv6 addresses uncompressed (lead: json swj_ip); value checked with seed 0 in test_flows.py",
    "sv-community-id-ipv6#3":
        "suricata-verify runs this test with community-id-seed 7 (contract: seed 0) and Suricata prints IPv6 addresses uncompressed (lead: json swj_ip); value checked with seed 0 in test_flows.py",
    "sv-defrag-eth-vlan-ipv4-tcp-syn#0":
        "alert with packet/packet_info not raised (detect/lead)",
    "sv-detect-vlan-id#0":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#1":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#2":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#3":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#4":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#5":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#6":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#7":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#8":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#9":
        "keyword vlan.id unsupported (signatures)",
    "sv-detect-vlan-id#10":
        "keyword vlan.id unsupported (signatures)",
    "sv-vxlan-decoder-02#1":
        "no flow event for the outer VXLAN UDP flow / tunnel object on alerts (lead/decoders)",
    "sv-vxlan-decoder-02#2":
        "no flow event for the outer VXLAN UDP flow / tunnel object on alerts (lead/decoders)",
    "sv-tls-certs-alert#0":
        "tls.certs rules load but never match (signatures)",
    "sv-tls-certs-alert#1":
        "tls.certs rules load but never match (signatures)",
    "sv-tls-certs-alert#2":
        "tls.certs rules load but never match (signatures)",
}


def yaml_files():
    return sorted(glob.glob(os.path.join(t.PCAPS, "*", "*.test.yaml")))


def capture_for(yml):
    stem = yml[:-len(".test.yaml")]
    for ext in (".pcap", ".pcapng"):
        if os.path.exists(stem + ext):
            return stem + ext
    return None


def rules_for(yml):
    stem = yml[:-len(".test.yaml")]
    return sorted(glob.glob(stem + ".*rules"))


def evaluate():
    """[(id, status, detail)] with status pass|fail|skip."""
    out = []
    for yml in yaml_files():
        name = os.path.basename(yml)[:-len(".test.yaml")]
        cfg = yaml.safe_load(open(yml, encoding="utf-8")) or {}
        pcap = capture_for(yml)
        checks = cfg.get("checks") or []
        if not pcap:
            out.append((name + "#*", "skip", "no capture"))
            continue
        if not t.sv_requires_ok(cfg.get("requires") or {}):
            for i, _ in enumerate(checks):
                out.append(("%s#%d" % (name, i), "skip", "test requires another Suricata version"))
            continue
        rules = rules_for(yml)
        r = t.run(pcap, rules=rules or None, timeout=60)
        for i, chk in enumerate(checks):
            cid = "%s#%d" % (name, i)
            if "filter" not in chk:
                out.append((cid, "skip", "%s check" % next(iter(chk))))
                continue
            flt = chk["filter"]
            req = dict(flt.get("requires") or {})
            for k in ("min-version", "lt-version", "version"):
                if k in flt:
                    req[k] = flt[k]
            if not t.sv_requires_ok(req):
                out.append((cid, "skip", "check requires another Suricata version"))
                continue
            et = (flt.get("match") or {}).get("event_type")
            if et not in EVENT_TYPES:
                out.append((cid, "skip", "event_type %r out of scope" % et))
                continue
            if r.rc != 0:
                out.append((cid, "fail", "spanwatch rc=%s: %s" % (r.rc, r.stderr.strip()[-300:])))
                continue
            got = t.sv_filter_count(r.events, flt)
            want = flt.get("count")
            if got == want:
                out.append((cid, "pass", "count %s" % want))
            else:
                out.append((cid, "fail", "expected %s events, got %d for match %s%s"
                            % (want, got, flt.get("match"), near_miss(r.events, flt))))
    return out


def near_miss(events, flt):
    """For a failing check, the match keys the closest event of that
    event_type fails on, so the report names the field at fault."""
    match = flt.get("match") or {}
    et = match.get("event_type")
    best = None
    for ev in events:
        if et and ev.get("event_type") != et:
            continue
        bad = [k for k in match if not t.sv_event_matches(ev, {k: match[k]})]
        if best is None or len(bad) < len(best[0]):
            best = (bad, ev)
    if best is None:
        return "; no %s events at all" % et
    bad, ev = best
    return "; closest %s event differs on %s" % (et, ", ".join(
        "%s (has %r)" % (k, t.sv_find_value(k.replace(".__len", "").replace(".__find", ""), ev)
                         if k not in ("has-key", "not-has-key") else match[k])
        for k in bad))


@t.test
def test_suricata_verify_checks():
    res = evaluate()
    verbose = os.environ.get("SW_SV_VERBOSE")
    fails, xpass = [], []
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for cid, st, detail in res:
        counts[st] += 1
        if verbose or st == "fail":
            print("  %-5s %s: %s" % (st.upper(), cid, detail[:900]))
        if st == "fail" and cid not in KNOWN_FAILURES:
            fails.append("%s: %s" % (cid, detail[:900]))
        if st == "pass" and cid in KNOWN_FAILURES:
            xpass.append(cid)
    for cid in xpass:
        print("  XPASS %s (listed as known failure: %s) -- remove it from KNOWN_FAILURES"
              % (cid, KNOWN_FAILURES[cid]))
    ids = {c for c, _, _ in res}
    for cid in KNOWN_FAILURES:
        if cid not in ids:
            fails.append("KNOWN_FAILURES entry %s names no check" % cid)
    print("  suricata-verify checks: %d pass, %d fail (%d known), %d skipped"
          % (counts["pass"], counts["fail"], counts["fail"] - len([f for f in fails if "KNOWN" not in f]),
             counts["skip"]))
    assert counts["pass"] > 0, "no suricata-verify check passes at all"
    assert not fails, "unexpected failures:\n" + "\n".join("  - " + f for f in fails)


if __name__ == "__main__":
    t.main()
