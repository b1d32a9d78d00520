#!/usr/bin/env python3
"""Extracts the request schemas Handoff sends to Zendesk from Zendesk's OpenAPI description.

Usage: python3 extract.py ../../../../shared/zendesk/support-api.oas.yaml > zendesk-requests.json

The output keeps every schema the chosen request bodies reference ($refs intact under
components/schemas) and records the source's sha256. Two deliberate tightenings, so that the
simulator catches a typo Zendesk would silently ignore:
- TicketCreateInput's allOf is merged into one object, plus `requester`, which Zendesk documents
  for ticket creation but leaves out of the OpenAPI file;
- the ticket inputs and TicketCommentObject reject properties they do not declare.
And one correction: the file types a ticket's `custom_fields` items as CustomFieldObject (the
definition of a field, with required key/type/title); on a ticket Zendesk takes `{id, value}`
(developer.zendesk.com, "Setting custom field values"), so the inputs use CUSTOM_FIELD_VALUE.
"""
import hashlib
import json
import sys

import yaml

ROOTS = ["TicketCreateRequest", "TicketUpdateRequest"]
CLOSED = ["TicketCreateInput", "TicketUpdateInput", "TicketCommentObject"]
REQUESTER = {
    "type": "object",
    "description": "Documented for ticket creation (creates or matches the end user); absent from the OpenAPI file.",
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string"},
        "locale_id": {"type": "integer"},
    },
    "required": ["email"],
    "additionalProperties": False,
}


CUSTOM_FIELD_VALUE = {
    "type": "object",
    "description": "A custom field value on a ticket (corrects the OpenAPI file, see above).",
    "properties": {
        "id": {"type": "integer"},
        "value": {"type": ["string", "number", "boolean", "array", "null"]},
    },
    "required": ["id", "value"],
    "additionalProperties": False,
}


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


class Loader(yaml.SafeLoader):
    """SafeLoader that reads a bare `=` (YAML's value tag, used in one example) as a string."""


Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def main(path):
    raw = open(path, "rb").read()
    spec = yaml.load(raw, Loader=Loader)
    schemas = spec["components"]["schemas"]
    wanted, queue = {}, list(ROOTS)
    while queue:
        name = queue.pop()
        if name in wanted:
            continue
        wanted[name] = schemas[name]
        queue.extend(refs(schemas[name]))
    create = wanted["TicketCreateInput"]
    merged = {"type": "object", "properties": {}, "required": []}
    for part in create["allOf"]:
        part = schemas[part["$ref"].rsplit("/", 1)[-1]] if "$ref" in part else part
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    merged["properties"]["requester"] = REQUESTER
    wanted["TicketCreateInput"] = merged
    for name in ("TicketCreateInput", "TicketUpdateInput"):
        wanted[name]["properties"]["custom_fields"] = {"type": "array", "items": CUSTOM_FIELD_VALUE}
    for name in CLOSED:
        wanted[name] = dict(wanted[name], additionalProperties=False)
    out = {
        "source": "Zendesk Support API OpenAPI description (shared/zendesk/support-api.oas.yaml)",
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "roots": ROOTS,
        "components": {"schemas": dict(sorted(wanted.items()))},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
