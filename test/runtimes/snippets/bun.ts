import { init, backend, crossEntropy } from "xent";

await init(); // Bun takes the "bun" condition: the .wasm is read from node_modules
const loss = crossEntropy([2, 0], new Float32Array([1, 2, 3, 3, 2, 1]), { classes: 3 });
console.log(backend(), loss.toFixed(6)); // wasm-simd 0.407606
