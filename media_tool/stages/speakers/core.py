"""Who spoke when: speaker turns from voice embeddings, without torch.

Every episode is a conversation (a host and a guest, often one in Mandarin and one in English). The
voice encoder is Resemblyzer's (PyPI `Resemblyzer` 0.1.4, Apache-2.0: a 3-layer LSTM over 40 mel
bands, `pretrained.pt` inside its wheel, installed with `--no-deps` so torch stays out); its weights
are read here from the legacy torch file with a restricted unpickler, and the network runs in numpy.
Speech (Silero VAD, as for transcription) is cut into 1.6-second windows every 0.4 s; their
embeddings are clustered spectrally (a k-nearest-neighbour affinity graph, the normalised Laplacian's
eigenvectors, k-means), into the number of people the episode names or, failing that, the number
the eigengap suggests; labels are smoothed into turns. Measured with the committed fixtures in
tests (a Mandarin voice and an English one): see tests/test_speakers.py.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media_tool.errors import ModelError
from media_tool.media.audio import SAMPLE_RATE

N_FFT, HOP, N_MELS = 400, 160, 40          # 25 ms windows every 10 ms, 40 bands (Resemblyzer's hparams)
WINDOW_FRAMES, STEP_FRAMES = 160, 40       # 1.6-second partials every 0.4 s
MAX_SPEAKERS = 8
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
           "IntStorage": np.int32, "HalfStorage": np.float16, "ByteStorage": np.uint8}


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int  # 0 = the first voice heard


# -- the weights: a legacy torch file, read without torch ---------------------------------------
class _Tensor:
    def __init__(self, key, offset, size, stride):
        self.key, self.offset, self.size, self.stride = key, offset, tuple(size), tuple(stride)


def load_torch_legacy(path: Path) -> dict:
    """The object in a legacy (pre-zip) `torch.save` file, tensors as numpy arrays. Only plain
    containers and float/int storages are accepted: no code from the file ever runs."""
    storages: dict[str, tuple] = {}

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda storage, offset, size, stride, *_: _Tensor(storage, offset, size, stride)
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if module == "torch" and name in _DTYPES:
                return name
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file")

        def persistent_load(self, pid):
            _, kind, key, _, size = pid[:5]
            storages[key] = (_DTYPES[kind], size)
            return key

    with open(path, "rb") as fh:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(fh)
        obj = Restricted(fh).load()
        data = {}
        for key in pickle.load(fh):
            dtype = np.dtype(storages[key][0])
            n = int(np.frombuffer(fh.read(8), "<i8")[0])
            data[key] = np.frombuffer(fh.read(n * dtype.itemsize), dtype=dtype)

    def real(v):
        if isinstance(v, _Tensor):
            a = data[v.key]
            return np.lib.stride_tricks.as_strided(a[v.offset:], v.size, [s * a.itemsize for s in v.stride]).copy()
        if isinstance(v, dict):
            return {k: real(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(real(x) for x in v)
        return v

    return real(obj)


def weights_path() -> Path | None:
    spec = importlib.util.find_spec("resemblyzer")  # found, never imported (its __init__ needs torch)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    return path if path.is_file() else None


def unavailable() -> str | None:
    if weights_path() is None:
        return ("speaker turns need the voice encoder's weights: pip install --no-deps Resemblyzer==0.1.4 "
                "(transcripts are made without speakers)")
    return None


@functools.lru_cache(maxsize=1)
def encoder() -> dict:
    path = weights_path()
    if path is None:
        raise ModelError(unavailable())
    try:
        return load_torch_legacy(path)["model_state"]
    except (OSError, pickle.UnpicklingError, KeyError, ValueError, EOFError) as exc:
        raise ModelError(f"cannot read the voice encoder's weights {path}: {exc}") from exc


# -- features and the network (pure numpy) ------------------------------------------------------
@functools.lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney's mel scale and area normalisation."""
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log, lin)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))

    freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) power mel spectrogram, as librosa.feature.melspectrogram (centred, Hann window)."""
    pad = N_FFT // 2
    y = np.pad(wav.astype(np.float32), (pad, pad))
    n = 1 + (len(y) - N_FFT) // HOP
    if n <= 0:
        return np.zeros((0, N_MELS), np.float32)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(y[idx] * window, axis=1)) ** 2
    return (power @ mel_filters().T).astype(np.float32)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # the logistic function, without overflow


def embed(mels: np.ndarray, w: dict | None = None) -> np.ndarray:
    """(batch, 160, 40) mel windows -> (batch, 256) unit voice embeddings: the LSTM's last hidden
    state of its top layer, through the linear layer and a ReLU, L2-normalised (as Resemblyzer)."""
    w = w or encoder()
    x = mels.astype(np.float32)
    for layer in range(3):
        wi, wh = w[f"lstm.weight_ih_l{layer}"], w[f"lstm.weight_hh_l{layer}"]
        b = w[f"lstm.bias_ih_l{layer}"] + w[f"lstm.bias_hh_l{layer}"]
        h = np.zeros((x.shape[0], 256), np.float32)
        c = np.zeros_like(h)
        pre = x @ wi.T + b  # every step's input part at once
        out = np.empty((x.shape[0], x.shape[1], 256), np.float32)
        for t in range(x.shape[1]):
            g = pre[:, t] + h @ wh.T
            i, f, gg, o = np.split(g, 4, axis=1)  # PyTorch's gate order
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(gg)
            h = _sigmoid(o) * np.tanh(c)
            out[:, t] = h
        x = out
    e = np.maximum(0, h @ w["linear.weight"].T + w["linear.bias"])
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)


# -- clustering (pure) ----------------------------------------------------------------------------
def _kmeans(x: np.ndarray, k: int, seed: int = 0, rounds: int = 10) -> np.ndarray:
    """k-means++ started, best of `rounds` starts (deterministic)."""
    rng = np.random.default_rng(seed)
    best, best_cost = None, np.inf
    for _ in range(rounds):
        centres = [x[rng.integers(len(x))]]
        for _ in range(k - 1):
            d = np.min(((x[:, None] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
            centres.append(x[rng.choice(len(x), p=d / d.sum())] if d.sum() > 0 else x[rng.integers(len(x))])
        c = np.array(centres)
        for _ in range(100):
            labels = ((x[:, None] - c[None]) ** 2).sum(-1).argmin(1)
            new = np.array([x[labels == j].mean(0) if np.any(labels == j) else c[j] for j in range(k)])
            if np.allclose(new, c):
                break
            c = new
        cost = ((x - c[labels]) ** 2).sum()
        if cost < best_cost:
            best, best_cost = labels, cost
    return best


def cluster(embeddings: np.ndarray, n: int | None = None) -> np.ndarray:
    """Spectral clustering of unit embeddings into `n` speakers (None: the eigengap decides)."""
    m = len(embeddings)
    if m < 2 or n == 1:
        return np.zeros(m, int)
    sim = np.clip(embeddings @ embeddings.T, 0, 1)
    keep = max(2, min(m - 1, m // 10 + 1))  # each window's nearest neighbours only: one outlier cannot bridge
    order = np.argsort(-sim, axis=1)[:, 1:keep + 1]
    a = np.zeros_like(sim)
    rows = np.repeat(np.arange(m), keep)
    a[rows, order.ravel()] = sim[rows, order.ravel()]
    a = np.maximum(a, a.T)
    d = a.sum(1)
    inv = 1.0 / np.sqrt(np.maximum(d, 1e-9))
    lap = np.eye(m) - inv[:, None] * a * inv[None, :]
    values, vectors = np.linalg.eigh(lap)
    if n is None:  # the largest gap among the smallest eigenvalues: as many speakers as clear clusters
        gaps = np.diff(values[:min(MAX_SPEAKERS, m - 1) + 1])
        n = int(np.argmax(gaps)) + 1
    if n <= 1:
        return np.zeros(m, int)
    u = vectors[:, :n]
    u = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-9)
    return _kmeans(u, n)


def smooth(labels: np.ndarray, owner: list[int] | None = None, width: int = 5) -> np.ndarray:
    """A running majority over `width` windows: a stray window inside a turn takes its neighbours' label.

    Only within one speech region (`owner` gives each window's): a pause is where turns change, and
    a short question between two long answers is a region of one or two windows that the answers'
    windows around it would otherwise outvote."""
    if owner is not None:
        out, owner_arr = labels.copy(), np.asarray(owner)
        for k in np.unique(owner_arr):
            idx = np.flatnonzero(owner_arr == k)
            out[idx] = smooth(labels[idx], None, width)
        return out
    if len(labels) < width:
        return labels
    half = width // 2
    padded = np.pad(labels, half, mode="edge")
    return np.array([np.bincount(padded[i:i + width]).argmax() for i in range(len(labels))])


def _windows(audio: np.ndarray, speech: list[tuple[float, float]]) -> tuple[list[int], list[int], np.ndarray]:
    """Window start frames, the speech region of each, and their embeddings."""
    mels = mel_frames(audio)
    starts, owner = [], []
    for k, (a, b) in enumerate(speech):
        first, last = int(a * 100), int(b * 100)
        for s in range(first, max(first + 1, last - WINDOW_FRAMES + 1), STEP_FRAMES):
            starts.append(s)
            owner.append(k)
    if not starts:
        return [], [], np.zeros((0, 256), np.float32)
    windows = np.stack([np.pad(mels[s:s + WINDOW_FRAMES], ((0, max(0, s + WINDOW_FRAMES - len(mels))), (0, 0)))
                        for s in starts])
    return starts, owner, np.vstack([embed(windows[i:i + 256]) for i in range(0, len(windows), 256)])


def voiceprint(audio: np.ndarray, speech: list[tuple[float, float]]) -> np.ndarray | None:
    """One person's voice: the normalised mean embedding of a recording of them alone."""
    _, _, emb = _windows(audio, speech)
    if not len(emb):
        return None
    v = emb.mean(0)
    return v / max(float(np.linalg.norm(v)), 1e-9)


def name_voices(centroids: np.ndarray, order: list[str], prints: dict[str, np.ndarray]) -> list[str]:
    """A name for each voice (numbered by first appearance): people with a voice sample take the voice
    closest to it (the closest pairs first, one voice each); the other voices take the other names
    in `order` (hosts first), then `Speaker N`."""
    names: list[str | None] = [None] * len(centroids)
    pairs = sorted(((float(centroids[k] @ v), k, who) for who, v in prints.items() for k in range(len(centroids))),
                   reverse=True)
    taken = set()
    for _, k, who in pairs:
        if names[k] is None and who not in taken:
            names[k], taken = who, taken | {who}
    rest = iter([n for n in order if n not in taken])
    return [n or next(rest, None) or f"Speaker {k + 1}" for k, n in enumerate(names)]


def turns(audio: np.ndarray, speech: list[tuple[float, float]], speakers: int | None) -> list[Turn]:
    """Speaker turns over the speech regions of 16 kHz `audio`, numbered by first appearance."""
    return diarize(audio, speech, speakers)[0]


def diarize(audio: np.ndarray, speech: list[tuple[float, float]],
            speakers: int | None) -> tuple[list[Turn], np.ndarray, int]:
    """Speaker turns (numbered by first appearance), each speaker's mean embedding, and how many
    voices the eigengap alone hears (to tell a producer when the people named do not match). Each
    speech region is covered whole: a change of speaker inside it falls midway between the centres
    of the last window of one voice and the first of the next."""
    starts, owner, emb = _windows(audio, speech)
    if not starts:
        return [], np.zeros((0, 256), np.float32), 0
    heard = len(set(cluster(emb, None).tolist())) if speakers else None
    found, centroids = _turns(speech, starts, owner, emb, smooth(cluster(emb, speakers), owner))
    return found, centroids, heard if heard is not None else len(centroids)


def _turns(speech, starts, owner, emb, labels) -> tuple[list[Turn], np.ndarray]:
    first_seen = {lab: k for k, lab in enumerate(dict.fromkeys(labels.tolist()))}
    centroids = np.stack([emb[labels == lab].mean(0) for lab in first_seen])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    out: list[Turn] = []
    for k, (a, b) in enumerate(speech):
        idx = [i for i, o in enumerate(owner) if o == k]
        if not idx:
            continue
        cur, begin = first_seen[int(labels[idx[0]])], a
        for i, j in zip(idx, idx[1:]):
            nxt = first_seen[int(labels[j])]
            if nxt != cur:
                cut = min(b, (starts[i] + starts[j] + WINDOW_FRAMES) / 200)  # between the two centres
                out.append(Turn(begin, cut, cur))
                cur, begin = nxt, cut
        out.append(Turn(begin, b, cur))
    merged: list[Turn] = []
    for t in out:  # one voice across a short pause is one turn
        if merged and merged[-1].speaker == t.speaker and t.start - merged[-1].end <= 1.0:
            merged[-1] = Turn(merged[-1].start, t.end, t.speaker)
        else:
            merged.append(t)
    return merged, centroids
