"""Loading a LiteLLM proxy config: include:, os.environ/ references, deployments and their ids.

Include semantics are LiteLLM 1.110.2's (`proxy/common_utils/config_includes.py`): entries are
resolved next to the file that declares them (falling back to the top config's folder), read
breadth-first, each file at most once; a list value is appended to the list already there,
any other value replaces it. Includes inside included files are followed too: 1.110.2 does so
(older releases did not).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from costctl.config import yaml_source
from costctl.config.model import Config, Deployment, EnvRef
from costctl.config.yaml_source import YamlList, YamlMap, load_yaml
from costctl.errors import CostctlError

ENV_PREFIX = "os.environ/"


def load_config(
    path: str | Path,
    *,
    include_root: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read the config at `path` with its includes; raises CostctlError on anything unusable."""
    shown = str(path)
    top = Path(path)
    environ = os.environ if environ is None else environ
    root_dir = Path(include_root) if include_root is not None else top.absolute().parent
    root_dir = root_dir.resolve()

    root, builder = load_yaml(top, shown)
    left = yaml_source.MAX_FILE_BYTES - len(builder.text.encode())  # what the includes may add
    if not isinstance(root, YamlMap):
        kind = "empty" if root is None else type(root).__name__.replace("Yaml", "").lower()
        raise CostctlError(f"expected a mapping with a model_list at the top of the file, found {kind}", shown, 1, 1)

    files: dict[str, Any] = {shown: (root, builder)}
    merged: dict[str, Any] = {}
    key_file: dict[str, str] = {}
    list_files: dict[str, list[tuple[str, tuple[int, int]]]] = {}
    _merge_into(merged, key_file, list_files, root, shown)

    top_abs = str(top.absolute().resolve())
    pending = [(entry, top, shown, line) for entry, line in _include_entries(root, shown)]
    loaded = {top_abs}
    while pending:
        entry, declared_in, declared_shown, line = pending.pop(0)
        location = _resolve_include(entry, declared_in, top)
        real = location.resolve()
        if str(real) in loaded:
            continue
        if not real.is_relative_to(root_dir):
            raise CostctlError(
                f"include '{entry}' resolves outside the allowed folder {root_dir} "
                "(use --include-root DIR to allow it)",
                declared_shown, line,
            )
        if not location.exists():
            raise CostctlError(f"included file not found: {entry}", declared_shown, line)
        inc_shown = _display_path(location, top)
        included, inc_builder = load_yaml(location, inc_shown, max(left, 0))
        left -= len(inc_builder.text.encode())
        if not isinstance(included, YamlMap):
            raise CostctlError("an included config must be a YAML mapping", inc_shown, 1, 1)
        files[inc_shown] = (included, inc_builder)
        _merge_into(merged, key_file, list_files, included, inc_shown)
        pending.extend((e, location, inc_shown, ln) for e, ln in _include_entries(included, inc_shown))
        loaded.add(str(real))

    config = Config(path=shown, files=list(files), data=merged,
                    sources={name: (tree, b.text) for name, (tree, b) in files.items()})
    for name, (tree, b) in files.items():
        if b.has_duplicates:  # the walk builds a path for every value: only where there is something to find
            config.duplicates.extend(_duplicates(tree, name, ""))

    model_list = merged.get("model_list")
    if "model_list" not in merged:
        raise CostctlError("no model_list: expected a list of deployments", shown, 1, 1)
    owner = key_file["model_list"]
    if not isinstance(model_list, list):
        line = files[owner][0].line_of("model_list") if isinstance(files[owner][0], YamlMap) else 1
        raise CostctlError("model_list must be a list of deployments", owner, line)

    for index, (entry, (entry_file, pos)) in enumerate(zip(model_list, list_files.get("model_list", []), strict=True)):
        builder_for = files[entry_file][1]
        config.deployments.append(_deployment(index, entry, entry_file, pos, builder_for, environ))
    settings = merged.get("litellm_settings")
    config.litellm_settings = settings if isinstance(settings, dict) else {}
    return config


def _display_path(location: Path, top: Path) -> str:
    """An included file's name as the user would write it: relative to the top config's path."""
    try:
        rel = os.path.relpath(location.absolute(), top.absolute().parent)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(location)
    return os.path.normpath(os.path.join(os.path.dirname(str(top)), rel))


def _include_entries(tree: YamlMap, shown: str) -> list[tuple[str, int]]:
    if "include" not in tree:
        return []
    entries = tree["include"]
    line = tree.line_of("include")
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise CostctlError("'include' must be a list of file paths", shown, line)
    positions = entries.item_pos if isinstance(entries, YamlList) else [(line, 1)] * len(entries)
    return [(e, pos[0]) for e, pos in zip(entries, positions, strict=True)]


def _resolve_include(entry: str, declared_in: Path, top: Path) -> Path:
    """Next to the declaring file; else next to the top config when only that one exists."""
    declared = Path(os.path.abspath(os.path.join(os.path.dirname(declared_in.absolute()), entry)))
    at_root = Path(os.path.abspath(os.path.join(os.path.dirname(top.absolute()), entry)))
    if at_root == declared or not at_root.exists() or declared.exists():
        return declared
    return at_root


