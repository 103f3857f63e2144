"""Writes a copy of the OpenAPI document with one union variant's name removed.

The negative check of .ci/clients: the Python generation step must fail on this
copy. Issue 14 found that unnamed `oneOf` variants make openapi-python-client
produce two models with the same name and drop one (the `schedule` variant of
`AmountRule`). So this takes a union whose variants are named schemas (`$ref`),
preferring `AmountRule` and its `schedule` variant, and inlines that variant
where the union refers to it: its component and its `title` go, and so does its
entry in the discriminator's mapping (a mapping can only point to a named
schema). When the union's variants are already inline (no name to remove), the
copy is the document as it is, minus any `title` on them.

Usage: unname_variant.py DOCUMENT COPY
"""

import json
import sys

PREFIX = "#/components/schemas/"


def is_named(variant):
    return "$ref" in variant and variant["$ref"].startswith(PREFIX)


def unions(schemas):
    """(name, variants) of every union among the components, AmountRule first."""
    found = [(name, s.get("oneOf") or s.get("anyOf")) for name, s in schemas.items()]
    found = [(name, variants) for name, variants in found if variants]
    return sorted(found, key=lambda item: item[0] != "AmountRule")


def choose_variant(schemas, variants):
    """The index of the variant to unname: the schedule one when there is one."""
    def text(variant):
        target = schemas.get(variant["$ref"][len(PREFIX):], {}) if is_named(variant) else variant
        return json.dumps(target)

    for index, variant in enumerate(variants):
        if '"schedule"' in text(variant):
            return index
    return len(variants) - 1


def unname(document):
    """Removes one variant's name in place; returns what was done, for the log."""
    schemas = document["components"]["schemas"]
    for union, variants in unions(schemas):
        named = [i for i, v in enumerate(variants) if is_named(v)]
        if not named:
            continue
        index = choose_variant(schemas, variants)
        index = index if index in named else named[-1]
        component = variants[index]["$ref"][len(PREFIX):]
        inline = dict(schemas.pop(component))
        inline.pop("title", None)
        variants[index] = inline
        mapping = schemas[union].get("discriminator", {}).get("mapping", {})
        for key in [k for k, target in mapping.items() if target == PREFIX + component]:
            del mapping[key]
        still_used = PREFIX + component in json.dumps(document)
        if still_used:
            raise SystemExit(f"{component} is referenced elsewhere too; choose another variant")
        return f"inlined variant {component} of {union} (its name, title and mapping entry removed)"
    for union, variants in unions(schemas):
        for variant in variants:
            variant.pop("title", None)
    return "no union has named variants: the copy keeps its inline variants, without titles"


def main():
    source, target = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        document = json.load(f)
    print(unname(document))
    with open(target, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)


if __name__ == "__main__":
    main()
