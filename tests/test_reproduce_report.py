"""reproduce.py: the report's numbers and verdicts from a fixture of summary.json files with known answers."""

import dataclasses
import json

import pytest

import reproduce
from reproduce import Claim


def write(root, seed, path, **values):
    f = root / f"s{seed}" / path / "summary.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps({"seconds": 10.0, **values}))


@pytest.fixture
def root(tmp_path):
    for s, (a, b) in enumerate([(5, 3), (6, 2), (2, 4)]):  # A > B in seeds 0 and 1, not in seed 2
        write(tmp_path, s, f"t/a-s{s}", modes=a, nested={"gap": [a / 10]})
        write(tmp_path, s, f"t/b-s{s}", modes=b)
    return tmp_path


def claim(rules, rows=None, **kw):
    return Claim("P", "Fig. 1", "a claim", "t", rows or {"A": "t/a-s{seed}", "B": "t/b-s{seed}"}, rules, key="modes", **kw)


def specs(c):
    """Every path spec a claim's rows name (a row may be a tuple of them, read as their mean)."""
    return [one for spec in c.rows.values() for one in (spec if isinstance(spec, tuple) else (spec,))]


def test_verdicts(root):
    assert reproduce.judge(claim([("A", ">=", 2)]), root)["verdict"] == "reproduces"
    partly = reproduce.judge(claim([("A", ">", "B")]), root)
    assert partly["verdict"] == "partly" and partly["per_seed"] == [True, True, False]
    assert partly["values"] == {"A": [5, 6, 2], "B": [3, 2, 4]}
    assert reproduce.judge(claim([("A", "<", "B")]), root)["verdict"] == "partly"  # seed 2 only
    assert reproduce.judge(claim([("A", ">", 7)]), root)["verdict"] == "does not"
    on_means = reproduce.judge(claim([("A", ">", 4.3), ("A", "<", 4.4)]), root)  # A's mean 4.33, no seed in (4.3, 4.4)
    assert on_means["per_seed"] == [False, False, False] and on_means["on_means"]
    assert on_means["verdict"] == "partly"
    missing = reproduce.judge(claim([("A", ">", "C")], rows={"A": "t/a-s{seed}", "C": "t/c-s{seed}"}), root)
    assert missing["verdict"] == "not run"


def test_a_row_of_several_runs_reads_their_mean(root):
    """A tuple row (a grid's points) is the mean of its runs at each seed, and missing when one run is."""
    rows = {"AB": ("t/a-s{seed}", "t/b-s{seed}"), "A": "t/a-s{seed}"}
    j = reproduce.judge(claim([("AB", "<", "A")], rows=rows), root)
    assert j["values"]["AB"] == [4, 4, 3] and j["per_seed"] == [True, True, False]
    rows["AC"] = ("t/a-s{seed}", "t/c-s{seed}")
    assert reproduce.judge(claim([("AB", "<", "A")], rows=rows), root)["verdict"] == "not run"


def test_nested_values_and_json_files(root):
    j = reproduce.judge(claim([("G", "<", 0.55)], rows={"G": "t/a-s{seed}/summary.json#nested/gap/0"}), root)
    assert j["values"]["G"] == [0.5, 0.6, 0.2] and j["per_seed"] == [True, False, True]


