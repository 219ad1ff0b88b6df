import { init, backend, crossEntropy } from "xent";

await init(); // fetches the .wasm that Vite emitted next to the bundle, compiling it as it downloads
const loss = crossEntropy([2, 0], new Float32Array([1, 2, 3, 3, 2, 1]), { classes: 3 });
document.querySelector("#out").textContent = `${backend()} ${loss.toFixed(6)}`; // wasm-simd 0.407606
