// The live classroom, as the people in it meet it: a learner raises their hand and the
// instructor helps from the queue (claim, watch the terminal, chat, resolve); "eyes on me"
// covers every learner's page and gives it back with the terminal's session as it was.
import { Browser, Page } from "@playwright/test";
import { test, expect, hydrated, learnerOnNetnsLab, terminalText, screenshots } from "./fixtures";

const own = ".terminal-host:not([hidden])";
const instructorLogin = "/instructor/login?token=e2e-instructor-token-0001";

async function dashboardOf(browser: Browser, learner: Page) {
  const me = await (await learner.request.get("/api/me")).json();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(instructorLogin);
  await page.goto(`/instructor/classes/${me.class_id}`);
  await hydrated(page);
  return page;
}

test("a raised hand: queued, claimed, the terminal watched, a chat, resolved", async ({ browser }) => {
  const ana = await learnerOnNetnsLab(browser, "Ana Help");
  const dashboard = await dashboardOf(browser, ana);
  await expect(dashboard.locator(".help-queue")).toContainText("No hands up.");

  // Ana is on the first step; a check has failed there. She asks for help with a note.
  await ana.locator(`${own} .xterm`).click();
  await ana.keyboard.type("echo typed-by-ana-$((6*7))\n");
  await ana.getByRole("button", { name: "Check", exact: true }).click();
  await expect(ana.locator(".check-result")).toHaveAttribute("data-state", "failed");
  await ana.getByRole("button", { name: "Ask for help" }).click();
  await ana.getByLabel("What are you stuck on?").fill("My namespace has no loopback");
  await ana.getByRole("button", { name: "Raise my hand" }).click();
  await expect(ana.locator(".help-toggle")).toHaveText("Hand raised");

  // The queue shows it live, with the note, the step and what its check said.
  const hand = dashboard.locator(".hand", { hasText: "Ana Help" });
  await expect(hand).toBeVisible();
  await expect(hand.locator(".hand-note")).toHaveText("My namespace has no loopback");
  await expect(hand.locator(".hand-step")).toContainText("An empty network namespace");
  await expect(hand.locator(".hand-reason")).toContainText("Check:");
  await expect(hand.locator(".waited")).toContainText("waiting");
  await dashboard.screenshot({ path: `${screenshots}/help-queue.png` });

  // Claiming opens her panel with her terminal, and tells her who is looking.
  await hand.getByRole("button", { name: "Claim" }).click();
  await expect(ana.locator(".help-toggle")).toHaveText("The instructor is looking at your terminal");
  const panel = dashboard.locator(".learner-panel");
  await expect(panel.locator("h2")).toHaveText("Ana Help");
  await expect(panel.locator(".panel-hand")).toContainText("My namespace has no loopback");
  const watch = dashboard.locator(".terminal-host.watch");
  await expect(watch).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await expect.poll(async () => (await watch.locator(".xterm-rows").innerText()).replace(/\u00a0/g, " ")).toContain("typed-by-ana-42");

  // A chat: the instructor writes, Ana reads it and answers with markup and a script, which
  // both sides show as the text she typed.
  await panel.getByPlaceholder("Message to Ana Help").fill("Try: ip netns exec demo-ns ip link set lo up");
  await panel.getByRole("button", { name: "Send" }).click();
  await expect(ana.locator(".message", { hasText: "ip link set lo up" })).toBeVisible();
  // Her help panel is still open from raising her hand; the thread is in it.
  await expect(ana.locator("#help-panel")).toBeVisible();
  await expect(ana.locator("#help-panel .thread-message")).toContainText(["ip link set lo up"]);
  const hostile = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold</b>`;
  await ana.getByPlaceholder("Write to your instructor").fill(hostile);
  await ana.getByRole("button", { name: "Send", exact: true }).click();
  const answer = panel.locator(".thread-message", { hasText: "<script>" });
  await expect(answer).toBeVisible();
  await expect(answer.locator("p")).toHaveText(hostile);
  await expect(answer.locator("img, script, b")).toHaveCount(0);
  await expect(ana.locator("#help-panel .thread-message.mine p")).toHaveText(hostile);
  expect(await dashboard.evaluate(() => (window as any).pwned)).toBeUndefined();
  expect(await ana.evaluate(() => (window as any).pwned)).toBeUndefined();
  await dashboard.screenshot({ path: `${screenshots}/help-panel.png` });

  // Resolved: the hand goes down on her page and leaves the queue; the thread stays.
  await panel.locator(".panel-hand").getByRole("button", { name: "Resolve" }).click();
  await expect(ana.locator(".help-toggle")).toHaveText("Ask for help");
  await expect(dashboard.locator(".help-queue")).toContainText("No hands up.");

  // She can raise it again and lower it herself.
  await ana.getByRole("button", { name: "Raise my hand" }).click();
  await expect(dashboard.locator(".hand", { hasText: "Ana Help" })).toBeVisible();
  await ana.getByRole("button", { name: "Lower my hand" }).click();
  await expect(dashboard.locator(".help-queue")).toContainText("No hands up.");
  await ana.context().close();
  await dashboard.context().close();
});

test("eyes on me covers every learner's page and gives it back as it was", async ({ browser }) => {
  const ben = await learnerOnNetnsLab(browser, "Ben Eyes");
  const cy = await learnerOnNetnsLab(browser, "Cy Eyes");
  await ben.locator(`${own} .xterm`).click();
  await ben.keyboard.type("echo shell-$$\n");
  await expect.poll(() => terminalText(ben)).toMatch(/shell-\d+/);
  const pid = (await terminalText(ben)).match(/shell-(\d+)/)![1];

  const dashboard = await dashboardOf(browser, ben);
  await dashboard.getByLabel("Eyes on me message").fill("Look at the projector: demo of veth pairs");
  await dashboard.getByRole("button", { name: "Eyes on me" }).click();
  for (const page of [ben, cy]) {
    await expect(page.locator(".eyes-on-me")).toContainText("Look at the projector: demo of veth pairs");
  }
  await ben.screenshot({ path: `${screenshots}/eyes-on-me.png` });
  // A page opened meanwhile is covered too.
  await cy.reload();
  await expect(cy.locator(".eyes-on-me")).toContainText("Look at the projector");

  await dashboard.getByRole("button", { name: "Release the pages" }).click();
  for (const page of [ben, cy]) {
    await expect(page.locator(".eyes-on-me")).toHaveCount(0);
  }
  // The same shell, never reconnected: its process and its screen are as they were.
  await expect(ben.locator(own)).toHaveAttribute("data-status", "live");
  await ben.locator(`${own} .xterm`).click();
  await ben.keyboard.type("echo again-$$\n");
  await expect.poll(() => terminalText(ben)).toContain(`again-${pid}`);
  expect(await terminalText(ben)).toContain(`shell-${pid}`);
  for (const page of [ben, cy, dashboard]) await page.context().close();
});

test("a teaching assistant claims a hand and watches, but cannot reset", async ({ browser }) => {
  const dee = await learnerOnNetnsLab(browser, "Dee Assist");
  const dashboard = await dashboardOf(browser, dee);
  // The instructor adds Sam; the login link is shown once.
  await dashboard.getByText("Teaching assistants").click();
  await dashboard.getByLabel("Assistant's name").fill("Sam");
  await dashboard.getByRole("button", { name: "Add assistant" }).click();
  const link = await dashboard.getByLabel("Login link for Sam").inputValue();
  expect(link).toContain("/staff/login?token=");

  const sam = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await sam.goto(link);
  await expect(sam).toHaveURL(/\/instructor\/classes\/c\w+$/);
  await hydrated(sam);
  await expect(sam.locator(".staff-name")).toHaveText("Assistant: Sam");
  await expect(sam.getByRole("button", { name: "Send to class" })).toBeHidden();

  await dee.getByRole("button", { name: "Ask for help" }).click();
  await dee.getByRole("button", { name: "Raise my hand" }).click();
  const hand = sam.locator(".hand", { hasText: "Dee Assist" });
  await hand.getByRole("button", { name: "Claim" }).click();
  await expect(dee.locator(".help-toggle")).toHaveText("Sam is looking at your terminal");
  const panel = sam.locator(".learner-panel");
  await expect(sam.locator(".terminal-host.watch")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await expect(panel.getByRole("button", { name: /Reset sandbox/ })).toBeHidden();
  await expect(panel.getByRole("button", { name: "Take over…" })).toBeHidden();
  await panel.getByPlaceholder("Message to Dee Assist").fill("Sam here: look at ip link");
  await panel.getByRole("button", { name: "Send" }).click();
  await expect(dee.locator(".message", { hasText: "Sam here" })).toContainText("Sam to you");

  // The instructor's actions are refused to Sam even when asked for directly.
  const me = await (await dee.request.get("/api/me")).json();
  const reset = await sam.request.post("/api/instructor/help", {
    data: { action: "reset", learner: me.learner_id, wipe: true },
    headers: { origin: new URL(sam.url()).origin },
  });
  expect(reset.status()).toBe(403);
  await panel.locator(".panel-hand").getByRole("button", { name: "Resolve" }).click();
  await expect(dee.locator(".help-toggle")).toHaveText("Ask for help");
  for (const page of [dee, dashboard, sam]) await page.context().close();
});

test("a spotlight shows one learner's terminal on another learner's deck and on the presenter's screen", async ({ browser }) => {
  const ana = await learnerOnNetnsLab(browser, "Ana Spot");
  const ben = await learnerOnNetnsLab(browser, "Ben Spot");
  await ben.goto("/decks/bare-metal-to-vms");
  await hydrated(ben);
  await ana.locator(`${own} .xterm`).click();
  await ana.keyboard.type("echo solved-by-ana-$((6*7))\n");
  await expect.poll(() => terminalText(ana)).toContain("solved-by-ana-42");

  const dashboard = await dashboardOf(browser, ana);
  await dashboard.locator("tr[data-learner]", { hasText: "Ana Spot" }).getByRole("button", { name: "Ana Spot" }).click();
  await expect(dashboard.locator(".terminal-host.watch")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await dashboard.getByRole("button", { name: "Spotlight to the class" }).click();
  // Nothing is shown before Ana agrees.
  await expect(ana.locator(".spotlight-ask")).toContainText("to the class");
  await expect(dashboard.locator(".panel-spotlight")).toContainText("Waiting for them to agree");
  await expect(ben.locator(".spotlight-card")).toHaveCount(0);
  await ana.getByRole("button", { name: "Show it" }).click();
  await expect(ana.locator(".spotlight-mine")).toContainText("Your terminal is shown");

  const card = ben.locator(".spotlight-card");
  await expect(card).toContainText("Ana Spot's terminal");
  await expect(card.locator(".terminal-host.watch")).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await expect.poll(async () => (await card.locator(".xterm-rows").innerText()).replace(/\u00a0/g, " ")).toContain("solved-by-ana-42");
  await ben.screenshot({ path: `${screenshots}/spotlight-on-deck.png` });

  // The presenter's screen shows it in place of the slide.
  const presenter = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await presenter.goto(instructorLogin);
  await presenter.goto("/decks/bare-metal-to-vms/present/1");
  await hydrated(presenter);
  await expect(presenter.locator(".presenter-spotlight")).toContainText("Ana Spot's terminal");
  await expect(presenter.locator(".presenter-spotlight .terminal-host.watch")).toHaveAttribute("data-status", "live", { timeout: 20_000 });

  // Ending it gives every page back as it was.
  await dashboard.getByRole("button", { name: "End spotlight" }).click();
  await expect(card).toHaveCount(0);
  await expect(ana.locator(".spotlight-mine")).toHaveCount(0);
  await expect(presenter.locator(".presenter-current.slide")).toBeVisible();
  for (const page of [ana, ben, dashboard, presenter]) await page.context().close();
});