def test_derived_spread_is_std_over_the_gap_of_means(root):
    """D's spread as a share of the real-generated gap: a GAN's logits at +-20 with std 2 (0.05) against unit-scale
    outputs with std 0.5 (0.5), read by key, by `#name`, and in the detail table; a missing key gives None."""
    write(root, 0, "v/gan", d_real_mean=20.0, d_fake_mean=-20.0, d_real_std=2.0, d_fake_std=1.0)
    write(root, 0, "v/vral", d_real_mean=1.0, d_fake_mean=-1.0, d_real_std=1.0, d_fake_std=0.5)
    write(root, 0, "v/old", d_real_std=1.0)
    write(root, 1, "v/flip", d_real_mean=-1.0, d_fake_mean=3.0, d_real_std=1.0, d_fake_std=2.0)  # a critic's sign
    assert reproduce.read_value(root / "s1", "v/flip", "d_fake_spread") == pytest.approx(0.5)
    assert reproduce.read_value(root / "s0", "v/gan", "d_real_spread") == pytest.approx(0.05)
    assert reproduce.read_value(root / "s0", "v/gan#d_fake_spread", "") == pytest.approx(0.025)
    assert reproduce.read_value(root / "s0", "v/vral#d_fake_spread", "modes") == pytest.approx(0.25)
    assert reproduce.read_value(root / "s0", "v/old", "d_real_spread") is None
    assert reproduce.detail_values(root, "v", ["d_real_spread", "d_real_std"]) == {
        "gan": {"d_real_spread": [pytest.approx(0.05)], "d_real_std": [2.0]},
        "vral": {"d_real_spread": [pytest.approx(0.5)], "d_real_std": [1.0]}, "old": {"d_real_std": [1.0]},
        "flip": {"d_real_spread": [pytest.approx(0.25)], "d_real_std": [1.0]}}


def test_report_rows_and_time(root):
    text = reproduce.report(root, [claim([("A", ">", "B")], fmt="{:.1f}")])
    row = [l for l in text.splitlines() if l.startswith("| P |")][0]
    assert "A: 4.3 ± 2.1; B: 3.0 ± 1.0" in row and "**partly** (✓ ✓ ✗)" in row and "`t`" in row
    assert "| `t` | 6 | 60 |" in text
    noted = reproduce.report(root, [claim([("A", ">", "B")], note="why |x|")])
    assert "| a claim *why \\|x\\|* |" in noted


def test_every_claim_names_runs_a_target_makes():
    """Each claim's rows live under its own target's folder, and its rules use its own labels; the MNIST claims
    name MNIST."""
    assert all("MNIST" in c.text for c in reproduce.MNIST_CLAIMS)
    for c in reproduce.CLAIMS + reproduce.MNIST_CLAIMS:
        assert all(spec.split("#")[0].split("/")[0] == c.target for spec in specs(c)), c.text
        for a, op, b in c.rules:
            assert a in c.rows and (not isinstance(b, str) or b in c.rows) and op in reproduce.OPS, c.text


def test_detail_tables_per_run_per_quantity_and_per_panel(root):
    """Runs named without their -s<seed>; a target's own summary split into k<epochs>[_noise] rows; surface panels."""
    assert reproduce.detail_values(root, "t", ["modes", "absent"]) == {"a": {"modes": [5, 6, 2]}, "b": {"modes": [3, 2, 4]}}
    for s in (0, 1):
        write(root, s, "p", k1_minimax_decades=4 + s, k1_noise_minimax_decades=3, k25_nonsat_last=100 * (s + 1),
              k1_other=9, epochs="1,25")
        f = root / f"s{s}" / "z" / "surface.json"
        f.parent.mkdir(parents=True)
        f.write_text(json.dumps({"gap": {"(a) no GP": [0.1 + s], "(e) 0-GP": [0.01]}, "seconds": 5}))
    assert reproduce.detail_values(root, "p", ["minimax_decades", "nonsat_last"]) == {
        "k1": {"minimax_decades": [4, 5]}, "k1_noise": {"minimax_decades": [3, 3]}, "k25": {"nonsat_last": [100, 200]}}
    assert reproduce.detail_values(root, "z", ["gap"]) == {"(a) no GP": {"gap": [0.1, 1.1]}, "(e) 0-GP": {"gap": [0.01, 0.01]}}
    table = reproduce.detail_table(root, "t", ["modes"])
    assert table[:4] == ["| run | seeds | modes |", "|---|---|---|", "| a | 3 | 4.33 ± 2.08 |", "| b | 3 | 3 ± 1 |"]
    assert reproduce.natural("vral-10") > reproduce.natural("vral-2")


