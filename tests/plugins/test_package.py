"""plugins/package.py: the two real sample packages are read and extracted faithfully; every hostile archive is refused
with the rule it breaks, before anything lands on disk."""

import io
import pickle
import random
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from plugins import package as pkg
from plugins.package import PackageError, extract_package, inspect_package
from tests.plugins import hostile

MiB = 1024 * 1024


def tree(folder: Path) -> set[str]:
    """Every file and folder under `folder`, as relative POSIX paths (folders end with '/')."""
    return {p.relative_to(folder).as_posix() + ("/" if p.is_dir() else "") for p in folder.rglob("*")}


# --- the real samples ----------------------------------------------------------------------------------------------


def test_agent_runner_sample_is_described_from_its_manifest():
    package = inspect_package(hostile.AGENT_RUNNER)

    assert (package.author, package.name, package.version) == ("qa", "agent-runner", "0.1.0")
    assert package.manifest["apiVersion"] == "langbot/v1"
    assert package.label == {"en_US": "QA AgentRunner", "zh_Hans": "QA AgentRunner"}
    assert package.description["en_US"] == "Deterministic AgentRunner fixture for LangBot QA."
    assert package.icon == "assets/icon.svg"
    assert package.repository == "https://example.invalid/langbot/qa-agent-runner"
    assert package.config_schema == []
    assert package.component_types == ["AgentRunner"]
    assert package.component_counts == {"AgentRunner": 1}
    assert package.requirements == []
    assert package.file_count == 7  # the stray .pyc is a file of the archive, even though it is never extracted
    assert package.size == 5792
    assert package.root == ""


def test_plugin_smoke_sample_is_described_from_its_manifest():
    package = inspect_package(hostile.PLUGIN_SMOKE)

    assert (package.author, package.name, package.version) == ("qa", "plugin-smoke", "0.1.0")
    assert package.manifest["apiVersion"] == "v1"
    assert package.label["zh_Hans"] == "QA 插件冒烟测试"
    assert package.metadata["name"] == "plugin-smoke"
    assert package.component_types == ["EventListener", "Tool", "Page"]
    # The archive is flat (its component YAML sits at the top, not in components/tools/ ...): counted by kind.
    assert package.component_counts == {"EventListener": 1, "Tool": 3, "Page": 0}
    assert package.file_count == 12
    assert package.size == 7981
    assert package.root == ""


def test_preview_is_exactly_the_preview_route_data():
    package = inspect_package(hostile.PLUGIN_SMOKE)

    data = package.preview("qa-plugin-smoke-0.1.0.lbpkg", 5160)

    assert set(data) == {
        "filename", "size", "manifest", "metadata", "component_types", "component_counts", "requirements", "file_count",
    }
    assert data["filename"] == "qa-plugin-smoke-0.1.0.lbpkg"
    assert data["size"] == 5160
    assert data["manifest"]["execution"]["python"] == {"path": "main.py", "attr": "PluginSmoke"}
    assert data["metadata"]["author"] == "qa"
    assert data["component_counts"]["Tool"] == 3
    assert data["file_count"] == 12


def test_agent_runner_extracts_nested_layout_without_bytecode(tmp_path):
    dest = tmp_path / "agent-runner"

    package = extract_package(hostile.AGENT_RUNNER, dest)

    assert package.name == "agent-runner"
    assert tree(dest) == {
        "manifest.yaml", "README.md", "main.py", "assets/", "assets/icon.svg",
        "components/", "components/agent_runner/",
        "components/agent_runner/default.py", "components/agent_runner/default.yaml",
    }
    with zipfile.ZipFile(hostile.AGENT_RUNNER) as zf:
        original = zf.read("components/agent_runner/default.py")
    assert (dest / "components/agent_runner/default.py").read_bytes() == original
    assert "attr: QAAgentRunnerPlugin" in (dest / "manifest.yaml").read_text()


def test_plugin_smoke_extracts_flat_layout(tmp_path):
    dest = tmp_path / "smoke"
    dest.mkdir()  # an existing empty folder is fine too

    extract_package(hostile.PLUGIN_SMOKE, dest)

    assert tree(dest) == {
        "manifest.yaml", "README.md", "main.py", "icon.svg",
        "prompt_probe.py", "prompt_probe.yaml", "qa_echo.py", "qa_echo.yaml",
        "qa_plugin_echo.py", "qa_plugin_echo.yaml", "qa_plugin_sleep.py", "qa_plugin_sleep.yaml",
    }
    assert "class PluginSmoke(BasePlugin)" in (dest / "main.py").read_text()


