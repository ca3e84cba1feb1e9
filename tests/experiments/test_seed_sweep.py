"""python -m experiments seeds: every (experiment, seed) runs into OUT/seed<S>/<name>/ and
OUT/SEEDS.md tabulates the claims held per seed, listing every claim that failed."""

from __future__ import annotations

import json

from experiments import _seed_sweep, runner


def fake_run(out, seed, name, holds, mode="full", seeds=None):
    folder = out / f"seed{seed}" / name
    folder.mkdir(parents=True)
    claims = [
        {"claim": "the loss falls", "holds": True, "detail": "1.0 -> 0.1"},
        {"claim": "the | bar is escaped", "holds": holds, "detail": f"value {seed}"},
    ]
    data = {
        "experiment": name,
        "mode": mode,
        "config": {"seed": seed, "quick": mode == "quick", "seeds": seeds},
        "environment": {"git_commit": "abc1234", "date": "2026-12-03T00:00:00+00:00"},
        "claims": claims,
        "runtime_s": 10.0 + seed,
    }
    (folder / "results.json").write_text(json.dumps(data))


def test_runs_every_seed_and_tabulates_the_claims(tmp_path, capsys):
    out = tmp_path / "sweep"
    rc = runner.main(
        ["seeds", "min_norm_least_squares", "--quick", "--seeds", "0,3", "--out", str(out)]
    )
    assert rc == 0
    for seed in (0, 3):
        data = json.loads((out / f"seed{seed}/min_norm_least_squares/results.json").read_text())
        assert data["config"]["seed"] == seed
    table = (out / "SEEDS.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| min_norm_least_squares"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1:3] == ["quick", "0, 3"]
    held = cells[3].split(", ")
    assert len(held) == 2 and all(h.split("/")[0] == h.split("/")[1] for h in held)
    assert cells[4] == "yes"
    assert "None: every claim held" in table
    assert "claims over seeds:" in capsys.readouterr().out


def test_a_claim_that_fails_for_one_seed_is_listed_with_its_detail(tmp_path):
    for seed in range(3):
        fake_run(tmp_path, seed, "demo", holds=seed != 1)
    fake_run(tmp_path, 0, "demo2", holds=True, mode="quick")
    (tmp_path / "notaseed").mkdir()  # other folders are not read
    runs = _seed_sweep.collect_runs(tmp_path)
    assert [(r.name, r.mode, r.seed) for r in runs] == [
        ("demo", "full", 0),
        ("demo", "full", 1),
        ("demo", "full", 2),
        ("demo2", "quick", 0),
    ]
    # rebuild only: no names
    assert runner.main(["seeds", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "SEEDS.md").read_text()
    assert "| demo | full | 0, 1, 2 | 2/2, 1/2, 2/2 | **no** | abc1234 | 10-12 s |" in table
    assert "| demo2 | quick | 0 | 2/2 | yes |" in table
    assert "| demo | full | 1 | the \\| bar is escaped | value 1 |" in table
    assert "None: every claim held" not in table


def test_a_run_over_several_seeds_has_its_own_row(tmp_path):
    fake_run(tmp_path, 3, "demo", holds=True)
    fake_run(tmp_path, 0, "demo", holds=True, seeds=[0, 1, 2, 3, 4])  # --seeds 0-4
    table = _seed_sweep.table_markdown(tmp_path, _seed_sweep.collect_runs(tmp_path))
    assert "| demo | full | 3 | 2/2 | yes |" in table
    assert "| demo | full, one run over seeds | 0, 1, 2, 3, 4 | 2/2 | yes |" in table
    run = next(r for r in _seed_sweep.collect_runs(tmp_path) if r.seed == 0)
    assert run.covers == (0, 1, 2, 3, 4)
    assert _seed_sweep._covered_seeds({"seeds": "0-2"}, 0) == (0, 1, 2)
    assert _seed_sweep._covered_seeds({"n_seeds": 3}, 5) == (5, 6, 7)
    assert _seed_sweep._covered_seeds({"seeds": None}, 5) == (5,)
    fake_run(tmp_path, 7, "late", holds=True, seeds=[5, 6])  # --seeds 5,6 with --seed 7
    assert [r.seed for r in _seed_sweep.collect_runs(tmp_path) if r.name == "late"] == [5]
