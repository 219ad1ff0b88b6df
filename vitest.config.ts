import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
import { fileURLToPath } from "node:url";

/** The flags Chromium needs here (root, no network, no GPU); Playwright adds --headless. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/browser/**"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        // The oracle and parity suites, unchanged, and the browser entry with its fallbacks, in
        // headless Chromium (Debian's /usr/bin/chromium; .ci/run installs it).
        resolve: {
          alias: [{ find: /^node:fs$/, replacement: fileURLToPath(new URL("./test/browser/shims/node-fs.ts", import.meta.url)) }],
        },
        test: {
          name: "browser",
          include: ["test/oracle.test.ts", "test/parity.test.ts", "test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS } }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
