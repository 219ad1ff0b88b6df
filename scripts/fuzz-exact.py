# The 120-digit half of scripts/fuzz-exact.ts: recomputes, in 120 digits, klDivergence / jensenShannon from logits
# (P = softmax(x / T), Q = softmax(y / T), natural log or the case's base, per row, then the sum or mean over rows)
# and prints how far each engine's result is from it.  python3 scripts/fuzz-exact.py case.json
import json, sys
from mpmath import mp, mpf, exp, log, nstr

mp.dps = 120  # 50 is not enough: for rows 1e-30 apart, log(2p / (p + q)) = log(1 + 1e-32) must keep 32 digits of its 1e-32
d = json.load(open(sys.argv[1]))
K, T = d["classes"], mpf(d["temperature"])
x, y = d["x"], d["y"]
rows = len(x) // K

def softmax(v):
    m = max(v)
    e = [exp((mpf(t) - m) / T) for t in v]
    s = sum(e)
    return [t / s for t in e]

def row_value(p, q):
    if d["fn"] == "klDivergence":
        return sum(pk * (log(pk) - log(qk)) for pk, qk in zip(p, q) if pk > 0)
    return sum((pk * log(2 * pk / (pk + qk)) if pk > 0 else 0) + (qk * log(2 * qk / (pk + qk)) if qk > 0 else 0) for pk, qk in zip(p, q)) / 2

exact = [row_value(softmax(x[r * K:(r + 1) * K]), softmax(y[r * K:(r + 1) * K])) for r in range(rows)]
total = sum(exact) / (rows if d["reduction"] == "mean" else 1) / (log(mpf(d.get("base"))) if d.get("base") is not None else 1)
exact = [t / (log(mpf(d.get("base"))) if d.get("base") is not None else 1) for t in exact]
print(f"{d['fn']}, {rows} rows x {K} classes, T = {d['temperature']}, base {d['base'] or 'e'}, reduction {d['reduction']}")
print(f"exact (120 digits): {nstr(total, 20)}")
for e, v in d["results"].items():
    worst = max((abs(mpf(g) - t) / t for g, t in zip(d["rows"][e], exact) if t > 0), default=mpf(0))
    print(f"{e:10s} {v!r:>24}  relative error {nstr((mpf(v) - total) / total, 3):>10}  worst row {nstr(worst, 3)}")
