"""
One parameter, stated once: name, type, default, description, range / choices, units.

ROS-free (no rclpy): the node declarations (:mod:`vla_ros.ros.params`), the frozen config
dataclasses (their defaults and ``__post_init__`` range checks), the offline params-file
reader (:mod:`vla_ros.params.files`) and the docs tables (``vla_ros.cli.param_docs``) all
read these rows, so a default, type or range lives in exactly one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
import math
import re

from vla_ros.errors import ConfigError


class ParamType(str, Enum):
    """A parameter's type; the names are rclpy's ``Parameter.Type`` names."""

    BOOL = 'bool'
    INTEGER = 'integer'
    DOUBLE = 'double'
    STRING = 'string'
    BOOL_ARRAY = 'bool_array'
    INTEGER_ARRAY = 'integer_array'
    DOUBLE_ARRAY = 'double_array'
    STRING_ARRAY = 'string_array'

    @property
    def is_array(self) -> bool:
        """Return True for the list types."""
        return self.value.endswith('_array')

    @property
    def element(self) -> ParamType:
        """Return the scalar type of an array type (a scalar type itself)."""
        return ParamType(self.value[:-len('_array')]) if self.is_array else self

    @property
    def phrase(self) -> str:
        """Return 'a number', 'a list of strings', ... (for error messages)."""
        return TYPE_PHRASES[self]


TYPE_PHRASES = {
    ParamType.BOOL: 'a bool', ParamType.INTEGER: 'an integer', ParamType.DOUBLE: 'a number',
    ParamType.STRING: 'a string', ParamType.BOOL_ARRAY: 'a list of bools',
    ParamType.INTEGER_ARRAY: 'a list of integers', ParamType.DOUBLE_ARRAY: 'a list of numbers',
    ParamType.STRING_ARRAY: 'a list of strings'}


def type_of(value: object) -> ParamType | None:
    """Return the parameter type of a Python value (None: none, or ``[]``)."""
    if isinstance(value, bool):
        return ParamType.BOOL
    if isinstance(value, int):
        return ParamType.INTEGER
    if isinstance(value, float):
        return ParamType.DOUBLE
    if isinstance(value, str):
        return ParamType.STRING
    if isinstance(value, (list, tuple)) and value:
        kinds = {type_of(v) for v in value}
        if len(kinds) == 1 and (k := kinds.pop()) is not None and not k.is_array:
            return ParamType(f'{k.value}_array')
    return None


def _fits(t: ParamType, value: object) -> bool:
    """Return True when ``value`` fits type ``t`` (ints fit doubles; ``[]`` fits any array)."""
    given = type_of(value)
    if given is t:
        return True
    if t is ParamType.DOUBLE and given is ParamType.INTEGER:
        return True
    if t is ParamType.DOUBLE_ARRAY and given is ParamType.INTEGER_ARRAY:
        return True
    return t.is_array and isinstance(value, (list, tuple)) and len(value) == 0


@dataclass(frozen=True)
class ParamSpec:
    """
    One declared parameter.

    :ivar name: full parameter name (dots for groups, e.g. ``scheduler.mode``).
    :ivar type: its type, stated (never inferred from ``default``).
    :ivar default: value when not overridden; ``[]`` allowed for array types (a list).
    :ivar description: one line for ``ros2 param describe`` and the docs.
    :ivar range: inclusive (min, max) for INTEGER / DOUBLE, or None.
    :ivar choices: the allowed values of a STRING (or of each STRING_ARRAY element), or ().
    :ivar read_only: True when the node reads it only at start-up / configure.
    :ivar units: unit of the value ('' = none), e.g. 'Hz', 's', 'ms', 'px'.
    """

    name: str
    type: ParamType  # noqa: A003 - the ParameterDescriptor field name
    default: object
    description: str
    range: tuple[float, float] | None = None  # noqa: A003 - (from, to), inclusive
    choices: tuple[str, ...] = ()
    read_only: bool = True
    units: str = ''

    def __post_init__(self) -> None:
        object.__setattr__(self, 'type', ParamType(self.type))
        object.__setattr__(self, 'choices', tuple(self.choices))
        if self.type.is_array and not isinstance(self.default, (list, tuple)):
            raise ConfigError(f'{self.name}: default of an array must be a list, got '
                              f'{self.default!r}')
        if not _fits(self.type, self.default):
            raise ConfigError(f'{self.name}: default {self.default!r} is not '
                              f'{self.type.phrase}')
        object.__setattr__(self, 'default', self.coerce(self.default))
        if self.range is not None:
            if self.type not in (ParamType.INTEGER, ParamType.DOUBLE):
                raise ConfigError(f'{self.name}: a range needs an integer or double, not '
                                  f'{self.type.value}')
            lo, hi = self.range
            object.__setattr__(self, 'range', (self.type_cast(lo), self.type_cast(hi)))
        if self.choices and self.type.element is not ParamType.STRING:
            raise ConfigError(f'{self.name}: choices need a string type, not {self.type.value}')
        self.check(self.default)

    def type_cast(self, v: float) -> float | int:
        """Return a range bound as this parameter's number type."""
        return float(v) if self.type is ParamType.DOUBLE else int(v)

    def coerce(self, value: object) -> object:
        """``value`` as this type: integers -> floats for doubles, tuples -> lists."""
        if self.type is ParamType.DOUBLE and type_of(value) is ParamType.INTEGER:
            return float(value)
        if self.type.is_array and isinstance(value, (list, tuple)):
            if self.type is ParamType.DOUBLE_ARRAY:
                return [float(v) for v in value]
            return list(value)
        return value

    def check(self, value: object, *, label: str = '', scale: float = 1.0) -> object:
        """
        Return ``value`` coerced to the type if it fits type, range and choices.

        Raises :class:`ConfigError` naming ``label`` (default: the parameter name) and quoting
        the value. ``scale``: ``value`` is in other units, ``scale`` of them per parameter
        unit (a field in s for a parameter in ms: 1e-3); the range is scaled to match.
        """
        label = label or self.name
        if not _fits(self.type, value):
            raise ConfigError(f'{label} must be {self.type.phrase}, got {value!r}')
        value = self.coerce(value)
        if self.range is not None:
            lo, hi = (b * scale for b in self.range) if scale != 1.0 else self.range
            if not (math.isfinite(value) and lo <= value <= hi):
                raise ConfigError(f'{label} must be in [{lo:g}, {hi:g}], got {value!r}')
        if self.choices:
            bad = [v for v in (value if self.type.is_array else [value])
                   if v not in self.choices]
            if bad:
                raise ConfigError(f'{label} must be one of {list(self.choices)}, got '
                                  f'{bad[0] if self.type.is_array else value!r}')
        return value

    @property
    def value(self) -> object:
        """Return the default, a fresh copy for lists (safe to hand out)."""
        return list(self.default) if isinstance(self.default, list) else self.default


