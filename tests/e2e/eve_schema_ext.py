"""Build the schema spanwatch's events must validate against.

It is Suricata's own EVE schema (../shared/eve-schema/suricata-eve.schema.json,
strict: additionalProperties false at every level) plus exactly the extension
points /work/shared/CONTRACT.md names, and nothing else:

  - top-level `beacon`  (the contract's field list, typed; no other fields)
  - top-level `ioc`     ({type, value, list})
  - top-level `geoip`   ({src, dest} each with the five GeoIP fields)
  - `stats.spanwatch`   (free-form object for counters Suricata has no place for)

The schema is built at test time from the shared file, so a newer copy of
Suricata's schema is picked up without editing this file.

Run directly to print the extended schema's added parts:
    /usr/bin/python3 eve_schema_ext.py
"""
import copy
import json
import os
import sys

TIMESTAMP_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d{4}$"

_GEO_SIDE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "country_iso_code": {"type": "string"},
        "country_name": {"type": "string"},
        "city_name": {"type": "string"},
        "asn": {"type": "integer", "minimum": 0},
        "as_org": {"type": "string"},
    },
}

EXTENSIONS = {
    "beacon": {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "period", "jitter", "count", "score", "first_seen", "last_seen",
                     "intervals"],
        "properties": {
            "kind": {"enum": ["flow", "dns"]},
            "period": {"type": "number", "minimum": 0},
            "jitter": {"type": "number", "minimum": 0},
            "count": {"type": "integer", "minimum": 0},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "first_seen": {"type": "string", "pattern": TIMESTAMP_RE},
            "last_seen": {"type": "string", "pattern": TIMESTAMP_RE},
            "rrname": {"type": "string"},
            "server_name": {"type": "string"},
            "intervals": {"type": "array", "maxItems": 64,
                          "items": {"type": "number", "minimum": 0}},
        },
    },
    "ioc": {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "value", "list"],
        "properties": {
            "type": {"type": "string"},
            "value": {"type": "string"},
            "list": {"type": "string"},
        },
    },
    "geoip": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"src": _GEO_SIDE, "dest": _GEO_SIDE},
    },
}


def base_schema_path(shared):
    return os.path.join(shared, "eve-schema", "suricata-eve.schema.json")


def extended_schema(shared):
    with open(base_schema_path(shared), encoding="utf-8") as f:
        schema = json.load(f)
    props = schema["properties"]
    for name, sub in EXTENSIONS.items():
        if name in props:
            raise RuntimeError("Suricata's schema already defines '%s'; revisit the extension"
                               % name)
        props[name] = copy.deepcopy(sub)
    stats = props["stats"]
    if "spanwatch" in stats.get("properties", {}):
        raise RuntimeError("Suricata's schema already defines stats.spanwatch")
    stats.setdefault("properties", {})["spanwatch"] = {"type": "object"}
    return schema


def validator(shared):
    import jsonschema
    schema = extended_schema(shared)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


if __name__ == "__main__":
    shared = os.environ.get("SW_SHARED") or "/work/shared"
    s = extended_schema(shared)
    json.dump({k: s["properties"][k] for k in EXTENSIONS}, sys.stdout, indent=1)
    print()
    print("stats.spanwatch:", json.dumps(s["properties"]["stats"]["properties"]["spanwatch"]))
