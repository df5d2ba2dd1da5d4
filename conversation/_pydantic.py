"""pydantic models as tool parameters and extraction targets, without importing pydantic.

pydantic is optional: a class can only be a pydantic model if pydantic was
imported to define it, so the check looks in ``sys.modules`` and never
imports it. A model describes itself (``model_json_schema()``, with its
``$defs`` inlined so the schema can sit anywhere inside a tool's input schema)
and validates itself (``model_validate``); its ``ValidationError`` becomes a
list of ``($.path, message)`` problems like every other mismatch here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ModelMismatch",
    "PydanticSchemaError",
    "is_model",
    "model_dump",
    "model_schema",
    "validate",
]


class PydanticSchemaError(Exception):
    """A model whose JSON schema cannot be given here; the message says why."""


class ModelMismatch(ValueError):
    """``model_validate`` refused the data; ``problems`` are ``(relative path, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p or '$'}: {m}" for p, m in problems))
        self.problems = problems


def _base_model() -> type | None:
    module = sys.modules.get("pydantic")
    base = getattr(module, "BaseModel", None) if module is not None else None
    return base if isinstance(base, type) else None


def is_model(tp: Any) -> bool:
    """True for a pydantic ``BaseModel`` subclass (False whenever pydantic is not loaded)."""
    base = _base_model()
    return base is not None and isinstance(tp, type) and issubclass(tp, base) and tp is not base


def model_schema(cls: Any) -> dict[str, Any]:
    """The model's own JSON schema, its ``$defs`` references inlined.

    Raises :class:`PydanticSchemaError` for a recursive model (no finite
    inline schema) or one pydantic cannot describe.
    """
    try:
        schema: dict[str, Any] = cls.model_json_schema()
    except Exception as exc:  # PydanticInvalidForJsonSchema, PydanticUserError...
        raise PydanticSchemaError(f"pydantic cannot give its JSON schema ({exc})") from None
    defs = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, defs if isinstance(defs, Mapping) else {}, ())
    return inlined


def _inline(node: Any, defs: Mapping[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :]
        if name in seen:
            raise PydanticSchemaError(
                f"the model {name!r} refers to itself: a recursive model has no finite "
                "schema here; flatten it or use Any"
            )
        if name not in defs:
            raise PydanticSchemaError(f"its schema refers to {ref!r}, which it does not define")
        target = _inline(defs[name], defs, (*seen, name))
        rest = {k: _inline(v, defs, seen) for k, v in node.items() if k != "$ref"}
        return {**target, **rest}
    return {key: _inline(value, defs, seen) for key, value in node.items()}


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "required field missing"
    if kind == "extra_forbidden":
        return "unexpected field"
    message = str(error.get("msg", "invalid"))
    message = message[:1].lower() + message[1:]
    return f"{message}, got {_shown(error.get('input'))}"


def validate(cls: Any, data: Any) -> Any:
    """``cls.model_validate(data)``; a refusal raises :class:`ModelMismatch` naming each path."""
    try:
        return cls.model_validate(data)
    except Exception as exc:
        errors = getattr(exc, "errors", None)
        if not callable(errors):
            raise
        found = [(_path(tuple(e.get("loc", ()))), _message(e)) for e in errors(include_url=False)]
        raise ModelMismatch(found or [("", str(exc))]) from None


def model_dump(value: Any) -> Any:
    """A model instance as plain JSON data (``model_dump(mode="json")``)."""
    return value.model_dump(mode="json")