def test_package_in_one_top_folder_is_extracted_with_that_folder_stripped(tmp_path):
    source = hostile.nested_root(tmp_path)

    package = extract_package(source, tmp_path / "out")

    assert package.root == "hostile-probe/"
    assert package.name == "hostile-probe"
    # __pycache__ and macOS Finder leftovers are dropped; the rest lands with manifest.yaml at the top.
    assert tree(tmp_path / "out") == {"manifest.yaml", "main.py", "components/", "components/tool.py"}


def test_requirements_are_the_meaningful_lines(tmp_path):
    package = inspect_package(hostile.valid(tmp_path))

    assert package.requirements == ["httpx>=0.27", "PyYAML"]


def test_file_objects_and_uploads_are_accepted_and_left_where_they_were(tmp_path):
    data = hostile.PLUGIN_SMOKE.read_bytes()
    buffer = io.BytesIO(data)
    upload = SimpleUploadedFile("qa-plugin-smoke-0.1.0.lbpkg", data, content_type="application/octet-stream")

    assert inspect_package(buffer).name == "plugin-smoke"
    assert inspect_package(upload).name == "plugin-smoke"
    assert buffer.tell() == 0 and upload.tell() == 0  # the caller can still save the upload afterwards
    assert upload.read() == data
    assert extract_package(io.BytesIO(data), tmp_path / "from-buffer").version == "0.1.0"
    assert (tmp_path / "from-buffer" / "manifest.yaml").is_file()


def test_small_very_compressible_member_is_not_a_bomb(tmp_path):
    # 80 KiB of spaces deflates ~500:1, but it can never amount to anything: the ratio floor ignores it.
    source = hostile.build(
        tmp_path, {"manifest.yaml": hostile.manifest_text(), "main.py": hostile.MAIN_PY, "blank.txt": b" " * 80 * 1024}
    )

    package = extract_package(source, tmp_path / "out")

    assert (tmp_path / "out" / "blank.txt").stat().st_size == 80 * 1024
    assert package.size > 80 * 1024


def test_yaml_dates_and_odd_keys_become_json_data(tmp_path):
    text = hostile.manifest_text() + "released: 2026-01-02\nextra: {2: two, true: yes, null: none}\n"
    package = inspect_package(hostile.build(tmp_path, {"manifest.yaml": text}))

    assert package.manifest["released"] == "2026-01-02"
    assert package.manifest["extra"] == {"2": "two", "true": True, "null": "none"}


# --- limits ----------------------------------------------------------------------------------------------------


def test_default_limits_are_the_contract():
    assert pkg.MAX_ENTRIES == 512
    assert pkg.MAX_UNPACKED_BYTES == 64 * MiB
    assert pkg.MAX_RATIO == 100
    assert (pkg.max_entries(), pkg.max_unpacked_bytes(), pkg.max_ratio()) == (512, 64 * MiB, 100)


def test_limits_follow_settings():
    with override_settings(PLUGIN_MAX_ENTRIES=5):
        with pytest.raises(PackageError) as refused:
            inspect_package(hostile.PLUGIN_SMOKE)  # 12 entries
    assert refused.value.rule == "too_many_entries"
    assert "at most 5" in str(refused.value)

    with override_settings(PLUGIN_MAX_UNPACKED_BYTES=4096):
        with pytest.raises(PackageError) as refused:
            inspect_package(hostile.PLUGIN_SMOKE)  # 7981 bytes
    assert refused.value.rule == "too_large"


def test_exactly_512_entries_is_allowed(tmp_path):
    package = inspect_package(hostile.too_many_entries(tmp_path, n=512))

    assert package.file_count == 512


# --- hostile archives ----------------------------------------------------------------------------------------------

# What each refusal's message must say, so a person reading it knows which rule was broken.
RULE_WORDS = {
    "not_zip": "not a zip",
    "encrypted": "encrypted",
    "too_many_entries": "entries",
    "too_large": "too large",
    "compression_ratio": "compression ratio over 100:1",
    "path_escape": "",  # checked per case below
    "symlink": "symlink",
    "manifest_missing": "manifest.yaml is missing",
    "manifest_invalid": "manifest.yaml",
    "metadata_missing": "metadata.",
}

HOSTILE = [pytest.param(build, rule, id=build.__name__) for build, rule in hostile.REFUSALS.items()]


