"""The requester catalogue: one YAML manifest per vendor, read once and validated at start-up.

Adding an OpenAI-compatible vendor means adding `manifests/<name>.yaml` and `icons/<icon>`; the wire protocol is
one of a few adapters (`execution.adapter`). A broken manifest raises ManifestError naming the file and the problem.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import yaml

from . import anthropic, ollama, openai

MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"
ICON_DIR = Path(__file__).resolve().parent / "icons"

LLM, EMBEDDING, RERANK = "llm", "text-embedding", "rerank"
SUPPORT_TYPES = (LLM, EMBEDDING, RERANK)
PROVIDER_CATEGORIES = ("manufacturer", "maas", "self-hosted")
ADAPTERS: dict[str, ModuleType] = {"openai": openai, "anthropic": anthropic, "ollama": ollama}
# The adapter function that probes a model of each type.
PROBES = {LLM: "chat", EMBEDDING: "embed", RERANK: "rerank"}
ICON_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".webp": "image/webp", ".jpg": "image/jpeg"}
CONFIG_TYPES = ("string", "integer", "number", "boolean", "select", "secret")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class Requester:
    name: str
    label: dict
    description: dict
    icon: str
    provider_category: str
    config: tuple
    support_type: tuple
    adapter_name: str

    @property
    def adapter(self) -> ModuleType:
        return ADAPTERS[self.adapter_name]

    @property
    def icon_path(self) -> Path:
        return ICON_DIR / self.icon

    @property
    def icon_content_type(self) -> str:
        return ICON_TYPES[self.icon_path.suffix.lower()]

    def config_default(self, name: str, fallback=None):
        for field in self.config:
            if field["name"] == name:
                return field.get("default", fallback)
        return fallback

    @property
    def default_base_url(self) -> str:
        return self.config_default("base_url", "")

    @property
    def default_timeout(self) -> int:
        return int(self.config_default("timeout", 120))

    def supports(self, support_type: str) -> bool:
        return support_type in self.support_type

    def as_dict(self) -> dict:
        """The requester object of the Service API."""
        return {
            "name": self.name,
            "label": dict(self.label),
            "description": dict(self.description),
            "icon": self.icon,
            "icon_url": f"/api/v1/provider/requesters/{self.name}/icon",
            "provider_category": self.provider_category,
            "spec": {
                "config": [dict(field) for field in self.config],
                "support_type": list(self.support_type),
                "provider_category": self.provider_category,
            },
        }


def _i18n(value, where: str, required: bool) -> dict:
    if value is None and not required:
        return {}
    if isinstance(value, str):  # a plain string is the English text
        value = {"en_US": value}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ManifestError(f"{where} must be a mapping of language code to text")
    if required and not value.get("en_US", "").strip():
        raise ManifestError(f"{where}.en_US is required")
    return dict(value)


def _config(fields) -> tuple:
    if not isinstance(fields, list):
        raise ManifestError("spec.config must be a list")
    checked, seen = [], set()
    for index, field in enumerate(fields):
        where = f"spec.config[{index}]"
        if not isinstance(field, dict) or not isinstance(field.get("name"), str) or not field["name"]:
            raise ManifestError(f"{where} needs a name")
        if field["name"] in seen:
            raise ManifestError(f"{where}: duplicate field {field['name']!r}")
        seen.add(field["name"])
        if field.get("type") not in CONFIG_TYPES:
            raise ManifestError(f"{where}.type must be one of {', '.join(CONFIG_TYPES)}")
        checked.append({**field, "label": _i18n(field.get("label"), f"{where}.label", required=True)})
    by_name = {f["name"]: f for f in checked}
    base_url = by_name.get("base_url")
    if not base_url or base_url["type"] != "string" or not str(base_url.get("default", "")).startswith(("http://", "https://")):
        raise ManifestError("spec.config needs a string `base_url` field with an http(s) default")
    timeout = by_name.get("timeout")
    if not timeout or timeout["type"] != "integer" or not isinstance(timeout.get("default"), int) or timeout["default"] < 1:
        raise ManifestError("spec.config needs an integer `timeout` field with a positive default")
    return tuple(checked)


def parse_manifest(data, icon_dir: Path = ICON_DIR) -> Requester:
    if not isinstance(data, dict):
        raise ManifestError("a manifest must be a YAML mapping")
    if data.get("kind") != "LLMAPIRequester":
        raise ManifestError("kind must be LLMAPIRequester")
    metadata, spec, execution = data.get("metadata"), data.get("spec"), data.get("execution")
    if not isinstance(metadata, dict) or not isinstance(spec, dict) or not isinstance(execution, dict):
        raise ManifestError("metadata, spec and execution must be mappings")

    name = metadata.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ManifestError("metadata.name must be lowercase letters, digits and dashes")
    icon = metadata.get("icon")
    if not isinstance(icon, str) or "/" in icon or Path(icon).suffix.lower() not in ICON_TYPES:
        raise ManifestError(f"metadata.icon must be a file name ending in {', '.join(ICON_TYPES)}")
    if not (icon_dir / icon).is_file():
        raise ManifestError(f"icon file {icon} is missing from {icon_dir}")
    category = metadata.get("provider_category")
    if category not in PROVIDER_CATEGORIES:
        raise ManifestError(f"metadata.provider_category must be one of {', '.join(PROVIDER_CATEGORIES)}")

    support = spec.get("support_type")
    if not isinstance(support, list) or not support or any(s not in SUPPORT_TYPES for s in support):
        raise ManifestError(f"spec.support_type must be a non-empty list of {', '.join(SUPPORT_TYPES)}")
    adapter_name = execution.get("adapter")
    if adapter_name not in ADAPTERS:
        raise ManifestError(f"execution.adapter must be one of {', '.join(ADAPTERS)}")
    unsupported = [s for s in support if not hasattr(ADAPTERS[adapter_name], PROBES[s])]
    if unsupported:
        raise ManifestError(f"adapter {adapter_name} cannot serve {', '.join(unsupported)}")

    return Requester(
        name=name,
        label=_i18n(metadata.get("label"), "metadata.label", required=True),
        description=_i18n(metadata.get("description"), "metadata.description", required=False),
        icon=icon,
        provider_category=category,
        config=_config(spec.get("config")),
        support_type=tuple(dict.fromkeys(support)),
        adapter_name=adapter_name,
    )


def load_manifests(manifest_dir: Path = MANIFEST_DIR, icon_dir: Path = ICON_DIR) -> dict[str, Requester]:
    requesters: dict[str, Requester] = {}
    for path in sorted(manifest_dir.glob("*.yaml")):
        try:
            requester = parse_manifest(yaml.safe_load(path.read_text(encoding="utf-8")), icon_dir)
        except (yaml.YAMLError, UnicodeDecodeError, ManifestError) as exc:
            raise ManifestError(f"requester manifest {path.name}: {exc}") from exc
        if requester.name in requesters:
            raise ManifestError(f"requester manifest {path.name}: name {requester.name!r} is already taken")
        requesters[requester.name] = requester
    if not requesters:
        raise ManifestError(f"no requester manifests in {manifest_dir}")
    return requesters


@cache
def get_registry() -> dict[str, Requester]:
    return load_manifests()


def get_requester(name) -> Requester | None:
    return get_registry().get(name) if isinstance(name, str) else None


def list_requesters(support_type: str | None = None) -> list[Requester]:
    return [r for r in get_registry().values() if support_type is None or r.supports(support_type)]
