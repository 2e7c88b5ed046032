"""Results kept by the key of what they depend on (`store.files.keep` / `read_kept`): derived data."""

from media_tool.store.files import keep, read_kept


def test_a_kept_result_comes_back_only_under_its_own_key(tmp_path):
    path = tmp_path / "heard" / "ep.json"
    keep(path, "k1", {"segments": [1, 2]})
    assert read_kept(path, "k1") == {"segments": [1, 2]}
    assert read_kept(path, "k2") is None  # what it depends on changed: redo the work
    assert not [p for p in path.parent.iterdir() if p != path]  # written whole, no temporary left


def test_a_missing_or_damaged_file_is_no_result(tmp_path):
    path = tmp_path / "ep.json"
    assert read_kept(path, "k") is None
    for damaged in (b"", b"{\"key\": \"k\", \"val", b"[1, 2]", b"\xff\xfe", b"null", b'"k"'):
        path.write_bytes(damaged)
        assert read_kept(path, "k") is None, damaged
