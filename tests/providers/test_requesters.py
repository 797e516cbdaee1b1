"""Requester catalogue: manifests (loading, validation) and the /api/v1/provider/requesters routes."""

import shutil
from pathlib import Path

import pytest
import yaml

from apikeys.scopes import ALL_SCOPES
from providers.requesters import registry
from providers.requesters.registry import ManifestError, load_manifests

URL = "/api/v1/provider/requesters"

SEED_REQUESTERS = {
    "openai-chat-completions": ({"llm", "text-embedding"}, "https://api.openai.com/v1"),
    "anthropic-messages": ({"llm"}, "https://api.anthropic.com"),
    "openai-embeddings": ({"text-embedding"}, "https://api.openai.com/v1"),
}
OPENAI_COMPATIBLE_VENDORS = {
    "deepseek-chat-completions": "https://api.deepseek.com",
    "moonshot-chat-completions": "https://api.moonshot.ai/v1",
    "openrouter-chat-completions": "https://openrouter.ai/api/v1",
    "siliconflow-chat-completions": "https://api.siliconflow.cn/v1",
    "gemini-chat-completions": "https://generativelanguage.googleapis.com/v1beta/openai",
    "groq-chat-completions": "https://api.groq.com/openai/v1",
    "xai-chat-completions": "https://api.x.ai/v1",
    "mistral-chat-completions": "https://api.mistral.ai/v1",
    "zhipuai-chat-completions": "https://open.bigmodel.cn/api/paas/v4",
    "ollama-chat": "http://127.0.0.1:11434",
    "lmstudio-chat-completions": "http://127.0.0.1:1234/v1",
}


def _config(requester: dict) -> dict:
    return {field["name"]: field for field in requester["spec"]["config"]}


# --- the catalogue ---------------------------------------------------------------------------------------------------


def test_list_has_the_seed_requesters_with_the_contract_shape(api_client, auth_headers):
    response = api_client.get(URL, **auth_headers(["resource.view"]))
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 0 and body["msg"] == "ok"
    by_name = {r["name"]: r for r in body["data"]["requesters"]}
    for name, (support, base_url) in SEED_REQUESTERS.items():
        r = by_name[name]
        assert set(r) >= {"name", "label", "description", "icon", "spec"}
        assert r["label"]["en_US"] and "zh_Hans" in r["label"]
        assert isinstance(r["description"], dict)
        assert set(r["spec"]["support_type"]) == support
        assert r["spec"]["provider_category"] in ("manufacturer", "maas", "self-hosted")
        config = _config(r)
        assert config["base_url"] == {**config["base_url"], "type": "string", "required": True, "default": base_url}
        assert config["base_url"]["label"]["en_US"]
        assert config["timeout"]["type"] == "integer" and config["timeout"]["default"] == 120


def test_list_has_the_openai_compatible_vendors_with_their_real_base_urls(api_client, admin_headers):
    by_name = {r["name"]: r for r in api_client.get(URL, **admin_headers).json()["data"]["requesters"]}
    for name, base_url in OPENAI_COMPATIBLE_VENDORS.items():
        assert _config(by_name[name])["base_url"]["default"] == base_url, name
        assert "llm" in by_name[name]["spec"]["support_type"]
    assert by_name["ollama-chat"]["spec"]["provider_category"] == "self-hosted"


@pytest.mark.parametrize("support_type", ["llm", "text-embedding", "rerank"])
def test_list_filters_by_type(api_client, admin_headers, support_type):
    response = api_client.get(URL, {"type": support_type}, **admin_headers)
    requesters = response.json()["data"]["requesters"]
    assert requesters and all(support_type in r["spec"]["support_type"] for r in requesters)
    names = {r["name"] for r in requesters}
    if support_type == "llm":
        assert "anthropic-messages" in names and "openai-embeddings" not in names
    if support_type == "text-embedding":
        assert "openai-embeddings" in names and "anthropic-messages" not in names


def test_list_refuses_an_unknown_type(api_client, admin_headers):
    response = api_client.get(URL, {"type": "image"}, **admin_headers)
    assert response.status_code == 400 and response.json()["code"] == -1 and "type" in response.json()["msg"]


def test_detail_and_unknown_requester(api_client, auth_headers):
    headers = auth_headers(["resource.view"])
    response = api_client.get(f"{URL}/anthropic-messages", **headers)
    assert response.status_code == 200
    requester = response.json()["data"]["requester"]
    assert requester["name"] == "anthropic-messages" and requester["label"]["en_US"] == "Anthropic"
    missing = api_client.get(f"{URL}/no-such-requester", **headers)
    assert missing.status_code == 404 and missing.json() == {"code": -1, "msg": "requester not found"}


def test_trailing_slash_is_accepted(api_client, admin_headers):
    assert api_client.get(f"{URL}/", **admin_headers).status_code == 200
    assert api_client.get(f"{URL}/ollama-chat/", **admin_headers).status_code == 200


