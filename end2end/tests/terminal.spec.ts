import { test, expect, hydrated, join, terminalText, screenshots } from "./fixtures";

test("a learner types in the lab's terminal and gets the output back after a reload", async ({ page }) => {
  await page.goto("/labs/namespaces-from-scratch");
  // Not signed in yet: the lab shows the join form where the terminal will be.
  await join(page, "Ada");
  await expect(page).toHaveURL(/\/labs\/namespaces-from-scratch$/);
  await hydrated(page);

  const host = page.locator(".terminal-host:not([hidden])");
  await expect(host).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await host.locator(".xterm").click();
  await page.keyboard.type("echo hello-$((6*7)); hostname\n");
  await expect.poll(() => terminalText(page)).toContain("hello-42");
  const text = await terminalText(page);
  expect(text).toMatch(/lab-[a-z0-9]{12}/);

  await page.screenshot({ path: `${screenshots}/terminal.png` });

  // A reload reconnects to the same shell and replays what was there.
  await page.reload();
  await hydrated(page);
  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await expect.poll(() => terminalText(page)).toContain("hello-42");

  // The terminal fits its pane, and the shell hears about a new size.
  await page.locator(".terminal-host:not([hidden]) .xterm").click();
  await page.keyboard.type("stty size\n");
  await expect.poll(() => terminalText(page)).toMatch(/\n\d+ \d+\n/);
  const before = (await terminalText(page)).match(/\n(\d+ \d+)\n/)![1];
  await page.setViewportSize({ width: 1600, height: 1000 });
  await page.waitForTimeout(300);
  await page.keyboard.type("clear; stty size\n");
  await expect.poll(async () => (await terminalText(page)).match(/\n(\d+ \d+)\n/)?.[1]).not.toBe(before);

  // "Run" buttons in the lab's text type their command into the active terminal.
  const run = page.locator('button.run[data-run-command="lsns"]').first();
  await run.click();
  await expect.poll(() => terminalText(page)).toMatch(/NS\s+TYPE/);

  // A second terminal tab is its own shell.
  await page.getByRole("button", { name: "Open another terminal" }).click();
  const second = page.locator('.terminal-host[data-tab="2"]');
  await expect(second).toBeVisible();
  await expect(second).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await second.locator(".xterm").click();
  await page.keyboard.type("tty\n");
  await expect.poll(() => terminalText(page)).toContain("/dev/pts/");
  expect(await terminalText(page)).not.toContain("hello-42");
});
