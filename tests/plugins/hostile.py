"""Builders of plugin archives, good and hostile, for tests. Each takes a folder (pytest's tmp_path) and returns
the path of a new .lbpkg in it. Shared by the package unit tests and the install API tests.

    from tests.plugins import hostile
    path = hostile.zip_slip(tmp_path)   # refused with rule "path_escape"

`REFUSALS` maps every hostile builder to the rule its archive is refused with.
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from pathlib import Path

import yaml

FIXTURES = Path("/work/shared/fixtures/plugins")
AGENT_RUNNER = FIXTURES / "qa-agent-runner-0.1.0.lbpkg"
PLUGIN_SMOKE = FIXTURES / "qa-plugin-smoke-0.1.0.lbpkg"

MiB = 1024 * 1024


def manifest_text(author="tester", name="hostile-probe", version="1.0.0", **overrides) -> str:
    """A valid plugin manifest; keyword overrides replace top-level keys (metadata=..., kind=..., spec=...)."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Plugin",
        "metadata": {
            "author": author,
            "name": name,
            "version": version,
            "label": {"en_US": "Hostile probe"},
            "description": {"en_US": "Built by tests/plugins/hostile.py"},
        },
        "spec": {"config": [], "components": {}},
        "execution": {"python": {"path": "main.py", "attr": "Probe"}},
    }
    manifest.update(overrides)
    return yaml.safe_dump(manifest, sort_keys=False)


MAIN_PY = "class Probe:\n    pass\n"


def build(tmp_path: Path, files: dict, filename: str = "probe.lbpkg", compression=zipfile.ZIP_DEFLATED) -> Path:
    """A zip holding `files` ({member name: str | bytes | zipfile.ZipInfo-ready (ZipInfo, data)}) in order."""
    path = Path(tmp_path) / filename
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in files.items():
            if isinstance(data, tuple):
                info, payload = data
                zf.writestr(info, payload)
            else:
                zf.writestr(name, data)
    return path


def valid(tmp_path: Path, filename: str = "probe.lbpkg", **manifest_overrides) -> Path:
    """A small, acceptable package: flat layout, manifest, main.py, requirements.txt."""
    return build(
        tmp_path,
        {
            "manifest.yaml": manifest_text(**manifest_overrides),
            "main.py": MAIN_PY,
            "requirements.txt": "# deps\nhttpx>=0.27  # inline comment\n\nPyYAML\n",
        },
        filename,
    )


def nested_root(tmp_path: Path) -> Path:
    """An acceptable package whose files all sit in one top-level folder, with folders as explicit entries."""
    return build(
        tmp_path,
        {
            "hostile-probe/": b"",
            "hostile-probe/manifest.yaml": manifest_text(),
            "hostile-probe/main.py": MAIN_PY,
            "hostile-probe/components/": b"",
            "hostile-probe/components/tool.py": "x = 1\n",
            "hostile-probe/__pycache__/main.cpython-311.pyc": b"\x00\x01stale bytecode",
            "__MACOSX/hostile-probe/._main.py": b"finder junk",
        },
        "nested.lbpkg",
    )


# ---------------------------------------------------------------------------------------------------------------
# Byte patching of an existing zip: local header and central directory entry of one member.

_LOCAL = {"flag": (6, "<H"), "crc": (14, "<I"), "compress_size": (18, "<I"), "file_size": (22, "<I")}
_CENTRAL = {"flag": (8, "<H"), "crc": (16, "<I"), "compress_size": (20, "<I"), "file_size": (24, "<I")}


def patch_member(path: Path, member: str, *, flag_or: int = 0, **fields) -> Path:
    """Rewrite header fields (crc, compress_size, file_size) and OR flag bits of `member`, in both headers."""
    data = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
        start_dir = zf.start_dir
    central = _central_offset(data, start_dir, member)
    for base, layout, signature in ((info.header_offset, _LOCAL, b"PK\x03\x04"), (central, _CENTRAL, b"PK\x01\x02")):
        assert data[base : base + 4] == signature
        if flag_or:
            offset, fmt = layout["flag"]
            (flag,) = struct.unpack_from(fmt, data, base + offset)
            struct.pack_into(fmt, data, base + offset, flag | flag_or)
        for field, value in fields.items():
            offset, fmt = layout[field]
            struct.pack_into(fmt, data, base + offset, value)
    Path(path).write_bytes(bytes(data))
    return Path(path)


