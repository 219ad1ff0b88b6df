"""Exact values of focal loss (Lin et al. 2017) for test/fixtures/oracle/focal.json.

    python3 scripts/oracle/focal.py            # rewrites test/fixtures/oracle/focal.json

Every expected value is the definition evaluated with mpmath in exact arithmetic from the exact
binary values of the stored inputs, then rounded once to the nearest double. No float64 formula is
involved: 1 - q_k is computed as 1 - q_k and -log q_k as -log q_k, at a precision chosen per case so
that they are exact to about 100 digits: 100 significant digits, plus g / ln 10 for logits spanning
g nats (1 - q_k >= e^-g / K) or a binary logit of magnitude g (1 - p >= e^-g / 2), plus -log10 |l|
for a log-probability l in (-1, 0) (1 - q ~ |l|). Each value is computed twice, the second time with
40 more digits, and the script stops if the two differ by more than 1e-40 relative.

Multiclass ("focal"), per row:
    l_r = sum_k v_k c_k (1 - q_k)^gamma (-log q_k)
    q = softmax(input) (from "logits"), exp(input) ("logprobs") or input ("probs"), as given;
    c_k = (1 - e) y_k + e / K, y the one-hot of the target index (or the dense target row),
    e = label_smoothing; v_k = alpha_k weight_k (alpha: none = 1, a number, or one per class);
    rows whose index target equals ignore_index give 0; terms with v_k c_k = 0 are 0.
    sum = sum_r l_r; mean = sum / (sum over counted rows of weight[t_r]) for index targets (alpha
    is not in the divisor), sum / rows for dense targets.
Binary ("binary_focal"), per element (torchvision.ops.sigmoid_focal_loss):
    l = ce (1 - p_t)^gamma alpha_t; p = sigmoid(input) ("logits") or input ("probs");
    ce = -(y log p + (1 - y) log(1 - p)), each log clamped at -100 for "probs" (PyTorch's
    binary_cross_entropy); 1 - p_t = y (1 - p) + (1 - y) p; alpha_t = alpha y + (1 - alpha)(1 - y),
    or 1 when alpha is null. sum over elements, mean = sum / elements.
"""
import json
import math
import os

import numpy as np
from mpmath import mp, mpf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "oracle", "focal.json")
BASE_DPS = 100
CHECK_DPS = 40

rng = np.random.RandomState(20261205)


# ---------------------------------------------------------------------------------------------
# numbers

def f32(v):
    """The double of v rounded to float32 (non-finite kept)."""
    return float(np.float32(v))


def cast(values, dtype):
    return [f32(v) if dtype == "float32" else float(v) for v in values]


