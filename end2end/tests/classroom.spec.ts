// Faults a real class met in its first hour, each as the people in the room meet it: a learner
// who thinks for a while, a server killed mid-lab, a dashboard flag that cried wolf, the
// instructor's watch view after a reset and on a laptop screen.
import { Browser, Page } from "@playwright/test";
import { test, expect, hydrated, join, terminalText, screenshots, OwnServer, visibleRows } from "./fixtures";

const own = ".terminal-host:not([hidden])";
const port = Number(process.env.STACKLAB_E2E_PORT ?? 3100);
const base = `http://127.0.0.1:${port}`;
const dataRoot = process.env.STACKLAB_E2E_DATA ?? "/tmp/stacklab-e2e";
const instructorLogin = "/instructor/login?token=e2e-instructor-token-0001";

async function typeInTerminal(page: Page, text: string) {
  await page.locator(`${own} .xterm`).click();
  await page.keyboard.type(text);
}

/** A learner of the default class, joined from the netns lab with their terminal live. */
async function learnerOnNetnsLab(browser: Browser, base: string, name: string, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${base}/labs/netns-veth`);
  await join(page, name);
  await hydrated(page);
  await expect(page.locator(own)).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  return page;
}

/** The instructor's dashboard of `learner`'s class, at laptop size. */
async function instructorDashboard(browser: Browser, base: string, learner: Page) {
  const me = await (await learner.request.get(`${base}/api/me`)).json();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(`${base}${instructorLogin}`);
  await page.goto(`${base}/instructor/classes/${me.class_id}`);
  await hydrated(page);
  return page;
}

test.describe("a learner's step turns green by itself", () => {
  // `--away-after 4s`: a learner who left lapses after 4 s, so a learner who is *here* but
  // idle for longer must still be checked.
  const server = new OwnServer(port + 10, `${dataRoot}-own-away`, "stacklab-e2e-own", ["--away-after", "4s"]);
  test.beforeAll(async () => server.start());
  test.afterAll(async () => server.stop());

  test("after reading for longer than the time-out", async ({ browser }) => {
    const page = await learnerOnNetnsLab(browser, server.url, "Thinker");
    const step = page.locator('.step-item[data-step="netns"]');
    await expect(step).toHaveAttribute("data-state", "started");
    // Reading, thinking, asking a neighbour: no key for three times the time-out.
    await page.waitForTimeout(12_000);
    await typeInTerminal(page, "ip netns add demo-ns && ip netns exec demo-ns ip link set lo up\n");
    await expect(step).toHaveAttribute("data-state", "done", { timeout: 15_000 });
    await expect(page.locator(".check-result")).toContainText("demo-ns exists");
    await page.context().close();
  });

  test("after the server is killed and started again, with the screen as it was", async ({ browser }) => {
    const page = await learnerOnNetnsLab(browser, server.url, "Survivor");
    await typeInTerminal(page, "ip netns add demo-ns && ip netns exec demo-ns ip link set lo up && echo before-$((6*7))\n");
    await expect(page.locator('.step-item[data-step="netns"]')).toHaveAttribute("data-state", "done", { timeout: 15_000 });
    await page.getByRole("link", { name: "Next step →" }).click();
    await expect(page).toHaveURL(/steps\/2$/);
    // The screen is saved once a second: give it that.
    await page.waitForTimeout(1500);

    await server.kill9();
    await expect(page.locator(own)).toHaveAttribute("data-status", "reconnecting", { timeout: 10_000 });
    await server.start();
    await expect(page.locator(own)).toHaveAttribute("data-status", "live", { timeout: 30_000 });
    // The learner's screen after the crash looks like before it (then a new shell).
    await expect.poll(() => terminalText(page)).toContain("the server restarted");
    const screen = await terminalText(page);
    expect(screen.indexOf("before-42"), screen).toBeGreaterThan(-1);
    expect(screen.indexOf("before-42")).toBeLessThan(screen.indexOf("the server restarted"));

    // The page left open completes the next step by itself: nobody presses Check or reloads.
    const veth = page.locator('.step-item[data-step="veth"]');
    await expect(veth).not.toHaveAttribute("data-state", "done");
    await typeInTerminal(
      page,
      "ip link add veth-host type veth peer name veth-ns && ip link set veth-ns netns demo-ns && " +
        "ip addr add 10.0.0.1/24 dev veth-host && ip link set veth-host up && " +
        "ip netns exec demo-ns ip addr add 10.0.0.2/24 dev veth-ns && ip netns exec demo-ns ip link set veth-ns up\n",
    );
    await expect(veth).toHaveAttribute("data-state", "done", { timeout: 20_000 });
    await page.screenshot({ path: `${screenshots}/after-restart.png` });
    await page.context().close();
  });
});

test("only real attempts flag a learner as failing: not looking around, not the instructor's commands", async ({ browser }) => {
  // Ten commands, each given time for its (debounced) check.
  test.setTimeout(120_000);
  const learner = await learnerOnNetnsLab(browser, base, "Reader");
  const dashboard = await instructorDashboard(browser, base, learner);
  const row = dashboard.locator("tr[data-learner]", { hasText: "Reader" });
  await expect(row).toBeVisible();
  const check = learner.locator(".check-result");
  const checked = async () => {
    // Each command's check has run when the reason is shown (debounced 0.4 s after it).
    await expect(check).toContainText("Create the namespace", { timeout: 10_000 });
    await learner.waitForTimeout(1200);
  };

  // Looking around, four times over, each followed by a check that fails.
  for (const command of ["ls /", "cat /etc/os-release", "ip link show", "ip netns list"]) {
    await typeInTerminal(learner, `${command}\n`);
    await checked();
  }
  await dashboard.waitForTimeout(3500);
  await expect(row.locator(".flag")).toHaveCount(0);

  // The instructor takes over and tries three things that do not pass.
  await row.getByRole("button", { name: "Reader" }).click();
  dashboard.once("dialog", (d) => d.accept());
  await dashboard.getByRole("button", { name: "Take over…" }).click();
  const watch = dashboard.locator(".terminal-host.watch");
  await expect(watch).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  for (const name of ["help-1", "help-2", "help-3"]) {
    await watch.locator(".xterm").click();
    await dashboard.keyboard.type(`ip netns add ${name}\n`);
    await checked();
  }
  await dashboard.getByRole("button", { name: "Stop typing (read-only)" }).click();
  await dashboard.waitForTimeout(3500);
  await expect(row.locator(".flag")).toHaveCount(0);

  // The learner's own three misses do flag them: the flag still works.
  for (const name of ["mine-1", "mine-2", "mine-3"]) {
    await typeInTerminal(learner, `ip netns add ${name}\n`);
    await checked();
  }
  await expect(row.locator(".flag")).toContainText("failing ×3", { timeout: 10_000 });
  await learner.context().close();
  await dashboard.context().close();
});

test("the watch view follows a reset learner to their new shell, and always shows their latest line", async ({ browser }) => {
  // A tall window: the learner's terminal has many more rows than the panel's box.
  const learner = await learnerOnNetnsLab(browser, base, "Tall", { width: 1280, height: 1100 });
  await typeInTerminal(learner, "seq 1 80; echo latest-$((6*7))\n");
  await expect.poll(() => terminalText(learner)).toContain("latest-42");

  const dashboard = await instructorDashboard(browser, base, learner);
  const row = dashboard.locator("tr[data-learner]", { hasText: "Tall" });
  await row.getByRole("button", { name: "Tall" }).click();
  const watch = dashboard.locator(".terminal-host.watch");
  await expect(watch).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  // Without scrolling anything, the learner's latest line and prompt are inside the view.
  await expect.poll(async () => (await visibleRows(dashboard, ".terminal-host.watch")).join("\n")).toContain("latest-42");
  await typeInTerminal(learner, "echo newest-$((7*7))\n");
  await expect.poll(async () => (await visibleRows(dashboard, ".terminal-host.watch")).join("\n")).toContain("newest-49");
  // One scroll container at most: the view itself never scrolls.
  const scrolls = await watch.evaluate((el) => el.scrollHeight > el.clientHeight + 1 && getComputedStyle(el).overflowY !== "hidden");
  expect(scrolls).toBe(false);
  await dashboard.screenshot({ path: `${screenshots}/watch-view.png` });

  // The instructor restarts the learner's sandbox: the view says the shell ended, and follows the
  // learner to the shell they open next.
  dashboard.once("dialog", (d) => d.accept());
  await dashboard.getByRole("button", { name: "Restart sandbox" }).click();
  await expect(watch).toHaveAttribute("data-status", /ended|error|reconnecting/, { timeout: 20_000 });
  await expect(learner.locator(own)).toHaveAttribute("data-status", /ended|stopped/, { timeout: 20_000 });
  await learner.locator(`${own} .terminal-banner button`).click();
  await expect(learner.locator(own)).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await typeInTerminal(learner, "echo after-reset-$((8*8))\n");
  await expect(watch).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await expect.poll(async () => (await visibleRows(dashboard, ".terminal-host.watch")).join("\n"), { timeout: 15_000 }).toContain("after-reset-64");
  await learner.context().close();
  await dashboard.context().close();
});

test("the dashboard fits a 1280 x 800 laptop with the help panel open, labs in course order", async ({ browser }) => {
  const learner = await learnerOnNetnsLab(browser, base, "Laptop");
  const dashboard = await instructorDashboard(browser, base, learner);

  // Labs in the course's teaching order, the first title whole.
  const heads = await dashboard.locator("th.lab-head").evaluateAll((ths) => ths.map((th) => th.getAttribute("title")));
  expect(heads).toEqual([
    "Is this a VM?",
    "Binary translation vs hardware assist",
    "Linux is the hypervisor",
    "Demo 1: a container from scratch",
    "Demo 2: a network namespace and a veth cable",
    "Demo 3: a memory limit and the OOM killer",
    "Dockerfiles: multi-stage, non-root, cached — and a pod",
    "Demo 4: crictl basics",
    "What happens when you type kubectl run",
  ]);
  const first = dashboard.locator("th.lab-head").first();
  const clipped = await first.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return range.getBoundingClientRect().left < el.getBoundingClientRect().left - 1;
  });
  expect(clipped).toBe(false);
  // Every step column in sight: no sideways scrolling.
  const wrap = dashboard.locator(".matrix-wrap");
  const fits = () => wrap.evaluate((el) => `${el.scrollWidth} of ${el.clientWidth} px`);
  const overflows = async () => wrap.evaluate((el) => el.scrollWidth > el.clientWidth + 1);
  expect(await overflows(), await fits()).toBe(false);

  // The panel open: the whole toolbar is there to click, and the class still fits.
  const row = dashboard.locator("tr[data-learner]", { hasText: "Laptop" });
  await row.getByRole("button", { name: "Laptop" }).click();
  await expect(dashboard.locator(".learner-panel")).toBeVisible();
  for (const name of ["Grades CSV", "JSON", "Edit class", "Send to class", "Start sandboxes"]) {
    const control = dashboard.getByRole(/Send|Start|Edit/.test(name) ? "button" : "link", { name, exact: true });
    const box = (await control.boundingBox())!;
    const hit = await dashboard.evaluate(
      ([x, y]) => document.elementFromPoint(x, y)?.closest("a, button")?.textContent?.trim(),
      [box.x + box.width / 2, box.y + box.height / 2],
    );
    expect(hit, `${name} is visible and not covered`).toBe(name);
  }
  expect(await overflows(), await fits()).toBe(false);
  await expect(dashboard.locator(".terminal-host.watch")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await dashboard.screenshot({ path: `${screenshots}/dashboard-help-panel.png` });
  await learner.context().close();
  await dashboard.context().close();
});

test("small things: the latest quiz answer, the presenter's timer and slide, toasts beside the terminal", async ({ browser, page }) => {
  // A quiz answered wrong, then right, shows the right (latest) answer after a reload; the
  // grade stays the first answer's.
  await page.goto("/labs/is-this-a-vm");
  await join(page, "Again");
  await page.goto("/labs/is-this-a-vm/steps/3");
  await hydrated(page);
  const quiz = page.locator('form.quiz[data-question="dmesg-denied"]');
  await quiz.getByLabel(/has no dmesg program/).check();
  await quiz.getByRole("button", { name: "Answer" }).click();
  await expect(quiz.locator(".quiz-verdict")).toContainText("Not quite.");
  await quiz.getByLabel(/You are root only/).check();
  await quiz.getByRole("button", { name: "Answer again" }).click();
  await expect(quiz.locator(".quiz-verdict")).toContainText("Right!");
  await page.reload();
  await hydrated(page);
  await expect(quiz.locator(".quiz-verdict")).toContainText("Right!");
  await expect(quiz.locator(".quiz-verdict")).toContainText("Graded: 0 points");
  await expect(quiz.getByLabel(/You are root only/)).toBeChecked();

  // A message from the instructor does not cover the terminal.
  await page.goto("/labs/netns-veth");
  await hydrated(page);
  await expect(page.locator(own)).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  const me = await (await page.request.get("/api/me")).json();
  const sent = await page.request.post("/api/instructor/help", {
    headers: { authorization: "Bearer e2e-instructor-token-0001", origin: base },
    data: { action: "message", class: me.class_id, learner: me.learner_id, body: "Look at step 2 when you can" },
  });
  expect(sent.ok()).toBeTruthy();
  const toast = page.locator(".message", { hasText: "Look at step 2" });
  await expect(toast).toBeVisible();
  const [t, term] = [(await toast.boundingBox())!, (await page.locator(".terminal-pane").boundingBox())!];
  const overlaps = t.x < term.x + term.width && term.x < t.x + t.width && t.y < term.y + term.height && term.y < t.y + t.height;
  expect(overlaps, "the message covers the terminal").toBe(false);

  // The presenter: the first slide keeps its layout class; no timer label runs into its value.
  const presenter = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await presenter.goto(instructorLogin);
  await presenter.goto("/decks/bare-metal-to-vms/present/1");
  await hydrated(presenter);
  await expect(presenter.locator(".presenter-current")).toHaveClass(/\btitle\b/);
  const overlapping = await presenter.locator(".presenter-timer dt").evaluateAll((labels) =>
    labels.filter((dt) => {
      const dd = dt.nextElementSibling!;
      const range = document.createRange();
      range.selectNodeContents(dt);
      return range.getBoundingClientRect().right > dd.getBoundingClientRect().left;
    }).length,
  );
  expect(overlapping).toBe(0);
  await presenter.screenshot({ path: `${screenshots}/presenter-title.png` });
  await presenter.context().close();
});
