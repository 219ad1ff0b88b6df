// Builds the demo page (demo/index.html) into demo/dist: `npm run demo:build`; `npm run demo` also
// serves it (vite preview). The page imports "xent" by name, as an application would; Vite resolves
// it through the package's "exports" (its "browser" condition) and copies the .wasm it references.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0, // keep the .wasm a file (Vite inlines assets under 4 KiB by default)
    target: "es2022", // top-level await
  },
  preview: { port: 4173, strictPort: false },
});
