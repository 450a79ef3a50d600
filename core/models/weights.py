"""The network's weights files: safetensors (float16) that carry the network's config and a
checksum of their tensors in their metadata, so a file describes itself and a damaged one is
refused (no pickle)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..errors import ModelUnavailableError
from .network import ColorUNet, ModelConfig

__all__ = ["checksum", "load_model", "save_model"]

_FORMAT = "vscolorize.model"
_FORMAT_VERSION = 1


def checksum(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the tensors' names and their values as float32, in the names' order."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_model(model: ColorUNet, path: str | os.PathLike[str], **info: str) -> None:
    """Write weights as safetensors (float16) with the config, a checksum and ``info`` (strings)."""
    tensors = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}
    metadata = {
        **info,
        "format": _FORMAT,
        "format_version": str(_FORMAT_VERSION),
        "config": model.config.to_json(),
        "sha256": checksum(tensors),
    }
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.chmod(tmp, 0o644)  # safetensors writes 0600; weights get installed for every user to read
    os.replace(tmp, target)


def load_model(path: str | os.PathLike[str], *, device: str = "cpu") -> ColorUNet:
    """Read a weights file written by :func:`save_model`, checking its format and checksum.

    Raises:
        ModelUnavailableError: missing, not a vscolorize model, or damaged.
    """
    name = os.fspath(path)
    if not Path(path).is_file():
        raise ModelUnavailableError(f"{name}: no such model file")
    try:
        with safe_open(name, framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is no dict)
    except Exception as e:  # safetensors raises its own error types for damaged headers
        raise ModelUnavailableError(f"{name}: not a readable safetensors file ({e})") from None
    if metadata.get("format") != _FORMAT:
        raise ModelUnavailableError(f"{name}: not a vscolorize model (no '{_FORMAT}' metadata)")
    if metadata.get("sha256") != checksum(tensors):
        raise ModelUnavailableError(f"{name}: checksum mismatch: the file is damaged")
    model = ColorUNet(ModelConfig.from_json(metadata["config"]))
    try:
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError:
        raise ModelUnavailableError(
            f"{name}: made for another version of the network; retrain or reinstall it"
        ) from None
    return model.to(device).eval()