def enc(v):
    """JSON number: the shortest repr of a double; non-finite numbers as strings."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def to_double(x):
    """An mpf (or +-inf / nan) rounded once to the nearest double."""
    if mp.isnan(x):
        return float("nan")
    if mp.isinf(x):
        return float("inf") if x > 0 else float("-inf")
    return float(x)  # mpmath rounds to nearest


def exact(fn, extra):
    """fn() at BASE_DPS + extra digits and at CHECK_DPS more; both must agree to 1e-40."""
    with mp.workdps(BASE_DPS + extra):
        a = fn()
    with mp.workdps(BASE_DPS + extra + CHECK_DPS):
        b = fn()
    for x, y in zip(a, b):
        if mp.isnan(x) or mp.isinf(x) or mp.isnan(y) or mp.isinf(y):
            assert (mp.isnan(x) and mp.isnan(y)) or x == y, (x, y)
            continue
        assert abs(x - y) <= mpf("1e-40") * abs(y), (x, y)
    return b


# ---------------------------------------------------------------------------------------------
# multiclass

def row_digits(row, mode):
    """Digits beyond BASE_DPS that 1 - q_k needs: from logits about gap * log10(e) (1 - q_k >= e^-gap / K),
    from a log-probability l in (-1, 0) about -log10 |l| (1 - q_k ~ |l|)."""
    if mode == "logprobs":
        small = [abs(x) for x in row if -1 < x < 0]
        return int(-math.log10(min(small))) + 5 if small else 0
    if mode != "logits":
        return 0
    finite = [x for x in row if math.isfinite(x)]
    if len(finite) < 2:
        return 0
    return int((max(finite) - min(finite)) / math.log(10)) + 5


def focal_row(row, mode, coefs, gamma):
    """sum_k coefs[k] (1 - q_k)^gamma (-log q_k) in the current precision; coefs[k] == 0 skipped."""
    K = len(row)
    if mode == "logits":
        if any(math.isnan(x) or x == math.inf for x in row) or all(x == -math.inf for x in row):
            q = [mp.nan] * K
        else:
            m = max(row)
            e = [mpf(0) if x == -math.inf else mp.exp(mpf(x) - mpf(m)) for x in row]
            S = mp.fsum(e)
            q = [ek / S for ek in e]
    elif mode == "logprobs":
        q = [mpf(0) if x == -math.inf else mp.exp(mpf(x)) for x in row]
    else:
        q = [mpf(x) for x in row]
    total = mpf(0)
    for k in range(K):
        if coefs[k] == 0:
            continue
        neglog = mp.inf if q[k] == 0 else -mp.log(q[k])
        total += coefs[k] * mp.power(1 - q[k], gamma) * neglog
    return total


def multiclass_case(cid, dtype, x, K, target, mode="logits", gamma=2.0, alpha=None, weight=None, label_smoothing=0.0,
                    ignore_index=-100, note=""):
    """target: list of ints (class indices) or a flat list of floats (dense rows)."""
    rows = len(x) // K
    x = cast(x, dtype)
    dense = not isinstance(target[0], (int, np.integer))
    if dense:
        target = cast(target, dtype)
    if weight is not None:
        weight = cast(weight, dtype)
    e = mpf(label_smoothing)

    def coefficients(r):
        v = []
        for k in range(K):
            al = mpf(1) if alpha is None else mpf(alpha) if not isinstance(alpha, list) else mpf(alpha[k])
            w = mpf(1) if weight is None else mpf(weight[k])
            if dense:
                yk = mpf(target[r * K + k])
            else:
                yk = mpf(1) if k == target[r] else mpf(0)
            v.append(al * w * ((1 - e) * yk + e / K))
        return v

    def run():
        out = []
        for r in range(rows):
            if not dense and target[r] == ignore_index:
                out.append(mpf(0))
                continue
            out.append(focal_row(x[r * K:(r + 1) * K], mode, coefficients(r), mpf(gamma)))
        return out

    extra = max(row_digits(x[r * K:(r + 1) * K], mode) for r in range(rows))
    values = exact(run, extra)
    with mp.workdps(BASE_DPS + extra + CHECK_DPS):
        total = mp.fsum(values) if not any(mp.isnan(v) for v in values) else mp.nan
        if dense:
            divisor = mpf(rows)
        else:
            divisor = mp.fsum(mpf(1) if weight is None else mpf(weight[t]) for t in target if t != ignore_index)
        mean = total / divisor if divisor != 0 else mp.nan
    options = {"from": mode, "gamma": gamma, "alpha": alpha, "label_smoothing": label_smoothing,
               "ignore_index": ignore_index, "target": "dense" if dense else "index"}
    inputs = {"input": [enc(v) for v in x], "target": [enc(v) for v in target]}
    shapes = {"input": [rows, K], "target": [rows, K] if dense else [rows]}
    dtypes = {"input": dtype, "target": dtype if dense else "int32"}
    if weight is not None:
        inputs["weight"] = [enc(v) for v in weight]
        shapes["weight"] = [K]
        dtypes["weight"] = dtype
    return {"id": cid, "op": "focal", "dtype": dtype, "shape": [rows, K], "options": options, "inputs": inputs,
            "input_shapes": shapes, "input_dtypes": dtypes,
            "expected": [enc(to_double(v)) for v in values], "expected_shape": [rows],
            "expected_sum": enc(to_double(total)), "expected_mean": enc(to_double(mean)), "note": note}


# ---------------------------------------------------------------------------------------------
# binary

def binary_element(x, y, mode, gamma, alpha):
    x, y = mpf(x), mpf(y)
    if mode == "logits":
        p = 1 / (1 + mp.exp(-x))
        ce = -(y * mp.log(p) + (1 - y) * mp.log(1 - p))
    else:
        lp = mp.log(x) if x > 0 else -mp.inf
        lq = mp.log(1 - x) if x < 1 else -mp.inf
        ce = -(y * max(lp, mpf(-100)) + (1 - y) * max(lq, mpf(-100)))
    u = y * (1 - p if mode == "logits" else 1 - x) + (1 - y) * (p if mode == "logits" else x)
    loss = ce * mp.power(u, mpf(gamma))
    if alpha is not None:
        loss *= mpf(alpha) * y + (1 - mpf(alpha)) * (1 - y)
    return loss


def binary_case(cid, dtype, x, y, mode="logits", gamma=2.0, alpha=None, note=""):
    x, y = cast(x, dtype), cast(y, dtype)
    extra = int(max(abs(v) for v in x) / math.log(10)) + 5 if mode == "logits" else 0
    values = exact(lambda: [binary_element(a, b, mode, gamma, alpha) for a, b in zip(x, y)], extra)
    with mp.workdps(BASE_DPS + extra + CHECK_DPS):
        total = mp.fsum(values)
        mean = total / len(values)
    return {"id": cid, "op": "binary_focal", "dtype": dtype, "shape": [len(x)],
            "options": {"from": mode, "gamma": gamma, "alpha": alpha},
            "inputs": {"input": [enc(v) for v in x], "target": [enc(v) for v in y]},
            "input_shapes": {"input": [len(x)], "target": [len(y)]},
            "input_dtypes": {"input": dtype, "target": dtype},
            "expected": [enc(to_double(v)) for v in values], "expected_shape": [len(x)],
            "expected_sum": enc(to_double(total)), "expected_mean": enc(to_double(mean)), "note": note}


# ---------------------------------------------------------------------------------------------
# the cases

def logits(rows, K, scale=2.0):
    return list(rng.normal(0, scale, rows * K))


def targets(rows, K):
    return [int(t) for t in rng.randint(0, K, rows)]


def dirichlet(rows, K):
    return list(rng.dirichlet(np.ones(K), rows).reshape(-1))


def softmax_rows(x, K):
    a = np.array(x, dtype=np.float64).reshape(-1, K)
    a = np.exp(a - a.max(axis=1, keepdims=True))
    return list((a / a.sum(axis=1, keepdims=True)).reshape(-1))


def log_softmax_rows(x, K):
    a = np.array(x, dtype=np.float64).reshape(-1, K)
    a = a - a.max(axis=1, keepdims=True)
    return list((a - np.log(np.exp(a).sum(axis=1, keepdims=True))).reshape(-1))


LN_1E12 = math.log(1e12)  # a gap of this many nats puts q at 1 - 1e-12
GAMMAS = [0.0, 0.5, 2.0, 5.0]
DTYPES = ["float32", "float64"]


def build():
    cases = []
    add = cases.append
    dt = lambda d: "f32" if d == "float32" else "f64"  # noqa: E731

    # Index targets from logits, every gamma.
    x, t = logits(6, 5), targets(6, 5)
    for d in DTYPES:
        for g in GAMMAS:
            add(multiclass_case(f"logits_index_g{g:g}_N6K5_{dt(d)}", d, x, 5, t, gamma=g,
                                note="class-index targets, logits, no alpha"))
    # alpha: scalar and per class; weight; both; ignored rows.
    x, t = logits(5, 4), targets(5, 4)
    for d in DTYPES:
        add(multiclass_case(f"logits_alpha_scalar_N5K4_{dt(d)}", d, x, 4, t, gamma=2.0, alpha=0.25,
                            note="alpha = 0.25 for every class (Keras's default)"))
        add(multiclass_case(f"logits_alpha_per_class_N5K4_{dt(d)}", d, x, 4, t, gamma=2.0, alpha=[0.25, 0.5, 0.75, 1.5],
                            note="alpha per class"))
        add(multiclass_case(f"logits_weight_N5K4_{dt(d)}", d, x, 4, t, gamma=2.0, weight=[0.5, 2.0, 1.0, 0.125],
                            note="class weights: the mean divides by the sum of the targets' weights"))
        add(multiclass_case(f"logits_weight_alpha_g0.5_N5K4_{dt(d)}", d, x, 4, t, gamma=0.5, alpha=[0.25, 0.5, 0.75, 1.5],
                            weight=[0.5, 2.0, 1.0, 0.125], note="alpha per class and weights: alpha is not in the divisor"))
        add(multiclass_case(f"logits_ignore_weight_N5K4_{dt(d)}", d, x, 4, [t[0], -100, t[2], -100, t[4]], gamma=2.0,
                            weight=[0.5, 2.0, 1.0, 0.125], note="ignored rows (ignore_index -100) give 0 and leave the divisor"))
    # Label smoothing with index targets (and an ignored row, weights, alpha).
    x, t = logits(5, 6), targets(5, 6)
    t[3] = -100
    for d in DTYPES:
        for g in [0.5, 2.0]:
            add(multiclass_case(f"logits_smoothing_g{g:g}_N5K6_{dt(d)}", d, x, 6, t, gamma=g, label_smoothing=0.1,
                                weight=[1.0, 0.5, 2.0, 1.0, 0.25, 1.0], alpha=0.25,
                                note="label smoothing 0.1: c_k = 0.9 y_k + 0.1/K on every class"))
    # Dense targets from logits.
    x, y = logits(4, 5), dirichlet(4, 5)
    for d in DTYPES:
        for g in [0.0, 2.0, 5.0]:
            add(multiclass_case(f"logits_dense_g{g:g}_N4K5_{dt(d)}", d, x, 5, y, gamma=g, weight=[1.0, 2.0, 0.5, 1.0, 0.25],
                                note="dense (soft) targets with weights; the mean divides by the row count"))
        add(multiclass_case(f"logits_dense_smoothing_alpha_N4K5_{dt(d)}", d, x, 5, y, gamma=2.0, label_smoothing=0.2,
                            alpha=[0.25, 0.5, 0.75, 1.0, 2.0], note="dense targets, label smoothing 0.2, alpha per class"))
    # Large magnitudes.
    big = [1e4, -1e4, 0.0, 5e3,
           -1e4, 1e4, 1e4, -5e3,
           -1e4, -1e4, -1e4, -1e4,
           3.0, -1e4, 2.0, 1e4]
    tb = [0, 0, 2, 3]
    for d in DTYPES:
        for g in [0.0, 2.0, 5.0]:
            add(multiclass_case(f"logits_large_g{g:g}_N4K4_{dt(d)}", d, big, 4, tb, gamma=g,
                                note="logits of +-1e4: q is 1, 1/2, 1/4 or e^-1e4-small; losses of 0, log 2, 1e4"))
        add(multiclass_case(f"logits_large_dense_g2_N4K4_{dt(d)}", d, big, 4, [0.5, 0.25, 0.25, 0.0] * 4, gamma=2.0,
                            note="dense targets on +-1e4 logits"))
    # q near 1: 1 - q_t = 1e-12 (one other class, or several), q at a tie, K = 1.
    g12 = -LN_1E12
    near = [0.0, g12, -1e4, -50.0,
            5.0, 5.0 + g12 + math.log(0.5), 5.0 + g12 + math.log(0.5), -40.0,
            1.0, 1.0, -3.0, -30.0,
            0.0, -30.0, -32.0, -31.0,
            10.0, 10.0 - 36.0, 10.0 - 37.0, 10.0 - 60.0]
    tn = [0, 0, 1, 0, 0]
    for d in DTYPES:
        for g in GAMMAS:
            add(multiclass_case(f"logits_near_one_g{g:g}_N5K4_{dt(d)}", d, near, 4, tn, gamma=g,
                                note="q_t within 1e-12 .. 1e-15 of 1 (rows 0-1, 3-4) and a tie at the maximum (row 2)"))
        add(multiclass_case(f"logits_near_one_dense_g2_N5K4_{dt(d)}", d, near, 4, [1.0, 0.0, 0.0, 0.0] * 5, gamma=2.0,
                            note="the same rows with a dense one-hot target on class 0"))
        add(multiclass_case(f"logits_near_one_smoothing_g5_N5K4_{dt(d)}", d, near, 4, tn, gamma=5.0, label_smoothing=0.05,
                            note="the same rows with label smoothing: every class counts"))
    # q tiny: the target 690 nats below the maximum (q ~ 1e-300).
    tiny = [0.0, -690.0, -1.0, 2.0,
            -690.0, 0.0, 0.0, -700.0,
            100.0, -590.0, 99.0, 100.0]
    for d in DTYPES:
        for g in [0.0, 2.0]:
            add(multiclass_case(f"logits_tiny_q_g{g:g}_N3K4_{dt(d)}", d, tiny, 4, [1, 0, 1], gamma=g,
                                note="q_t about 1e-300 (the target 690 nats below the maximum)"))
    # Ties, a single class, non-finite logits.
    special = [3.0, 3.0, 1.0,
               2.0, 2.0, 2.0,
               float("-inf"), 1.0, 2.0,
               1.0, 2.0, float("nan"),
               float("-inf"), 0.0, 0.0]
    for d in DTYPES:
        add(multiclass_case(f"logits_ties_nonfinite_g2_N5K3_{dt(d)}", d, special, 3, [0, 2, 2, -100, 0], gamma=2.0,
                            note="ties at the maximum; a -inf logit off the target (0) and on it (+inf); NaN in an ignored row"))
        add(multiclass_case(f"logits_single_class_g0.5_N3K1_{dt(d)}", d, [5.0, -1e4, 0.0], 1, [0, 0, 0], gamma=0.5,
                            note="K = 1: q = 1, loss 0 (0^0.5 (-log 1))"))
    # Rows long enough for the SIMD blocks and tails.
    for K in [67, 130]:
        x, t = logits(3, K, 4.0), targets(3, K)
        for d in DTYPES:
            add(multiclass_case(f"logits_long_g2_N3K{K}_{dt(d)}", d, x, K, t, gamma=2.0, alpha=0.25,
                                note="rows over several SIMD blocks, with a tail"))
            add(multiclass_case(f"logits_long_dense_g0.5_N3K{K}_{dt(d)}", d, x, K, dirichlet(3, K), gamma=0.5,
                                note="long rows, dense targets"))
    # Probabilities.
    xp = logits(4, 5)
    pr = softmax_rows(xp, 5)
    tp = targets(4, 5)
    for d in DTYPES:
        for g in GAMMAS:
            add(multiclass_case(f"probs_index_g{g:g}_N4K5_{dt(d)}", d, pr, 5, tp, mode="probs", gamma=g,
                                note="probabilities as given"))
        add(multiclass_case(f"probs_dense_alpha_N4K5_{dt(d)}", d, pr, 5, dirichlet(4, 5), mode="probs", gamma=2.0,
                            alpha=[0.25, 0.5, 0.75, 1.0, 2.0], weight=[1.0, 2.0, 0.5, 1.0, 0.25],
                            note="probabilities, dense targets, alpha and weights"))
    extreme64 = [1 - 1e-12, 0.6e-12, 0.4e-12,
                 1.0, 0.0, 0.0,
                 1e-300, 0.5, 0.5 - 1e-300,
                 0.0, 0.25, 0.75,
                 0.5, 0.5, 0.0]
    extreme32 = [f32(1 - 2 ** -24), 3e-8, 2.96e-8,
                 1.0, 0.0, 0.0,
                 1e-40, 0.5, 0.5,
                 0.0, 0.25, 0.75,
                 0.5, 0.5, 0.0]
    for d, ex in [("float64", extreme64), ("float32", extreme32)]:
        for g in GAMMAS:
            add(multiclass_case(f"probs_extreme_g{g:g}_N5K3_{dt(d)}", d, ex, 3, [0, 0, 0, 0, 1], mode="probs", gamma=g,
                                note="q_t = 1 - 1e-12 (float32: 1 - 2^-24), 1 (loss 0), 1e-300 (float32: 1e-40), 0 (+inf); q = 0 off the target"))
    # Log-probabilities.
    lp = log_softmax_rows(xp, 5)
    for d in DTYPES:
        for g in [0.0, 2.0, 5.0]:
            add(multiclass_case(f"logprobs_index_g{g:g}_N4K5_{dt(d)}", d, lp, 5, tp, mode="logprobs", gamma=g,
                                note="log-probabilities as given"))
        add(multiclass_case(f"logprobs_dense_smoothing_N4K5_{dt(d)}", d, lp, 5, dirichlet(4, 5), mode="logprobs", gamma=2.0,
                            label_smoothing=0.1, note="log-probabilities, dense targets, label smoothing"))
        lx = [-1e-12, -LN_1E12 - 1e-12, -1e4,
              -690.0, -1e-300, -2.0,
              0.0, float("-inf"), float("-inf")]
        for g in [0.5, 2.0, 5.0]:
            add(multiclass_case(f"logprobs_extreme_g{g:g}_N3K3_{dt(d)}", d, lx, 3, [0, 0, 0], mode="logprobs", gamma=g,
                                note="log q_t = -1e-12 (q near 1), -690 (q ~ 1e-300), 0 (q = 1) with -inf elsewhere"))

    # Binary.
    xs = [-1e4, -40.0, -30.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0, 30.0, 40.0, 1e4]
    bx = xs + xs
    by = [0.0] * len(xs) + [1.0] * len(xs)
    for d in DTYPES:
        for g in GAMMAS:
            for al in [None, 0.25]:
                add(binary_case(f"binary_logits_g{g:g}_alpha{'none' if al is None else al}_n{len(bx)}_{dt(d)}", d, bx, by,
                                gamma=g, alpha=al, note="sigmoid_focal_loss: hard targets, logits from -1e4 to 1e4"))
        soft_x = [-3.0, -0.5, 0.0, 0.7, 2.0, 8.0, 30.0, -30.0]
        soft_y = [0.1, 0.5, 0.9, 0.3, 0.75, 0.99, 0.2, 0.8]
        add(binary_case(f"binary_logits_soft_alpha0.25_n8_{dt(d)}", d, soft_x, soft_y, gamma=2.0, alpha=0.25,
                        note="soft targets"))
        add(binary_case(f"binary_logits_soft_g0.5_n8_{dt(d)}", d, soft_x, soft_y, gamma=0.5, alpha=None, note="soft targets"))
        ps = [0.0, 1e-50 if d == "float64" else 1e-40, 1e-10, 0.3, 0.5, 0.9, 1 - 1e-12 if d == "float64" else f32(1 - 2 ** -24), 1.0]
        py = [0.0] * len(ps) + [1.0] * len(ps) + [0.25] * len(ps)
        for g in [0.0, 2.0, 5.0]:
            for al in [None, 0.25]:
                add(binary_case(f"binary_probs_g{g:g}_alpha{'none' if al is None else al}_n{len(py)}_{dt(d)}", d, ps * 3, py,
                                mode="probs", gamma=g, alpha=al,
                                note="probabilities from 0 to 1, each log clamped at -100; hard and soft (0.25) targets"))
    return cases


def main():
    cases = build()
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate ids"
    with open(OUT, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, allow_nan=False) for c in cases) + "\n]\n")
    print(f"{len(cases)} cases -> {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
