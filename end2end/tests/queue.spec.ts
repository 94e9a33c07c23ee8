import { test, expect, hydrated, join, terminalText, screenshots } from "./fixtures";
import { fullPort, instructorToken } from "../playwright.config";

// A second server with room for one sandbox (`--max-sandboxes 1`, see playwright.config.ts).
const full = `http://127.0.0.1:${fullPort}`;
const lab = `${full}/labs/namespaces-from-scratch`;

test("a full class: the second learner waits in line, told their place, and gets a terminal when a sandbox frees", async ({
  browser,
  page,
}) => {
  // Ada takes the only sandbox.
  await page.goto(lab);
  await join(page, "Ada");
  await hydrated(page);
  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  const ada = await (await page.request.get(`${full}/api/me`)).json();

  // Bob, in a browser of his own, is told where he is in line.
  const context = await browser.newContext();
  const bob = await context.newPage();
  await bob.goto(lab);
  await join(bob, "Bob");
  await hydrated(bob);
  const host = bob.locator(".terminal-host:not([hidden])");
  await expect(host).toHaveAttribute("data-status", "queued", { timeout: 20_000 });
  await expect(host.locator(".terminal-banner")).toContainText("you are number 1 in line for a sandbox (about");
  await bob.screenshot({ path: `${screenshots}/queued.png` });

  // The instructor restarts Ada's sandbox: Bob, first in line, takes the place it frees, and his
  // terminal opens by itself.
  const restarted = await page.request.post(`${full}/api/instructor/help`, {
    headers: { authorization: `Bearer ${instructorToken}`, origin: full },
    data: { action: "reset", learner: ada.learner_id, wipe: false },
  });
  expect(restarted.ok()).toBeTruthy();
  expect((await restarted.json()).message).toContain("The class is full");
  await expect(host).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await host.locator(".xterm").click();
  await bob.keyboard.type("echo bob-$((6*7))\n");
  await expect.poll(() => terminalText(bob)).toContain("bob-42");

  // Ada is now the one waiting.
  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", /queued|reconnecting|stopped|ended/, {
    timeout: 20_000,
  });
  await context.close();
});
