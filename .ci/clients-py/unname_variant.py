"""Writes a copy of the OpenAPI document with one union variant's name removed.

The negative check of .ci/clients: the Python generation step must fail on this
copy. Issue 14 found openapi-python-client dropping the `schedule` variant of
`AmountRule` because that variant was unnamed: an unnamed variant holding an
object (its `grades` map) makes the generator build that inner model twice under
one name ("Attempted to generate duplicate models"), and the variant is lost.

So this takes a union whose variants are named schemas (`$ref`), preferring
`AmountRule` and its `schedule` variant, and inlines that variant where the union
refers to it: its component, its `title` and its discriminator mapping entry go
(a mapping can only point to a named schema), and so do the names of the objects
only it uses, so that it holds an unnamed object as in the issue. A variant
holding an object is preferred; without one, the first that can be inlined is. When
no union has named variants (the document of the issue), the copy is the document
as it is, minus any `title` on the variants.

Usage: unname_variant.py DOCUMENT COPY
"""

import copy
import json
import sys

PREFIX = "#/components/schemas/"


def named(schema):
    """The component a `$ref` schema names, or None."""
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    return ref[len(PREFIX) :] if ref.startswith(PREFIX) else None


def unions(schemas):
    """(name, variants) of every union among the components, AmountRule first."""
    found = [(name, s.get("oneOf") or s.get("anyOf")) for name, s in schemas.items()]
    found = [(name, variants) for name, variants in found if variants]
    return sorted(found, key=lambda item: item[0] != "AmountRule")


def references(document, component):
    """How often a `$ref` names `component` (discriminator mappings are no `$ref`)."""
    return json.dumps(document).count(f'"$ref": {json.dumps(PREFIX + component)}')


def is_object(schema):
    return isinstance(schema, dict) and (
        schema.get("type") == "object" or "properties" in schema or isinstance(schema.get("additionalProperties"), dict)
    )


def unname_objects(document, schema):
    """Inlines, inside `schema`, the named objects that nothing else uses."""
    for key, value in list(schema.items()) if isinstance(schema, dict) else enumerate(schema):
        component = named(value)
        schemas = document["components"]["schemas"]
        if component and is_object(schemas.get(component)) and references(document, component) == 1:
            value = schema[key] = {k: v for k, v in schemas.pop(component).items() if k != "title"}
        if isinstance(value, (dict, list)):
            unname_objects(document, value)


def holds_object(variant):
    """Whether an inline variant has a property that is an unnamed object."""
    return any(is_object(p) and not named(p) for p in variant.get("properties", {}).values())


def inline_variant(document, union, index):
    """Inlines variant `index` of `union` in place; the component it was."""
    schemas = document["components"]["schemas"]
    variants = schemas[union].get("oneOf") or schemas[union].get("anyOf")
    component = named(variants[index])
    variants[index] = {k: v for k, v in schemas.pop(component).items() if k != "title"}
    mapping = schemas[union].get("discriminator", {}).get("mapping", {})
    for key in [k for k, target in mapping.items() if target == PREFIX + component]:
        del mapping[key]
    unname_objects(document, variants[index])
    return component


def attempts(document):
    """(union, index) of every named variant that only its union uses, best first."""
    schemas = document["components"]["schemas"]
    found = []
    for union, variants in unions(schemas):
        for index, variant in enumerate(variants):
            component = named(variant)
            if component and references(document, component) == 1:
                schedule = '"schedule"' in json.dumps(schemas[component])
                found.append((union != "AmountRule", not schedule, union, index))
    return [(union, index) for *_, union, index in sorted(found)]


def unname(document):
    """Removes one variant's name; returns the changed copy and what was done."""
    tries = attempts(document)
    for union, index in tries:
        trial = copy.deepcopy(document)
        component = inline_variant(trial, union, index)
        variants = trial["components"]["schemas"][union].get("oneOf") or trial["components"]["schemas"][union]["anyOf"]
        if holds_object(variants[index]):
            return trial, f"inlined variant {component} of {union}, with the objects only it used"
    if tries:
        union, index = tries[0]
        component = inline_variant(document, union, index)
        return document, f"inlined variant {component} of {union} (no variant holds an object)"
    for _, variants in unions(document["components"]["schemas"]):
        for variant in variants:
            variant.pop("title", None)
    return document, "no union has named variants: the copy keeps its inline variants, without titles"


def main():
    source, target = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        document = json.load(f)
    changed, done = unname(document)
    print(done)
    with open(target, "w", encoding="utf-8") as f:
        json.dump(changed, f, indent=2)


if __name__ == "__main__":
    main()
