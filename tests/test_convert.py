"""Converting the bundled CTranslate2 weights for openai-whisper: every variable read, the
dimensions from the shapes, the state dict openai-whisper expects, and the recorded hash
of a converted checkpoint."""

from __future__ import annotations

import pytest

from pipeline import convert, models
from pipeline.models import ModelError

TINY_DIMS = dict(n_mels=80, n_audio_ctx=1500, n_audio_state=384, n_audio_head=6,
                 n_audio_layer=4, n_vocab=51864, n_text_ctx=448, n_text_state=384,
                 n_text_head=6, n_text_layer=4)
BASE_DIMS = dict(n_mels=80, n_audio_ctx=1500, n_audio_state=512, n_audio_head=8,
                 n_audio_layer=6, n_vocab=51865, n_text_ctx=448, n_text_state=512,
                 n_text_head=8, n_text_layer=6)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh, empty cache directory for the test."""
    monkeypatch.setenv("DISPATCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_missing_checkpoint_path_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no openai-whisper checkpoint"):
        convert.openai_checkpoint(str(tmp_path / "model.pt"))


def test_model_bin_reads_every_variable():
    variables = convert.read_ct2_variables(models.ct2_model_dir("tiny.en") / "model.bin")
    assert variables["decoder/embeddings/weight"].shape == (51864, 384)
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]
    assert int(variables["encoder/num_heads"]) == 6


@pytest.mark.slow
def test_tiny_en_converts_to_openai_whisper(cache):
    import torch
    from whisper.model import ModelDimensions

    path = convert.openai_checkpoint("tiny.en")
    assert path.parent == cache / "openai"
    assert convert.openai_checkpoint(str(path)) == path  # a .pt path is taken as is
    model = convert.load_openai_model("tiny.en")
    assert model.dims == ModelDimensions(**TINY_DIMS)
    assert not model.is_multilingual
    heads = convert.ct2_alignment_heads(models.ct2_model_dir("tiny.en"))
    assert model.alignment_heads.to_dense().nonzero().tolist() == sorted(heads)
    emb = convert.read_ct2_variables(models.ct2_model_dir("tiny.en") / "model.bin")
    assert torch.equal(model.decoder.token_embedding.weight.half(),
                       emb["decoder/embeddings/weight"])


def test_base_dimensions_come_from_the_shapes():
    variables = convert.read_ct2_variables(models.ct2_model_dir("base") / "model.bin")
    dims = convert.ct2_dimensions(variables)
    assert dims == BASE_DIMS
    state = convert.ct2_to_openai_state(variables, dims)
    from whisper.model import ModelDimensions, Whisper

    assert set(state) == set(Whisper(ModelDimensions(**dims)).state_dict())


@pytest.mark.slow
def test_a_flipped_byte_in_the_converted_tiny_en_is_rebuilt(cache):
    import torch

    path = convert.openai_checkpoint("tiny.en")
    recorded = convert.recorded_sha256(path)
    assert recorded == models.file_sha256(path)
    assert convert.digest_path(path).read_text() == f"{recorded}  {path.name}\n"
    with open(path, "r+b") as f:  # a byte inside the weights
        f.seek(path.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0x01]))
    assert models.file_sha256(path) != recorded
    model = convert.load_openai_model("tiny.en")
    assert models.file_sha256(path) == recorded
    emb = convert.read_ct2_variables(models.ct2_model_dir("tiny.en") / "model.bin")
    assert torch.equal(model.decoder.token_embedding.weight.half(),
                       emb["decoder/embeddings/weight"])
