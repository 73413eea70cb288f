"""Request bodies checked against the OpenAPI subset, strictly: unknown fields are refused."""

import copy
import os
import re

import yaml
from jsonschema import Draft202012Validator

SPEC_PATH = os.path.join(os.path.dirname(__file__), "openapi.yaml")
DURATION = re.compile(r"^-?[0-9]+(\.[0-9]{1,9})?s$")


def _load():
    with open(SPEC_PATH) as handle:
        return yaml.safe_load(handle)


SPEC = _load()
SCHEMAS = SPEC["components"]["schemas"]


def _strict(schema, seen=None):
    """Inline $refs and forbid properties a schema does not name (the gateway does)."""
    seen = seen or ()
    if isinstance(schema, list):
        return [_strict(item, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # recursive types: accept anything below the second level
            return {}
        return _strict(SCHEMAS[name], seen + (name,))
    # "description" and "title" are annotations, except as the names of properties (a provider has one).
    result = {k: _strict(v, seen) for k, v in schema.items() if k not in ("description", "title", "properties")}
    if isinstance(schema.get("properties"), dict):
        result["properties"] = {name: _strict(sub, seen) for name, sub in schema["properties"].items()}
    if result.get("type") == "object" or "properties" in result:
        result.setdefault("additionalProperties", False)
    return result


def request_schema(method, path_template):
    operation = SPEC["paths"].get(path_template, {}).get(method.lower())
    if not operation or "requestBody" not in operation:
        return None
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return _strict(copy.deepcopy(schema))


def response_schema(method, path_template, status="200"):
    operation = SPEC["paths"][path_template][method.lower()]
    return _strict(copy.deepcopy(operation["responses"][status]["content"]["application/json"]["schema"]))


_VALIDATORS = {}


def problems(method, path_template, body):
    """A list of sentences describing what is wrong with ``body`` (empty when it is fine)."""
    key = (method, path_template)
    if key not in _VALIDATORS:
        schema = request_schema(method, path_template)
        _VALIDATORS[key] = Draft202012Validator(schema) if schema else None
    validator = _VALIDATORS[key]
    if validator is None:
        return []
    found = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "body"
        found.append("%s: %s" % (where, error.message))
    return found


def check_duration(value, field="expires"):
    if value is not None and not DURATION.match(str(value)):
        return ["%s: %r is not a protobuf duration such as \"7776000s\"" % (field, value)]
    return []
