"""
Declare ROS parameters from their specs (:mod:`vla_ros.params`): one function, every node.

rclpy infers a parameter's type from its default: ``[]`` becomes BYTE_ARRAY, so a params file
that sets a string list then kills the node at start-up (InvalidParameterTypeException), and
``control_rate_hz: 50`` (an integer) for a double parameter does the same. Here every
parameter is declared with its stated type and a ``ParameterDescriptor`` (type, description,
range, read_only; choices as ``additional_constraints``); empty-list defaults are declared by
type alone and read back as the default; integers given for doubles are accepted; any other
mismatch is a :class:`ConfigError` that names the parameter, the expected type and what the
params file gave. Parameters given in a params file that no table declares get one warning
each, naming the nearest declared one.
"""

from __future__ import annotations

from collections.abc import Iterable
import difflib

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
from vla_ros.errors import ConfigError
from vla_ros.params import NODE_PARAMETERS, POLICY_PARAMETERS
from vla_ros.params.spec import ParamSpec, ParamType

PType = Parameter.Type
# our type -> rclpy's (same names)
ROS_TYPES: dict[ParamType, PType] = {t: PType[t.name] for t in ParamType}
# Parameters every rclpy node has, or that rclpy consumes itself.
_BUILTIN = ('use_sim_time', 'start_type_description_service')
_BUILTIN_PREFIXES = ('qos_overrides.',)
_INT_TO_DOUBLE = {PType.DOUBLE: PType.INTEGER, PType.DOUBLE_ARRAY: PType.INTEGER_ARRAY}
_ARRAYS = (PType.STRING_ARRAY, PType.INTEGER_ARRAY, PType.DOUBLE_ARRAY, PType.BOOL_ARRAY,
           PType.BYTE_ARRAY)


def _phrase(t: PType) -> str:
    try:
        return ParamType[t.name].phrase
    except KeyError:
        return {PType.BYTE_ARRAY: 'a byte list'}.get(t, t.name)


def descriptor(s: ParamSpec) -> ParameterDescriptor:
    """Return the ``ParameterDescriptor`` of a spec (type, description, range, read_only)."""
    d = ParameterDescriptor(description=s.description, read_only=s.read_only,
                            type=ROS_TYPES[s.type].value)
    if s.range is not None:
        lo, hi = s.range
        if s.type is ParamType.DOUBLE:
            d.floating_point_range = [FloatingPointRange(from_value=float(lo),
                                                         to_value=float(hi))]
        elif s.type is ParamType.INTEGER:
            d.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi))]
    if s.choices:
        d.additional_constraints = f'one of {list(s.choices)}'
    return d


def _prefixed(s: ParamSpec, prefix: str) -> ParamSpec:
    return ParamSpec(prefix + s.name, s.type, s.default, s.description, s.range, s.choices,
                     s.read_only, s.units) if prefix else s


def _coerce_override(node: Node, s: ParamSpec) -> None:
    """
    Make a params-file value fit the declared type, or raise a ConfigError that says how.

    rclpy keeps the overrides of a node in ``_parameter_overrides`` (there is no public
    accessor); declaring a parameter validates the override against the declared type.
    """
    overrides = node._parameter_overrides
    given = overrides.get(s.name)
    want = ROS_TYPES[s.type]
    if given is None or given.type_ is want:
        return
    if given.type_ is PType.NOT_SET:
        return
    if _INT_TO_DOUBLE.get(want) is given.type_:
        value = (float(given.value) if want is PType.DOUBLE
                 else [float(v) for v in given.value])
        overrides[s.name] = Parameter(s.name, want, value)
        return
    if want in _ARRAYS and given.type_ in _ARRAYS and len(given.value or ()) == 0:
        overrides[s.name] = Parameter(s.name, want, [])  # `[]` in YAML: an empty list
        return
    raise ConfigError(f'parameter {s.name!r} must be {_phrase(want)}, '
                      f'but the parameters gave {_phrase(given.type_)} {given.value!r}')


def declare_table(node: Node, table: Iterable[ParamSpec], *, prefix: str = '') -> None:
    """Declare every row on ``node`` (no-op for rows already declared)."""
    for s in table:
        full = _prefixed(s, prefix)
        if node.has_parameter(full.name):
            continue
        _coerce_override(node, full)
        if full.default == []:
            node.declare_parameter(full.name, ROS_TYPES[full.type], descriptor(full))
        else:
            node.declare_parameter(full.name, full.default, descriptor(full))


def read_table(node: Node, table: Iterable[ParamSpec], *, prefix: str = '') -> dict[str, object]:
    """
    Return current values by row name (without ``prefix``); unset arrays -> default.

    Each value is checked against its spec (choices too, which the descriptor cannot hold):
    :class:`ConfigError` quoting the bad value.
    """
    values: dict[str, object] = {}
    for s in table:
        try:
            value = node.get_parameter(prefix + s.name).value
        except ParameterUninitializedException:
            value = None
        if value is None:
            value = s.value
        if s.type.is_array:  # rclpy may hand out array.array for number arrays
            value = list(value)
        values[s.name] = s.check(value, label=prefix + s.name)
    return values


def declare_node_parameters(node: Node, name: str) -> dict[str, object]:
    """
    Declare every parameter of node ``name`` (its executable name) and read them.

    The one way a node declares its parameters: the tables of
    :data:`vla_ros.params.NODE_PARAMETERS` for that node. Returns the checked values by name.
    """
    tables = NODE_PARAMETERS[name]
    values: dict[str, object] = {}
    for table in tables:
        declare_table(node, table.values())
        values.update(read_table(node, table.values()))
    return values


def declare_policy_parameters(node: Node) -> None:
    """Declare every policy parameter once (no-op for already declared ones)."""
    declare_table(node, POLICY_PARAMETERS.values())


def policy_values(node: Node) -> dict[str, object]:
    """Return the current value of every policy parameter (unset arrays read as their default)."""
    return read_table(node, POLICY_PARAMETERS.values())


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
