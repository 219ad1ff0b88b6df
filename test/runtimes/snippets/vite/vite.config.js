import { defineConfig } from "vite";

export default defineConfig({
  build: {
    // Keep every asset a file: Vite inlines assets under 4 KiB as data: URLs, which a
    // Content-Security-Policy may refuse to fetch.
    assetsInlineLimit: 0,
  },
});
