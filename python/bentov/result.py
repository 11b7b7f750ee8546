"""What a run returns: :class:`Result` (analyze, corpus, sweep) and :class:`Comparison` (compare).

Both hold the CLI's JSON (``bentov analyze --json``, ``sweep.json``, ``compare.json``) and read
everything from it, so ``to_json()`` gives exactly what the CLI writes and ``from_json`` reads
what either wrote. The tables are tidy pandas DataFrames built on demand.
"""
import html
import json
import os
import tempfile

from .errors import FileError, UsageError

# Per-layer metrics, in the JSON's order (DESIGN.md section 3).
LAYER_METRICS = ["locality", "entropy", "sheaf_trace", "sheaf_trace_per_token", "value_frob_sq", "sink_mass",
                 "locality_no_sink", "entropy_no_sink", "row_entropy_mean"]
# The metrics a corpus profile gives a 95% bootstrap CI for.
CI_METRICS = ["locality", "entropy", "sheaf_trace", "sheaf_trace_per_token", "sink_mass", "locality_no_sink",
              "entropy_no_sink", "row_entropy_mean"]


def _split_revision(name, source):
    """("pythia-160m", "step1000") from a name "pythia-160m@step1000" of a Hub id; folders have none."""
    if "@" in name and not os.path.isdir(source):
        model, _, revision = name.rpartition("@")
        return model, revision
    return name, None


def _number(v):
    return float("nan") if v is None else v


def _write_atomically(path, text):
    """Writes text to path through a temporary file in the same folder: never half a file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".bentov-", suffix=".tmp")
    except OSError as e:
        raise FileError(f"cannot write '{path}': {e.strerror}", "check that the folder exists and is writable") from e
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _read_json_arg(json_or_path):
    """The JSON text itself, or the contents of the file it names."""
    if isinstance(json_or_path, (bytes, bytearray)):
        json_or_path = json_or_path.decode("utf-8")
    if isinstance(json_or_path, str) and json_or_path.lstrip().startswith("{"):
        return json_or_path
    path = os.fspath(json_or_path)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise FileError(f"cannot read '{path}': {e.strerror}", "give the JSON text or a file the CLI wrote") from e


class _JsonDocument:
    """A result held as the CLI's JSON: the parsed dict and, when it came as text, that text."""

    _required_key = None  # a key every document of the kind has
    _what = ""            # what the JSON is, for the error

    def __init__(self, data, text=None):
        if not isinstance(data, dict) or self._required_key not in data:
            raise UsageError(f"not {self._what}", f"give the JSON of {self._what}")
        self.json = data
        self._text = text

    @classmethod
    def from_json(cls, json_or_path):
        """From the JSON text the CLI writes, or the file holding it."""
        text = _read_json_arg(json_or_path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"not valid JSON: {e}", "give the JSON a bentov run wrote") from e
        return cls(data, text)

    def to_json(self, path=None):
        """The CLI's JSON text; written to ``path`` (atomically) when given."""
        text = self._text if self._text is not None else json.dumps(self.json, indent=2, ensure_ascii=False) + "\n"
        if path is not None:
            _write_atomically(path, text)
        return text


