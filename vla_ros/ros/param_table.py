"""
Declare ROS parameters from one explicitly typed table (no type inferred from a default).

rclpy infers a parameter's type from its default: ``[]`` becomes BYTE_ARRAY, so a params file
that sets a string list then kills the node at start-up (InvalidParameterTypeException), and
``control_rate_hz: 50`` (an integer) for a double parameter does the same. Here every
parameter states its type; empty-list defaults are declared by type alone and read back as the
default; integers given for doubles are accepted; any other mismatch is a :class:`ConfigError`
that names the parameter, the expected type and what the params file gave. Parameters given
in a params file that no table declares get one warning each, naming the nearest declared one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
import difflib

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
from vla_ros.errors import ConfigError

PType = Parameter.Type
# Parameters every rclpy node has, or that rclpy consumes itself.
_BUILTIN = ('use_sim_time', 'start_type_description_service')
_BUILTIN_PREFIXES = ('qos_overrides.',)
_TYPE_NAMES = {
    PType.BOOL: 'a bool', PType.INTEGER: 'an integer', PType.DOUBLE: 'a number',
    PType.STRING: 'a string', PType.STRING_ARRAY: 'a list of strings',
    PType.INTEGER_ARRAY: 'a list of integers', PType.DOUBLE_ARRAY: 'a list of numbers',
    PType.BOOL_ARRAY: 'a list of bools', PType.BYTE_ARRAY: 'a byte list'}
_INT_TO_DOUBLE = {PType.DOUBLE: PType.INTEGER, PType.DOUBLE_ARRAY: PType.INTEGER_ARRAY}
_ARRAYS = (PType.STRING_ARRAY, PType.INTEGER_ARRAY, PType.DOUBLE_ARRAY, PType.BOOL_ARRAY,
           PType.BYTE_ARRAY)


@dataclass(frozen=True)
class ParamSpec:
    """
    One declared parameter.

    :ivar name: full parameter name (dots for groups, e.g. ``scheduler.mode``).
    :ivar type: its ROS parameter type, stated (never inferred from ``default``).
    :ivar default: value when not overridden; ``[]`` allowed for array types.
    :ivar description: one line for ``ros2 param describe`` and the docs.
    :ivar range: inclusive (min, max) for INTEGER / DOUBLE, or None.
    :ivar read_only: True when the node reads it only at start-up / configure.
    """

    name: str
    type: PType  # noqa: A003 - the ParameterDescriptor field name
    default: object
    description: str
    range: tuple[float, float] | None = None  # noqa: A003 - (from, to), inclusive
    read_only: bool = True

    def __post_init__(self) -> None:
        if self.type in _ARRAYS:
            if not isinstance(self.default, (list, tuple)):
                raise ConfigError(f'{self.name}: default of an array must be a list, got '
                                  f'{self.default!r}')
            object.__setattr__(self, 'default', list(self.default))
        elif self.type is PType.DOUBLE and isinstance(self.default, int) \
                and not isinstance(self.default, bool):
            object.__setattr__(self, 'default', float(self.default))
        if self.default != [] and PType.from_parameter_value(self.default) is not self.type:
            raise ConfigError(f'{self.name}: default {self.default!r} is not '
                              f'{_TYPE_NAMES.get(self.type, self.type.name)}')

    def descriptor(self) -> ParameterDescriptor:
        d = ParameterDescriptor(description=self.description, read_only=self.read_only,
                                type=self.type.value)
        if self.range is not None:
            lo, hi = self.range
            if self.type is PType.DOUBLE:
                d.floating_point_range = [FloatingPointRange(from_value=float(lo),
                                                             to_value=float(hi))]
            elif self.type is PType.INTEGER:
                d.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi))]
        return d


def spec(name: str, type_: PType, default: object, description: str, *,
         range: tuple[float, float] | None = None,  # noqa: A002 - as ParamSpec.range
         read_only: bool = True) -> ParamSpec:
    """Shorthand for a :class:`ParamSpec` table row."""
    return ParamSpec(name, type_, default, description, range, read_only)


def _coerce_override(node: Node, s: ParamSpec) -> None:
    """
    Make a params-file value fit the declared type, or raise a ConfigError that says how.

    rclpy keeps the overrides of a node in ``_parameter_overrides`` (there is no public
    accessor); declaring a parameter validates the override against the declared type.
    """
    overrides = node._parameter_overrides
    given = overrides.get(s.name)
    if given is None or given.type_ is s.type:
        return
    if given.type_ is PType.NOT_SET:
        return
    if _INT_TO_DOUBLE.get(s.type) is given.type_:
        value = (float(given.value) if s.type is PType.DOUBLE
                 else [float(v) for v in given.value])
        overrides[s.name] = Parameter(s.name, s.type, value)
        return
    if s.type in _ARRAYS and given.type_ in _ARRAYS and len(given.value or ()) == 0:
        overrides[s.name] = Parameter(s.name, s.type, [])  # `[]` in YAML: an empty list
        return
    raise ConfigError(f'parameter {s.name!r} must be {_TYPE_NAMES.get(s.type, s.type.name)}, '
                      f'but the parameters gave {_TYPE_NAMES.get(given.type_, given.type_.name)}'
                      f' {given.value!r}')


def declare_table(node: Node, table: Iterable[ParamSpec], *, prefix: str = '') -> None:
    """Declare every row on ``node`` (no-op for rows already declared)."""
    for s in table:
        full = ParamSpec(prefix + s.name, s.type, s.default, s.description, s.range,
                         s.read_only) if prefix else s
        if node.has_parameter(full.name):
            continue
        _coerce_override(node, full)
        if full.default == []:
            node.declare_parameter(full.name, full.type, full.descriptor())
        else:
            node.declare_parameter(full.name, full.default, full.descriptor())


def read_table(node: Node, table: Iterable[ParamSpec], *, prefix: str = '') -> dict[str, object]:
    """Return current values by row name (without ``prefix``); unset arrays -> default."""
    values: dict[str, object] = {}
    for s in table:
        try:
            value = node.get_parameter(prefix + s.name).value
        except ParameterUninitializedException:
            value = None
        if value is None:
            value = list(s.default) if s.type in _ARRAYS else s.default
        elif s.type in _ARRAYS:
            value = list(value)
        values[s.name] = value
    return values


def unknown_overrides(node: Node) -> dict[str, str]:
    """Params-file keys this node never declared -> the nearest declared name ('' if none)."""
    declared = list(node._parameters)
    out = {}
    for name in node._parameter_overrides:
        if (name in declared or name in _BUILTIN
                or any(name.startswith(p) for p in _BUILTIN_PREFIXES)):
            continue
        near = difflib.get_close_matches(name, declared, n=1, cutoff=0.6)
        if not near:  # a typo in the group part only: compare the last component
            tails = {d.rsplit('.', 1)[-1]: d for d in declared}
            hit = difflib.get_close_matches(name.rsplit('.', 1)[-1], list(tails), n=1,
                                            cutoff=0.75)
            near = [tails[hit[0]]] if hit else []
        out[name] = near[0] if near else ''
    return out


def warn_unknown_parameters(node: Node) -> dict[str, str]:
    """
    Log one warning per params-file key that ``node`` does not declare.

    Call after all declarations. Returns what :func:`unknown_overrides` found.
    """
    unknown = unknown_overrides(node)
    for name, near in sorted(unknown.items()):
        hint = f"; did you mean '{near}'?" if near else ''
        node.get_logger().warning(
            f"unknown parameter '{name}' ignored (not declared by {node.get_name()}){hint}")
    return unknown


def table_names(tables: Sequence[Iterable[ParamSpec]]) -> list[str]:
    """All names of several tables (for docs and drift tests)."""
    return [s.name for t in tables for s in t]


def as_mapping(table: Iterable[ParamSpec]) -> Mapping[str, ParamSpec]:
    """Return the rows keyed by name."""
    return {s.name: s for s in table}
