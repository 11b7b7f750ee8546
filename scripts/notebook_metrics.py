"""The original notebook's metric code, transcribed to plain numpy (DESIGN.md section 4).

This is the *reference* that bentov's C++ metrics are checked against: the fixture script
records transformers' attention probabilities and computes the expected per-layer and
per-head numbers with these functions, never with bentov's own code. Keep it a literal
transcription of the notebook (same formulas, same epsilon, np.gradient + np.argmax).

    from notebook_metrics import notebook_layer_metrics
    ref = notebook_layer_metrics(attentions, wv_frob_sq)

Only numpy is needed.
"""

import numpy as np


def locality(A):
    """1 - (sum_ij A_ij |i-j| / sum_ij A_ij) / (n - 1) for an (n, n) attention matrix."""
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[0]
    if n < 2:
        raise ValueError("attention locality needs at least 2 tokens")
    positions = np.arange(n)
    distances = np.abs(positions[:, None] - positions[None, :])
    weighted_distance = (A * distances).sum() / A.sum()
    max_distance = n - 1
    return float(1.0 - weighted_distance / max_distance)


def entropy(A):
    """-sum p log(p + 1e-10), p = the entries > 1e-10 of the flattened matrix, renormalized."""
    flat = np.asarray(A, dtype=np.float64).flatten()
    flat = flat[flat > 1e-10]
    flat = flat / flat.sum()
    return float(-np.sum(flat * np.log(flat + 1e-10)))


def sheaf_trace(A, W_V):
    """(sum_ij A_ij - trace A) * ||W_V||_F^2.

    W_V is the layer's value-projection weight (any shape), or the already computed squared
    Frobenius norm as a float.
    """
    A = np.asarray(A, dtype=np.float64)
    if np.ndim(W_V) == 0:
        frob_sq = float(W_V)
    else:
        frob_sq = float(np.linalg.norm(np.asarray(W_V, dtype=np.float64), "fro") ** 2)
    return float((A.sum() - np.trace(A)) * frob_sq)


def l_star(localities):
    """(theoretical, empirical): n_layers // 2 and argmax_l |np.gradient(locality)_l|.

    np.gradient raises for a single layer; the one layer is then L* = 0 (as bentov does).
    """
    localities = np.asarray(localities, dtype=np.float64)
    theoretical = len(localities) // 2
    if len(localities) < 2:
        return theoretical, 0
    gradient = np.gradient(localities)
    empirical = int(np.argmax(np.abs(gradient)))
    return theoretical, empirical


def notebook_layer_metrics(attentions, wv_frob_sq):
    """Every number bentov reports for one model on one text.

    attentions: list over layers of float64 arrays [heads, n, n] (transformers' eager
        attention probabilities for batch item 0).
    wv_frob_sq: list over layers of ||W_V||_F^2 (floats).

    Returns a dict: per-layer lists 'locality', 'entropy', 'sheaf_trace', 'value_frob_sq';
    'head_locality' and 'head_entropy' as [layer][head] lists; 'L_star_theoretical',
    'L_star_empirical' and 'deviation' as ints.
    """
    if len(attentions) != len(wv_frob_sq):
        raise ValueError("one ||W_V||_F^2 per layer is needed")
    out = {
        "locality": [],
        "entropy": [],
        "sheaf_trace": [],
        "value_frob_sq": [float(v) for v in wv_frob_sq],
        "head_locality": [],
        "head_entropy": [],
    }
    for layer_attn, frob_sq in zip(attentions, wv_frob_sq):
        layer_attn = np.asarray(layer_attn, dtype=np.float64)
        A = layer_attn.mean(axis=0)  # the notebook: attentions[layer][0].mean(dim=0)
        out["locality"].append(locality(A))
        out["entropy"].append(entropy(A))
        out["sheaf_trace"].append(sheaf_trace(A, float(frob_sq)))
        out["head_locality"].append([locality(h) for h in layer_attn])
        out["head_entropy"].append([entropy(h) for h in layer_attn])
    theoretical, empirical = l_star(out["locality"])
    out["L_star_theoretical"] = theoretical
    out["L_star_empirical"] = empirical
    out["deviation"] = abs(empirical - theoretical)
    return out


if __name__ == "__main__":
    # Self-check on the hand-worked toys of tests/unit/metrics_attention_test.cpp.
    n = 5
    eye = np.eye(n)
    assert locality(eye) == 1.0
    assert abs(entropy(eye) - np.log(n)) < 1e-8
    assert sheaf_trace(eye, 3.0) == 0.0
    uniform = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    assert abs(locality(uniform) - 0.75) < 1e-15
    first = np.zeros((n, n))
    first[:, 0] = 1.0
    assert abs(locality(first) - 0.5) < 1e-15
    assert l_star([1, 0, 1, 0]) == (2, 0)
    assert l_star([1, 1, 1, 0]) == (2, 3)
    assert l_star([0.7]) == (0, 0)
    print("notebook_metrics: self-check passed")
