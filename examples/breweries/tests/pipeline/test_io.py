import os

import pytest

from pipeline import io


def test_write_atomic_leaves_no_temp_file_on_error(tmp_path, monkeypatch):
    def broken(src, dst):
        raise OSError("disk on fire")
    monkeypatch.setattr(io.os, "replace", broken)
    with pytest.raises(OSError, match="disk on fire"):
        io.write_atomic(str(tmp_path / "x.json"), "{}")
    assert os.listdir(str(tmp_path)) == []


def test_jsonl_round_trip_skips_blank_lines(tmp_path):
    path = str(tmp_path / "sub" / "x.jsonl")
    assert io.write_jsonl(path, [{"a": 1}, {"b": "ü"}]) == 2
    with open(path, "a") as fh:
        fh.write("\n")
    assert io.read_jsonl(path) == [{"a": 1}, {"b": "ü"}]
