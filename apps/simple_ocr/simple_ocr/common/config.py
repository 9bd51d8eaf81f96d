"""Reading service configuration from environment variables with defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


class Env:
    """Typed access to one environment mapping; every reader names the variable in its error."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def str(self, name: str, default: str) -> str:
        value = self._environ.get(name, "").strip()
        return value if value else default

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not an integer") from None
        return self._at_least(name, value, minimum)

    def float(self, name: str, default: float, minimum: float | None = None) -> float:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a number") from None
        return self._at_least(name, value, minimum)

    def bool(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")

    @staticmethod
    def _at_least(name, value, minimum):
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name}={value} is below the minimum {minimum}")
        return value
