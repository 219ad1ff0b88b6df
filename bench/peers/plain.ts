// The "careful plain JS" peer: what one would write by hand without a library. One pass per row
// with an online (streaming) log-sum-exp, Math.exp / Math.log in float64, float64 accumulators.
// Works on Float32Array and Float64Array inputs alike (values are read as float64).
type F = Float32Array | Float64Array;

/** OP1: mean over rows of -log softmax(x_r)[label_r]  (= logsumexp(x_r) - x_r[label_r]). */
export function crossEntropyLogits(labels: Int32Array, x: F, classes: number): number {
  const rows = labels.length;
  let total = 0;
  for (let r = 0, o = 0; r < rows; r++, o += classes) {
    let m = x[o];
    let s = 1; // sum of exp(x - m) over the row so far
    for (let k = 1; k < classes; k++) {
      const v = x[o + k];
      if (v > m) {
        s = s * Math.exp(m - v) + 1;
        m = v;
      } else {
        s += Math.exp(v - m);
      }
    }
    total += m + Math.log(s) - x[o + labels[r]];
  }
  return total / rows;
}

/**
 * OP2: mean over rows of KL(softmax(t_r) || softmax(s_r))
 *   = sum_k p_k (t_k - s_k) - logsumexp(t) + logsumexp(s),  p = softmax(t),
 * in one pass: the p-weighted sum of (t - s) is kept relative to the running max of t and
 * rescaled with it, like the sum of exponentials. Two exp per element.
 */
export function klLogits(t: F, s: F, classes: number): number {
  const rows = t.length / classes;
  let total = 0;
  for (let r = 0, o = 0; r < rows; r++, o += classes) {
    let mt = t[o],
      st = 1,
      a = t[o] - s[o];
    let ms = s[o],
      ss = 1;
    for (let k = 1; k < classes; k++) {
      const tv = t[o + k],
        sv = s[o + k],
        d = tv - sv;
      if (tv > mt) {
        const c = Math.exp(mt - tv);
        st = st * c + 1;
        a = a * c + d;
        mt = tv;
      } else {
        const e = Math.exp(tv - mt);
        st += e;
        a += e * d;
      }
      if (sv > ms) {
        ss = ss * Math.exp(ms - sv) + 1;
        ms = sv;
      } else {
        ss += Math.exp(sv - ms);
      }
    }
    total += a / st - (mt + Math.log(st)) + (ms + Math.log(ss));
  }
  return total / rows;
}

/** OP3: mean over rows of -sum_k y_k log q_k, with 0 log q = 0 (dense soft targets y, probabilities q). */
export function crossEntropyProbs(y: F, q: F, classes: number): number {
  const rows = y.length / classes;
  let total = 0;
  for (let r = 0, o = 0; r < rows; r++, o += classes) {
    let acc = 0;
    for (let k = 0; k < classes; k++) {
      const w = y[o + k];
      if (w !== 0) acc -= w * Math.log(q[o + k]);
    }
    total += acc;
  }
  return total / rows;
}
