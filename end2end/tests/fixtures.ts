// A `page` that fails the test on any console error or uncaught exception, and helpers every
// test shares.
import { test as base, expect, Page } from "@playwright/test";

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

/** Waits until the wasm has hydrated the page (the marker in the top bar turns live). */
export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("hydration")).toHaveText("live");
}

export const screenshots = "screenshots";

/** Joins the test class as `name` from the join form that `page` shows. */
export async function join(page: Page, name: string) {
  await page.getByLabel("Class code").fill("E2ECLASS");
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join" }).click();
}

/** The visible text of the active terminal. */
export async function terminalText(page: Page): Promise<string> {
  return (await page.locator(".terminal-host:not([hidden]) .xterm-rows").innerText()).replace(/\u00a0/g, " ");
}
