"""dbt's parse is reused across runs only for the project it was made for (D34): it holds
absolute paths, and a seed would be read from wherever the parse was made."""

from __future__ import annotations

from orchestration import warehouse


def test_a_parse_made_elsewhere_is_never_reused(tmp_path, monkeypatch):
    here, there = tmp_path / "here" / "dbt_project", tmp_path / "there" / "dbt_project"
    target = tmp_path / "root" / "staging" / "dbt_target"
    target.mkdir(parents=True)
    (target / "partial_parse.msgpack").write_bytes(b"a parse brought with the data root")

    monkeypatch.setattr(warehouse, "DBT_PROJECT_DIR", there)
    warehouse._reuse_parse(target)
    assert not (target / "partial_parse.msgpack").exists()  # no cache of this project: dbt parses
    (target / "partial_parse.msgpack").write_bytes(b"parsed for there")
    warehouse._keep_parse(target)

    monkeypatch.setattr(warehouse, "DBT_PROJECT_DIR", here)
    warehouse._reuse_parse(target)
    assert not (target / "partial_parse.msgpack").exists()  # a checkout elsewhere: not its parse
    (target / "partial_parse.msgpack").write_bytes(b"parsed for here")
    warehouse._keep_parse(target)

    monkeypatch.setattr(warehouse, "DBT_PROJECT_DIR", there)
    warehouse._reuse_parse(target)
    assert (target / "partial_parse.msgpack").read_bytes() == b"parsed for there"