class Result(_JsonDocument):
    """The result of :func:`analyze`, :func:`corpus` or :func:`sweep`.

    Attributes and tables:
      ``layers``  DataFrame, one row per (model, layer): model, revision, layer and every
                  per-layer metric; in a corpus run the metrics are the means over texts, with
                  ``{metric}_ci_lo`` / ``{metric}_ci_hi`` (95% bootstrap) beside them.
      ``heads``   DataFrame, one row per (model, layer, head): locality and entropy.
      ``l_star``  DataFrame, one row per model: L* empirical and L/2, deviation, L*/L, the
                  estimators and, in corpus runs, the CIs and the test of L*/L = 1/2.
      ``json``    the CLI's JSON as a dict; ``failures`` the models that could not be analyzed.
    """

    _required_key = "models"
    _what = "a bentov result (bentov analyze --json, corpus or sweep.json)"

    def to_csv(self, path=None):
        """The CLI's CSV (``--csv``): model,layer,locality,entropy,sheaf_trace,value_frob_sq."""
        from . import _bentov
        text = _bentov.csv_from_json(json.dumps(self.json))
        if path is not None:
            _write_atomically(path, text)
        return text

    # ---- plain attributes ---------------------------------------------------------------------

    @property
    def models(self):
        """The analyzed models' JSON objects, in order."""
        return self.json["models"]

    @property
    def failures(self):
        """[{"source", "error"}] of the models that could not be analyzed."""
        return self.json.get("failures", [])

    @property
    def text(self):
        return self.json.get("text")

    @property
    def mean_deviation(self):
        return self.json.get("mean_deviation")

    @property
    def is_corpus(self):
        return self.json.get("corpus_file") is not None

    @property
    def sweep(self):
        """{"checkpoints": [...], "L_star_empirical": [...]} of a sweep (with a corpus also
        "L_star_ci95", "loss", "shifts", "rank_correlation", "method"); None otherwise."""
        return self.json.get("sweep")

    @property
    def shifts(self):
        """A corpus sweep's shifts between consecutive checkpoints as a DataFrame: one row per
        (from, to, statistic, layer) with delta, ci_lo, ci_hi and p_value (layer NaN for L*, loss)."""
        import pandas as pd
        rows = []
        for s in (self.sweep or {}).get("shifts", []):
            def add(stat, layer, v):
                if v:
                    rows.append({"from": s["from"], "to": s["to"], "statistic": stat, "layer": layer,
                                 "delta": _number(v["delta"]), "ci_lo": _number(v["ci95"][0]),
                                 "ci_hi": _number(v["ci95"][1]), "p_value": _number(v["p_value"])})
            add("L_star", None, s["L_star"])
            add("L_star_per_text", None, s["L_star_per_text"])
            add("loss", None, s.get("loss"))
            for l in s["layers"]:
                for k, v in l.items():
                    if k != "index":
                        add(k, l["index"], v)
        return pd.DataFrame(rows, columns=["from", "to", "statistic", "layer", "delta", "ci_lo", "ci_hi", "p_value"])

    # ---- tables -------------------------------------------------------------------------------

    @property
    def layers(self):
        import pandas as pd
        rows = []
        for m in self.models:
            model, revision = _split_revision(m["name"], m["source"])
            profile = {p["index"]: p for p in (m.get("corpus") or {}).get("profile", [])}
            for layer in m["layers"]:
                row = {"model": model, "revision": revision, "layer": layer["index"]}
                for k in LAYER_METRICS:
                    row[k] = _number(layer.get(k))
                if profile:
                    p = profile.get(layer["index"], {})
                    for k in CI_METRICS:
                        lo, hi = p.get(f"{k}_ci95") or [None, None]
                        row[f"{k}_ci_lo"], row[f"{k}_ci_hi"] = _number(lo), _number(hi)
                rows.append(row)
        columns = ["model", "revision", "layer"] + LAYER_METRICS
        if self.is_corpus:
            columns += [f"{k}_ci_{s}" for k in CI_METRICS for s in ("lo", "hi")]
        return pd.DataFrame(rows, columns=columns)

    @property
    def heads(self):
        import pandas as pd
        rows = []
        for m in self.models:
            model, revision = _split_revision(m["name"], m["source"])
            for layer in m["layers"]:
                for h, head in enumerate(layer.get("heads", [])):
                    rows.append({"model": model, "revision": revision, "layer": layer["index"], "head": h,
                                 "locality": _number(head.get("locality")), "entropy": _number(head.get("entropy"))})
        return pd.DataFrame(rows, columns=["model", "revision", "layer", "head", "locality", "entropy"])

    @property
    def l_star(self):
        import pandas as pd
        rows = []
        for m in self.models:
            model, revision = _split_revision(m["name"], m["source"])
            est = m.get("estimators") or {}
            two = est.get("two_segment") or {}
            consensus = est.get("consensus") or {}
            row = {"model": model, "revision": revision, "architecture": m["architecture"],
                   "n_layers": m["n_layers"], "n_heads": m["n_heads"],
                   "L_star_theoretical": m["L_star_theoretical"], "L_star_empirical": m["L_star_empirical"],
                   "deviation": m["deviation"], "ratio": m["L_star_empirical"] / m["n_layers"],
                   "two_segment_break": two.get("break"), "two_segment_supported": two.get("supported"),
                   "trace_sign_change": est.get("trace_sign_change"), "consensus": consensus.get("layer"),
                   "estimators_agree": consensus.get("agree")}
            if m.get("loss"):
                row.update({"loss": m["loss"]["nats_per_token"], "perplexity": m["loss"]["perplexity"]})
                if "ci95" in m["loss"]:
                    row.update({"loss_ci_lo": m["loss"]["ci95"][0], "loss_ci_hi": m["loss"]["ci95"][1]})
            c = m.get("corpus")
            if c:
                ls, ratio = c["L_star_empirical"], c["L_star_ratio"]
                row.update({"n_texts": c["n_texts"], "L_star_ci_lo": ls["ci95"][0], "L_star_ci_hi": ls["ci95"][1],
                            "L_star_mode": ls["mode"], "L_star_mean": ls["mean"],
                            "ratio_ci_lo": ratio["ci95"][0], "ratio_ci_hi": ratio["ci95"][1],
                            "p_value_vs_half": ratio["p_value_vs_half"]})
            rows.append(row)
        return pd.DataFrame(rows)

    # ---- display ------------------------------------------------------------------------------

    def plot(self, metric=None, ax=None):
        """matplotlib: the notebook's 2x2 figure (locality, entropy, sheaf trace, L* per model) by
        default; with ``metric`` (a column of ``layers``) that metric per layer on ``ax``, with its
        CI band in a corpus run and L* marked. A sweep draws L* over its checkpoints. Returns the
        Figure (default) or the Axes (``metric``)."""
        from . import _plot
        if metric is None:
            if ax is not None:
                raise UsageError("the 2x2 figure makes its own axes", "give metric= to draw on ax")
            return _plot.sweep_figure(self) if self.sweep else _plot.notebook_figure(self)
        return _plot.metric_axes(self, metric, ax)

    def _repr_html_(self):
        table = self.l_star
        if table.empty:
            body = "<p>no model was analyzed</p>"
        else:
            cols = ["model", "revision", "n_layers", "L_star_theoretical", "L_star_empirical", "deviation"]
            if self.is_corpus:
                cols += ["L_star_ci_lo", "L_star_ci_hi", "n_texts", "p_value_vs_half"]
            shown = table[[c for c in cols if c in table]]
            if shown["revision"].isna().all():
                shown = shown.drop(columns="revision")
            body = shown.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.3g}")
        foot = ""
        if self.mean_deviation is not None:
            foot += f"<p>Mean deviation: {self.mean_deviation:.2f} layers</p>"
        for f in self.failures:
            foot += f"<p><b>failed</b> {html.escape(f['source'])}: {html.escape(f['error'])}</p>"
        what = f"corpus {html.escape(str(self.json['corpus_file']))}" if self.is_corpus else "one text"
        return f"<div><p><b>bentov</b> {self.json.get('bentov_version', '')}: {what}</p>{body}{foot}</div>"

    def __repr__(self):
        names = ", ".join(m["name"] for m in self.models) or "none"
        kind = "sweep" if self.sweep else "corpus" if self.is_corpus else "text"
        return f"bentov.Result({kind}: {names}; {len(self.failures)} failed)"


