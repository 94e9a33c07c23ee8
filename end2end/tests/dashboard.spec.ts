import { Page } from "@playwright/test";
import { test, expect, hydrated, screenshots } from "./fixtures";

/** The visible text of a terminal host element's screen. */
async function screen(page: Page, selector: string): Promise<string> {
  return (await page.locator(`${selector} .xterm-rows`).innerText()).replace(/\u00a0/g, " ");
}

/** One CSV record's fields (quoted fields may hold commas and doubled quotes). */
function fields(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === "," && !quoted) {
      out.push(field);
      field = "";
    } else {
      field += c;
    }
  }
  out.push(field);
  return out;
}

test("the instructor makes a class, sees it live, watches a terminal and exports grades", async ({ browser, page }) => {
  // `page` is the instructor's browser.
  await page.goto("/instructor/login?token=e2e-instructor-token-0001");
  await expect(page).toHaveURL(/\/instructor$/);
  await hydrated(page);
  const code = `PW${Date.now() % 1_000_000}`;
  await page.getByText("New class").click();
  await page.getByLabel("Name", { exact: true }).fill("Playwright class");
  await page.getByLabel(/Join code/).fill(code);
  await page.getByRole("button", { name: "Create class" }).click();
  await expect(page).toHaveURL(/\/instructor\/classes\/c\w+$/);
  const classId = page.url().split("/").pop()!;
  await expect(page.locator(".class-facts .join-code")).toHaveText(code);

  // Two learners join with the code, from their own browsers.
  const learners: Page[] = [];
  for (const name of ["Lin", "Max"]) {
    const context = await browser.newContext();
    const learner = await context.newPage();
    await learner.goto(`/join?code=${code}`);
    await learner.getByLabel("Your name").fill(name);
    await learner.getByRole("button", { name: "Join", exact: true }).click();
    await expect(learner.locator(".viewer-name")).toHaveText(name);
    learners.push(learner);
  }
  const [lin, max] = learners;
  // They appear on the dashboard without a reload.
  await expect(page.locator("tr[data-learner]")).toHaveCount(2);
  // By the name's button: a row's cells also hold their state in words, which may contain "lin".
  const linRow = page.locator("tr[data-learner]").filter({ has: page.getByRole("button", { name: "Lin", exact: true }) });
  const cell = linRow.locator('td[data-step="netns-veth/netns"]');
  await expect(cell).toHaveAttribute("data-state", "none");

  // Lin does the first step of the netns lab in her terminal; nobody presses Check.
  await lin.goto("/labs/netns-veth");
  await hydrated(lin);
  const own = ".terminal-host:not([hidden])";
  await expect(lin.locator(own)).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await lin.locator(`${own} .xterm`).click();
  await lin.keyboard.type("ip netns add demo-ns && ip netns exec demo-ns ip link set lo up && echo set-up-$((6*7))\n");
  await expect.poll(() => screen(lin, own)).toContain("set-up-42");
  // The dashboard shows it. (How fast is measured by `scripts/bench dashboard`.)
  await expect(cell).toHaveAttribute("data-state", "done", { timeout: 15_000 });

  await expect(linRow.locator("td.sandbox")).toHaveAttribute("data-state", /running|idle/);
  await cell.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${screenshots}/dashboard-matrix.png` });

  // The instructor opens Lin's terminal read-only and sees what she types.
  await linRow.getByRole("button", { name: "Lin" }).click();
  const watch = page.locator(".terminal-host.watch");
  await expect(watch).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await lin.locator(`${own} .xterm`).click();
  await lin.keyboard.type("echo watched-$((6*7))\n");
  await expect.poll(() => screen(page, ".terminal-host.watch")).toContain("watched-42");
  await page.screenshot({ path: `${screenshots}/dashboard.png` });

  // A message to the class reaches the learners' pages at once.
  await page.getByPlaceholder("Message to the whole class").fill("Break until 10:30");
  await page.getByRole("button", { name: "Send to class" }).click();
  await expect(max.locator(".message")).toContainText("Break until 10:30");
  await expect(lin.locator(".message")).toContainText("Break until 10:30");

  // The grades: one row per learner, Lin's step points in her total, Max's total 0.
  const response = await page.request.get(`/api/instructor/classes/${classId}/grades.csv`);
  expect(response.headers()["content-type"]).toContain("text/csv");
  const lines = (await response.text()).replace(/^\uFEFF/, "").trim().split("\r\n");
  expect(lines).toHaveLength(3);
  const header = fields(lines[0]);
  const netns = header.findIndex((h) => h.includes("An empty network namespace"));
  expect(netns).toBeGreaterThan(1);
  const linCells = fields(lines.find((l) => l.startsWith("Lin,"))!);
  const maxCells = fields(lines.find((l) => l.startsWith("Max,"))!);
  expect(Number(linCells[netns])).toBe(2);
  // The total, then the polls answered (participation, never in the total).
  const total = header.findIndex((h) => h.startsWith("Total"));
  expect(header[total + 1]).toMatch(/^Polls answered/);
  expect(Number(linCells[total])).toBe(2);
  expect(Number(maxCells[total])).toBe(0);

  await lin.context().close();
  await max.context().close();
});

test("learners cannot open the instructor's pages", async ({ page }) => {
  await page.goto(`/join?code=E2ECLASS`);
  await page.getByLabel("Your name").fill("Curious");
  await page.getByRole("button", { name: "Join", exact: true }).click();
  await expect(page.locator(".viewer-name")).toHaveText("Curious");
  await page.goto("/instructor");
  await expect(page.getByRole("heading", { name: "Instructor sign-in" })).toBeVisible();
  await expect(page.locator(".join-code")).toHaveCount(0);
});
