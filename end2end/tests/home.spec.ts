import { test, expect, hydrated, screenshots } from "./fixtures";

test("home page lists the labs, hydrates, and filters by tier", async ({ page, request }) => {
  // The server-rendered HTML already has the content: useful before (and without) the wasm.
  const html = await (await request.get("/")).text();
  expect(html).toContain("Bare metal to VMs");
  expect(html).toContain("From containers to Kubernetes");
  expect(html).toContain("Is this a VM?");

  await page.goto("/");
  await hydrated(page);

  const cards = page.locator(".lab-card");
  const total = await cards.count();
  expect(total).toBeGreaterThan(1);

  // Interactive: a tier filter hides labs that do not use that tier.
  const all = page.locator('.chip[data-tier="all"]');
  await expect(all).toHaveAttribute("aria-pressed", "true");
  const shell = page.locator('.chip[data-tier="shell"]');
  await shell.click();
  await expect(shell).toHaveAttribute("aria-pressed", "true");
  await expect(all).toHaveAttribute("aria-pressed", "false");
  for (const card of await cards.all()) {
    const tiers = await card.locator(".tier").allTextContents();
    if (tiers.includes("shell")) await expect(card).toBeVisible();
    else await expect(card).toBeHidden();
  }
  await all.click();
  await expect(cards.filter({ visible: true })).toHaveCount(total);

  await page.screenshot({ path: `${screenshots}/home.png`, fullPage: true });
});
