import { init, backend, crossEntropy } from "xent";

await init(); // reads xent's .wasm from node_modules (the SIMD build; the scalar one where SIMD is missing)
const loss = crossEntropy([2, 0], new Float32Array([1, 2, 3, 3, 2, 1]), { classes: 3 });
console.log(backend(), loss.toFixed(6)); // wasm-simd 0.407606
