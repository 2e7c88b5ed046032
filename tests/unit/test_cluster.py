"""The cluster's pure parts: which address a build uses, how many workers a cluster gets, how a
worker's long call streams its progress, and the [cluster] settings."""

from __future__ import annotations

import os

import pytest

from media_tool.cluster.pool import ENV, address, check_address, plan
from media_tool.cluster.worker import ModelWorker, streamed
from media_tool.errors import ConfigError, ModelError, UsageError
from media_tool.model.show import load_show


def node(i: int, cpus: float, gpus: float = 0, alive: bool = True) -> dict:
    res = {"CPU": cpus, **({"GPU": gpus} if gpus else {})}
    return {"NodeID": f"n{i}", "Alive": alive, "Resources": res}


def test_the_flag_wins_then_the_environment_then_the_setting(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert address(None, None) is None
    assert address(None, "10.0.0.5:6379") == "10.0.0.5:6379"
    monkeypatch.setenv(ENV, "10.0.0.6:6379")
    assert address(None, "10.0.0.5:6379") == "10.0.0.6:6379"
    assert address("local", "10.0.0.5:6379") == "local"
    assert address("off", "10.0.0.5:6379") is None  # a producer can build here although the show names a cluster
    monkeypatch.setenv(ENV, "off")
    assert address(None, "10.0.0.5:6379") is None


@pytest.mark.parametrize("bad", ["nowhere", "host:", ":6379", "host:0", "host:99999", "host:port"])
def test_a_malformed_address_is_refused(bad):
    with pytest.raises(UsageError, match="HOST:PORT"):
        check_address(bad)


def test_one_worker_per_gpu_else_one_per_node_with_all_its_cores():
    slots = plan([node(1, 16, 2), node(2, 8), node(3, 0), node(4, 8, alive=False)])
    assert [(s.node, s.cpus, s.gpus) for s in slots] == [("n1", 1.0, 1), ("n1", 1.0, 1), ("n2", 8.0, 0)]
    assert len(plan([node(1, 16, 2), node(2, 8)], workers=1)) == 1
    spread = plan([node(1, 8)], workers=4)  # more workers than nodes share the node's cores
    assert [(s.node, s.cpus) for s in spread] == [("n1", 2.0)] * 4
    assert plan([]) == []


def test_a_long_call_streams_progress_then_its_result():
    def work(progress):
        progress(1.0, 2.0)
        return "done"

    events = list(streamed(work))
    assert events[-1] == ("result", "done")
    assert ("progress", 1.0, 2.0) in events


def test_a_media_tool_error_travels_back_as_a_value_and_others_raise():
    def refuse(progress):
        raise ModelError("model 'tiny.en' is English-only")

    assert [e[0] for e in streamed(refuse)] == ["error"]
    assert isinstance(list(streamed(refuse))[0][1], ModelError)

    def crash(progress):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        list(streamed(crash))


def test_a_worker_says_which_code_it_runs():
    from media_tool import __version__

    info = ModelWorker().hello()
    assert info["version"] == __version__ and info["device"] in ("cpu", "cuda")


def test_cluster_settings_are_read_and_checked(sample_show):
    with open(sample_show / "podcast.toml", "a") as fh:
        fh.write('\n[cluster]\naddress = "10.0.0.5:6379"\nworkers = 4\n')
    show = load_show(sample_show)
    assert (show.cluster.address, show.cluster.workers) == ("10.0.0.5:6379", 4)
    text = (sample_show / "podcast.toml").read_text()
    (sample_show / "podcast.toml").write_text(text.replace('"10.0.0.5:6379"', '"the big cluster"'))
    with pytest.raises(ConfigError, match="address: expected HOST:PORT"):
        load_show(sample_show)
    (sample_show / "podcast.toml").write_text(text.replace("workers = 4", "workers = 0"))
    with pytest.raises(ConfigError, match="workers: expected a positive integer"):
        load_show(sample_show)


def test_a_token_on_this_machine_is_sent(monkeypatch, tmp_path):
    """After `--ray local` (which writes ~/.ray/auth_token) a head started here wants that token:
    the driver sends it, as `ray start` does, unless RAY_AUTH_MODE says otherwise."""
    from media_tool.cluster.pool import _token_if_there

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    _token_if_there()
    assert "RAY_AUTH_MODE" not in os.environ  # no token anywhere: nothing changes
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("x" * 32)
    _token_if_there()
    assert os.environ["RAY_AUTH_MODE"] == "token"
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    _token_if_there()
    assert os.environ["RAY_AUTH_MODE"] == "disabled"
