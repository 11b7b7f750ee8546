"""The Python API gives the CLI's JSON and CSV, field for field, on the demo models."""
import json

import bentov
from conftest import DEMO, PAIR, PAIR_IDS, SENTENCES


def test_analyze_default_sentence_matches_cli(cli_json):
    result = bentov.analyze(DEMO, progress=False)
    assert json.loads(result.to_json()) == cli_json("analyze", *DEMO)


def test_analyze_default_models_are_the_demo_models(cli_json):
    result = bentov.analyze(progress=False)
    assert [m["name"] for m in result.models] == ["gpt2-demo", "opt-demo", "pythia-demo"]
    assert json.loads(result.to_json()) == cli_json("analyze", *DEMO)


def test_analyze_text_and_ids_match_cli(cli_json):
    text = "ROMEO:\nBut, soft! what light through yonder window breaks?"
    assert json.loads(bentov.analyze(DEMO, text=text, progress=False).to_json()) == cli_json("analyze", *DEMO, "--text", text)
    ids = [464, 329, 995, 11, 290, 262, 3290]
    got = bentov.analyze(DEMO[0], ids=ids, progress=False)
    assert json.loads(got.to_json()) == cli_json("analyze", DEMO[0], "--ids", ",".join(map(str, ids)))
    assert got.text is None


def test_corpus_matches_cli(cli_json):
    got = bentov.corpus(DEMO, SENTENCES, bootstrap=200, seed=7, max_tokens=12, progress=False)
    want = cli_json("analyze", *DEMO, "--corpus", SENTENCES, "--bootstrap", "200", "--seed", "7", "--max-tokens", "12")
    assert json.loads(got.to_json()) == want


def test_corpus_from_a_list_equals_the_file():
    with open(SENTENCES, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f]
    from_list = bentov.corpus(DEMO[2], texts, bootstrap=100, progress=False).json
    from_file = bentov.corpus(DEMO[2], SENTENCES, bootstrap=100, progress=False).json
    assert from_list["corpus_file"] == "<list>"
    from_list["corpus_file"] = from_file["corpus_file"]
    from_list["models"][0]["corpus"]["file"] = from_file["models"][0]["corpus"]["file"]
    assert from_list == from_file


def test_sweep_and_compare_match_cli(cli_json):
    assert json.loads(bentov.sweep(DEMO, progress=False).to_json()) == cli_json("sweep", *DEMO, name="sweep.json")
    got = bentov.compare(*PAIR, ids=PAIR_IDS, progress=False)
    want = cli_json("compare", *PAIR, "--ids", ",".join(map(str, PAIR_IDS)), name="compare.json")
    assert json.loads(got.to_json()) == want


def test_csv_matches_cli(cli, tmp_path):
    cli("analyze", *DEMO, "--quiet", "--csv", str(tmp_path / "layers.csv"))
    want = (tmp_path / "layers.csv").read_text()
    result = bentov.analyze(DEMO, progress=False)
    assert result.to_csv() == want
    assert bentov.Result.from_json(result.to_json()).to_csv() == want
    result.to_csv(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_text() == want


def test_json_round_trip_through_a_file(tmp_path):
    result = bentov.analyze(DEMO, progress=False)
    result.to_json(tmp_path / "r.json")
    back = bentov.Result.from_json(tmp_path / "r.json")
    assert back.to_json() == result.to_json()
    assert back.layers.equals(result.layers)


def test_model_objects_analyze_like_their_names():
    models = [bentov.load(p) for p in DEMO]
    assert bentov.analyze(models, progress=False).json == bentov.analyze(DEMO, progress=False).json


def test_tokenize_matches_cli(cli):
    text = "Hello world, it's 2026!"
    for folder in DEMO:
        model = bentov.load(folder)
        assert model.tokenize(text) == json.loads(cli("tokenize", folder, "--text", text))
        assert model.str_tokens(text) == json.loads(cli("tokenize", folder, "--tokens", "--text", text))
        assert model.decode(model.tokenize(text)).endswith(text)


def test_same_numbers_for_any_thread_count():
    one = bentov.analyze(DEMO, threads=1, progress=False).json
    assert bentov.analyze(DEMO, threads=2, progress=False).json == one
    assert bentov.analyze(DEMO, threads=3, progress=False).json == one


def test_corpus_sweep_and_loss_match_cli(cli_json):
    got = bentov.sweep(DEMO, corpus=SENTENCES, loss=True, bootstrap=300, seed=2, progress=False)
    want = cli_json("sweep", *DEMO, "--corpus", SENTENCES, "--loss", "--bootstrap", "300", "--seed", "2",
                    name="sweep.json")
    assert json.loads(got.to_json()) == want
    shifts = got.shifts
    assert set(shifts["statistic"]) >= {"L_star", "L_star_per_text", "loss", "locality"}
    assert list(shifts.columns) == ["from", "to", "statistic", "layer", "delta", "ci_lo", "ci_hi", "p_value"]
    lstar = got.l_star
    assert {"loss", "perplexity", "loss_ci_lo", "loss_ci_hi"} <= set(lstar.columns)


def test_corpus_compare_matches_cli(cli_json):
    got = bentov.compare(DEMO[2], DEMO[2], corpus=SENTENCES, loss=True, bootstrap=100, progress=False)
    want = cli_json("compare", DEMO[2], DEMO[2], "--corpus", SENTENCES, "--loss", "--bootstrap", "100",
                    name="compare.json")
    assert json.loads(got.to_json()) == want
    assert got.paired["loss"]["delta"] == 0.0
