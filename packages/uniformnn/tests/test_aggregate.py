"""The paper's aggregation against hand-computed values."""

import pytest

from uniformnn.aggregation import aggregate


def row(method, m, teacher, seed, lr, linf, l2=1.0):
    return {"method": method, "dim": 1, "m": m, "teacher": teacher, "seed": seed,
            "width": 32 if method == "student" else None, "depth": 2 if method == "student" else None,
            "optimizer": "adam" if method == "student" else None, "lr": lr, "batch_size": None,
            "steps": 10 if method == "student" else None, "l1": 0.5, "l2": l2, "linf": linf}


def test_min_over_settings_of_max_over_teachers_and_averages():
    rows = [
        # lr=0.1: teacher 0 seeds (1, 3) -> 2; teacher 1 seeds (4, 6) -> 5; max 5, mean 3.5
        row("student", 16, 0, 0, 0.1, 1.0), row("student", 16, 0, 1, 0.1, 3.0),
        row("student", 16, 1, 0, 0.1, 4.0), row("student", 16, 1, 1, 0.1, 6.0),
        # lr=0.01: teacher 0 -> 4.5; teacher 1 -> 0.5; max 4.5, mean 2.5
        row("student", 16, 0, 0, 0.01, 4.0), row("student", 16, 0, 1, 0.01, 5.0),
        row("student", 16, 1, 0, 0.01, 0.5), row("student", 16, 1, 1, 0.01, 0.5),
        # a baseline: max 7, mean 5
        row("constant", 16, 0, None, None, 3.0), row("constant", 16, 1, None, None, 7.0),
        # a non-finite value is ignored
        row("constant", 16, 2, None, None, float("nan")),
    ]
    agg = {(a["method"], a["norm"]): a for a in aggregate(rows, norms=("linf",))}
    st = agg[("student", "linf")]
    assert st["worst"] == pytest.approx(4.5) and "lr=0.01" in st["worst_setting"]
    assert st["average"] == pytest.approx(2.5) and "lr=0.01" in st["average_setting"]
    assert st["n_settings"] == 2 and st["n_runs"] == 8 and st["n_targets"] == 2
    base = agg[("constant", "linf")]
    assert base["worst"] == pytest.approx(7.0) and base["average"] == pytest.approx(5.0)
    assert base["worst_setting"] == "-"
    # other seed reductions: with max over seeds lr=0.1 gives max(3, 6) = 6, lr=0.01 max(5, .5) = 5
    st_max = next(a for a in aggregate(rows, norms=("linf",), seed_reduce="max") if a["method"] == "student")
    assert st_max["worst"] == pytest.approx(5.0)


def test_aggregate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="seed_reduce"):
        aggregate([], seed_reduce="mode")
    with pytest.raises(ValueError, match="unknown norm"):
        aggregate([], norms=("l3",))


def test_fit_rate_recovers_power_law():
    from uniformnn import fit_rate

    m = [16, 64, 256, 1024]
    r, c = fit_rate(m, [3.0 * v ** -0.5 for v in m])
    assert r == pytest.approx(0.5, abs=1e-12) and c == pytest.approx(3.0, rel=1e-12)
    with pytest.raises(ValueError, match="positive"):
        fit_rate([1, 2], [0.0, 1.0])