@pytest.mark.parametrize("target,claims", [("reproduce-cpu", "cpu"), ("reproduce-mnist", "mnist")])
def test_every_claim_reads_runs_that_reproduce_cpu_makes(tmp_path, target, claims):
    """Each row of each claim (at every seed) is the --out folder of a run `make reproduce-cpu` makes (the MNIST
    claims: `make reproduce-mnist`, into OUT/reproduce-mnist), so no claim reads a run that REPRO_SETTINGS dropped
    (the report would say "not run" on a fresh machine). A claim judged at some seeds only (the MNIST grid: seed 0)
    reads runs made at those seeds, and at no other (its target runs there only, so the one seed is no accident)."""
    import re
    import subprocess
    import sys
    from pathlib import Path
    out = tmp_path / "o"
    p = subprocess.run(["make", "-s", target, "PRINT=1", f"OUT={out}", "DEVICE=cpu", f"PY={sys.executable}",
                        "DEPS="], cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    made = set(re.findall(r"--out (\S+)", p.stdout))
    folder_of = target.replace("-cpu", "")
    for c in reproduce.CLAIM_SETS[claims]:
        for spec in specs(c):
            for s in (0, 1, 2):
                path = spec.split("#")[0].replace("{seed}", str(s))
                folder = path.rsplit("/", 1)[0] if path.endswith(".json") else path
                assert (f"{out}/{folder_of}/s{s}/{folder}" in made) == (not c.seeds or s in c.seeds), (c.text, folder, s)
    assert any(c.seeds for c in reproduce.CLAIM_SETS[claims]) == (claims == "mnist")  # the grid's one seed is checked


def test_keep_copies_finished_runs_summaries_and_commands_only(tmp_path):
    """--keep: a finished run's summary and command.txt go to the record (nothing else of its folder); an unfinished
    run, or the finished part of one (principled's phase-1 GAN), does not; earlier kept runs stay, a rerun replaces."""
    root, record = tmp_path / "runs", tmp_path / "record"
    write(root, 0, "t/a-s0", modes=5)
    (root / "s0/t/a-s0/command.txt").write_text("python -m x --out a\n")
    (root / "s0/t/a-s0/checkpoint.pt").write_bytes(b"x")
    (root / "s0/t/b-s0").mkdir()
    (root / "s0/t/b-s0/command.txt").write_text("python -m x --out b\n")  # started, not finished
    write(root, 0, "p/gan", seconds=4)
    (root / "s0/p/command.txt").write_text("python -m principled\n")  # principled running: its GAN is done
    write(record, 1, "t/a-s1", modes=2)  # kept by an earlier sitting
    write(record, 0, "t/a-s0", modes=1)  # an older result of the same run
    copied = reproduce.keep(root, record)
    assert sorted(str(f.relative_to(record)) for f in copied) == ["s0/t/a-s0/command.txt", "s0/t/a-s0/summary.json"]
    assert sorted(str(f.relative_to(record)) for f in record.rglob("*") if f.is_file()) == \
        ["s0/t/a-s0/command.txt", "s0/t/a-s0/summary.json", "s1/t/a-s1/summary.json"]
    assert reproduce.read_value(record / "s0", "t/a-s0", "modes") == 5
    out = tmp_path / "R.md"
    reproduce.main([str(root), "--keep", str(record), "--out", str(out)])
    text = out.read_text()
    assert f"the runs under `{record}` (seeds 0, 1)" in text and "| `t` | 2 |" in text
    reproduce.main([str(record), "--keep", str(record), "--out", str(out)])  # the record redrawn from itself
    assert out.read_text() == text
    assert "Incomplete" not in reproduce.report(record, [claim([("A", ">", 0)], rows={"A": "t/a-s{seed}"})])
    assert "**Incomplete: 1 of 1 claims lack runs" in reproduce.report(record, [claim([("A", ">", "B")])])


def test_time_counts_a_run_once_not_the_finished_part_inside_it(tmp_path):
    """principled's phase-1 GAN (p/gan/summary.json) is part of the run p, whose summary's seconds include it; the
    points of a grid (g/grid/<point>/summary.json) are runs of their own."""
    write(tmp_path, 0, "p", seconds=100.0)
    write(tmp_path, 0, "p/gan", seconds=5.0)
    write(tmp_path, 0, "g/grid/p0", seconds=7.0)
    write(tmp_path, 0, "g/grid/p1", seconds=8.0)
    write(tmp_path, 1, "p", seconds=90.0)
    assert reproduce.target_times(tmp_path) == {"p": (2, 190.0), "g": (2, 15.0)}


def test_spread_lists_the_values_when_one_is_infinite():
    assert reproduce.spread([11.1, float("inf")], "{:.3g}") == "11.1 / inf"  # a label KL of inf: no mean, no crash
    assert reproduce.spread([1.0, 3.0], "{:.3g}") == "2 ± 1.41"


def test_commands_drop_kept_runs_made_with_older_settings(tmp_path):
    """--commands: a kept run whose command.txt `make reproduce-cpu PRINT=1` no longer prints (REPRO_SETTINGS
    changed) leaves the record, whole, and its claim reads "not run"; a current run stays, and so does a grid's
    point without command.txt (counted as unchecked); a list that matches no run is refused as the wrong file."""
    root, record, cmds = tmp_path / "runs", tmp_path / "record", tmp_path / "cmds.txt"
    root.mkdir()
    for s in (0, 1):
        write(record, s, f"t/a-s{s}", modes=5)
        (record / f"s{s}/t/a-s{s}/command.txt").write_text(f"python -m x --steps 20 --out a{s}\n")
        write(record, s, f"t/b-s{s}", modes=3)
        (record / f"s{s}/t/b-s{s}/command.txt").write_text(f"python -m x --steps 10 --out b{s}\n")
    write(record, 0, "g/grid/p0", modes=1)
    write(record, 0, "p", seconds=3)  # principled: its phase-1 GAN inside is part of it
    write(record, 0, "p/gan", seconds=1)
    (record / "s0/p/command.txt").write_text("python -m principled --steps 5\n")
    cmds.write_text("python -m x --steps 20 --out a0\npython -m x --steps 20 --out a1\n"
                    "python -m x --steps 20 --out b0\npython -m x --steps 20 --out b1\npython -m principled --steps 9\n")
    out = tmp_path / "R.md"
    reproduce.main([str(root), "--keep", str(record), "--commands", str(cmds), "--out", str(out)])
    left = sorted(str(f.relative_to(record)) for f in record.rglob("*") if f.is_file())
    assert left == ["s0/g/grid/p0/summary.json", "s0/t/a-s0/command.txt", "s0/t/a-s0/summary.json",
                    "s1/t/a-s1/command.txt", "s1/t/a-s1/summary.json"]
    text = out.read_text()
    assert "Each of the 2 runs with a `command.txt` is made by a command" in text and "(3 older runs dropped)" in text
    assert "the 1 runs a grid makes itself have none" in text
    assert reproduce.judge(claim([("A", ">", "B")]), record)["verdict"] == "not run"
    cmds.write_text("python -m y\n")
    with pytest.raises(SystemExit, match="wrong file"):
        reproduce.main([str(root), "--keep", str(record), "--commands", str(cmds), "--out", str(out)])
    assert len(list(record.rglob("summary.json"))) == 3  # nothing deleted on a refused list
    with pytest.raises(SystemExit):
        reproduce.main([str(root), "--commands", str(cmds)])  # the check is for the kept record only


def test_better_beyond_the_spread_over_seeds(tmp_path):
    """`a >> b`: a > b in every seed is "partly" while the seed spreads overlap; it reproduces only when
    mean - std of a clears mean + std of b (a 0.1 difference inside a 0.3 spread is not "better")."""
    for s, (a, b, c) in enumerate([(7.9, 7.7, 9.0), (7.6, 7.5, 9.1), (8.2, 8.1, 8.9)]):
        write(tmp_path, s, f"t/a-s{s}", modes=a)
        write(tmp_path, s, f"t/b-s{s}", modes=b)
        write(tmp_path, s, f"t/c-s{s}", modes=c)
    rows = {"A": "t/a-s{seed}", "B": "t/b-s{seed}", "C": "t/c-s{seed}"}
    close = reproduce.judge(claim([("A", ">>", "B")], rows=rows), tmp_path)
    assert close["per_seed"] == [True, True, True] and not close["beyond_spread"] and close["verdict"] == "partly"
    clear = reproduce.judge(claim([("C", ">>", "A")], rows=rows), tmp_path)
    assert clear["beyond_spread"] and clear["verdict"] == "reproduces"
    assert reproduce.judge(claim([("C", ">", "A")], rows=rows), tmp_path)["verdict"] == "reproduces"


def test_a_claim_made_at_one_seed_is_judged_there_and_says_so(root):
    """Claim.seeds (the MNIST grid, at seed 0 only): the other seeds' folders, which lack its runs, do not make it
    "not run"; it is judged over its own seeds, and the report names them beside the verdict."""
    write(root, 0, "g/x", modes=9)  # seed 0 only, as the grid
    one = claim([("X", ">", "A")], rows={"X": "g/x", "A": "t/a-s{seed}"}, seeds=(0,))
    j = reproduce.judge(one, root)
    assert j["seeds"] == [0] and j["values"] == {"X": [9], "A": [5]} and j["verdict"] == "reproduces"
    assert reproduce.judge(dataclasses.replace(one, seeds=()), root)["verdict"] == "not run"  # every seed: 1, 2 lack it
    assert reproduce.judge(dataclasses.replace(one, seeds=(1,)), root)["verdict"] == "not run"  # made at 0, not 1
    assert reproduce.judge(claim([("X", "<", "A")], rows=one.rows, seeds=(0,)), root)["verdict"] == "does not"
    row = [l for l in reproduce.report(root, [one]).splitlines() if l.startswith("| P |")][0]
    assert "X: 9.00; A: 5.00" in row and "**reproduces** (✓; seed 0 only)" in row
    two = reproduce.judge(claim([("A", ">", "B")], seeds=(0, 2)), root)
    assert two["values"] == {"A": [5, 2], "B": [3, 4]} and two["verdict"] == "partly"
    assert "(✓ ✗; seeds 0, 2 only)" in reproduce.report(root, [claim([("A", ">", "B")], seeds=(0, 2))])


def test_a_best_row_reads_the_best_run_of_each_seed(root):
    """Best(...) rows (the paper's best NSR): the largest of the runs, in each seed."""
    j = reproduce.judge(claim([("best", ">=", "A")], rows={"best": reproduce.Best(("t/a-s{seed}", "t/b-s{seed}")),
                                                          "A": "t/a-s{seed}"}), root)
    assert j["values"]["best"] == [5, 6, 4] and j["verdict"] == "reproduces"


def test_a_wins_row_is_the_share_of_points_won_in_each_seed(tmp_path):
    """Wins(...) rows (Che et al.'s grid): in each seed, the share of the paired runs at which the first beats the
    second (a tie is not a win); one missing run makes the row, and the claim, not run. The grid claims read
    Reg-GAN's runs against the GAN's at the same points."""
    for s, pairs in enumerate([[(3, 1), (1, 2), (5, 4)], [(2, 2), (1, 2), (2, 1)]]):
        for i, (reg, gan) in enumerate(pairs):
            write(tmp_path, s, f"t/p{i}-reg", modes=reg)
            write(tmp_path, s, f"t/p{i}-gan", modes=gan)
    points = ["p0", "p1", "p2"]
    c = claim([("won", ">", 0.5)], rows={"won": reproduce.reg_wins("t", points)})
    j = reproduce.judge(c, tmp_path)
    assert j["values"]["won"] == pytest.approx([2 / 3, 1 / 3]) and j["per_seed"] == [True, False]
    # the sign test's chance of as many wins by coin tosses, over the untied pairs: 2 of 3, (3 + 1) / 8; 1 of 2, 3 / 4
    chance = claim([("won", ">", 0.5)], rows={"won": reproduce.reg_wins("t", points),
                                              "chance": reproduce.reg_wins("t", points, reproduce.SignTest)})
    assert reproduce.judge(chance, tmp_path)["values"]["chance"] == pytest.approx([0.5, 0.75])
    assert reproduce.sign_test(15, 24) == pytest.approx(0.1537, abs=1e-4)  # a binomial table's P(X <= 9; 24, 0.5)
    (tmp_path / "s1" / "t" / "p2-gan" / "summary.json").unlink()
    assert reproduce.judge(c, tmp_path)["verdict"] == "not run"
    grids = [(c, label, row) for c in reproduce.CLAIMS + reproduce.MNIST_CLAIMS for label, row in c.rows.items()
             if isinstance(row, reproduce.Wins) and not isinstance(row, reproduce.SignTest)]
    assert {c.target for c, _, _ in grids} == {"digits-mode-reg", "mnist-mode-reg-grid"}
    for c, label, row in grids:
        assert all(a.endswith("-reg") and b == a[:-4] + "-gan" for a, b in zip(row, row.against)), c.text
        assert (label, ">", 0.5) in c.rules, c.text


def test_smaller_beyond_the_spread_over_seeds(tmp_path):
    """`a << b` (a distance): a < b in every seed is "partly" while the spreads overlap; it reproduces only when
    mean + std of a stays below mean - std of b."""
    for s, (a, b, c) in enumerate([(0.20, 0.22, 0.40), (0.24, 0.25, 0.42), (0.18, 0.21, 0.39)]):
        write(tmp_path, s, f"t/a-s{s}", modes=a)
        write(tmp_path, s, f"t/b-s{s}", modes=b)
        write(tmp_path, s, f"t/c-s{s}", modes=c)
    rows = {"A": "t/a-s{seed}", "B": "t/b-s{seed}", "C": "t/c-s{seed}"}
    close = reproduce.judge(claim([("A", "<<", "B")], rows=rows), tmp_path)
    assert close["per_seed"] == [True, True, True] and not close["beyond_spread"] and close["verdict"] == "partly"
    clear = reproduce.judge(claim([("A", "<<", "C")], rows=rows), tmp_path)
    assert clear["beyond_spread"] and clear["verdict"] == "reproduces"
    assert reproduce.judge(claim([("C", "<<", "A")], rows=rows), tmp_path)["verdict"] == "does not"


def test_mode_score_claims_read_the_new_score_and_older_summaries_as_not_run(tmp_path):
    """Summaries made before issue 36 held eq. (4) as printed, the Inception score exactly, under `mode_score`: read
    as `inception_score` there and as no MODE score, so a MODE-score claim on them is "not run" (not a verdict on the
    Inception score), with the Inception score beside; newer summaries give both."""
    write(tmp_path, 0, "t/old-s0", mode_score=7.5, label_kl=0.1)  # an older summary
    write(tmp_path, 0, "t/new-s0", mode_score=6.0, inception_score=8.0, label_kl=0.1)
    write(tmp_path, 0, "t/toy-s0", modes=6)  # no classifier scores at all
    assert reproduce.read_value(tmp_path / "s0", "t/old-s0", "mode_score") is None
    assert reproduce.read_value(tmp_path / "s0", "t/old-s0", "inception_score") == 7.5
    assert reproduce.read_value(tmp_path / "s0", "t/new-s0", "mode_score") == 6.0
    assert reproduce.read_value(tmp_path / "s0", "t/new-s0#inception_score", "modes") == 8.0
    assert reproduce.read_value(tmp_path / "s0", "t/toy-s0", "inception_score") is None
    rows = reproduce.with_inception({"old": "t/old-s{seed}", "new": "t/new-s{seed}",
                                     "both": reproduce.Best(("t/old-s{seed}", "t/new-s{seed}"))})
    assert rows["both (IS)"] == reproduce.Best(("t/old-s{seed}#inception_score", "t/new-s{seed}#inception_score"))
    c = Claim("P", "Fig. 1", "a claim", "t", rows, [("old", ">", 5)], key="mode_score")
    j = reproduce.judge(c, tmp_path)
    assert j["verdict"] == "not run" and j["values"]["old (IS)"] == [7.5] and j["values"]["new (IS)"] == [8.0]
    assert j["values"]["new"] == [6.0] and j["values"]["both (IS)"] == [8.0]
    assert reproduce.judge(Claim("P", "F", "c", "t", {"new": "t/new-s{seed}"}, [("new", ">", 5)], key="mode_score"),
                           tmp_path)["verdict"] == "reproduces"
    assert reproduce.detail_values(tmp_path, "t", ["mode_score", "inception_score"]) == {
        "old": {"inception_score": [7.5]}, "new": {"mode_score": [6.0], "inception_score": [8.0]}}


def test_a_claim_requiring_a_key_is_not_run_on_summaries_without_it(root):
    """`requires`: a run made before the evaluation changed (no perfect-sampler floor: fresh test images for the
    third-party D) does not count, whatever number it holds."""
    a = {"A": "t/a-s{seed}"}
    assert reproduce.judge(claim([("A", ">", 0)], rows=a, requires=("nested",)), root)["verdict"] == "reproduces"
    assert reproduce.judge(claim([("A", ">", 0)], rows=a, requires=("perfect_missed_modes",)), root)["verdict"] == \
        "not run"
    assert reproduce.judge(claim([("A", ">", 0)], requires=("nested",)), root)["verdict"] == "not run"  # B lacks it


def test_che_et_al_claims_judge_table_3_on_its_instrument_and_name_the_miss_rows():
    """Table 3's rows read the third-party D's counts; the #Miss rows on Table 3's runs say they are Table 2's
    measure; every Che et al. claim on the digits runs requires the summaries of the held-out evaluation, and the
    MODE-score claims carry the Inception score beside."""
    che = [c for c in reproduce.CLAIMS if c.paper == "Che et al. 2017"]
    table3 = [c for c in che if c.where == "Table 3"]
    assert len(table3) == 2 and all(all("#missing_sigma" in s for s in specs(c)) for c in table3)
    assert {r[0].split(",")[0] for c in table3 for r in c.rules} == {"Reg-GAN", "MDGAN"}
    miss = [c for c in che if c.key == "missed_modes"]
    assert miss and all(c.where.startswith("Table 3's runs, Table 2's #Miss") for c in miss)
    for c in che:
        if c.target in ("digits-mdgan",) or "compositional" in str(c.rows):
            assert c.requires == ("perfect_missed_modes",), c.text
    for c in reproduce.CLAIMS:
        if c.key == "mode_score":
            assert all(f"{label} (IS)" in c.rows for label, row in c.rows.items()
                       if not label.endswith("(IS)") and not isinstance(row, reproduce.Wins)), c.text


def test_mnist_section_follows_the_cpu_report(root, tmp_path):
    """--mnist DIR: REPRODUCTION.md gets the MNIST claims as a section of their own after the CPU claims, judged on
    DIR's runs (its headings one level deeper, its settings named), and a missing DIR is one error line."""
    mnist = tmp_path / "mnist"
    for s in (0, 1, 2):
        for run, score in (("none", 1.5), ("0gp-real", 1.2 + s / 10), ("1gp", 2.0), ("0gp", 8.5)):
            write(mnist, s, f"mnist-zero-gp/{run}-s{s}", mode_score=score, inception_score=score,
                  real_mode_score=9.8)
    out = tmp_path / "R.md"
    reproduce.main([str(root), "--out", str(out), "--mnist", str(mnist)])
    text = out.read_text()
    cpu, section = text.split("\n## Real MNIST: the papers' MNIST experiments (`make reproduce-mnist`)\n")
    assert cpu.startswith("# Reproduction report") and "MNIST:" not in cpu
    assert "### Every run, per target" in section and "#### `mnist-zero-gp`" in section and "### Time" in section
    assert "REPRO_MNIST_SETTINGS" in section and "REPRO_MNIST_SETTINGS" not in cpu
    fig3 = next(line for line in section.splitlines() if line.startswith("| Thanh-Tung et al. 2019 | Fig. 3 |"))
    assert "**reproduces** (✓ ✓ ✓)" in fig3 and "real MNIST: 9.80 ± 0.00" in fig3
    assert sum("| **not run** |" in line for line in section.splitlines()) == len(reproduce.MNIST_CLAIMS) - 1
    with pytest.raises(SystemExit, match="error: --mnist: no s<seed> folders"):
        reproduce.main([str(root), "--out", str(out), "--mnist", str(tmp_path / "none")])


def test_reproduce_mnist_runs_the_settings_its_claims_state(tmp_path):
    """The MNIST claims' notes state reproduce-mnist's CPU sizes (REPRO_MNIST_SETTINGS): principled keeps G after 1
    and 10 epochs; Table 2 is set 1 alone at 32 px, the DCGAN's width, 8,000 steps, 10,000 samples scored; the
    grid's 24 points x 2 models run 2,000 steps at 28 px, at seed 0 only; stacked MNIST scores 100,000 samples. The
    printed commands must say the same."""
    import shlex
    import subprocess
    import sys
    from pathlib import Path
    p = subprocess.run(["make", "-s", "reproduce-mnist", "PRINT=1", f"OUT={tmp_path}", "DEVICE=cpu", f"PY={sys.executable}",
                        "DEPS="], cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    runs = {a[a.index("--out") + 1]: a for a in map(shlex.split, p.stdout.splitlines())}
    flag = lambda argv, name: argv[argv.index(name) + 1] if name in argv else None
    for s in (0, 1, 2):
        assert flag(runs[f"{tmp_path}/reproduce-mnist/s{s}/mnist-principled"], "--epochs") == "1,10"
        comp = {r: a for r, a in runs.items() if f"/s{s}/compositional-mnist-mode-reg/" in r}
        assert sorted(Path(r).name for r in comp) == [f"set1-gan-s{s}", f"set1-reg-s{s}"]
        for a in comp.values():
            assert (flag(a, "--image-size"), flag(a, "--steps"), flag(a, "--eval-samples")) == ("32", "8000", "10000")
            assert "--g-width" not in a and "--d-width" not in a  # the DCGAN's own width, 64
        stacked = [a for r, a in runs.items() if f"/s{s}/stacked-mnist-zero-gp/" in r]
        assert len(stacked) == 6 and all(flag(a, "--eval-samples") == "100000" for a in stacked)
        grid = [a for r, a in runs.items() if f"/s{s}/mnist-mode-reg-grid/" in r]
        assert len(grid) == (48 if s == 0 else 0)
        assert all((flag(a, "--steps"), flag(a, "--image-size")) == ("2000", "28") for a in grid)
    notes = " ".join(c.note for c in reproduce.MNIST_CLAIMS)
    assert "1 and 10 epochs" in notes and "32 px" in notes and "8,000 steps" in notes and "2,000 steps" in notes
    assert "more than 10 of 100,000 samples" in notes
