import { test, expect, hydrated, join, terminalText, screenshots } from "./fixtures";

// The cluster tier end to end: opening a lab that needs it starts the learner's own
// single-node Kubernetes in their sandbox (the page follows its progress), and kubectl in
// their terminal talks to it. How long it takes is in the book's bench table (docs/src/benchmarks.md), not here.
test("a cluster lab brings up the learner's own Kubernetes and kubectl works", async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto("/labs/kubectl-run");
  await join(page, "Kelsey");
  await hydrated(page);

  const status = page.locator(".tier-status");
  await expect(status).toBeVisible({ timeout: 30_000 });
  await expect(status).toHaveClass(/ready/, { timeout: 240_000 });
  await expect(status).toContainText("Your cluster is up.");

  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await page.locator(".terminal-host:not([hidden]) .xterm").click();
  // Two commands, as the step asks (its check looks for each in the learner's command log).
  await page.keyboard.type("kubectl get nodes\n");
  await expect.poll(() => terminalText(page), { timeout: 30_000 }).toMatch(/\sReady\s/);
  await page.keyboard.type("kubectl get pods -A\n");
  await expect(page.locator('.step-item[data-step="the-node"]')).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  await page.screenshot({ path: `${screenshots}/cluster.png` });
});
