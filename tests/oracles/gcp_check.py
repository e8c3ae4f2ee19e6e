"""Offline oracle for rendered Google Cloud deployments.

deployment.yaml (Deployment Manager): every resource's `properties` are checked against the
schema of its API type in Google's discovery documents, as google-api-python-client ships
them (compute v1, sqladmin v1beta4): an unknown or misspelled key, a value outside an enum or
a field the API only outputs is a problem. `$(ref.NAME.…)` must name a resource of the config.

main.tf.json (Terraform for Infrastructure Manager): every resource's arguments, nested blocks
included, are checked against the Google provider's argument names (google-provider-schema.json
beside this file; the provider plugin cannot be downloaded here), and `${TYPE.NAME.…}`
references must name a resource of the file. Infrastructure Manager forbids backend blocks.

Prints one line per problem; exits 1 if there is any.
"""
import json
import os
import re
import sys
from pathlib import Path

import googleapiclient
import yaml

DOCS = Path(os.path.dirname(googleapiclient.__file__)) / "discovery_cache" / "documents"
# DM type -> (discovery document, schema, URL path parameters DM takes inside properties)
DM_TYPES = {
    "compute.v1.disk": ("compute.v1", "Disk", {"zone", "project"}),
    "compute.v1.instance": ("compute.v1", "Instance", {"zone", "project"}),
    "compute.v1.firewall": ("compute.v1", "Firewall", {"project"}),
    "compute.v1.address": ("compute.v1", "Address", {"region", "project"}),
    "sqladmin.v1beta4.instance": ("sqladmin.v1beta4", "DatabaseInstance", {"project"}),
}
TF_SCHEMA = json.loads((Path(__file__).parent / "google-provider-schema.json").read_text())
_schemas = {}


def schemas(doc):
    if doc not in _schemas:
        _schemas[doc] = json.loads((DOCS / f"{doc}.json").read_text())["schemas"]
    return _schemas[doc]


def output_only(field):
    text = field.get("description", "")
    return field.get("readOnly") or "[Output Only]" in text or text.startswith("Output only")


def check_value(value, field, defs, path, problems):
    if isinstance(value, str) and "$(ref." in value:
        return  # resolved by Deployment Manager at deployment time
    if "$ref" in field:
        field = defs[field["$ref"]]
    if isinstance(value, dict):
        props, extra = field.get("properties"), field.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}"
            if props is not None and key in props:
                if output_only(props[key]):
                    problems.append(f"{where}: output-only field")
                check_value(item, props[key], defs, where, problems)
            elif extra is not None:
                check_value(item, extra, defs, where, problems)
            else:
                problems.append(f"{where}: unknown field")
    elif isinstance(value, list):
        if field.get("type") != "array":
            problems.append(f"{path}: a list where the API has {field.get('type')}")
        for i, item in enumerate(value):
            check_value(item, field.get("items", {}), defs, f"{path}[{i}]", problems)
    elif "enum" in field and value not in field["enum"]:
        problems.append(f"{path}: {value!r} is not one of {field['enum']}")


def check_deployment_manager(path):
    problems = []
    config = yaml.safe_load(path.read_text())
    resources = config.get("resources", [])
    names = {r.get("name") for r in resources}
    for r in resources:
        dm_type = r.get("type")
        if dm_type not in DM_TYPES:
            problems.append(f"{path.name}: resource {r.get('name')}: unexpected type {dm_type}")
            continue
        doc, schema, path_params = DM_TYPES[dm_type]
        body = {k: v for k, v in r.get("properties", {}).items() if k not in path_params}
        check_value(body, {"$ref": schema}, schemas(doc), f"{path.name}: {r['name']}", problems)
    text = path.read_text()
    for ref in re.findall(r"\$\(ref\.([a-z0-9-]+)\.", text):
        if ref not in names:
            problems.append(f"{path.name}: $(ref.{ref}.…) names no resource")
    for output in config.get("outputs", []):
        if set(output) != {"name", "value"}:
            problems.append(f"{path.name}: output {output} is not {{name, value}}")
    return problems


def check_arguments(value, allowed, path, problems):
    """`allowed` maps argument names to None (a value) or to the nested block's arguments."""
    blocks = value if isinstance(value, list) else [value]
    for block in blocks:
        if not isinstance(block, dict):
            problems.append(f"{path}: a block must be an object")
            continue
        for key, item in block.items():
            if key not in allowed:
                problems.append(f"{path}.{key}: unknown argument")
            elif allowed[key] is not None:
                check_arguments(item, allowed[key], f"{path}.{key}", problems)


def check_lifecycle(lifecycle, allowed, path, problems):
    """The lifecycle meta-argument: known keys, and ignore_changes naming real arguments
    (a map key in index notation, `metadata["key"]`, names its map)."""
    for key in lifecycle:
        if key not in {"create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"}:
            problems.append(f"{path}.{key}: unknown lifecycle argument")
    for ref in lifecycle.get("ignore_changes", []):
        m = re.fullmatch(r'([a-z0-9_]+)(?:\["[^"\\]+"\])?', ref)
        if ref != "all" and (m is None or m.group(1) not in allowed):
            problems.append(f"{path}.ignore_changes: {ref!r} names no argument")


def check_terraform(path):
    problems = []
    doc = json.loads(path.read_text())
    for key in doc:
        if key not in {"//", "terraform", "provider", "resource", "data", "output", "variable", "locals"}:
            problems.append(f"{path.name}: unexpected top-level key {key!r}")
    if "backend" in doc.get("terraform", {}):
        problems.append(f"{path.name}: Infrastructure Manager forbids backend blocks")
    declared = set()
    for rtype, instances in doc.get("resource", {}).items():
        allowed = TF_SCHEMA["resources"].get(rtype)
        if allowed is None:
            problems.append(f"{path.name}: no schema for {rtype}")
            continue
        for name, body in instances.items():
            declared.add(f"{rtype}.{name}")
            body = dict(body)
            lifecycle = body.pop("lifecycle", None)
            if lifecycle is not None:
                check_lifecycle(lifecycle, allowed, f"{path.name}: {rtype}.{name}.lifecycle", problems)
            check_arguments(body, allowed, f"{path.name}: {rtype}.{name}", problems)
    for dtype, instances in doc.get("data", {}).items():
        allowed = TF_SCHEMA.get("data_sources", {}).get(dtype)
        if allowed is None:
            problems.append(f"{path.name}: no schema for data source {dtype}")
            continue
        for name, body in instances.items():
            declared.add(f"data.{dtype}.{name}")
            check_arguments(body, allowed, f"{path.name}: data.{dtype}.{name}", problems)
    for ref in re.findall(r"(?<!\$)\$\{((?:data\.)?[a-z0-9_]+\.[a-z0-9_]+)\.", path.read_text()):
        if ref not in declared:
            problems.append(f"{path.name}: ${{{ref}.…}} names no resource")
    for name, output in doc.get("output", {}).items():
        if "value" not in output:
            problems.append(f"{path.name}: output {name} has no value")
    return problems


def main(argv):
    problems = []
    for arg in argv:
        directory = Path(arg)
        if (directory / "deployment.yaml").exists():
            problems += check_deployment_manager(directory / "deployment.yaml")
        if (directory / "main.tf.json").exists():
            problems += check_terraform(directory / "main.tf.json")
    for p in problems:
        print(p)
    print(f"gcp_check: {len(argv)} deployment(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