def test_requester_routes_need_credentials_and_resource_view(api_client, issue_key, credential_kind, auth_headers):
    assert api_client.get(URL).status_code == 401
    assert api_client.get(f"{URL}/ollama-chat").status_code == 401
    if credential_kind != "bearer-token":  # a person always holds resource.view
        headers = auth_headers([s for s in ALL_SCOPES if s != "resource.view"])
        for path in (URL, f"{URL}/ollama-chat"):
            response = api_client.get(path, **headers)
            assert response.status_code == 403 and "resource.view" in response.json()["msg"]


# --- icons -----------------------------------------------------------------------------------------------------------


def test_icon_is_public_typed_and_cacheable(api_client):
    response = api_client.get(f"{URL}/openai-chat-completions/icon")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "max-age" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response.content.startswith(b"<svg")
    again = api_client.get(f"{URL}/openai-chat-completions/icon", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_icon_ignores_a_stale_credential(api_client):
    response = api_client.get(f"{URL}/ollama-chat/icon", HTTP_X_API_KEY="lbk_revoked_or_made_up")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"


def test_every_requester_has_an_icon(api_client, admin_headers):
    for requester in api_client.get(URL, **admin_headers).json()["data"]["requesters"]:
        response = api_client.get(f"{URL}/{requester['name']}/icon")
        assert response.status_code == 200 and response["Content-Type"].startswith("image/"), requester["name"]
        assert requester["icon_url"] == f"{URL}/{requester['name']}/icon"


def test_icon_of_unknown_requester_is_a_404_envelope(api_client):
    response = api_client.get(f"{URL}/nope/icon")
    assert response.status_code == 404 and response.json()["code"] == -1


# --- manifests -------------------------------------------------------------------------------------------------------


@pytest.fixture
def manifest_dirs(tmp_path):
    manifests, icons = tmp_path / "manifests", tmp_path / "icons"
    shutil.copytree(registry.ICON_DIR, icons)
    manifests.mkdir()
    return manifests, icons


def _write(folder: Path, name: str, data) -> None:
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)


def _sample():
    return yaml.safe_load((registry.MANIFEST_DIR / "deepseek-chat-completions.yaml").read_text())


def test_adding_a_vendor_is_adding_a_yaml_file(manifest_dirs):
    manifests, icons = manifest_dirs
    data = _sample()
    data["metadata"].update(name="acme-chat", label={"en_US": "Acme"}, icon="openai.svg")
    data["spec"]["config"][0]["default"] = "https://llm.acme.example/v1"
    _write(manifests, "acme", data)
    loaded = load_manifests(manifests, icons)
    assert loaded["acme-chat"].default_base_url == "https://llm.acme.example/v1"
    assert loaded["acme-chat"].adapter_name == "openai"


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: d["metadata"].update(name="Bad Name"), "metadata.name"),
        (lambda d: d["metadata"].update(icon="missing.svg"), "icon file missing.svg"),
        (lambda d: d["metadata"].update(provider_category="cloud"), "provider_category"),
        (lambda d: d["spec"].update(support_type=["llm", "image"]), "support_type"),
        (lambda d: d["spec"].update(support_type=[]), "support_type"),
        (lambda d: d["execution"].update(adapter="grpc"), "execution.adapter"),
        (lambda d: d["execution"].update(adapter="anthropic") or d["spec"].update(support_type=["rerank"]), "cannot serve"),
        (lambda d: d["spec"].update(config=[c for c in d["spec"]["config"] if c["name"] != "base_url"]), "base_url"),
        (lambda d: d["spec"]["config"][1].update(default="soon"), "timeout"),
        (lambda d: d["metadata"].pop("label"), "metadata.label"),
    ],
)
def test_a_broken_manifest_fails_loudly_naming_the_file(manifest_dirs, breakage, message):
    manifests, icons = manifest_dirs
    data = _sample()
    breakage(data)
    _write(manifests, "broken", data)
    with pytest.raises(ManifestError) as error:
        load_manifests(manifests, icons)
    assert "broken.yaml" in str(error.value) and message in str(error.value)


def test_not_yaml_and_duplicate_names_fail(manifest_dirs):
    manifests, icons = manifest_dirs
    _write(manifests, "garbage", "metadata: [unclosed")
    with pytest.raises(ManifestError, match="garbage.yaml"):
        load_manifests(manifests, icons)
    (manifests / "garbage.yaml").unlink()
    _write(manifests, "a", _sample())
    _write(manifests, "b", _sample())
    with pytest.raises(ManifestError, match="already taken"):
        load_manifests(manifests, icons)


def test_shipped_manifests_are_all_valid():
    loaded = load_manifests()
    assert len(loaded) >= 14
    assert loaded is not registry.get_registry() and registry.get_registry() is registry.get_registry()  # cached
