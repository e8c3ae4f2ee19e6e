"""Extracts the argument names of the Google provider's Terraform resources that cloverlift
renders (and of the data sources it reads), from the generated code of the @cdktf/provider-google npm package (which is generated
from the provider's own `terraform providers schema -json`). The result is checked in as
tests/oracles/google-provider-schema.json; the Terraform oracle (gcp_check.py) reads it, since
the provider plugin itself cannot be downloaded here.

Regenerate:  npm pack @cdktf/provider-google@16.12.1 && tar xzf cdktf-provider-google-16.12.1.tgz
             python3 tests/oracles/extract_tf_schema.py package > tests/oracles/google-provider-schema.json
"""
import json
import re
import sys

RESOURCES = {
    "google_compute_disk": "compute-disk",
    "google_compute_address": "compute-address",
    "google_compute_firewall": "compute-firewall",
    "google_compute_instance": "compute-instance",
    "google_sql_database_instance": "sql-database-instance",
}
DATA_SOURCES = {
    "google_compute_address": "data-google-compute-address",
}
ENTRY = re.compile(r"^\s+([a-z0-9_]+): (.+?),?$")
CONVERTER = re.compile(r"\b([a-zA-Z0-9]+ToTerraform)\b")


def object_body(src, start):
    """The text between `return {` at or after `start` and its matching `}`."""
    i = src.index("return {", start) + len("return {")
    depth, j = 1, i
    while depth:
        depth += {"{": 1, "}": -1}.get(src[j], 0)
        j += 1
    return src[i:j - 1]


def arguments(body, converters, src, seen):
    """name -> None (a value) or a dict (a nested block), for one `return {...}` body."""
    result = {}
    for line in body.splitlines():
        m = ENTRY.match(line)
        if not m:
            continue
        name, expr = m.groups()
        nested = [c for c in CONVERTER.findall(expr) if c in converters and c not in seen]
        if nested:
            fn = nested[0]
            result[name] = arguments(object_body(src, converters[fn]), converters, src, seen | {fn})
        else:
            result[name] = None
    return result


def schema(package_dir, module):
    src = open(f"{package_dir}/lib/{module}/index.js", encoding="utf-8").read()
    converters = {m.group(1): m.start()
                  for m in re.finditer(r"^function ([a-zA-Z0-9]+ToTerraform)\(struct\)", src, re.M)}
    top = object_body(src, src.index("synthesizeAttributes() {"))
    return arguments(top, converters, src, frozenset())


def main(package_dir):
    meta = json.load(open(f"{package_dir}/package.json", encoding="utf-8"))
    out = {
        "source": f"{meta['name']} {meta['version']}",
        "provider": meta.get("cdktf", {}).get("provider", {}),
        "resources": {r: schema(package_dir, m) for r, m in sorted(RESOURCES.items())},
        "data_sources": {d: schema(package_dir, m) for d, m in sorted(DATA_SOURCES.items())},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
