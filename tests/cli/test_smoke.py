from conftest import commit_count, last_commit_paths


def test_add_then_move_makes_two_commits(cli, pipeline):
    before = commit_count(pipeline)
    r = cli("add", "Acme Corp", "--value", "1200")
    assert r.exit_code == 0, r.output
    r = cli("move", "acme", "qualifying")
    assert r.exit_code == 0, r.output
    assert commit_count(pipeline) == before + 2
    assert last_commit_paths(pipeline) == ["prospecting/acme-corp.md", "qualifying/acme-corp.md"]


def test_unknown_deal_is_exit_2(cli):
    r = cli("move", "nope", "qualifying")
    assert r.exit_code == 2
    assert "no deal 'nope'" in r.stderr
    assert "Traceback" not in r.output
