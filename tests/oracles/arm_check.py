"""Offline oracle for rendered ARM templates (there is no ARM validator or Bicep build in the
registries this project can reach).

Checks, for each directory given (holding azuredeploy.json and azuredeploy.parameters.json):
- the template's and the parameters file's top-level keys, against the 2019-04-01
  deploymentTemplate / deploymentParameters schemas (allowed and required keys);
- every resource body against the Azure SDK for Python model of its type. Those models are
  generated from the same REST specifications ARM validates deployments against, and declare
  every property's REST name and whether it is read-only;
- that every parameters('x') and variables('x') an expression uses is declared, and that every
  parameter without a default is either in the parameters file or listed by cloverlift as
  discovered by apply.

Prints one line per problem; exits 1 if there is any.
"""
import json
import re
import sys
import typing
from pathlib import Path

from azure.mgmt.compute import models as compute
from azure.mgmt.network import models as network
from azure.mgmt.postgresqlflexibleservers import models as postgres

MODELS = {
    "Microsoft.Compute/disks": compute.Disk,
    "Microsoft.Compute/virtualMachines": compute.VirtualMachine,
    "Microsoft.Compute/virtualMachines/runCommands": compute.VirtualMachineRunCommand,
    "Microsoft.Network/networkInterfaces": network.NetworkInterface,
    "Microsoft.Network/networkSecurityGroups": network.NetworkSecurityGroup,
    "Microsoft.Network/publicIPAddresses": network.PublicIPAddress,
    "Microsoft.DBforPostgreSQL/flexibleServers": postgres.Server,
}
TEMPLATE_KEYS = {"$schema", "metadata", "apiProfile", "contentVersion", "variables",
                 "parameters", "functions", "resources", "outputs"}
TEMPLATE_REQUIRED = {"$schema", "contentVersion", "resources"}
PARAMETER_KEYS = {"type", "defaultValue", "allowedValues", "metadata", "minValue", "maxValue",
                  "minLength", "maxLength"}
PARAMETER_TYPES = {"string", "securestring", "int", "bool", "object", "secureObject", "array"}
# Keys of a resource that ARM's template engine consumes itself.
ARM_KEYS = {"type", "apiVersion", "name", "dependsOn", "condition", "copy", "comments", "scope"}


def rest_fields(cls):
    """REST name -> (type annotation, visibility) of an SDK model class."""
    cls.__new__(cls)  # the SDK fills _attr_to_rest_field when the first instance is made
    package = sys.modules[cls.__module__.rsplit(".", 1)[0]]
    hints = typing.get_type_hints(cls, localns={"_models": package})
    return {f._rest_name: (hints.get(attr), f._visibility)
            for attr, f in cls._attr_to_rest_field.items()}


def model_in(annotation):
    """('list'|'dict'|'one', model class or None) for an annotation."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        found = [model_in(a) for a in args if a is not type(None)]
        return next((f for f in found if f[1] is not None), ("one", None))
    if origin is list:
        return "list", model_in(args[0])[1]
    if origin is dict:
        return "dict", model_in(args[1])[1]
    return "one", annotation if is_sdk_model(annotation) else None


def is_sdk_model(annotation):
    """Generated models derive from the SDK's `model_base.Model`."""
    return isinstance(annotation, type) and any(
        base.__name__ == "Model" and base.__module__.endswith("model_base")
        for base in annotation.__mro__
    )


def is_expression(value):
    return isinstance(value, str) and value.startswith("[") and not value.startswith("[[")


def check_body(cls, value, path, problems, top=False):
    if is_expression(value):
        return
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object for {cls.__name__}")
        return
    fields = rest_fields(cls)
    for key, item in value.items():
        where = f"{path}.{key}"
        if top and key in ARM_KEYS:
            continue
        if key not in fields:
            problems.append(f"{where}: {cls.__name__} has no property {key!r}")
            continue
        annotation, visibility = fields[key]
        if visibility == ["read"]:
            problems.append(f"{where}: read-only property of {cls.__name__}")
        kind, sub = model_in(annotation)
        if sub is None or is_expression(item):
            continue
        if kind == "list" and isinstance(item, list):
            for i, element in enumerate(item):
                check_body(sub, element, f"{where}[{i}]", problems)
        elif kind == "dict" and isinstance(item, dict):
            for k, element in item.items():
                check_body(sub, element, f"{where}.{k}", problems)
        else:
            check_body(sub, item, where, problems)


def expressions(value):
    if isinstance(value, str):
        if is_expression(value):
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from expressions(v)
    elif isinstance(value, list):
        for v in value:
            yield from expressions(v)


def check_dir(directory):
    problems = []
    template = json.loads((directory / "azuredeploy.json").read_text())
    params_file = json.loads((directory / "azuredeploy.parameters.json").read_text())
    name = directory.name
    for key in set(template) - TEMPLATE_KEYS:
        problems.append(f"{name}: template key {key!r} is not in the 2019-04-01 schema")
    for key in TEMPLATE_REQUIRED - set(template):
        problems.append(f"{name}: template lacks {key!r}")
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", template.get("contentVersion", "")):
        problems.append(f"{name}: contentVersion is not N.N.N.N")
    declared = template.get("parameters", {})
    for pname, definition in declared.items():
        for key in set(definition) - PARAMETER_KEYS:
            problems.append(f"{name}: parameter {pname} has unknown key {key!r}")
        if definition.get("type") not in PARAMETER_TYPES:
            problems.append(f"{name}: parameter {pname} has type {definition.get('type')!r}")
    for oname, output in template.get("outputs", {}).items():
        if "type" not in output or ("value" not in output and "copy" not in output):
            problems.append(f"{name}: output {oname} needs a type and a value")
    for i, resource in enumerate(template.get("resources", [])):
        rtype = resource.get("type")
        cls = MODELS.get(rtype)
        if cls is None:
            problems.append(f"{name}: resources[{i}]: no model for type {rtype!r}")
            continue
        for key in ("apiVersion", "name"):
            if key not in resource:
                problems.append(f"{name}: resources[{i}] lacks {key!r}")
        check_body(cls, resource, f"{name}: {rtype}", problems, top=True)
    variables = template.get("variables", {})
    for expr in expressions(template):
        for used in re.findall(r"parameters\('([^']+)'\)", expr):
            if used not in declared:
                problems.append(f"{name}: {expr!r} uses undeclared parameter {used!r}")
        for used in re.findall(r"variables\('([^']+)'\)", expr):
            if used not in variables:
                problems.append(f"{name}: {expr!r} uses undeclared variable {used!r}")
    if set(params_file) != {"$schema", "contentVersion", "parameters"}:
        problems.append(f"{name}: parameters file keys are {sorted(params_file)}")
    given = params_file.get("parameters", {})
    for pname, entry in given.items():
        if pname not in declared:
            problems.append(f"{name}: parameters file sets undeclared {pname!r}")
        if set(entry) != {"value"}:
            problems.append(f"{name}: parameter {pname} entry is not {{value}}")
    discovered = set(template.get("metadata", {}).get("cloverlift", {}).get("discoveredParameters", []))
    for pname, definition in declared.items():
        if "defaultValue" in definition or pname in given or pname in discovered:
            continue
        problems.append(f"{name}: parameter {pname} has no value, default or discovery")
    return problems


def main(argv):
    problems = []
    for arg in argv:
        problems.extend(check_dir(Path(arg)))
    for p in problems:
        print(p)
    print(f"arm_check: {len(argv)} deployment(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
