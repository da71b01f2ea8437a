"""The loaded config: deployments with their source positions, env references and ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from costctl.config.yaml_source import YamlMap


@dataclass(frozen=True)
class EnvRef:
    """One `os.environ/NAME` value: where it is and whether NAME was set (its value is never kept here)."""

    name: str
    path: str
    key: str
    file: str
    line: int
    column: int
    resolved: bool


@dataclass
class Deployment:
    """One entry of model_list, after includes and env substitution."""

    index: int
    model_name: str
    model: str
    params: YamlMap
    info: YamlMap
    file: str
    line: int
    column: int
    deployment_id: str
    # "model_info" (declared), "generated" (LiteLLM's hash), "generated-env-unset" (the hash of
    # a deployment whose env references are unset here: the proxy will compute another one).
    id_source: str
    wildcard: bool
    custom_llm_provider: str | None
    base_model: str | None
    env_refs: list[EnvRef] = field(default_factory=list)

    @property
    def key_path(self) -> str:
        return f"model_list[{self.index}]"


@dataclass
class Config:
    path: str
    files: list[str]
    data: dict[str, Any]
    deployments: list[Deployment] = field(default_factory=list)
    litellm_settings: dict[str, Any] = field(default_factory=dict)
    # (file, key path, yaml_source.Duplicate)
    duplicates: list[tuple[str, str, Any]] = field(default_factory=list)
    # file -> (its own YAML tree before includes were merged, its text): for rules that need
    # positions outside model_list and the inline `# costctl: ignore[...]` comments
    sources: dict[str, tuple[Any, str]] = field(default_factory=dict)
