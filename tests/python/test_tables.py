"""The documented DataFrame schemas, L*, plots and the notebook display."""
import math

import matplotlib
import pandas as pd
import pytest

import bentov
from bentov.result import CI_METRICS, LAYER_METRICS
from conftest import DEMO, PAIR, PAIR_IDS, SENTENCES

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def text_result():
    return bentov.analyze(DEMO, progress=False)


@pytest.fixture(scope="module")
def corpus_result():
    return bentov.corpus(DEMO, SENTENCES, bootstrap=100, progress=False)


def test_layers_schema(text_result):
    df = text_result.layers
    assert list(df.columns) == ["model", "revision", "layer"] + LAYER_METRICS
    assert len(df) == sum(m["n_layers"] for m in text_result.models)
    assert df["revision"].isna().all()
    assert pd.api.types.is_integer_dtype(df["layer"])
    for k in LAYER_METRICS:
        assert pd.api.types.is_float_dtype(df[k]), k
    first = text_result.models[0]["layers"][2]
    row = df[(df.model == "gpt2-demo") & (df.layer == 2)].iloc[0]
    assert row["locality"] == first["locality"] and row["sheaf_trace"] == first["sheaf_trace"]


def test_corpus_layers_carry_cis(corpus_result):
    df = corpus_result.layers
    assert list(df.columns) == (["model", "revision", "layer"] + LAYER_METRICS +
                                [f"{k}_ci_{s}" for k in CI_METRICS for s in ("lo", "hi")])
    assert (df["locality_ci_lo"] <= df["locality"]).all() and (df["locality"] <= df["locality_ci_hi"]).all()


def test_heads_schema(text_result):
    df = text_result.heads
    assert list(df.columns) == ["model", "revision", "layer", "head", "locality", "entropy"]
    assert len(df) == sum(m["n_layers"] * m["n_heads"] for m in text_result.models)
    m = text_result.models[1]
    row = df[(df.model == m["name"]) & (df.layer == 3) & (df["head"] == 2)].iloc[0]
    assert row["entropy"] == m["layers"][3]["heads"][2]["entropy"]


def test_l_star(text_result, corpus_result):
    t = text_result.l_star
    assert list(t["model"]) == ["gpt2-demo", "opt-demo", "pythia-demo"]
    for col in ("L_star_theoretical", "L_star_empirical", "deviation", "ratio", "two_segment_break",
                "trace_sign_change", "consensus"):
        assert col in t
    assert (t["L_star_theoretical"] == t["n_layers"] // 2).all()
    assert (t["deviation"] == (t["L_star_empirical"] - t["L_star_theoretical"]).abs()).all()
    c = corpus_result.l_star
    for col in ("n_texts", "L_star_ci_lo", "L_star_ci_hi", "ratio_ci_lo", "ratio_ci_hi", "p_value_vs_half"):
        assert col in c
    assert (c["L_star_ci_lo"] <= c["L_star_ci_hi"]).all()


def test_revision_column_from_hub_names():
    r = bentov.Result({"models": [{"name": "pythia-160m@step1000", "source": "EleutherAI/pythia-160m@step1000",
                                   "architecture": "gpt_neox", "n_layers": 1, "n_heads": 1,
                                   "L_star_theoretical": 0, "L_star_empirical": 0, "deviation": 0,
                                   "layers": [{"index": 0, "locality": 0.5, "entropy": None,
                                               "heads": [{"locality": 0.5, "entropy": None}]}]}]})
    assert r.layers[["model", "revision"]].iloc[0].tolist() == ["pythia-160m", "step1000"]
    assert math.isnan(r.layers["entropy"].iloc[0]) and math.isnan(r.heads["entropy"].iloc[0])


def test_plots(text_result, corpus_result):
    fig = text_result.plot()
    assert len(fig.axes) == 4
    ax = corpus_result.plot(metric="locality")
    assert len(ax.collections) == 3  # one CI band per model
    with pytest.raises(bentov.UsageError):
        text_result.plot(metric="nonsense")
    sweep = bentov.sweep(DEMO, progress=False)
    assert sweep.sweep["checkpoints"] == ["gpt2-demo", "opt-demo", "pythia-demo"]
    assert len(sweep.plot().axes) >= 2
    comparison = bentov.compare(*PAIR, ids=PAIR_IDS, progress=False)
    assert len(comparison.plot().axes) >= 2
    assert list(comparison.layers.columns) == ["layer", "locality", "entropy", "sheaf_trace", "sink_mass"]
    a, b = comparison.a.layers, comparison.b.layers
    assert (comparison.layers["locality"] - (b["locality"] - a["locality"])).abs().max() < 1e-12


def test_html(text_result, corpus_result):
    page = text_result._repr_html_()
    assert "<table" in page and "gpt2-demo" in page and "Mean deviation" in page
    assert "L_star_ci_lo" in corpus_result._repr_html_()
    assert "<table" in bentov.compare(*PAIR, ids=PAIR_IDS, progress=False)._repr_html_()
