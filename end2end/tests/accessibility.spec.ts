// Everyone in the room: axe-core on every page (signed out, as a learner, as the instructor),
// a learner who does a lab by keyboard alone, and what a screen reader is told as steps pass.
import AxeBuilder from "@axe-core/playwright";
import type { Page, Locator } from "@playwright/test";
import { test, expect, hydrated, learnerOnNetnsLab, terminalText } from "./fixtures";
import { instructorToken } from "../playwright.config";

/** axe-core's WCAG 2.2 A and AA rules and its best practices: no violation on `page`. */
async function noViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
  expect(found, `axe-core on ${what}`).toEqual([]);
}

test("every page passes axe-core: signed out, as a learner, as the instructor", async ({ browser, page }) => {
  for (const path of ["/", "/join", "/labs/netns-veth", "/decks/bare-metal-to-vms/14", "/instructor"]) {
    await page.goto(path);
    await hydrated(page);
    await noViolations(page, `${path} (signed out)`);
  }

  const learner = await learnerOnNetnsLab(browser, "Axel");
  await noViolations(learner, "the lab page with a live terminal");
  await learner.getByRole("button", { name: "Screen reader mode" }).click();
  await expect(learner.locator(".terminal-host:not([hidden]) .xterm-accessibility")).toBeAttached();
  await noViolations(learner, "the lab page in screen reader mode");
  for (const path of ["/", "/labs/netns-veth/steps/2", "/labs/is-this-a-vm/steps/3", "/decks/containers-to-kubernetes/3"]) {
    await learner.goto(path);
    await hydrated(learner);
    await noViolations(learner, `${path} (a learner)`);
  }
  await learner.context().close();

  await page.goto(`/instructor/login?token=${instructorToken}`);
  await expect(page).toHaveURL(/\/instructor$/);
  await hydrated(page);
  await noViolations(page, "the instructor's classes");
  const classes = await (await page.request.get("/api/instructor/classes")).json();
  await page.goto(`/instructor/classes/${classes[0].id}`);
  await hydrated(page);
  await expect(page.locator("table.matrix")).toBeVisible();
  await noViolations(page, "the class dashboard");
  await page.goto("/decks/bare-metal-to-vms/present/1");
  await hydrated(page);
  await noViolations(page, "the presenter's view");
});

/** Presses Tab (or Shift+Tab) until `target` has the focus, at most `limit` times; then the
 *  focus must be visible (an outline), as a keyboard user needs it to be. */
async function tabTo(page: Page, target: Locator, { back = false, limit = 150 } = {}) {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) {
      const outline = await target.evaluate((el) => getComputedStyle(el).outlineStyle);
      expect(outline, "the focused control shows its focus").not.toBe("none");
      return;
    }
    // In a terminal Tab completes: Escape first lets the next Tab move on.
    if (await page.evaluate(() => !!document.activeElement?.closest(".xterm"))) await page.keyboard.press("Escape");
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`${target} never got the focus by keyboard`);
}

