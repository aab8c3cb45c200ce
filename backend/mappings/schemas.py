"""Wire types of field mappings: rules, transforms, versions, preview, export/import.

Transforms are a tagged union on `op`, so the document lists every op with its own fields
and an unknown op or a misspelled field is refused (422) at the exact rule and field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

# What a mapping applies to: an event type (`issues.opened`), a sync stream (`customers`),
# or `*` for everything from the integration.
SOURCE_PATTERN = r"^(\*|[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,199})$"
# A dotted output path: `customer.name`; each segment an identifier.
TARGET_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,9}$"

MAX_RULES = 200
MAX_TRANSFORMS = 20
MAX_EXPRESSION = 1000
MAX_PATTERN = 1000
MAX_LOOKUP_ENTRIES = 1000
MAX_SOURCES = 10
MAX_MAPPINGS = 500

SourceName = Annotated[str, msgspec.Meta(pattern=SOURCE_PATTERN, max_length=200)]
Expression = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EXPRESSION)]
Pattern = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PATTERN)]
Separator = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class _Op(msgspec.Struct, tag_field="op", forbid_unknown_fields=True):
    """A step of a rule's pipeline; `op` names it."""


class TrimOp(_Op, tag="trim"):
    """Strip surrounding whitespace (Unicode)."""


class LowerOp(_Op, tag="lower"):
    """Lower-case text."""


class UpperOp(_Op, tag="upper"):
    """Upper-case text."""


class ToIntOp(_Op, tag="to_int"):
    """A whole number from a number, boolean or numeric text."""


class ToFloatOp(_Op, tag="to_float"):
    """A finite number from a number, boolean or numeric text."""


class ToBoolOp(_Op, tag="to_bool"):
    """true/false from a boolean, 0/1 or text such as yes/no, on/off."""


class ToStringOp(_Op, tag="to_string"):
    """Text; objects and arrays become compact JSON."""


class ParseDatetimeOp(_Op, tag="parse_datetime", omit_defaults=True):
    """An RFC 3339 UTC timestamp. `format`: a strptime pattern, `unix_s`, `unix_ms` or
    `iso8601` (absent: numbers are Unix seconds, text is ISO 8601). `tz`: the IANA zone of
    times that carry no offset (absent: UTC)."""

    format: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    tz: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class RegexExtractOp(_Op, tag="regex_extract", omit_defaults=True):
    """The first match's `group` (number or name; absent: group 1 if the pattern has
    groups, else the whole match). No match is a missing value."""

    pattern: Pattern
    group: int | str | None = None


class RegexReplaceOp(_Op, tag="regex_replace"):
    """Replace every match; `\\1` or `\\g<name>` refer to groups."""

    pattern: Pattern
    replacement: Annotated[str, msgspec.Meta(max_length=MAX_PATTERN)]


class SplitOp(_Op, tag="split"):
    """Text into an array of text at each `sep`."""

    sep: Separator


class JoinOp(_Op, tag="join"):
    """An array of scalars into text, `sep` between them (nulls skipped)."""

    sep: Annotated[str, msgspec.Meta(max_length=100)]


class LookupOp(_Op, tag="lookup", omit_defaults=True):
    """Replace the value by `table[value]`; a value not in the table becomes `default`
    (absent: a missing value)."""

    table: Annotated[dict[str, Any], msgspec.Meta(max_length=MAX_LOOKUP_ENTRIES)]
    default: Any = None


class TemplateOp(_Op, tag="template", omit_defaults=True):
    """Text from `template` with `{name}` placeholders filled from `values` (name ->
    JMESPath over the payload); `{value}` is the value so far, `{{`/`}}` literal braces."""

    template: Annotated[str, msgspec.Meta(max_length=MAX_PATTERN)]
    values: Annotated[dict[str, Expression], msgspec.Meta(max_length=MAX_SOURCES)] = {}


class CoalesceOp(_Op, tag="coalesce"):
    """Keep the value when it is not null, else the first non-null of `sources`
    (JMESPath over the payload)."""

    sources: Annotated[list[Expression], msgspec.Meta(min_length=1, max_length=MAX_SOURCES)]


class MinorToMajorOp(_Op, tag="minor_to_major", omit_defaults=True):
    """An amount in minor units (cents) as a number in major units, by the ISO 4217
    exponent of `currency` (JMESPath over the payload to the currency code; absent: 2
    decimals). Beyond the issue's list: money is the most common conversion."""

    currency: Expression | None = None


Transform = (
    TrimOp
    | LowerOp
    | UpperOp
    | ToIntOp
    | ToFloatOp
    | ToBoolOp
    | ToStringOp
    | ParseDatetimeOp
    | RegexExtractOp
    | RegexReplaceOp
    | SplitOp
    | JoinOp
    | LookupOp
    | TemplateOp
    | CoalesceOp
    | MinorToMajorOp
)


class Rule(msgspec.Struct, forbid_unknown_fields=True, frozen=True, omit_defaults=True):
    """One output field: `source` (JMESPath over the payload) through `transforms` into
    `target`. A missing value becomes `default`; `required` makes it a field error."""

    target: Annotated[str, msgspec.Meta(pattern=TARGET_PATTERN, max_length=200)]
    source: Expression
    transforms: Annotated[list[Transform], msgspec.Meta(max_length=MAX_TRANSFORMS)] = []
    default: Any = None
    required: bool = False


Rules = Annotated[list[Rule], msgspec.Meta(max_length=MAX_RULES)]


class Mapping(msgspec.Struct):
    """The mapping in force for one source; `version` 0 is the connector's default (not
    saved by the tenant), whose `updated_at` is null."""

    source: str
    rules: list[Rule]
    version: int
    updated_at: dt.datetime | None


class MappingList(msgspec.Struct):
    items: list[Mapping]


class MappingSave(msgspec.Struct, forbid_unknown_fields=True):
    source: SourceName
    rules: Rules


class MappingSaved(msgspec.Struct):
    mapping: Mapping


class MappingVersion(msgspec.Struct):
    """One saved version; `current` marks the one in force, `restored_from` the version a
    restore copied."""

    version: int
    rules: list[Rule]
    created_at: dt.datetime
    current: bool
    restored_from: int | None


class MappingVersionPage(msgspec.Struct):
    items: list[MappingVersion]
    next_cursor: str | None


class MappingRestore(msgspec.Struct, forbid_unknown_fields=True):
    source: SourceName


class MappingPreview(msgspec.Struct, forbid_unknown_fields=True):
    """Rules tried on `sample`, or on the integration's latest stored payload of `source`."""

    source: SourceName
    rules: Rules
    sample: dict[str, Any] | None = None


class MappingFieldError(msgspec.Struct):
    """A rule that produced no value: its index, target and why."""

    rule: int
    target: str
    message: str


class PreviewResult(msgspec.Struct):
    result: dict[str, Any]
    errors: list[MappingFieldError]


class MappingEntry(msgspec.Struct, forbid_unknown_fields=True):
    source: SourceName
    rules: Rules


class MappingExport(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Every source the tenant saved for one integration; `POST …/mapping/import` takes it
    back into any integration of the same connector."""

    mappings: Annotated[list[MappingEntry], msgspec.Meta(max_length=MAX_MAPPINGS)]
    connector: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,40}$")] | None = None
    exported_at: dt.datetime | None = None
