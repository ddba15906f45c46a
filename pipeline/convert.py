"""openai-whisper on the bundled weights: converting a CTranslate2 model, caching and loading it.

The registry (``models.py``) ships and verifies CTranslate2 weights; openai-whisper needs
its own checkpoint format. :func:`openai_checkpoint` reads a verified ``model.bin``, maps
its variables onto an openai-whisper state dict and caches the checkpoint once, with the
checkpoint's SHA-256 beside it (``<name>.pt.sha256``); a cached checkpoint that no longer
matches its hash is converted again from the verified source, and one that cannot be
rebuilt (a ``.pt`` given by path) is refused. :func:`load_openai_model` loads it with
the alignment heads word timestamps need.

What it does not do: pin or verify the shipped weights (``models.py``), convert
quantized (int8) models, or convert the other way; it knows nothing of audio or quotes.
"""

from __future__ import annotations

import json
import logging
import re
import struct
from pathlib import Path

from pipeline.models import REGISTRY, ModelError, atomic_write, cache_dir, ct2_model_dir, file_sha256

log = logging.getLogger(__name__)

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

    log.info("converting %s to an openai-whisper checkpoint %s", model_dir, out)
    variables = read_ct2_variables(model_dir / "model.bin")
    dims = ct2_dimensions(variables)
    checkpoint = {
        "dims": dims,
        "model_state_dict": ct2_to_openai_state(variables, dims),
        "alignment_heads": ct2_alignment_heads(model_dir),
    }
    atomic_write(out, lambda f: torch.save(checkpoint, f))
    digest = file_sha256(out)
    atomic_write(digest_path(out), lambda f: f.write(f"{digest}  {out.name}\n".encode()))
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
        log.warning("%s has no recorded SHA-256; converting it again", path)
        return False
    actual = file_sha256(path)
    if actual != expected:
        log.warning("%s does not match its recorded SHA-256 (expected %s, got %s); "
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

