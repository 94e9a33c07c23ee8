import { test, expect, hydrated, join, screenshots } from "./fixtures";

test("a step turns green by itself after the Run buttons", async ({ page }) => {
  await page.goto("/labs/netns-veth");
  await join(page, "Grace");
  await hydrated(page);
  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });

  const step = page.locator('.step-item[data-step="netns"]');
  await expect(step).not.toHaveAttribute("data-state", "done");
  // Run the step's commands with its Run buttons (nobody presses Check).
  const buttons = page.locator(".step .prose button.run");
  await expect(buttons).toHaveCount(2);
  await buttons.nth(0).click();
  await page.waitForTimeout(300);
  await buttons.nth(1).click();
  await expect(step).toHaveAttribute("data-state", "done", { timeout: 15_000 });
  await expect(page.locator(".check-result")).toHaveAttribute("data-state", "done");
  await expect(page.locator(".check-result")).toContainText("demo-ns exists");

  // The next step: a hint on request, the reason the check gives.
  await page.getByRole("link", { name: "Next step →" }).click();
  await expect(page).toHaveURL(/steps\/2$/);
  await page.getByRole("button", { name: /Show a hint/ }).click();
  await expect(page.locator(".hint").first()).toContainText("veth");
  await page.getByRole("button", { name: "Check", exact: true }).click();
  await expect(page.locator(".check-result")).toContainText("veth-host needs the address 10.0.0.1/24");
  await page.screenshot({ path: `${screenshots}/lab.png` });
});

test("a learner's deck follows the instructor's slide", async ({ browser, page }) => {
  await page.goto("/decks/containers-to-kubernetes");
  await hydrated(page);
  await expect(page.locator(".slide.current")).toHaveAttribute("data-slide", "1");

  const instructor = await browser.newPage();
  await instructor.goto("/instructor/login?token=e2e-instructor-token-0001");
  await instructor.goto("/decks/containers-to-kubernetes/present/1");
  await hydrated(instructor);
  await instructor.getByRole("button", { name: "Next →" }).click();
  await instructor.getByRole("button", { name: "Next →" }).click();
  // How fast is measured by `scripts/bench follow`, not asserted here.
  await expect(page.locator(".slide.current")).toHaveAttribute("data-slide", "3");
  await expect(page).toHaveURL(/containers-to-kubernetes\/3$/);
  await expect(instructor.locator(".presenter-notes")).toContainText("demystify");

  // Browsing away stops following; "Go live" comes back.
  await page.keyboard.press("ArrowRight");
  await expect(page.locator(".slide.current")).toHaveAttribute("data-slide", "4");
  await instructor.getByRole("button", { name: "Next →" }).click();
  await page.waitForTimeout(500);
  await expect(page.locator(".slide.current")).toHaveAttribute("data-slide", "4");
  await page.getByRole("button", { name: "Go live" }).click();
  await expect(page.locator(".slide.current")).toHaveAttribute("data-slide", "4");
  await instructor.getByRole("button", { name: "Next →" }).click();
  await expect(page.locator(".slide.current")).toHaveAttribute("data-slide", "5");
  await page.screenshot({ path: `${screenshots}/slide.png` });
  await instructor.screenshot({ path: `${screenshots}/presenter.png` });
  await instructor.close();
});

test("quiz answers are scored on the server, and the page never had the answer", async ({ page }) => {
  // Every page and data payload the browser receives before answering (not the code).
  const bodies: string[] = [];
  page.on("response", async (response) => {
    const type = response.headers()["content-type"] ?? "";
    if (!/html|json|text\/plain|event-stream/.test(type)) return;
    try {
      bodies.push(await response.text());
    } catch {}
  });
  await page.goto("/labs/is-this-a-vm");
  await join(page, "Linus");
  await page.goto("/labs/is-this-a-vm/steps/3");
  await hydrated(page);
  const quiz = page.locator('form.quiz[data-question="dmesg-denied"]');
  await expect(quiz).toBeVisible();
  const rightExplanation = "Reading the kernel";
  const html = await page.content();
  for (const text of [html, ...bodies]) {
    expect(text).not.toContain(rightExplanation);
    expect(text).not.toContain("correct_choices");
  }

  // Wrong first (it is graded), then right.
  await quiz.getByLabel(/has no dmesg program/).check();
  await quiz.getByRole("button", { name: "Answer" }).click();
  await expect(quiz.locator(".quiz-verdict")).toContainText("Not quite.");
  await expect(quiz.locator('.choice[data-verdict="right"] .explanation')).toContainText(rightExplanation);
  await quiz.getByLabel(/You are root only/).check();
  await quiz.getByRole("button", { name: "Answer again" }).click();
  await expect(quiz.locator(".quiz-verdict")).toContainText("Right!");
  await expect(quiz.locator(".quiz-verdict")).toContainText("Graded: 0 points");

  // Stored: after a reload the latest answer is the one shown, graded by the first.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('form.quiz[data-question="dmesg-denied"] .quiz-verdict')).toContainText("Right!");
  await expect(page.locator('form.quiz[data-question="dmesg-denied"] .quiz-verdict')).toContainText("Graded: 0 points");
});
