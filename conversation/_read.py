"""Block classes to and from wire dicts, derived from their attrs fields.

The block and source classes (``_blocks.py``) are the one declaration of
every field: a :class:`BlockReader` built from them reads each field by its
annotated type (``str``, ``bool``, ``FrozenDict``, ``FrozenList``, ``Any``,
``Source``, ``tuple[Block, ...]``, ``str | tuple[Block, ...]``; ``| None``
makes it optional) under the wire key of the same name, in the order the
fields are declared. A field whose wire name or place differs says so in its
metadata (:data:`WIRE_NAME`, :data:`WIRE_ORDER`), as does one the wire
requires though its constructor has a default (:data:`WIRE_REQUIRED`). A new block class or field
is therefore written once, in its class.

This module imports no block class: ``_blocks.py`` builds its reader from its
own classes (block constructors need it to read the dicts they are given), and
``_wire.py``, the converter of turns and replies, sits above both. The wire
decisions themselves are described in ``_wire.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import attrs
import orjson

from ._build import new as _new
from ._json import FrozenDict, freeze, plain
from ._suggest import Vocabulary
from .errors import MalformedInputError, a_or_an, type_name

__all__ = [
    "WIRE_NAME",
    "WIRE_ORDER",
    "WIRE_REQUIRED",
    "BlockReader",
    "json_text_error",
    "load_json",
    "read_any",
    "read_bool",
    "read_int",
    "read_object",
    "read_str",
]

WIRE_NAME = "conversation.wire_name"
"""Field metadata: the wire key of a field named otherwise (default: the field's name)."""
WIRE_ORDER = "conversation.wire_order"
"""Field metadata: where the field is written (default: its place among the fields)."""
WIRE_REQUIRED = "conversation.wire_required"
"""Field metadata: the wire dict must hold the field, though the constructor has a default."""

_type_name = type_name


# --- readers: (value, path) -> checked value -------------------------------------


def read_str(value: Any, path: str) -> str:
    if type(value) is not str:
        if not isinstance(value, str):
            raise MalformedInputError(f"expected a string, got {_type_name(value)}", path)
        return str.__str__(value)  # a StrEnum member is kept as the str it is written as
    return value


def read_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise MalformedInputError(f"expected true or false, got {_type_name(value)}", path)
    return value


def read_int(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedInputError(f"expected an integer, got {_type_name(value)}", path)
    return int.__index__(value)  # an IntEnum member is kept as the int it is written as


def read_object(value: Any, path: str) -> FrozenDict:
    if not isinstance(value, dict):
        raise MalformedInputError(f"expected a JSON object, got {_type_name(value)}", path)
    return freeze(value, path)  # type: ignore[no-any-return]


def _read_array(value: Any, path: str) -> Any:
    if not isinstance(value, list | tuple):
        raise MalformedInputError(f"expected a JSON array, got {_type_name(value)}", path)
    return freeze(value, path)


def read_any(value: Any, path: str) -> Any:
    return freeze(value, path)


def json_text_error(exc: MalformedInputError) -> MalformedInputError:
    """``exc`` reworded for input that was JSON text: what Python calls None, JSON calls null."""
    reason = exc.reason.replace("got None", "got null")
    if reason == exc.reason:
        return exc
    return type(exc)(reason, exc.path)


def load_json(data: bytes | bytearray | memoryview | str, what: str) -> Any:
    """Parse JSON text, turning any failure into :class:`MalformedInputError`."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedInputError(f"{what} is not valid JSON: {exc}") from None


def _same(value: Any) -> Any:
    return value


# The scalar kinds of field, by annotated type (``| None`` removed).
_SCALAR_READERS: dict[str, Callable[[Any, str], Any]] = {
    "str": read_str,
    "bool": read_bool,
    "FrozenDict": read_object,
    "FrozenList": _read_array,
    "Any": read_any,
}
# The kinds that hold blocks or sources: read by the reader itself.
_NESTED_KINDS = ("Source", "tuple[Block, ...]", "str | tuple[Block, ...]")


@attrs.frozen
class _Field:
    """How one attribute is read from and written to its wire key."""

    attr: str
    wire: str
    kind: str
    required: bool


def _annotation(cls: type, field: attrs.Attribute[Any]) -> str:
    """The field's annotation as written (``attrs.resolve_types`` may have replaced
    ``field.type`` by the objects it names; the class keeps the text)."""
    for klass in cls.__mro__:
        written = inspect.get_annotations(klass).get(field.name)
        if isinstance(written, str):
            return written
    if field.type is None:
        return ""
    return " | ".join(
        "None" if arg is type(None) else getattr(arg, "__name__", repr(arg))
        for arg in getattr(field.type, "__args__", (field.type,))
    )


def _kind(field: attrs.Attribute[Any], cls: type) -> str:
    annotation = _annotation(cls, field)
    kind = annotation.removesuffix(" | None")
    if kind not in _SCALAR_READERS and kind not in _NESTED_KINDS:
        raise TypeError(f"{cls.__name__}.{field.name}: no wire reader for the type {annotation!r}")
    return kind


def wire_fields(cls: type) -> tuple[_Field, ...]:
    """The wire fields of an attrs class: every init field but ``type`` and ``extra``."""
    fields = [f for f in attrs.fields(cls) if f.init and f.name not in ("type", "extra")]
    ordered = sorted(enumerate(fields), key=lambda item: item[1].metadata.get(WIRE_ORDER, item[0]))
    return tuple(
        _Field(
            f.name,
            f.metadata.get(WIRE_NAME, f.name),
            _kind(f, cls),
            f.default is attrs.NOTHING or f.metadata.get(WIRE_REQUIRED, False),
        )
        for _, f in ordered
    )


def wire_types(cls: type) -> tuple[str, ...]:
    """The wire ``type`` values a class stands for (its ``wire_types``, else its ``type``)."""
    types = cls.__dict__.get("wire_types")
    return tuple(sorted(types)) if types is not None else (cast(str, cls.__dict__["type"]),)


_Row = tuple[str, Callable[[Any, str], Any], bool, Callable[[Any, Any], None], Any]


@attrs.frozen(eq=False)
class BlockReader:
    """Reads and writes the wire dicts of a set of block and source classes.

    Built once, by ``_blocks.py``, from its classes (:meth:`of`); nothing in it
    changes afterwards. ``written`` reads are of dicts the program wrote: a
    block type a letter or two from a known one is refused as a typo.
    """

    blocks: tuple[type, ...]
    """Every block class, the unknown one last."""
    by_type: Mapping[str, type]
    sources_by_type: Mapping[str, type]
    type_names: tuple[str, ...]
    """Every block type a typo is checked against, in a fixed order (it breaks ties)."""
    _unknown_block: type
    _unknown_source: type
    _plain_text: Callable[[str], Any]
    _quick_block: Callable[[dict[str, Any]], Any]
    _check_nesting: Callable[[tuple[Any, ...], str], None]
    _fields: Mapping[type, tuple[_Field, ...]]
    _plans: dict[type, tuple[_Row, ...]]  # filled by :meth:`of`, then never changed
    _written_plans: dict[type, tuple[_Row, ...]]
    _writes: dict[type, tuple[tuple[str, str, Callable[[Any], Any]], ...]]
    _known_keys: Mapping[type, frozenset[str]]
    _set_extra: Mapping[type, Callable[[Any, Any], None]]
    _vocabulary: Vocabulary
    _block_set: frozenset[type]
    _one_item: tuple[type, ...]

    @classmethod
    def of(
        cls,
        blocks: Iterable[type],
        sources: Iterable[type],
        *,
        unknown_block: type,
        unknown_source: type,
        documented_types: Iterable[str],
        plain_text: Callable[[str], Any],
        quick_block: Callable[[dict[str, Any]], Any],
        check_nesting: Callable[[tuple[Any, ...], str], None],
    ) -> BlockReader:
        """A reader of ``blocks`` and ``sources`` (classes with a wire ``type``).

        ``plain_text`` makes a text block of a str; ``quick_block`` builds the
        commonest block dicts without the general reader (or returns None);
        ``check_nesting`` refuses blocks nested too deep as a block's content.
        """
        blocks, sources = tuple(blocks), tuple(sources)
        fields = {c: wire_fields(c) for c in (*sources, *blocks)}
        by_type = {kind: c for c in blocks for kind in wire_types(c)}
        single = [kind for c in blocks if "wire_types" not in c.__dict__ for kind in wire_types(c)]
        grouped = [kind for c in blocks if "wire_types" in c.__dict__ for kind in wire_types(c)]
        all_blocks = (*blocks, unknown_block)
        reader = cls(
            all_blocks,
            by_type,
            {c.__dict__["type"]: c for c in sources},
            (*single, *grouped, *documented_types),
            unknown_block,
            unknown_source,
            plain_text,
            quick_block,
            check_nesting,
            fields,
            {},
            {},
            {},
            {c: frozenset({"type", *(f.wire for f in fs)}) for c, fs in fields.items()},
            {c: c.__dict__["extra"].__set__ for c in fields},
            Vocabulary((*single, *grouped, *documented_types)),
            frozenset(all_blocks),
            (*all_blocks, dict, str),
        )
        # The plans read nested blocks through the reader's own methods.
        for c, fs in fields.items():
            reader._plans[c] = reader._plan(c, fs, written=False)
            reader._written_plans[c] = reader._plan(c, fs, written=True)
            reader._writes[c] = tuple((f.attr, f.wire, reader._writer(f.kind)) for f in fs)
        return reader

    # --- nested readers and writers --------------------------------------------------

    def _readers(self, written: bool) -> dict[str, Callable[[Any, str], Any]]:
        def blocks(value: Any, path: str) -> Any:
            return self.block_list(value, path, written=written)

        def str_or_blocks(value: Any, path: str) -> Any:
            if isinstance(value, str):
                return plain(value)
            return self.block_list(value, path, written=written)

        def source(value: Any, path: str) -> Any:
            return self.source(value, path, written=written)

        return {
            **_SCALAR_READERS,
            "Source": source,
            "tuple[Block, ...]": blocks,
            "str | tuple[Block, ...]": str_or_blocks,
        }

    def _writer(self, kind: str) -> Callable[[Any], Any]:
        if kind == "Source":
            return self._write_source
        if kind == "tuple[Block, ...]":
            return self._write_blocks
        if kind == "str | tuple[Block, ...]":
            return lambda v: v if isinstance(v, str) else self._write_blocks(v)
        return _same

    def _write_blocks(self, value: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [self.unstructure_block(b) for b in value]

    def _write_source(self, value: Any) -> dict[str, Any]:
        if type(value) is self._unknown_source:
            return dict(cast(Any, value).raw)
        return self.unstructure_fields(value)

    def _plan(self, cls: type, fields: tuple[_Field, ...], *, written: bool) -> tuple[_Row, ...]:
        """How to build ``cls`` from a wire dict through its slots, field by field.

        One row per attrs field: (wire key or "", reader, required, slot
        setter, default). Fields with no wire key (``extra``, a grouped
        class's ``type``) are filled by :meth:`structure_fields` itself.
        """
        readers = self._readers(written)
        table = {f.attr: f for f in fields}
        rows: list[_Row] = []
        for field in attrs.fields(cls):  # every slot, caches included, gets a value
            default = field.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory()
            elif default is attrs.NOTHING:
                default = None
            spec = table.get(field.name)
            rows.append(
                (
                    spec.wire if spec else "",
                    readers[spec.kind] if spec else read_any,
                    spec.required if spec else False,
                    cls.__dict__[field.name].__set__,
                    default,
                )
            )
        return tuple(rows)

    # --- fields ------------------------------------------------------------------------

    def structure_fields(self, cls: type, data: dict[str, Any], path: str, written: bool) -> Any:
        """Read ``data`` into ``cls`` by its fields; unknown keys go to ``extra``.

        Every field is checked by its reader, so the object is built through its
        slots rather than its ``__init__`` (which would check everything again).
        """
        obj: Any = _new(cls)
        for wire, read, required, setter, default in (
            self._written_plans if written else self._plans
        )[cls]:
            value = data.get(wire) if wire else None
            if value is None:
                if required:
                    kind = data.get("type", cls.__name__)
                    raise MalformedInputError(
                        f"{a_or_an(str(kind))} needs the field {wire!r}", path
                    )
                setter(obj, default)
                continue
            try:
                # Readers get a relative path; the full one is only built on error.
                setter(obj, read(value, ""))
            except MalformedInputError as exc:
                raise MalformedInputError(exc.reason, f"{path}.{wire}{exc.path}") from None
        known = self._known_keys[cls]
        if not known.issuperset(data):
            extra = {k: v for k, v in data.items() if k not in known}
            self._set_extra[cls](obj, freeze(extra, path))
        if "wire_types" in cls.__dict__:  # one class, several wire types: keep which
            cls.__dict__["type"].__set__(obj, data["type"])
        return obj

    def unstructure_fields(self, obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"type": obj.type}
        for attr, wire, write in self._writes[type(obj)]:
            value = getattr(obj, attr)
            if value is not None:
                out[wire] = write(value)
        if obj.extra:
            out.update(obj.extra)
        return out

    # --- sources and blocks --------------------------------------------------------------

    def source(self, value: Any, path: str, *, written: bool = False) -> Any:
        if not isinstance(value, dict):
            if isinstance(value, (*self.sources_by_type.values(), self._unknown_source)):
                return value
            raise MalformedInputError(f"expected a source object, got {_type_name(value)}", path)
        kind = value.get("type")
        cls = self.sources_by_type.get(kind) if isinstance(kind, str) else None
        if cls is None:
            if not isinstance(kind, str):
                raise MalformedInputError("a source needs a string 'type'", path)
            return self._unknown_source(freeze(value, path))
        return self.structure_fields(cls, value, path, written)

    def block_list(self, value: Any, path: str, *, written: bool = False) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise MalformedInputError(
                f"expected a list of content blocks, got {_type_name(value)}", path
            )
        blocks = tuple(self.item(item, f"{path}[{i}]", written) for i, item in enumerate(value))
        self._check_nesting(blocks, path)  # the content of a block: objects in it were not read
        return blocks

    def item(self, item: Any, path: str, written: bool = False) -> Any:
        """One item of content: a block as it is, a str as text, a dict read as a block."""
        if isinstance(item, self.blocks):
            return item
        if isinstance(item, str):
            return self._plain_text(plain(item))
        return self.structure_block(item, path, written=written)

    def structure_block(self, data: Any, path: str = "$", *, written: bool = False) -> Any:
        """Read one content block from its wire dict (see ``_wire.structure_block``)."""
        try:
            return self._structure_block(data, path, written)
        except RecursionError:
            # Blocks hold blocks (a tool_result's content); absurd nesting must end
            # in our own error, not the interpreter's.
            raise MalformedInputError(
                "content blocks are nested too deeply to read", path
            ) from None

    def _structure_block(self, data: Any, path: str, written: bool) -> Any:
        if not isinstance(data, dict):
            raise MalformedInputError(
                f"expected a content block object, got {_type_name(data)}", path
            )
        try:
            block = self._quick_block(data)
        except MalformedInputError as exc:
            raise MalformedInputError(exc.reason, f"{path}{exc.path}") from None
        if block is not None:
            return block
        kind = data.get("type")
        cls = self.by_type.get(kind) if isinstance(kind, str) else None
        if cls is None:
            if not isinstance(kind, str):
                raise MalformedInputError("a content block needs a string 'type'", path)
            if written:
                self._refuse_typo(kind, path)
            return self._unknown_block(freeze(data, path))
        return self.structure_fields(cls, data, path, written)

    def typo(self, kind: str) -> str | None:
        """The known block type ``kind`` misspells, or None (the rule of :mod:`._suggest`)."""
        return self._vocabulary.misspelling_of(kind)

    def _refuse_typo(self, kind: str, path: str) -> None:
        """Raise if the block type ``kind``, which has no class, misspells a known one."""
        meant = self.typo(kind)
        if meant is not None:
            raise MalformedInputError(
                f"unknown block type {kind[:80]!r}: did you mean {meant!r}? A type this close "
                "to one the API defines is taken for a typo; to send it as it is, pass "
                "UnknownBlock({...}) instead of the dict",
                f"{path}.type",
            )

    def coerce(self, value: Any, path: str = "$") -> tuple[Any, ...]:
        """Content as users give it (a str, a block, a wire dict, or a sequence) as a tuple.

        Block dicts here are the program's own: a misspelt block type is refused.
        """
        cls = type(value)
        if cls is str:
            return (self._plain_text(value),)
        if cls in self._block_set:  # one block object, as most calls give it
            return (value,)
        if cls is tuple and all(isinstance(b, self.blocks) for b in value):
            return cast(tuple[Any, ...], value)
        if isinstance(value, self._one_item):
            return (self.item(value, path, True),)
        if isinstance(value, list | tuple):
            return tuple(self.item(item, f"{path}[{i}]", True) for i, item in enumerate(value))
        raise MalformedInputError(
            f"content must be a str, a content block, a block dict, or a list of them; "
            f"got {_type_name(value)}",
            path,
        )

    def unstructure_block(self, block: Any) -> dict[str, Any]:
        """The wire dict of one content block."""
        if type(block) is self._unknown_block:
            return dict(cast(Any, block).raw)
        return self.unstructure_fields(block)