test("a learner does a lab by keyboard alone: join, run, type, read, answer, browse", async ({ page }) => {
  await page.goto("/labs/netns-veth");
  await hydrated(page);
  // Join: the form's fields and button, by Tab and typing.
  await tabTo(page, page.getByLabel("Class code"));
  await page.keyboard.type("E2ECLASS");
  await tabTo(page, page.getByLabel("Your name"));
  await page.keyboard.type("Keya");
  await page.keyboard.press("Enter");
  await hydrated(page);
  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });

  // Step 1 by its Run buttons, each reached with Tab and pressed with Enter.
  const runs = page.locator(".step .prose button.run");
  await tabTo(page, runs.nth(0));
  await page.keyboard.press("Enter");
  await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("demo-ns");
  // Run typed into the terminal and left the focus there, to see the output: back to the page.
  await expect(page.locator(".terminal-host:not([hidden]) textarea")).toBeFocused();
  await tabTo(page, runs.nth(1), { back: true });
  await page.keyboard.press("Enter");
  const announcer = page.locator("#step-announcer");
  await expect(announcer).toHaveText("Step 1 passed: demo-ns exists, with loopback up", { timeout: 15_000 });

  // Step 2 by typing into the terminal, reached with the skip link.
  await tabTo(page, page.getByRole("link", { name: "Next step →" }), { back: true });
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/steps\/2$/);
  await tabTo(page, page.getByRole("link", { name: "Skip to terminal" }));
  await page.keyboard.press("Enter");
  await expect(page.locator(".terminal-host:not([hidden]) textarea")).toBeFocused();
  for (const line of [
    "ip link add veth-host type veth peer name veth-ns",
    "ip link set veth-ns netns demo-ns",
    "ip addr add 10.0.0.1/24 dev veth-host && ip link set veth-host up",
    "ip netns exec demo-ns ip addr add 10.0.0.2/24 dev veth-ns",
    "ip netns exec demo-ns ip link set veth-ns up",
  ]) {
    await page.keyboard.type(line + "\n");
  }
  // The result read from the page: the live region a screen reader hears, and the step's check.
  await expect(announcer).toHaveText("Step 2 passed: Both ends are addressed and up", { timeout: 15_000 });
  await expect(page.locator(".check-result")).toHaveAttribute("data-state", "done");
  // Back to the instructions from the terminal: the other skip link.
  await tabTo(page, page.getByRole("link", { name: "Skip to instructions" }), { back: true });
  await page.keyboard.press("Enter");
  await expect(page.locator("#instructions")).toBeFocused();

  // The split between the workbook and the terminal, moved by keyboard.
  const splitter = page.getByRole("separator", { name: "Resize the terminal" });
  await tabTo(page, splitter);
  const before = Number(await splitter.getAttribute("aria-valuenow"));
  await page.keyboard.press("ArrowRight");
  await expect(splitter).toHaveAttribute("aria-valuenow", String(before + 5));

  // A quiz, answered with the arrow keys and Enter.
  await page.goto("/labs/is-this-a-vm/steps/3");
  await hydrated(page);
  const quiz = page.locator('form.quiz[data-question="dmesg-denied"]');
  await tabTo(page, quiz.getByRole("radio").first());
  await page.keyboard.press("Space");
  await tabTo(page, quiz.getByRole("button", { name: "Answer" }));
  await page.keyboard.press("Enter");
  await expect(quiz.locator(".quiz-verdict")).toBeVisible();

  // A deck, slide to slide with the arrow keys.
  await page.goto("/decks/bare-metal-to-vms/1");
  await hydrated(page);
  await page.keyboard.press("ArrowRight");
  await expect(page.locator(".slide.current")).toHaveAttribute("data-slide", "2");
  await expect(page.locator(".slide-number")).toContainText("2 /");
});

test("screen reader mode is the learner's setting: remembered, and the terminal's output is text", async ({ browser }) => {
  const page = await learnerOnNetnsLab(browser, "Rena");
  const toggle = page.getByRole("button", { name: "Screen reader mode" });
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  // xterm.js's accessibility tree: the rows as text, and a live region for new output.
  const tree = page.locator(".terminal-host:not([hidden]) .xterm-accessibility");
  await expect(tree).toBeAttached();
  await page.locator(".terminal-host:not([hidden]) textarea").focus();
  await page.keyboard.type("echo spoken-$((6*7))\n");
  await expect(tree).toContainText("spoken-42");
  await expect(page.locator(".terminal-host:not([hidden]) .xterm-accessibility .live-region")).toBeAttached();

  // Kept with the learner: another page load has it on, and the terminal opens in that mode.
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("button", { name: "Screen reader mode" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".terminal-host:not([hidden]) .xterm-accessibility")).toBeAttached({ timeout: 20_000 });
  await page.context().close();
});
