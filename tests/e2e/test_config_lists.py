#!/usr/bin/env python3
"""Config lists with a fixed capacity refuse what does not fit, naming the
key, instead of silently ignoring the rest (a 65th trusted domain or a 17th
DNS port that quietly does nothing is a monitoring hole nobody sees).

Oracle: the documented capacities (files.trusted-domains: 64 names of at
most 127 characters; app-layer.dns.ports: 16 ports). A list at capacity is
accepted by -T, one over it is a config error (exit 2) whose message names
the key."""
import os
import shutil
import tempfile

import swtest as t


def run_T(tmp, yaml_text):
    path = os.path.join(tmp, "c.yaml")
    with open(path, "w") as f:
        f.write(yaml_text)
    return t.spanwatch(["-T", "-c", path])


def trusted(names):
    return "files:\n  trusted-domains:\n" + "".join("    - %s\n" % n for n in names)


def dns_ports(ports):
    return "app-layer:\n  dns:\n    ports: [%s]\n" % ", ".join(str(p) for p in ports)


@t.test
def test_list_capacities():
    tmp = tempfile.mkdtemp(prefix="sw-cfglists-")
    soft = t.Soft()
    try:
        cases = [
            ("64 trusted domains", trusted("d%d.example.com" % i for i in range(64)), None),
            ("65 trusted domains", trusted("d%d.example.com" % i for i in range(65)),
             "files.trusted-domains"),
            ("trusted domain of 127 chars", trusted(["a" * 115 + ".example.com"]), None),
            ("trusted domain of 128 chars", trusted(["a" * 116 + ".example.com"]),
             "files.trusted-domains"),
            ("16 dns ports", dns_ports(range(1000, 1016)), None),
            ("17 dns ports", dns_ports(range(1000, 1017)), "app-layer.dns.ports"),
        ]
        for what, text, key in cases:
            p = run_T(tmp, text)
            if key is None:
                soft.eq(what + ": exit", p.returncode, 0)
            else:
                soft.eq(what + ": exit", p.returncode, 2)
                soft.true(key in p.stderr, "%s: error does not name %s: %r"
                          % (what, key, p.stderr[-300:]))
        soft.done()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t.main()