_UNIT = re.compile(r"\[([^\]'\"]{1,20})\]")  # '[Hz]' in a description


def spec(name: str, type_: ParamType, default: object, description: str, *,
         range: tuple[float, float] | None = None,  # noqa: A002 - as ParamSpec.range
         choices: Sequence[str] = (), read_only: bool = True, units: str = '') -> ParamSpec:
    """
    Shorthand for a :class:`ParamSpec` table row.

    ``units`` default to the first bracketed unit of the description (``'rate [Hz]'``: Hz).
    """
    if not units and (m := _UNIT.search(description)):
        units = m.group(1)
    return ParamSpec(name, type_, default, description, range, tuple(choices), read_only,
                     units)


Table = Mapping[str, ParamSpec]


def as_mapping(table: Iterable[ParamSpec]) -> dict[str, ParamSpec]:
    """Return the rows keyed by name (a duplicate name is a ConfigError)."""
    out: dict[str, ParamSpec] = {}
    for s in table:
        if s.name in out:
            raise ConfigError(f'parameter {s.name!r} stated twice')
        out[s.name] = s
    return out


def defaults(table: Table) -> dict[str, object]:
    """Every parameter's default by name (lists copied)."""
    return {name: s.value for name, s in table.items()}


def check_values(table: Table, values: Mapping[str, object]) -> dict[str, object]:
    """Check and coerce each value of ``values`` that ``table`` states (ConfigError)."""
    return {name: table[name].check(v) if name in table else v for name, v in values.items()}


def table_names(tables: Sequence[Iterable[ParamSpec]]) -> list[str]:
    """All names of several tables (for docs and drift tests)."""
    return [s.name for t in tables for s in t]
