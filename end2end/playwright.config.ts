// Browser tests drive Debian's Chromium (no browser download: this network has none to offer).
// `scripts/test` builds the site and the server, then runs `npx playwright test` here; the
// server is started by Playwright itself (webServer below) and stopped when the run ends.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.STACKLAB_E2E_PORT ?? 3100);
const bin = process.env.STACKLAB_BIN ?? "../target/debug/stacklab";
const dataDir = process.env.STACKLAB_E2E_DATA ?? "/tmp/stacklab-e2e";
export const classCode = "E2ECLASS";
// A second server with room for one sandbox, for the full-class test (queue.spec.ts).
export const fullPort = port + 1;
export const instructorToken = "e2e-instructor-token-0001";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      // Without the background-networking flags Chromium keeps dialling Google, which this
      // closed network refuses, many connections at a time.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: [
    {
      command: `rm -rf ${dataDir} && ${bin} serve --addr 127.0.0.1:${port} --data-dir ${dataDir} --class-code ${classCode} --instructor-token ${instructorToken} --sandbox-cgroup-root stacklab-e2e --sandbox-uid-base 1700000000`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: `rm -rf ${dataDir}-full && ${bin} serve --addr 127.0.0.1:${fullPort} --data-dir ${dataDir}-full --class-code ${classCode} --instructor-token ${instructorToken} --sandbox-cgroup-root stacklab-e2e-full --sandbox-uid-base 1750000000 --max-sandboxes 1`,
      url: `http://127.0.0.1:${fullPort}/healthz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
