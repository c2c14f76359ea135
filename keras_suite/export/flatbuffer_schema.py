"""A FlatBuffers schema (`.fbs`) read at run time, and an encoder of plain dicts into its binary form.

The dicts take the JSON form that `flatc --json` reads and writes: tables are dicts keyed by field name,
enum values are their names, a union field `x` comes with `x_type` naming the member table. Only what a
metadata schema needs is understood: tables, enums, unions, scalars, strings and vectors of them (no
structs, no nested namespaces). Each element may carry an `// Added in: X.Y.Z` comment; `encode` returns
the highest such version among the elements a dict uses, which is the schema's "minimum parser version".
"""

import dataclasses
import re

import flatbuffers
from flatbuffers import number_types

SCALARS = {"bool": "Bool", "byte": "Int8", "ubyte": "Uint8", "short": "Int16", "ushort": "Uint16",
           "int": "Int32", "uint": "Uint32", "long": "Int64", "ulong": "Uint64", "float": "Float32",
           "double": "Float64"}
SCALARS.update({"int8": "Int8", "uint8": "Uint8", "int16": "Int16", "uint16": "Uint16", "int32": "Int32",
                "uint32": "Uint32", "int64": "Int64", "uint64": "Uint64", "float32": "Float32",
                "float64": "Float64"})
BASE_VERSION = (1, 0, 0)
_SINCE = re.compile(r"//[^\n]*Added in:\s*(\d+)\.(\d+)\.(\d+)[^\n]*")
_COMMENT = re.compile(r"//[^\n]*")
_DECLARATION = re.compile(r"(?P<since>(?:@since\([\d.]+\)\s*)*)(?P<kind>table|enum|union|struct)\s+(?P<name>\w+)"
                          r"\s*(?::\s*(?P<base>\w+))?\s*(?:\([^)]*\))?\s*\{(?P<body>[^}]*)\}")
_FIELD = re.compile(r"(?P<name>\w+)\s*:\s*(?P<type>\[?\s*\w+\s*\]?)\s*(?:=\s*[^(;]+?)?\s*"
                    r"(?:\([^)]*\))?$")


@dataclasses.dataclass
class Field:
    name: str
    type: str
    vector: bool
    since: tuple


@dataclasses.dataclass
class Enum:
    base: str
    values: dict  # name -> int
    since: dict  # name -> version


def _since(text):
    found = re.findall(r"@since\((\d+)\.(\d+)\.(\d+)\)", text)
    return max((tuple(map(int, v)) for v in found), default=BASE_VERSION)


def _items(body, separator):
    """The declarations of a body with the version each was added in: (text, version)."""
    for item in body.split(separator):
        text = re.sub(r"@since\([\d.]+\)", "", item).strip()
        if text:
            yield text, _since(item)


class Schema:
    """The tables, enums and unions of one `.fbs` text, its file identifier and root type."""

    def __init__(self, text):
        text = _COMMENT.sub("", _SINCE.sub(lambda m: f"@since({m[1]}.{m[2]}.{m[3]})", text))
        self.file_identifier = re.search(r'file_identifier\s+"(\w{4})"\s*;', text)[1]
        self.root_type = re.search(r"root_type\s+(\w+)\s*;", text)[1]
        self.tables, self.enums, self.unions, self.since = {}, {}, {}, {}
        for match in _DECLARATION.finditer(text):
            kind, name, body = match["kind"], match["name"], match["body"]
            self.since[name] = _since(match["since"])
            if kind == "struct":
                raise ValueError(f"struct {name}: structs are not supported")
            if kind == "table":
                self.tables[name] = [self._field(text, since) for text, since in _items(body, ";")]
            else:
                values, since, number = {}, {}, 0 if kind == "enum" else 1
                for item, version in _items(body, ","):
                    member, _, value = (part.strip() for part in item.partition("="))
                    number = int(value, 0) if value else number
                    values[member], since[member] = number, version
                    number += 1
                (self.enums if kind == "enum" else self.unions)[name] = Enum(match["base"] or "ubyte", values, since)

    def _field(self, text, since):
        match = _FIELD.match(text)
        if match is None:
            raise ValueError(f"cannot read the field declaration '{text}'")
        kind = match["type"].replace(" ", "")
        vector = kind.startswith("[")
        return Field(match["name"], kind.strip("[]"), vector, since)

    def encode(self, obj, root=None):
        """(flatbuffer bytes with the file identifier, the highest schema version the object uses)."""
        builder = flatbuffers.Builder(1024)
        builder.ForceDefaults(True)  # a value given is written, even when it equals the default
        used = {BASE_VERSION}
        builder.Finish(self._table(builder, root or self.root_type, obj, used),
                       file_identifier=self.file_identifier.encode())
        return bytes(builder.Output()), max(used)

    def _slots(self, table):
        """(slot number, field, is the union's type slot) of a table's fields in declaration order."""
        slot = 0
        for field in self.tables[table]:
            if field.type in self.unions and not field.vector:
                yield slot, field, True
                slot += 1
            yield slot, field, False
            slot += 1

    def _table(self, builder, name, obj, used):
        if not isinstance(obj, dict):
            raise TypeError(f"{name}: expected a dict, got {type(obj).__name__}")
        used.add(self.since[name])
        fields = {f.name: f for f in self.tables[name]}
        unknown = set(obj) - set(fields) - {f"{n}_type" for n, f in fields.items() if f.type in self.unions}
        if unknown:
            raise KeyError(f"{name} has no field {', '.join(sorted(unknown))}")
        written = []  # offsets first: nothing may be built while the table is open
        for slot, field, union_type in self._slots(name):
            value = obj.get(f"{field.name}_type" if union_type else field.name)
            if value is None:
                continue
            used.add(field.since)
            if union_type:
                written.append((slot, "Uint8", self._enum(self.unions[field.type], value, used)))
            elif field.vector:
                written.append((slot, None, self._vector(builder, field, value, used)))
            elif field.type in self.unions:
                member = obj[f"{field.name}_type"]
                written.append((slot, None, self._table(builder, member, value, used)))
            else:
                written.append((slot, *self._single(builder, field.type, value, used)))
        builder.StartObject(sum(1 for _ in self._slots(name)))
        for slot, scalar, value in written:
            if scalar is None:
                builder.PrependUOffsetTRelativeSlot(slot, value, 0)
            else:
                getattr(builder, f"Prepend{scalar}Slot")(slot, value, 0)
        return builder.EndObject()

    def _single(self, builder, kind, value, used):
        """(scalar kind or None for an offset, value) of one non-vector value."""
        if kind == "string":
            return None, builder.CreateString(value)
        if kind in self.tables:
            return None, self._table(builder, kind, value, used)
        if kind in self.enums:
            enum = self.enums[kind]
            return SCALARS[enum.base], self._enum(enum, value, used)
        if kind in SCALARS:
            return SCALARS[kind], value
        raise ValueError(f"unknown type {kind}")

    def _enum(self, enum, value, used):
        if isinstance(value, int):
            return value
        if value not in enum.values:
            raise ValueError(f"'{value}' is not one of {', '.join(enum.values)}")
        used.add(enum.since[value])
        return enum.values[value]

    def _vector(self, builder, field, values, used):
        items = [self._single(builder, field.type, v, used) for v in values]
        scalar = items[0][0] if items else None
        width = 4 if scalar is None else getattr(number_types, f"{scalar}Flags").bytewidth
        builder.StartVector(width, len(items), width)
        for kind, value in reversed(items):
            if kind is None:
                builder.PrependUOffsetTRelative(value)
            else:
                getattr(builder, f"Prepend{kind}")(value)
        return builder.EndVector()
