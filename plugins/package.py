"""Plugin packages (`.lbpkg`): a zip holding manifest.yaml, the code and optionally requirements.txt.

`inspect_package` checks an archive from its central directory and the few small files it must read (the manifest,
requirements.txt, component manifests) and extracts nothing. `extract_package` runs the same checks, then writes the
package out while counting the bytes it really writes, so a header that lies about sizes cannot get past the limits.

Every refusal is a `PackageError` whose `.rule` is a short id and whose text is a sentence a person can act on.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import yaml

MiB = 1024 * 1024

# Defaults; a project setting of the same name prefixed with PLUGIN_ wins (read at call time).
MAX_ENTRIES = 512
MAX_UNPACKED_BYTES = 64 * MiB
MAX_RATIO = 100

# Compressed sizes are counted as at least this much when judging the ratio. Deflate tops out near 1032:1, so a
# member compressed below 1 KiB can only reach ~1 MiB, yet a tiny member's ratio is noise (a 20 KiB file of spaces
# deflates to 40 bytes: 500:1). With the floor, nothing that unpacks to <= 100 KiB is refused for its ratio, and
# anything larger is judged on its real ratio: a bomb (MiBs out of KiBs) is still caught, per member and overall.
RATIO_FLOOR_BYTES = 1024

MAX_MANIFEST_BYTES = 1 * MiB  # manifest.yaml and requirements.txt are read into memory
MAX_COMPONENT_YAML_BYTES = 64 * 1024  # a component manifest bigger than this is not counted
MAX_COMPONENT_YAML_TOTAL = 4 * MiB  # total component YAML parsed for one archive
MAX_YAML_NODES = 100_000  # aliases can make a small YAML expand into a huge tree (billion laughs)
MAX_YAML_DEPTH = 64
MAX_PATH_BYTES = 1024
MAX_NAME_BYTES = 255
# A central directory larger than this cannot describe MAX_ENTRIES honest members; refuse it before zipfile
# builds one object per entry.
CENTRAL_DIRECTORY_BYTES_PER_ENTRY = 8 * 1024

MANIFEST_NAME = "manifest.yaml"
REQUIREMENTS_NAME = "requirements.txt"
API_VERSIONS = ("v1", "langbot/v1")

# Only stored and deflate: zipfile decompresses bzip2/lzma without an output bound per read, so a small bzip2
# member could fill memory before any size check runs. Plugin packers (LangBot's CLI, `zip`) use deflate.
ALLOWED_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
COMPRESSION_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma", 9: "deflate64", 99: "AES"}

# Folder-safe identifiers: they become folder names (plugins/<author>/<name>) and URL segments. Starting with a
# letter or digit rules out ".", ".." and hidden or option-like names.
SAFE_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
COPY_CHUNK = 64 * 1024
# What reading a damaged member can raise: bad CRC, corrupt deflate data, truncated data, an unknown zip version.
DAMAGED_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, NotImplementedError)

RULES = (
    "not_zip",
    "encrypted",
    "too_many_entries",
    "too_large",
    "compression_ratio",
    "path_escape",
    "symlink",
    "manifest_missing",
    "manifest_invalid",
    "metadata_missing",
)


class PackageError(ValueError):
    """Raised for any refused archive. `.rule` is a short id, str(exc) a human sentence naming the rule."""

    def __init__(self, rule: str, message: str):
        assert rule in RULES, rule
        super().__init__(message)
        self.rule = rule

    def __reduce__(self):  # survives pickling (Celery results, multiprocessing) with its rule
        return (type(self), (self.rule, str(self)))


@dataclass(frozen=True)
class PluginPackage:
    manifest: dict
    author: str
    name: str
    version: str
    metadata: dict
    label: dict
    description: dict
    icon: str | None
    repository: str | None
    config_schema: list
    components: dict
    component_types: list[str]
    component_counts: dict[str, int]
    requirements: list[str]
    file_count: int
    size: int
    root: str

    def preview(self, filename: str, upload_size: int) -> dict:
        """The data of POST /install/local/preview."""
        return {
            "filename": filename,
            "size": upload_size,
            "manifest": self.manifest,
            "metadata": self.metadata,
            "component_types": list(self.component_types),
            "component_counts": dict(self.component_counts),
            "requirements": list(self.requirements),
            "file_count": self.file_count,
        }


# ---------------------------------------------------------------------------------------------------------------
# Limits


def _limit(setting_name: str, default: int) -> int:
    try:
        from django.conf import settings

        value = getattr(settings, setting_name, None)
    except Exception:  # Django not configured: plain library use
        value = None
    return int(default if value is None else value)


def max_entries() -> int:
    return _limit("PLUGIN_MAX_ENTRIES", MAX_ENTRIES)


def max_unpacked_bytes() -> int:
    return _limit("PLUGIN_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)


def max_ratio() -> int:
    return _limit("PLUGIN_MAX_RATIO", MAX_RATIO)


def _mib(n: int) -> str:
    return f"{n / MiB:g} MiB"


# ---------------------------------------------------------------------------------------------------------------
# Public entry points


def inspect_package(source) -> PluginPackage:
    """Validate a package (a path or a seekable binary file object) and describe it. Extracts nothing."""
    with _open_zip(source) as (zf, archive_size):
        package, _members = _inspect(zf, archive_size)
    return package


def extract_package(source, dest: Path) -> PluginPackage:
    """Validate, then extract so that manifest.yaml lands at dest/manifest.yaml (the package's root folder stripped).

    Writes regular files and folders only, never outside dest, and drops __pycache__/*.pyc. The bytes actually
    written are counted against the limits, whatever the headers claim. dest must not exist or be empty; if
    extraction is refused, whatever was written is removed again.
    """
    dest = Path(dest)
    created = not dest.exists()
    if not created and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"extraction target {dest} exists and is not an empty folder")
    with _open_zip(source) as (zf, archive_size):
        package, members = _inspect(zf, archive_size)
        dest.mkdir(parents=True, exist_ok=True)
        try:
            _extract_members(zf, members, dest, package.root)
        except BaseException:
            _clear(dest, remove_self=created)
            raise
    return package


# ---------------------------------------------------------------------------------------------------------------
# Opening


class _open_zip:
    """Context manager yielding (ZipFile, archive size in bytes); refuses what is not a readable zip."""

    def __init__(self, source):
        self.source = source
        self.own_file = None
        self.fp = None
        self.position = None

    def __enter__(self):
        if isinstance(self.source, (str, os.PathLike)):
            # A missing path is the caller's bug, not a refused package: let FileNotFoundError through.
            self.own_file = self.fp = open(self.source, "rb")
        else:
            self.fp = self.source
            try:
                self.position = self.fp.tell()
            except (OSError, AttributeError, ValueError):
                self.position = None
        try:
            self.fp.seek(0, io.SEEK_END)
            archive_size = self.fp.tell()
            self.fp.seek(0)
            _check_central_directory(self.fp)
            self.zf = zipfile.ZipFile(self.fp)
        except PackageError:
            self._close_file()
            raise
        except (zipfile.LargeZipFile, UnicodeDecodeError, OSError, *DAMAGED_MEMBER_ERRORS) as exc:
            self._close_file()
            raise PackageError("not_zip", f"The file is not a zip archive (a .lbpkg must be a zip): {exc}.") from exc
        return self.zf, archive_size

    def __exit__(self, *exc_info):
        self.zf.close()
        self._close_file()
        return False

    def _close_file(self):
        if self.own_file is not None:
            self.own_file.close()
        elif self.position is not None:
            try:
                self.fp.seek(self.position)  # leave a caller's file where we found it
            except (OSError, ValueError):
                pass


def _check_central_directory(fp) -> None:
    """Refuse an archive announcing too many entries before zipfile parses them all into memory."""
    end_record = zipfile._EndRecData(fp)  # the same (private, long-stable) reader ZipFile uses
    fp.seek(0)
    if end_record is None:
        raise PackageError("not_zip", "The file is not a zip archive (no end of central directory record).")
    limit = max_entries()
    entries = end_record[zipfile._ECD_ENTRIES_TOTAL]
    if entries > limit:
        raise PackageError("too_many_entries", f"The archive has {entries} entries; at most {limit} are allowed.")
    if end_record[zipfile._ECD_SIZE] > limit * CENTRAL_DIRECTORY_BYTES_PER_ENTRY:
        raise PackageError(
            "too_many_entries",
            f"The archive's central directory is too large for at most {limit} entries.",
        )


# ---------------------------------------------------------------------------------------------------------------
# Checks


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]  # normalized path components
    is_dir: bool


def _inspect(zf: zipfile.ZipFile, archive_size: int) -> tuple[PluginPackage, list[_Member]]:
    infos = zf.infolist()
    limit = max_entries()
    if len(infos) > limit:
        raise PackageError("too_many_entries", f"The archive has {len(infos)} entries; at most {limit} are allowed.")

    members = []
    for info in infos:
        _check_flags(info)
        members.append(_Member(info=info, parts=_safe_parts(info.filename), is_dir=info.is_dir()))
    _check_collisions(members)
    _check_sizes(members, archive_size)

    root = _find_root(members)
    files = {m.parts: m for m in members if not m.is_dir}
    root_parts = tuple(PurePosixPath(root).parts)
    manifest = _load_manifest(zf, files[root_parts + (MANIFEST_NAME,)].info)
    metadata = manifest.get("metadata")
    author, name, version = (_identifier(metadata, key) for key in ("author", "name", "version"))

    spec = manifest.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise PackageError("manifest_invalid", "manifest.yaml is invalid: `spec` must be a mapping.")
    config_schema = spec.get("config")
    config_schema = [] if config_schema is None else config_schema
    if not isinstance(config_schema, list):
        raise PackageError("manifest_invalid", "manifest.yaml is invalid: `spec.config` must be a list.")
    components = spec.get("components")
    components = {} if components is None else components
    if not isinstance(components, dict):
        raise PackageError("manifest_invalid", "manifest.yaml is invalid: `spec.components` must be a mapping.")
    component_types = [str(kind) for kind in components]

    requirements_member = files.get(root_parts + (REQUIREMENTS_NAME,))
    requirements = _read_requirements(zf, requirements_member.info) if requirements_member else []

    package = PluginPackage(
        manifest=manifest,
        author=author,
        name=name,
        version=version,
        metadata=metadata,
        label=_localized(metadata, "label"),
        description=_localized(metadata, "description"),
        icon=_optional_str(metadata.get("icon")),
        repository=_optional_str(metadata.get("repository")),
        config_schema=config_schema,
        components=components,
        component_types=component_types,
        component_counts=_count_components(zf, members, root_parts, component_types),
        requirements=requirements,
        file_count=len(files),
        size=sum(m.info.file_size for m in members),
        root=root,
    )
    return package, members


def _check_flags(info: zipfile.ZipInfo) -> None:
    # Bit 0: traditional encryption; bit 6: strong encryption; method 99: WinZip AES.
    if info.flag_bits & 0x41 or info.compress_type == 99:
        raise PackageError(
            "encrypted", f"The archive is encrypted (member {info.filename!r}); upload an unencrypted package."
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise PackageError(
            "symlink", f"The archive contains a symlink ({info.filename!r}); packages may hold regular files only."
        )
    if not info.is_dir() and info.compress_type not in ALLOWED_COMPRESSION:
        method = COMPRESSION_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise PackageError(
            "not_zip",
            f"Member {info.filename!r} uses {method} compression; a .lbpkg zip may only use stored or deflate.",
        )


def _safe_parts(filename: str) -> tuple[str, ...]:
    """The member's path components, or PackageError("path_escape") if it could land outside its folder."""

    def escape(why: str) -> PackageError:
        return PackageError("path_escape", f"Member {filename!r} escapes the package folder ({why}).")

    if "\\" in filename:
        raise escape("backslash in its path")
    if filename.startswith("/"):
        raise escape("absolute path")
    if DRIVE_LETTER.match(filename):
        raise escape("drive letter")
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in filename):
        raise escape("control character in its path")
    if len(filename.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise escape("path too long")
    parts = tuple(part for part in filename.split("/") if part not in ("", "."))
    if ".." in parts:
        raise escape("'..' in its path")
    if not parts:
        raise escape("empty path")
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in parts):
        raise escape("name too long")
    return parts


def _check_collisions(members: list[_Member]) -> None:
    """Two members on one path (or a file where a folder must be) would let one overwrite what was checked."""
    files: set[tuple[str, ...]] = set()
    dirs: set[tuple[str, ...]] = set()
    for m in members:
        if m.is_dir:
            dirs.add(m.parts)
        elif m.parts in files:
            raise PackageError(
                "path_escape", f"Member {m.info.filename!r} appears twice; it would overwrite itself on extraction."
            )
        else:
            files.add(m.parts)
        dirs.update(m.parts[:i] for i in range(1, len(m.parts)))
    clash = files & dirs
    if clash:
        path = "/".join(sorted(clash)[0])
        raise PackageError(
            "path_escape", f"Member {path!r} is both a file and a folder; it would overwrite other members."
        )


def _ratio(uncompressed: int, compressed: int) -> float:
    return uncompressed / max(compressed, RATIO_FLOOR_BYTES)


def _check_sizes(members: list[_Member], archive_size: int) -> None:
    """Header-based checks; extraction re-counts the real bytes."""
    limit, ratio_limit = max_unpacked_bytes(), max_ratio()
    total = sum(m.info.file_size for m in members)
    if total > limit:
        raise PackageError(
            "too_large", f"The archive unpacks to {_mib(total)}; at most {_mib(limit)} are allowed (too large)."
        )
    for m in members:
        if _ratio(m.info.file_size, m.info.compress_size) > ratio_limit:
            raise PackageError(
                "compression_ratio",
                f"Member {m.info.filename!r} unpacks {m.info.compress_size} bytes to {m.info.file_size}: "
                f"a compression ratio over {ratio_limit}:1 (zip bomb).",
            )
    # Overall against the real file size: compressed sizes in headers can lie, the upload's length cannot.
    if _ratio(total, archive_size) > ratio_limit:
        raise PackageError(
            "compression_ratio",
            f"The archive of {archive_size} bytes unpacks to {total}: a compression ratio over {ratio_limit}:1 "
            "(zip bomb).",
        )


def _is_dropped(parts: tuple[str, ...]) -> bool:
    """Build leftovers never extracted: bytecode (stale, and code we did not review) and macOS Finder metadata."""
    return parts[0] == "__MACOSX" or "__pycache__" in parts or parts[-1].endswith(".pyc")


def _find_root(members: list[_Member]) -> str:
    """"" when manifest.yaml is at the top, "<folder>/" when every member sits in one folder that holds it."""
    kept = [m for m in members if m.parts[0] != "__MACOSX"]
    if any(m.parts == (MANIFEST_NAME,) and not m.is_dir for m in kept):
        return ""
    tops = {m.parts[0] for m in kept}
    if len(tops) == 1:
        top = next(iter(tops))
        if any(m.parts == (top, MANIFEST_NAME) and not m.is_dir for m in kept):
            return f"{top}/"
    raise PackageError(
        "manifest_missing",
        "manifest.yaml is missing: it must be at the top of the archive or in its single top-level folder.",
    )


# ---------------------------------------------------------------------------------------------------------------
# Reading small files


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, what: str) -> bytes:
    if info.file_size > cap:
        raise PackageError("manifest_invalid", f"{what} is {info.file_size} bytes; at most {cap} are allowed.")
    try:
        with zf.open(info) as stream:
            data = stream.read(cap + 1)
    except (*DAMAGED_MEMBER_ERRORS, OSError) as exc:
        raise PackageError(
            "not_zip", f"The archive is damaged (not a valid zip): cannot read {info.filename!r} ({_one_line(exc)})."
        ) from exc
    if len(data) > cap:  # only if the header lied
        raise PackageError("too_large", f"{what} unpacks to more than its header says (too large).")
    return data


def _safe_yaml(data: bytes, what: str):
    """yaml.safe_load, then the tree converted to plain JSON data with its size and depth bounded."""
    try:
        loaded = yaml.safe_load(data.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise PackageError("manifest_invalid", f"{what} is not valid YAML: {_one_line(exc)}") from exc
    return _plain(loaded, what)


def _plain(value, what: str):
    """Copy `value` as JSON-ready data (dates become ISO strings, keys strings), refusing huge or odd trees."""
    budget = [MAX_YAML_NODES]

    def convert(node, depth):
        budget[0] -= 1
        if budget[0] < 0:
            raise PackageError("manifest_invalid", f"{what} is too large once its YAML aliases are expanded.")
        if depth > MAX_YAML_DEPTH:
            raise PackageError("manifest_invalid", f"{what} is nested too deeply.")
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, float):
            if node != node or node in (float("inf"), float("-inf")):
                raise PackageError("manifest_invalid", f"{what} holds a number JSON cannot represent ({node}).")
            return node
        if isinstance(node, (datetime, date)):
            return node.isoformat()
        if isinstance(node, dict):
            return {_key(k): convert(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [convert(v, depth + 1) for v in node]
        raise PackageError("manifest_invalid", f"{what} holds a {type(node).__name__} value, which is not plain data.")

    def _key(key):
        if isinstance(key, str):
            return key
        if key is None or isinstance(key, (bool, int, float)):
            return json.dumps(key)  # the key JSON itself would write: true, null, 1
        if isinstance(key, (datetime, date)):
            return key.isoformat()
        raise PackageError("manifest_invalid", f"{what} has a {type(key).__name__} mapping key.")

    return convert(value, 0)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def _load_manifest(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict:
    manifest = _safe_yaml(_read_capped(zf, info, MAX_MANIFEST_BYTES, "manifest.yaml"), "manifest.yaml")
    if not isinstance(manifest, dict):
        kind = "empty" if manifest is None else f"a {type(manifest).__name__}"
        raise PackageError("manifest_invalid", f"manifest.yaml is not valid: it is {kind}, not a YAML mapping.")
    if manifest.get("kind") != "Plugin":
        raise PackageError(
            "manifest_invalid", f"manifest.yaml is not valid: `kind` must be Plugin, not {manifest.get('kind')!r}."
        )
    if manifest.get("apiVersion") not in API_VERSIONS:
        raise PackageError(
            "manifest_invalid",
            f"manifest.yaml is not valid: `apiVersion` must be v1 or langbot/v1, not {manifest.get('apiVersion')!r}.",
        )
    if not isinstance(manifest.get("metadata"), dict):
        raise PackageError("metadata_missing", "manifest.yaml has no `metadata` mapping (author, name, version).")
    return manifest


def _identifier(metadata: dict, key: str) -> str:
    value = metadata.get(key)
    if not isinstance(value, str) or not value.strip():
        hint = " (quote it so YAML reads a string)" if isinstance(value, (int, float)) else ""
        raise PackageError("metadata_missing", f"manifest.yaml lacks metadata.{key} as a non-empty string{hint}.")
    if not SAFE_IDENTIFIER.match(value):
        raise PackageError(
            "manifest_invalid",
            f"manifest.yaml is not valid: metadata.{key} {value!r} may only hold letters, digits, '-', '_' and '.' "
            "and must start with a letter or digit.",
        )
    return value


def _localized(metadata: dict, key: str) -> dict:
    value = metadata.get(key)
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en_US": value}
    if isinstance(value, dict):
        return value
    raise PackageError(
        "manifest_invalid", f"manifest.yaml is not valid: metadata.{key} must be a mapping of languages."
    )


def _optional_str(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_requirements(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> list[str]:
    text = _read_capped(zf, info, MAX_MANIFEST_BYTES, "requirements.txt").decode("utf-8-sig", errors="replace")
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()  # pip's comment syntax: '#' at the start or after a space
        if line:
            lines.append(line)
    return lines


def _count_components(zf, members: list[_Member], root_parts: tuple, component_types: list[str]) -> dict[str, int]:
    """How many component manifests (YAML files whose `kind` is a declared type) the package holds, per type.

    Counted over every YAML file rather than only the `fromDirs` folders: real packages are not always laid out as
    their manifest says (the smoke sample declares components/tools/ yet ships its tool YAML at the top).
    """
    counts = dict.fromkeys(component_types, 0)
    budget = MAX_COMPONENT_YAML_TOTAL
    for m in members:
        if m.is_dir or _is_dropped(m.parts) or m.parts == root_parts + (MANIFEST_NAME,):
            continue
        if not m.parts[-1].endswith((".yaml", ".yml")) or m.info.file_size > MAX_COMPONENT_YAML_BYTES:
            continue
        budget -= m.info.file_size
        if budget < 0:
            break
        try:
            doc = _safe_yaml(_read_capped(zf, m.info, MAX_COMPONENT_YAML_BYTES, m.info.filename), m.info.filename)
        except PackageError as exc:
            if exc.rule == "not_zip":  # a damaged archive is refused; a YAML that is not a component is not
                raise
            continue
        if isinstance(doc, dict) and doc.get("kind") in counts:
            counts[doc["kind"]] += 1
    return counts


# ---------------------------------------------------------------------------------------------------------------
# Extraction


def _extract_members(zf: zipfile.ZipFile, members: list[_Member], dest: Path, root: str) -> None:
    limit, ratio_limit = max_unpacked_bytes(), max_ratio()
    root_parts = tuple(PurePosixPath(root).parts)
    dest_real = dest.resolve()
    written_total = 0
    for m in members:
        if m.parts[: len(root_parts)] != root_parts or _is_dropped(m.parts):
            continue
        relative = m.parts[len(root_parts) :]
        if not relative:
            continue  # the root folder's own entry
        target = dest_real.joinpath(*relative)
        # Defence in depth: _safe_parts already refused anything that could resolve elsewhere.
        if not target.resolve().is_relative_to(dest_real):
            raise PackageError("path_escape", f"Member {m.info.filename!r} escapes the package folder.")
        if m.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            # "xb": never follow or replace anything already there.
            with zf.open(m.info) as stream, open(target, "xb") as out:
                while True:
                    chunk = stream.read(COPY_CHUNK)
                    if not chunk:
                        break
                    written += len(chunk)
                    written_total += len(chunk)
                    if written > m.info.file_size or written_total > limit:
                        raise PackageError(
                            "too_large",
                            f"Member {m.info.filename!r} unpacks to more than its header says or than "
                            f"{_mib(limit)} in total (too large).",
                        )
                    if _ratio(written, m.info.compress_size) > ratio_limit:
                        raise PackageError(
                            "compression_ratio",
                            f"Member {m.info.filename!r} unpacks with a compression ratio over {ratio_limit}:1 "
                            "(zip bomb).",
                        )
                    out.write(chunk)
        except DAMAGED_MEMBER_ERRORS as exc:  # not OSError: a full disk is not the package's fault
            raise PackageError(
                "not_zip",
                f"The archive is damaged (not a valid zip): member {m.info.filename!r} cannot be read "
                f"({_one_line(exc)}).",
            ) from exc


def _clear(dest: Path, remove_self: bool) -> None:
    if remove_self:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
