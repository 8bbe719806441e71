"""Helpers for the frozen, validated config dataclasses of the core."""

from __future__ import annotations

from enum import Enum

from vla_ros.errors import ConfigError


def coerce_enums(config: object, fields: dict[str, type[Enum]]) -> None:
    """
    Replace each named field of a frozen dataclass by its enum member.

    Raises ConfigError quoting the bad value and the allowed ones.
    """
    for name, enum in fields.items():
        value = getattr(config, name)
        try:
            object.__setattr__(config, name, enum(value))
        except ValueError:
            raise ConfigError(f'{name} must be one of {[m.value for m in enum]}, '
                              f'got {value!r}') from None
