// The CLI's help texts (docs/cli.md says the same at more length).

const FILES = `Files: NumPy .npy (format 1.0, 2.0, 3.0; C order; float16/32/64, integer labels),
.safetensors (F16, BF16, F32, F64; integer labels; --tensor NAME picks a tensor), or raw
little-endian arrays named .f32 .f64 .f16 .bf16 (with --shape ROWS,CLASSES) and .i32 .i64 ...
The last dimension is the classes; the others are rows. Files are read in chunks, never whole.`;

const COMMON = `  --classes K          row length, for flat (1-D) arrays
  --shape R,K          shape of raw float files
  --tensor NAME        the tensor to read from .safetensors files
  --json               one JSON object on stdout (NaN and infinities as strings)
  --no-progress        no progress bar (it is drawn on stderr only when stderr is a terminal)`;

export const HELP = {
  main: `xent: cross-entropy, focal loss, KL divergence and entropy of model predictions in files.

Usage:
  xent eval    --logits FILE --labels FILE [--top-k 1,5] [--ignore-index N] [--json]
  xent focal   --logits FILE --labels FILE [--gamma G] [--alpha A] [--from KIND] [--json]
  xent kl      --p FILE --q FILE [--from logits|probs|logprobs] [--temperature T] [--json]
  xent entropy --p FILE [--from logits|probs|logprobs] [--temperature T] [--json]
  xent bench   [--rows R] [--classes K] [--seconds S]
  xent COMMAND --help

${FILES}

Exit codes: 0 done, 1 usage error, 2 a problem with an input file (one line on stderr names it).
`,
  eval: `xent eval --logits FILE --labels FILE [options]

Cross-entropy (nats), perplexity, top-1 and top-k accuracy and the mean entropy of the
predictions, for logits (rows x classes) against class-index labels (one per row), in one pass.

  --logits FILE        logits, rows x classes (float16, bfloat16, float32 or float64)
  --labels FILE        class indices, one per row (any integer type)
  --top-k 1,5          ranks at which to report accuracy (default 1,5; 1 with 5 classes or fewer)
  --ignore-index N     rows labelled N are left out of every figure (default -100)
  --logits-tensor NAME, --labels-tensor NAME   tensors to read from .safetensors files
${COMMON}

Ties between equal logits go to the smaller class index (as argmax in NumPy and PyTorch).
`,
  focal: `xent focal --logits FILE --labels FILE [options]

Focal loss (Lin et al. 2017), -alpha (1 - q_t)^gamma log q_t per row with q_t the predicted
probability of the row's label, averaged over the rows (or summed), as the library's focalLoss.
gamma 0 and no alpha give the cross-entropy of xent eval.

  --logits FILE        predictions, rows x classes: logits, or what --from says
  --labels FILE        class indices, one per row (any integer type)
  --from KIND          logits (default), probs or logprobs (used as given, not renormalised)
  --gamma G            focusing exponent, >= 0 (default 2)
  --alpha A            a factor on every row (default none; Keras and torchvision default to 0.25)
  --reduction R        mean (default: over the rows that count) or sum
  --base B             logarithm base of the result (2 gives bits; default e, nats)
  --ignore-index N     rows labelled N are left out (default -100)
  --logits-tensor NAME, --labels-tensor NAME   tensors to read from .safetensors files
${COMMON}
`,
  kl: `xent kl --p FILE --q FILE [options]

KL(P || Q), the mean over rows of sum_k p_k log(p_k / q_k) (PyTorch's "batchmean").
P is the reference ("true") distribution, Q the approximation: for distillation, the teacher is P.

  --p FILE, --q FILE   rows x classes, the same shape
  --from KIND          what the files hold: probs (default), logits or logprobs; or P's and Q's:
                       --from logits,probs
  --temperature T      softmax(logits / T) (no T^2 factor)
  --base B             logarithm base of the result (2 gives bits; default e, nats)
  --p-tensor NAME, --q-tensor NAME   tensors to read from .safetensors files
${COMMON}
`,
  entropy: `xent entropy --p FILE [options]

H(P), the mean over rows of -sum_k p_k log p_k.

  --p FILE             rows x classes
  --from KIND          probs (default), logits or logprobs
  --temperature T      softmax(logits / T)
  --base B             logarithm base of the result (2 gives bits; default e, nats)
${COMMON}
`,
  bench: `xent bench [--rows R] [--classes K] [--seconds S] [--json]

A short benchmark: crossEntropy from float32 logits on synthetic data (default 1024 x 1000),
xent's engine against the plain TypeScript reference (xent/reference), in millions of input
elements per second, and their ratio. About S seconds (default 2).
`,
};
