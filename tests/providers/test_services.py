"""Normalisation rules shared by the API and the admin."""

import pytest

from providers import services


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        ("  http://ollama:11434  ", "http://ollama:11434"),
        ("http://[::1]:8000/v1", "http://[::1]:8000/v1"),
        ("http://192.168.1.20:1234/v1", "http://192.168.1.20:1234/v1"),
    ],
)
def test_base_urls_that_are_accepted(value, expected):
    assert services.normalize_base_url(value) == expected


@pytest.mark.parametrize(
    "value", ["", None, 42, "api.openai.com/v1", "file:///etc/passwd", "https://", "http://a b/v1",
              "https://x.example:99999999/v1", "https://x.example/v1?key=1", "javascript:alert(1)", "http://a..b/v1", "http://" + "a" * 300 + ".com",
              "http://256.256.256.256/v1"],
)
def test_base_urls_that_are_refused(value):
    with pytest.raises(services.InvalidRequest, match="base_url"):
        services.normalize_base_url(value)


def test_api_keys_are_stripped_deduplicated_and_masks_resolve_in_order():
    stored = ["sk-first-0000000000", "sk-second-111111111"]
    assert services.normalize_api_keys([" a ", "", "a", "b"]) == ["a", "b"]
    assert services.normalize_api_keys(["sk-***", "sk-***"], stored=stored) == stored
    assert services.normalize_api_keys(["new-key", "sk-***"], stored=stored) == ["new-key", stored[0]]
    with pytest.raises(services.InvalidRequest, match="masked"):
        services.normalize_api_keys(["sk-***", "sk-***", "sk-***"], stored=stored)


@pytest.mark.parametrize(
    "model_id, kind",
    [("gpt-4o", "llm"), ("text-embedding-3-large", "text-embedding"), ("BAAI/bge-m3", "text-embedding"),
     ("jina-embeddings-v3", "text-embedding"), ("bge-reranker-v2-m3", "rerank"), ("rerank-2", "rerank")],
)
def test_scanned_models_get_a_guessed_type(model_id, kind):
    assert services.guess_model_type(model_id) == kind