@pytest.mark.parametrize(("build", "rule"), HOSTILE)
def test_hostile_archive_is_refused_on_inspection(tmp_path, build, rule):
    source = build(tmp_path)

    with pytest.raises(PackageError) as refused:
        inspect_package(source)

    assert refused.value.rule == rule
    assert RULE_WORDS[rule] in str(refused.value)
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(("build", "rule"), HOSTILE)
def test_hostile_archive_is_refused_before_anything_is_written(tmp_path, build, rule):
    source = build(tmp_path)
    dest = tmp_path / "extracted"

    with pytest.raises(PackageError) as refused:
        extract_package(source, dest)

    assert refused.value.rule == rule
    assert not dest.exists()
    assert not (tmp_path / "evil.py").exists()  # where ../evil.py would have landed


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (hostile.zip_slip, "'../evil.py' escapes the package folder"),
        (hostile.deep_zip_slip, "escapes the package folder ('..'"),
        (hostile.absolute_path, "'/etc/x' escapes the package folder (absolute path)"),
        (hostile.backslash_escape, "(backslash"),
        (hostile.drive_letter, "(drive letter)"),
        (hostile.duplicate_member, "appears twice"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_path_escapes_name_the_member_and_the_trick(tmp_path, build, words):
    with pytest.raises(PackageError) as refused:
        inspect_package(build(tmp_path))

    assert refused.value.rule == "path_escape"
    assert words in str(refused.value)


def test_specific_refusal_messages(tmp_path):
    cases = {
        hostile.not_a_zip: "not a zip archive",
        hostile.too_many_entries: "2000 entries; at most 512",
        hostile.too_large: "at most 64 MiB",
        hostile.bomb: "'bomb.bin'",
        hostile.symlink: "symlink ('link.py')",
        hostile.bad_yaml: "not valid YAML",
        hostile.yaml_list: "it is a list, not a YAML mapping",
        hostile.missing_name: "lacks metadata.name",
        hostile.unsafe_author: "metadata.author '../x'",
        hostile.numeric_version: "quote it",
        hostile.billion_laughs: "aliases",
        hostile.encrypted: "encrypted (member 'main.py')",
    }
    for i, (build, words) in enumerate(cases.items()):
        folder = tmp_path / str(i)
        folder.mkdir()
        with pytest.raises(PackageError) as refused:
            inspect_package(build(folder))
        assert words in str(refused.value), build.__name__


def test_refusal_survives_pickling(tmp_path):
    with pytest.raises(PackageError) as refused:
        inspect_package(hostile.zip_slip(tmp_path))

    copy = pickle.loads(pickle.dumps(refused.value))

    assert (copy.rule, str(copy)) == ("path_escape", str(refused.value))


def test_encrypted_flag_is_set_in_both_headers(tmp_path):
    """The builder really produces what an encrypting zip tool would: zipfile itself asks for a password."""
    source = hostile.encrypted(tmp_path)

    with zipfile.ZipFile(source) as zf:
        assert zf.getinfo("main.py").flag_bits & 0x1
        with pytest.raises(RuntimeError, match="encrypted"):
            zf.read("main.py")


# --- extraction stays within its limits, whatever the headers say ----------------------------------------------------


def test_member_lying_about_its_size_is_refused_and_cleaned_up(tmp_path):
    source = hostile.lying_size(tmp_path)
    assert inspect_package(source).size < 1024  # the header checks believe the lie

    dest = tmp_path / "out"
    with pytest.raises(PackageError) as refused:
        extract_package(source, dest)

    assert refused.value.rule == "not_zip"
    assert "'data.bin'" in str(refused.value)
    assert not dest.exists()


def test_member_lying_consistently_is_capped_at_its_declared_size(tmp_path):
    # Size and CRC both claim 10 bytes while 1 MiB of data follows: only 10 bytes ever reach the disk.
    source = hostile.lying_size(tmp_path, forge_crc=True)

    extract_package(source, tmp_path / "out")

    assert (tmp_path / "out" / "data.bin").read_bytes() == b"A" * 10


def test_refused_extraction_empties_an_existing_destination(tmp_path):
    dest = tmp_path / "staging"
    dest.mkdir()

    with pytest.raises(PackageError):
        extract_package(hostile.lying_size(tmp_path), dest)

    assert dest.is_dir() and list(dest.iterdir()) == []


def test_destination_must_be_empty(tmp_path):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")

    with pytest.raises(FileExistsError):
        extract_package(hostile.PLUGIN_SMOKE, dest)

    assert tree(dest) == {"keep.txt"}


def test_symlink_member_never_becomes_a_link(tmp_path):
    with pytest.raises(PackageError):
        extract_package(hostile.symlink(tmp_path), tmp_path / "out")

    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("sample", [hostile.AGENT_RUNNER, hostile.PLUGIN_SMOKE], ids=lambda p: p.stem)
def test_corrupted_samples_are_refused_cleanly_never_crash(tmp_path, sample):
    """Random byte flips (seeded) give either a good package or a PackageError: never another exception."""
    rng = random.Random(sample.name)
    data = sample.read_bytes()
    outcomes = set()
    for attempt in range(300):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        dest = tmp_path / str(attempt)
        try:
            extract_package(io.BytesIO(bytes(damaged)), dest)
            outcomes.add("extracted")
            assert (dest / "manifest.yaml").is_file()
        except PackageError as refused:
            outcomes.add(refused.rule)
            assert not dest.exists()
    assert "not_zip" in outcomes
