"""Loading a YAML configuration file into a model, with errors that name the file and place."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from audits.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
# libyaml's parser when PyYAML was built with it (its wheels are): the pure-Python
# one took a second to read the templates at every start. Same documents, same errors.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_model(model: type[M], path: Path) -> M:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{path}: {_place(raw, err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError("\n".join(problems)) from exc


def _place(raw: Any, loc: tuple[int | str, ...]) -> str:
    """A readable place, naming list items by their id where they have one."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1] += f"[{key}" + (f" '{ident}'" if ident else "") + "]"
        elif isinstance(node, dict) and key in node:
            node = node[key]
            parts.append(str(key))
        else:
            parts.append(str(key))
            node = None
    return ".".join(parts) or "(top level)"
