"""The subset of JSON Schema that checking a model's structured output needs.

:func:`problems` lists every way a JSON value breaks a schema, one
``"$.path: what is wrong"`` line each, so that one error can tell the caller
(or the model, asked again) all that must change. It reads ``type``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``enum``,
``const``, ``anyOf``/``oneOf``/``allOf`` and local ``$ref``; other keywords
pass. :func:`dangling_refs` finds the ``$ref`` a schema cannot follow, so a
bad schema is refused before anything is sent.
"""

from __future__ import annotations

import json
from typing import Any

from ._json import json_equal
from ._structure import json_type

__all__ = ["dangling_refs", "problems", "resolve"]


def problems(value: Any, schema: dict[str, Any]) -> list[str]:
    """A ``"$.path: problem"`` line for each way ``value`` breaks ``schema`` (none: it fits)."""
    out: list[str] = []
    try:
        _check(value, schema, "$", schema, out)
    except RecursionError:  # a $ref cycle, or JSON nested hundreds deep
        out.append("$: nested too deeply to check against the schema")
    return out


def dangling_refs(schema: dict[str, Any]) -> list[str]:
    """The ``$ref`` values in ``schema`` that point nowhere in it, in document order."""
    found: list[str] = []
    _refs(schema, found)
    dangling: list[str] = []
    for ref in found:
        try:
            resolve(schema, ref)
        except LookupError:
            dangling.append(ref)
    return dangling


def _refs(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.append(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def resolve(root: dict[str, Any], ref: str) -> Any:
    """The node a local ``$ref`` (``#/$defs/Item``) names in ``root``; LookupError if none."""
    if not ref.startswith("#"):
        raise LookupError(ref)
    node: Any = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or key not in node:
            raise LookupError(ref)
        node = node[key]
    return node


def _json_type(value: Any) -> str:
    return json_type(value) or type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    actual = _json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == name


def _article(name: str) -> str:
    return name if name == "null" else ("an " if name[0] in "aeiou" else "a ") + name


def _show(value: Any) -> str:
    kind = _json_type(value)
    if kind in ("object", "array"):
        return _article(kind)
    shown = json.dumps(value, ensure_ascii=False)
    return f"{_article(kind)} {shown if len(shown) <= 40 else shown[:39] + '…'}"


def _describe(schema: Any, root: dict[str, Any]) -> str:
    """A few words for what ``schema`` accepts, for error messages."""
    if not isinstance(schema, dict):
        return "anything" if schema is not False else "nothing"
    if "$ref" in schema:
        return _describe(resolve(root, schema["$ref"]), root)
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        return " or ".join(_describe(o, root) for o in options)
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_article(k) for k in kind)
    if isinstance(kind, str):
        return _article(kind)
    return "anything"


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"


def _check(value: Any, schema: Any, path: str, root: dict[str, Any], out: list[str]) -> None:
    """Append to ``out`` a ``"$.path: problem"`` line for each way ``value`` breaks ``schema``."""
    if schema is True or not isinstance(schema, dict):
        if schema is False:
            out.append(f"{path}: no value is allowed here")
        return
    if "$ref" in schema:
        _check(value, resolve(root, schema["$ref"]), path, root, out)
    for part in schema.get("allOf") or ():
        _check(value, part, path, root, out)
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list) and options:
        _check_any(value, options, path, root, out)
    if "const" in schema and not json_equal(value, schema["const"]):
        out.append(f"{path}: expected {json.dumps(schema['const'])}, got {_show(value)}")
        return
    if "enum" in schema and not any(json_equal(value, v) for v in schema["enum"]):
        out.append(
            f"{path}: expected {_describe({'enum': schema['enum']}, root)}, got {_show(value)}"
        )
        return
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is_type(value, k) for k in kinds):
            out.append(f"{path}: expected {_describe(schema, root)}, got {_show(value)}")
            return
    if isinstance(value, dict):
        _check_object(value, schema, path, root, out)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict | bool):
            for index, item in enumerate(value):
                _check(item, items, f"{path}[{index}]", root, out)


def _check_any(
    value: Any, options: list[Any], path: str, root: dict[str, Any], out: list[str]
) -> None:
    attempts: list[list[str]] = []
    for option in options:
        found: list[str] = []
        _check(value, option, path, root, found)
        if not found:
            return
        attempts.append(found)
    # Report the option that came closest: one whose type fit and that failed only
    # deeper down (an object of an Optional[...] with bad fields), the fewest problems.
    top = f"{path}: "
    deeper = [a for a in attempts if not any(line.startswith(top) for line in a)]
    best = min(deeper or attempts, key=len)
    if all(line.startswith(top) for line in best):
        described = " or ".join(_describe(o, root) for o in options)
        out.append(f"{path}: expected {described}, got {_show(value)}")
    else:
        out.extend(best)


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], path: str, root: dict[str, Any], out: list[str]
) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    for name in schema.get("required") or ():
        if name not in value:
            wanted = _describe(properties.get(name, True), root)
            out.append(f"{_key_path(path, name)}: required field missing (expected {wanted})")
    extra_schema = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], _key_path(path, key), root, out)
        elif extra_schema is False:
            allowed = ", ".join(properties) or "none"
            out.append(f"{_key_path(path, key)}: unexpected field (allowed: {allowed})")
        elif isinstance(extra_schema, dict):
            _check(item, extra_schema, _key_path(path, key), root, out)