def _central_offset(data: bytearray, start_dir: int, member: str) -> int:
    offset = start_dir
    while data[offset : offset + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        name = bytes(data[offset + 46 : offset + 46 + name_len]).decode("utf-8")
        if name == member:
            return offset
        offset += 46 + name_len + extra_len + comment_len
    raise KeyError(member)


def patch_entry_count(path: Path, count: int) -> Path:
    """Make the end-of-central-directory record announce `count` entries (what it says, not what there is)."""
    data = bytearray(Path(path).read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, count, count)
    Path(path).write_bytes(bytes(data))
    return Path(path)


# ---------------------------------------------------------------------------------------------------------------
# Hostile archives


def not_a_zip(tmp_path: Path) -> Path:
    path = Path(tmp_path) / "not-a-zip.lbpkg"
    path.write_text("apiVersion: v1\nkind: Plugin\n# a YAML file renamed to .lbpkg, not a zip\n")
    return path


def empty_file(tmp_path: Path) -> Path:
    path = Path(tmp_path) / "empty.lbpkg"
    path.write_bytes(b"")
    return path


def encrypted(tmp_path: Path) -> Path:
    """A valid package whose main.py carries the 'encrypted' flag bit in both its headers."""
    path = valid(tmp_path, "encrypted.lbpkg")
    return patch_member(path, "main.py", flag_or=0x1)


def too_many_entries(tmp_path: Path, n: int = 2000) -> Path:
    files = {"manifest.yaml": manifest_text(), "main.py": MAIN_PY}
    files.update({f"data/f{i}.txt": b"" for i in range(n - len(files))})
    return build(tmp_path, files, "many.lbpkg", compression=zipfile.ZIP_STORED)


def too_many_entries_hidden(tmp_path: Path, n: int = 600) -> Path:
    """Over 512 entries while the end record claims 3: the entries themselves must be counted."""
    return patch_entry_count(too_many_entries(tmp_path, n), 3)


def too_large(tmp_path: Path, size: int = 64 * MiB + 1) -> Path:
    """One member unpacking to just over 64 MiB (zeros, so the archive stays ~64 KiB and quick to build)."""
    path = Path(tmp_path) / "too-large.lbpkg"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("manifest.yaml", manifest_text())
        with zf.open("blob.bin", "w", force_zip64=True) as out:
            chunk = bytes(MiB)
            left = size
            while left:
                out.write(chunk[: min(left, MiB)])
                left -= min(left, MiB)
    return path


def bomb(tmp_path: Path, size: int = 16 * MiB) -> Path:
    """A classic bomb member: 16 MiB of zeros in ~16 KiB (about 1000:1)."""
    files = {"manifest.yaml": manifest_text(), "main.py": MAIN_PY, "bomb.bin": bytes(size)}
    return build(tmp_path, files, "bomb.lbpkg")


def spread_bomb(tmp_path: Path, members: int = 300, size: int = 100 * 1024) -> Path:
    """Many members each too small to judge alone (100 KiB of zeros) that together unpack ~300:1."""
    files = {"manifest.yaml": manifest_text(), "main.py": MAIN_PY}
    files.update({f"pad/{i}.bin": bytes(size) for i in range(members)})
    return build(tmp_path, files, "spread-bomb.lbpkg")


def _with_member(tmp_path: Path, member, data, filename: str) -> Path:
    return build(tmp_path, {"manifest.yaml": manifest_text(), "main.py": MAIN_PY, member: data}, filename)


def zip_slip(tmp_path: Path) -> Path:
    return _with_member(tmp_path, "../evil.py", "import os\n", "zip-slip.lbpkg")


def deep_zip_slip(tmp_path: Path) -> Path:
    return _with_member(tmp_path, "components/../../../evil.py", "import os\n", "deep-zip-slip.lbpkg")


def absolute_path(tmp_path: Path) -> Path:
    # zipfile strips a leading "/" when writing a name, so the ZipInfo's filename is set after construction.
    info = zipfile.ZipInfo("placeholder")
    info.filename = "/etc/x"
    return _with_member(tmp_path, "/etc/x", (info, "owned\n"), "absolute.lbpkg")


def backslash_escape(tmp_path: Path) -> Path:
    info = zipfile.ZipInfo("placeholder")
    info.filename = "..\\evil.py"
    return _with_member(tmp_path, "..\\evil.py", (info, "import os\n"), "backslash.lbpkg")


def drive_letter(tmp_path: Path) -> Path:
    info = zipfile.ZipInfo("placeholder")
    info.filename = "C:/Windows/evil.py"
    return _with_member(tmp_path, "C:/Windows/evil.py", (info, "import os\n"), "drive.lbpkg")


def symlink(tmp_path: Path) -> Path:
    """A member whose Unix mode is S_IFLNK, pointing at /etc/passwd (unzip would create a symlink)."""
    info = zipfile.ZipInfo("link.py")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _with_member(tmp_path, "link.py", (info, "/etc/passwd"), "symlink.lbpkg")


def duplicate_member(tmp_path: Path) -> Path:
    """manifest.yaml twice: the second could replace what the first passed."""
    path = Path(tmp_path) / "duplicate.lbpkg"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.yaml", manifest_text())
        with _quiet_duplicates():
            zf.writestr("manifest.yaml", manifest_text(author="someone-else"))
    return path


class _quiet_duplicates:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", UserWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def missing_manifest(tmp_path: Path) -> Path:
    return build(tmp_path, {"main.py": MAIN_PY, "README.md": "# no manifest here\n"}, "no-manifest.lbpkg")


def manifest_too_deep(tmp_path: Path) -> Path:
    """manifest.yaml two folders down: neither at the top nor in the single top-level folder."""
    return build(tmp_path, {"a/b/manifest.yaml": manifest_text(), "a/b/main.py": MAIN_PY}, "deep-manifest.lbpkg")


def bad_yaml(tmp_path: Path) -> Path:
    return build(tmp_path, {"manifest.yaml": "apiVersion: v1\nkind: [Plugin\nmetadata: {author: x\n"}, "bad-yaml.lbpkg")


def python_yaml(tmp_path: Path) -> Path:
    """A tag only yaml.load (unsafe) would honour: it must be refused, never executed."""
    text = "apiVersion: v1\nkind: Plugin\nmetadata: !!python/object/apply:os.system ['touch /tmp/pwned']\n"
    return build(tmp_path, {"manifest.yaml": text}, "python-yaml.lbpkg")


def yaml_list(tmp_path: Path) -> Path:
    return build(tmp_path, {"manifest.yaml": "- apiVersion: v1\n- kind: Plugin\n"}, "yaml-list.lbpkg")


def billion_laughs(tmp_path: Path) -> Path:
    """A YAML alias bomb: a few hundred bytes that expand to 10^9 strings."""
    lines = ["apiVersion: v1", "kind: Plugin", "metadata: {author: a, name: b, version: '1'}", 'l0: &l0 ["lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    lines.append("spec: {config: *l9}")
    return build(tmp_path, {"manifest.yaml": "\n".join(lines) + "\n"}, "laughs.lbpkg")


def missing_name(tmp_path: Path) -> Path:
    text = manifest_text(metadata={"author": "tester", "version": "1.0.0", "label": {"en_US": "No name"}})
    return build(tmp_path, {"manifest.yaml": text, "main.py": MAIN_PY}, "missing-name.lbpkg")


def numeric_version(tmp_path: Path) -> Path:
    """`version: 1.0` unquoted is a float to YAML, not a string."""
    text = manifest_text().replace("version: 1.0.0", "version: 1.0")
    return build(tmp_path, {"manifest.yaml": text, "main.py": MAIN_PY}, "numeric-version.lbpkg")


def unsafe_author(tmp_path: Path) -> Path:
    return build(tmp_path, {"manifest.yaml": manifest_text(author="../x"), "main.py": MAIN_PY}, "unsafe-author.lbpkg")


def wrong_kind(tmp_path: Path) -> Path:
    return build(tmp_path, {"manifest.yaml": manifest_text(kind="Tool"), "main.py": MAIN_PY}, "wrong-kind.lbpkg")


def wrong_api_version(tmp_path: Path) -> Path:
    text = manifest_text(apiVersion="langbot/v2")
    return build(tmp_path, {"manifest.yaml": text, "main.py": MAIN_PY}, "wrong-api.lbpkg")


def lying_size(tmp_path: Path, forge_crc: bool = False) -> Path:
    """data.bin holds 1 MiB but both its headers claim 10 bytes (so the header checks pass).

    With forge_crc the CRC is made to match those first 10 bytes too, so the lie is self-consistent and only the
    byte count written during extraction keeps the member at what its header says.
    """
    payload = b"A" * MiB
    path = _with_member(tmp_path, "data.bin", payload, "lying-size.lbpkg" if not forge_crc else "lying-crc.lbpkg")
    fields = {"file_size": 10}
    if forge_crc:
        fields["crc"] = zlib.crc32(payload[:10])
    return patch_member(path, "data.bin", **fields)


# Every hostile builder and the rule its archive is refused with (inspection and extraction alike).
REFUSALS = {
    not_a_zip: "not_zip",
    empty_file: "not_zip",
    encrypted: "encrypted",
    too_many_entries: "too_many_entries",
    too_many_entries_hidden: "too_many_entries",
    too_large: "too_large",
    bomb: "compression_ratio",
    spread_bomb: "compression_ratio",
    zip_slip: "path_escape",
    deep_zip_slip: "path_escape",
    absolute_path: "path_escape",
    backslash_escape: "path_escape",
    drive_letter: "path_escape",
    duplicate_member: "path_escape",
    symlink: "symlink",
    missing_manifest: "manifest_missing",
    manifest_too_deep: "manifest_missing",
    bad_yaml: "manifest_invalid",
    python_yaml: "manifest_invalid",
    yaml_list: "manifest_invalid",
    billion_laughs: "manifest_invalid",
    missing_name: "metadata_missing",
    numeric_version: "metadata_missing",
    unsafe_author: "manifest_invalid",
    wrong_kind: "manifest_invalid",
    wrong_api_version: "manifest_invalid",
}