class Comparison(_JsonDocument):
    """The result of :func:`compare`: B - A layer by layer.

    ``a`` and ``b`` are Results of one model each; ``layers`` has one row per layer with the
    deltas of locality, entropy, sheaf trace and sink mass; ``heads`` the per-head deltas;
    ``l_star_shift`` is L*(B) - L*(A).
    """

    _required_key = "delta"
    _what = "a bentov comparison (compare.json)"

    @property
    def a(self):
        return Result({"bentov_version": self.json.get("bentov_version"), "models": [self.json["a"]], "failures": []})

    @property
    def b(self):
        return Result({"bentov_version": self.json.get("bentov_version"), "models": [self.json["b"]], "failures": []})

    @property
    def l_star_shift(self):
        return self.json["L_star_shift"]

    @property
    def paired(self):
        """compare(corpus=...): B - A over the texts both have, each shift with "delta", "ci95" and
        "p_value" ("method" names the procedure); None for a single text."""
        return self.json.get("paired")

    @property
    def layers(self):
        import pandas as pd
        rows = [{"layer": d["index"], **{k: _number(d.get(k)) for k in ("locality", "entropy", "sheaf_trace", "sink_mass")}}
                for d in self.json["delta"]["layers"]]
        return pd.DataFrame(rows, columns=["layer", "locality", "entropy", "sheaf_trace", "sink_mass"])

    @property
    def heads(self):
        import pandas as pd
        rows = [{"layer": d["index"], "head": h, "locality": _number(x.get("locality")),
                 "entropy": _number(x.get("entropy"))}
                for d in self.json["delta"]["layers"] for h, x in enumerate(d.get("heads", []))]
        return pd.DataFrame(rows, columns=["layer", "head", "locality", "entropy"])

    def plot(self):
        """matplotlib: locality of A and B per layer, and the per-head locality difference."""
        from . import _plot
        return _plot.compare_figure(self)

    def _repr_html_(self):
        a, b = self.json["a"], self.json["b"]
        head = (f"<p><b>bentov compare</b>: {html.escape(b['name'])} - {html.escape(a['name'])}; "
                f"L* {a['L_star_empirical']} -> {b['L_star_empirical']} (shift {self.l_star_shift:+d})</p>")
        return "<div>" + head + self.layers.to_html(index=False, float_format=lambda v: f"{v:+.4f}") + "</div>"

    def __repr__(self):
        return f"bentov.Comparison({self.json['b']['name']} - {self.json['a']['name']}, L* shift {self.l_star_shift:+d})"
