"""Load and validate the project file; a bad file lists every problem with its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from usertrail.errors import ConfigError
from usertrail.model.config import ProjectConfig
from usertrail.project_file_errors import readable_errors


class _StrictLoader(yaml.SafeLoader):
    """A duplicated key is an error: YAML would silently keep only the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_project_file(path: Path | str) -> ProjectConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read project file {path}: {exc}") from exc
    return parse_project_file(text, source=str(path))


def parse_project_file(text: str, source: str = "project file") -> ProjectConfig:
    """The YAML text -> a validated config; an empty file is the default config."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {_named(exc, source)}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(source, exc)) from exc


def format_errors(source: str | Path, exc: ValidationError) -> str:
    """One line per problem: `features.export.events: Input should be a valid list`."""
    lines = readable_errors(ProjectConfig, exc.errors())
    return "\n".join([f"{source}: {len(lines)} error(s)", *(f"  {line}" for line in lines)])


def _named(exc: yaml.YAMLError, source: str) -> yaml.YAMLError:
    """PyYAML names a string it parsed `<unicode string>`: name the file instead."""
    if isinstance(exc, yaml.MarkedYAMLError):
        for mark in (exc.context_mark, exc.problem_mark):
            if mark is not None:
                mark.name = source
    return exc