def _merge_into(
    merged: dict[str, Any], key_file: dict[str, str],
    list_files: dict[str, list[tuple[str, tuple[int, int]]]], tree: YamlMap, shown: str,
) -> None:
    """Merge one file's keys as LiteLLM does, remembering which file (and position) each list
    item came from."""
    for key, value in tree.items():
        if key == "include":
            continue
        origins = []
        if isinstance(value, list):
            positions = value.item_pos if isinstance(value, YamlList) else [tree.value_pos.get(key, (1, 1))] * len(value)
            origins = [(shown, pos) for pos in positions]
        if isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *value]
            list_files[key] = [*list_files.get(key, []), *origins]
        else:
            merged[key] = value
            key_file[key] = shown
            list_files[key] = origins
        key_file.setdefault(key, shown)


def _duplicates(value: Any, file: str, path: str) -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    if isinstance(value, YamlMap):
        found.extend((file, f"{path}.{d.key}" if path else d.key, d) for d in value.duplicates)
        for key, child in value.items():
            found.extend(_duplicates(child, file, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, YamlList):
        for i, child in enumerate(value):
            found.extend(_duplicates(child, file, f"{path}[{i}]"))
    return found


def _deployment(
    index: int, entry: Any, file: str, pos: tuple[int, int], builder: Any, environ: Mapping[str, str]
) -> Deployment:
    where = f"model_list[{index}]"
    if not isinstance(entry, YamlMap):
        raise CostctlError(f"{where}: expected a mapping with model_name and litellm_params", file, *pos)
    if "model_name" not in entry or entry["model_name"] in (None, ""):
        raise CostctlError(f"{where}: deployment has no model_name", file, *pos)
    params = entry.get("litellm_params")
    if not isinstance(params, YamlMap):
        what = "has no litellm_params" if params is None else "litellm_params must be a mapping"
        line = entry.line_of("litellm_params") if "litellm_params" in entry else pos[0]
        raise CostctlError(f"{where}: deployment {what}", file, line)
    if not isinstance(params.get("model"), str) or not params.get("model"):
        line = params.line_of("model") if "model" in params else params.pos[0]
        raise CostctlError(f"{where}.litellm_params: expected a 'model' string such as openai/gpt-4o", file, line)
    info = entry.get("model_info")
    if info is None:
        info = YamlMap(pos)
    elif not isinstance(info, YamlMap):
        raise CostctlError(f"{where}: model_info must be a mapping", file, entry.line_of("model_info"))

    env_refs: list[EnvRef] = []
    _resolve_env(params, f"{where}.litellm_params", file, environ, env_refs)
    _resolve_env(info, f"{where}.model_info", file, environ, env_refs)
    model_name = str(entry["model_name"])
    model = params["model"]

    declared_id = info.get("id")
    if declared_id not in (None, ""):
        deployment_id, id_source = str(declared_id), "model_info"
    else:
        native = builder.native(params.node) if params.node is not None else {}
        native = {k: _env_native(v, environ) for k, v in native.items()}
        deployment_id = litellm_deployment_id(model_name, native)
        unresolved = any(r.path.startswith(f"{where}.litellm_params") and not r.resolved for r in env_refs)
        id_source = "generated-env-unset" if unresolved else "generated"

    base_model = info.get("base_model") or params.get("base_model")
    return Deployment(
        index=index,
        model_name=model_name,
        model=model,
        params=params,
        info=info,
        file=file,
        line=pos[0],
        column=pos[1],
        deployment_id=deployment_id,
        id_source=id_source,
        wildcard="*" in model_name or "*" in model,
        custom_llm_provider=params.get("custom_llm_provider") if isinstance(params.get("custom_llm_provider"), str) else None,
        base_model=base_model if isinstance(base_model, str) and base_model else None,
        env_refs=env_refs,
    )


def _env_native(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        return environ.get(value[len(ENV_PREFIX):])
    return value


def _resolve_env(tree: YamlMap, path: str, file: str, environ: Mapping[str, str], refs: list[EnvRef]) -> None:
    """Replace `os.environ/NAME` values in place (None when unset), recording each reference."""
    for key, value in list(tree.items()):
        if isinstance(value, str) and value.startswith(ENV_PREFIX):
            name = value[len(ENV_PREFIX):]
            resolved = environ.get(name)
            line, col = tree.value_pos.get(key, tree.pos)
            refs.append(EnvRef(name=name, path=f"{path}.{key}", key=str(key), file=file, line=line,
                               column=col, resolved=resolved is not None))
            tree[key] = resolved
        elif isinstance(value, YamlMap):
            _resolve_env(value, f"{path}.{key}", file, environ, refs)


def litellm_deployment_id(model_name: str, params: Mapping[str, Any]) -> str:
    """The id LiteLLM 1.110.2 gives a deployment without `model_info.id`
    (`litellm.router_api.deployment_id`): SHA-256 over the model name and every litellm_params key
    and value in order, strings as they are, dicts as JSON, everything else as `str()`."""
    parts = [model_name]
    for key, value in params.items():
        for item in (key, value):
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict):
                parts.append(json.dumps(item, default=str))
            else:
                parts.append(str(item))
    return hashlib.sha256("".join(parts).encode()).hexdigest()
