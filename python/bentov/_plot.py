"""matplotlib figures of a Result or Comparison (the CLI draws the same with gnuplot)."""
import math

from .errors import UsageError

_LABELS = {
    "locality": "Locality (1=local, 0=global)",
    "entropy": "Entropy (nats)",
    "sheaf_trace": "Trace (log scale)",
    "sheaf_trace_per_token": "Trace per token (log scale)",
    "value_frob_sq": "||W_V||_F^2",
    "sink_mass": "Sink mass",
    "locality_no_sink": "Locality without the sink",
    "entropy_no_sink": "Entropy without the sink (nats)",
    "row_entropy_mean": "Mean row entropy (nats)",
}
_LOG = {"sheaf_trace", "sheaf_trace_per_token", "value_frob_sq"}


def _pyplot():
    import matplotlib.pyplot as plt
    return plt


def metric_axes(result, metric, ax=None, mark_l_star=True):
    layers = result.layers
    if metric not in layers.columns or metric in ("model", "revision", "layer"):
        raise UsageError(f"'{metric}' is not a per-layer metric", "one of: " + ", ".join(_LABELS))
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7, 4.5))
    lstar = result.l_star
    for i, ((model, revision), rows) in enumerate(layers.groupby(["model", "revision"], sort=False, dropna=False)):
        label = model if not isinstance(revision, str) else f"{model}@{revision}"
        line, = ax.plot(rows["layer"], rows[metric], marker="o", lw=2, label=label)
        lo, hi = f"{metric}_ci_lo", f"{metric}_ci_hi"
        if lo in rows:
            ax.fill_between(rows["layer"], rows[lo], rows[hi], color=line.get_color(), alpha=0.2, lw=0)
        if mark_l_star and i < len(lstar):
            ax.axvline(lstar["L_star_empirical"].iloc[i], color=line.get_color(), ls="--", lw=1, alpha=0.7)
    if metric in _LOG and (layers[metric] > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel("Layer")
    ax.set_ylabel(_LABELS.get(metric, metric))
    ax.grid(True, color="#dddddd")
    ax.legend(fontsize="small")
    return ax


def notebook_figure(result):
    """The seed notebook's figure: (a) locality, (b) entropy, (c) sheaf trace, (d) L* theoretical vs empirical."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(14, 10))
    fig.suptitle("Bentov Point analysis: where attention turns from local to global", fontsize=15)
    for ax, metric, title in ((axes[0, 0], "locality", "(a) Attention Locality"),
                              (axes[0, 1], "entropy", "(b) Attention Entropy"),
                              (axes[1, 0], "sheaf_trace", "(c) Sheaf Laplacian Trace")):
        metric_axes(result, metric, ax)
        ax.set_title(title)
    ax = axes[1, 1]
    lstar = result.l_star
    names = [m if not isinstance(r, str) else f"{m}@{r}" for m, r in zip(lstar["model"], lstar["revision"])]
    x = range(len(names))
    ax.bar([i - 0.19 for i in x], lstar["L_star_theoretical"], width=0.38, color="#9ecae1", label="Theoretical (L/2)")
    bars = ax.bar([i + 0.19 for i in x], lstar["L_star_empirical"], width=0.38, color="#e6550d", label="Empirical")
    if "L_star_ci_lo" in lstar:
        centre = lstar["L_star_empirical"]
        ax.errorbar([i + 0.19 for i in x], centre, yerr=[centre - lstar["L_star_ci_lo"], lstar["L_star_ci_hi"] - centre],
                    fmt="none", ecolor="black", capsize=4)
    ax.bar_label(bars, padding=2)
    ax.set_xticks(list(x), names, rotation=20, ha="right")
    ax.set_ylabel("Layer index (L*)")
    ax.set_title("(d) L* theoretical vs empirical")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def sweep_figure(result):
    """L* and L/2 over the checkpoints, and the locality of every layer as a heatmap."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 5))
    checkpoints = result.sweep["checkpoints"]
    lstar = result.l_star
    a.plot(range(len(checkpoints)), lstar["L_star_empirical"], marker="o", lw=2, label="L* empirical")
    a.plot(range(len(checkpoints)), lstar["L_star_theoretical"], ls="--", label="L/2")
    a.set_xticks(range(len(checkpoints)), checkpoints, rotation=30, ha="right")
    a.set_ylabel("Layer")
    a.set_title("(a) L* per checkpoint")
    a.legend()
    layers = result.layers
    grid = layers.pivot_table(index="layer", columns=layers.groupby(["model", "revision"], sort=False, dropna=False)
                              .ngroup(), values="locality")
    im = b.imshow(grid.values, aspect="auto", origin="lower", cmap="viridis")
    b.set_xticks(range(len(checkpoints)), checkpoints, rotation=30, ha="right")
    b.set_ylabel("Layer")
    b.set_title("(b) Locality, layer x checkpoint")
    fig.colorbar(im, ax=b)
    fig.tight_layout()
    return fig


def compare_figure(comparison):
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 5))
    metric_axes(comparison.a, "locality", a)
    metric_axes(comparison.b, "locality", a)
    a.set_title("(a) Attention locality")
    heads = comparison.heads.pivot(index="layer", columns="head", values="locality")
    m = max(1e-6, max((abs(v) for v in heads.values.ravel() if not math.isnan(v)), default=1e-6))
    im = b.imshow(heads.values, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-m, vmax=m)
    b.set_xlabel("Head")
    b.set_ylabel("Layer")
    b.set_title("(b) Per-head locality, B - A")
    fig.colorbar(im, ax=b)
    fig.suptitle(f"{comparison.json['a']['name']} vs {comparison.json['b']['name']} "
                 f"(L* shift {comparison.l_star_shift:+d})")
    fig.tight_layout()
    return fig
