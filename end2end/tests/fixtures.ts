// A `page` that fails the test on any console error or uncaught exception, and helpers every
// test shares.
import { test as base, expect, Browser, Page } from "@playwright/test";

export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const problems: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console.error: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`uncaught: ${err.message}`));
    page.on("response", (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
    });
    await use(page);
    expect(problems, "the page logged errors").toEqual([]);
  },
});

export { expect };

/** Waits until the wasm has hydrated the page (the marker in the top bar turns live, in
 *  whichever language the page is). */
export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("hydration")).toHaveClass(/\blive\b/);
}

export const screenshots = "screenshots";

/** Joins the test class as `name` from the join form that `page` shows. */
export async function join(page: Page, name: string) {
  await page.getByLabel("Class code").fill("E2ECLASS");
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join" }).click();
}

/** A learner of their own (a browser context at 1280 x 800) joined on the netns-veth lab, with
 *  their terminal live. */
export async function learnerOnNetnsLab(browser: Browser, name: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto("/labs/netns-veth");
  await join(page, name);
  await hydrated(page);
  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  return page;
}

/** The visible text of the active terminal. */
export async function terminalText(page: Page): Promise<string> {
  return (await page.locator(".terminal-host:not([hidden]) .xterm-rows").innerText()).replace(/\u00a0/g, " ");
}

/** A `stacklab serve` of a test's own (not Playwright's webServer), which the test may kill with
 *  SIGKILL and start again on the same port and data directory, as a crash and a restart do. */
export class OwnServer {
  private child?: import("node:child_process").ChildProcess;
  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly cgroupRoot: string,
    private readonly extra: string[] = [],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const { spawn } = await import("node:child_process");
    const bin = process.env.STACKLAB_BIN ?? "../target/debug/stacklab";
    const args = [
      "serve",
      "--addr",
      `127.0.0.1:${this.port}`,
      "--data-dir",
      this.dataDir,
      "--class-code",
      "E2ECLASS",
      "--instructor-token",
      "e2e-instructor-token-0001",
      "--sandbox-cgroup-root",
      this.cgroupRoot,
      "--sandbox-uid-base",
      "1800000000",
      ...this.extra,
    ];
    this.child = spawn(bin, args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, STACKLAB_LOG: "warn" } });
    for (let i = 0; i < 600; i++) {
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`stacklab serve on port ${this.port} did not come up`);
  }

  /** SIGKILL: no shutdown, nothing flushed (sandboxes live on, as they do in a real crash). */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Stops the server, then the sandboxes it left running (by design they outlive it). */
  async stop(): Promise<void> {
    await this.kill9();
    const { execFileSync } = await import("node:child_process");
    const bin = process.env.STACKLAB_BIN ?? "../target/debug/stacklab";
    execFileSync(bin, ["stop-sandboxes", "--data-dir", this.dataDir, "--sandbox-cgroup-root", this.cgroupRoot], { stdio: "inherit" });
  }
}

/** The text of every row of the terminal in `host` that is inside its screen's visible box. */
export async function visibleRows(page: Page, host: string): Promise<string[]> {
  return page.locator(host).evaluate((el) => {
    const box = (el.querySelector(".terminal-screen") ?? el).getBoundingClientRect();
    return [...el.querySelectorAll(".xterm-rows > div")]
      .filter((row) => {
        const r = row.getBoundingClientRect();
        return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      })
      .map((row) => (row.textContent ?? "").replace(/\u00a0/g, " ").trimEnd());
  });
}
