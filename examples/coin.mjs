// A fair coin P against a biased coin Q: how many extra nats (bits) a code built for Q wastes on
// flips of P. H(P, Q) = H(P) + KL(P || Q).
import { init, klDivergence, entropy, crossEntropy } from "xent";

await init();
const P = [0.5, 0.5]; // the truth: a fair coin
const Q = [0.9, 0.1]; // the model: a coin that lands heads 90% of the time

for (const [unit, options] of [
  ["nats", {}],
  ["bits", { base: 2 }],
]) {
  const kl = klDivergence(P, Q, options);
  const h = entropy(P, options);
  const ce = crossEntropy(P, Q, { from: "probs", ...options });
  console.log(
    `${unit}: KL(P||Q) = ${kl.toFixed(6)}, H(P) = ${h.toFixed(6)}, H(P,Q) = ${ce.toFixed(6)} = H(P) + KL(P||Q) = ${(h + kl).toFixed(6)}`,
  );
}
