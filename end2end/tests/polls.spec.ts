// Live polls from the presenter: a quick question launched from the presenter's screen shows on
// three learners' pages at once (a lab, a deck, the home page), their answers build the
// histogram live, reveal shows the class the result; a slide with `poll = "..."` launches its
// quiz question when the presenter reaches it, and the right answer is marked on reveal.
import { Browser, Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { test, expect, hydrated, join, screenshots } from "./fixtures";

const instructorLogin = "/instructor/login?token=e2e-instructor-token-0001";
const deck = "bare-metal-to-vms";

/** The 1-based number of the deck's slide whose front matter has `marker` (slides are split
 *  on `---` lines outside code fences, as the loader does). */
function slideWith(marker: string): number {
  const text = readFileSync(`../labs/workshop/01-bare-metal-to-vms/${deck}.deck.md`, "utf8");
  const body = text.replace(/^\+\+\+\n[\s\S]*?\n\+\+\+\n/, "");
  let slide = 1;
  let fenced = false;
  for (const line of body.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (!fenced && line.trim() === "---") slide++;
    if (line.trim() === marker) return slide;
  }
  throw new Error(`no slide with ${marker}`);
}

async function learner(browser: Browser, name: string, path: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto("/join");
  await join(page, name);
  await expect(page.locator(".viewer-name")).toHaveText(name);
  await page.goto(path);
  await hydrated(page);
  return page;
}

test("a poll from the presenter: on every learner's page, a live histogram, the reveal", async ({ browser }) => {
  const presenter = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await presenter.goto(instructorLogin);
  await presenter.goto(`/decks/${deck}/present/1`);
  await hydrated(presenter);
  const learners = [
    await learner(browser, "Poll Lab", "/labs/netns-veth"),
    await learner(browser, "Poll Deck", `/decks/${deck}`),
    await learner(browser, "Poll Home", "/"),
  ];

  // A quick question with three choices.
  const panel = presenter.locator(".presenter-poll");
  await panel.getByLabel("Or a quick question").fill("Ready for the lab?");
  await panel.getByLabel("Choices, one per line").fill("Yes\nAlmost\nNo");
  await panel.getByRole("button", { name: "Ask the class" }).click();
  await expect(panel.locator(".poll-total")).toHaveText("0 answers");
  for (const page of learners) {
    await expect(page.locator(".poll-card .poll-prompt")).toHaveText("Ready for the lab?");
  }
  // Each answer shows on the presenter's histogram as it arrives.
  const picks = ["Yes", "Yes", "Almost"];
  for (const [i, page] of learners.entries()) {
    await page.locator(".poll-card").getByLabel(picks[i]).check();
    await page.locator(".poll-card").getByRole("button", { name: "Send" }).click();
    await expect(page.locator(".poll-card .poll-sent")).toContainText("Answer sent");
    await expect(panel.locator(".poll-total")).toHaveText(`${i + 1} answer${i ? "s" : ""}`);
  }
  await expect(panel.locator(".bar .bar-count")).toHaveText(["2", "1", "0"]);
  await presenter.screenshot({ path: `${screenshots}/presenter-poll.png` });
  await panel.getByRole("button", { name: "Reveal" }).click();
  for (const page of learners) {
    await expect(page.locator(".poll-card .bar .bar-count")).toHaveText(["2", "1", "0"]);
  }
  await expect(learners[2].locator(".poll-card .bar.mine")).toContainText("Almost");
  await learners[0].screenshot({ path: `${screenshots}/learner-poll-revealed.png` });

  // The slide that names a quiz question launches it; the reveal marks the right answer.
  await presenter.goto(`/decks/${deck}/present/${slideWith('poll = "docker-hypervisor"')}`);
  await hydrated(presenter);
  for (const page of learners) {
    await expect(page.locator(".poll-card .poll-prompt")).toContainText("hypervisor");
  }
  await learners[0].locator(".poll-card .poll-choice").nth(1).locator("input").check();
  await learners[0].locator(".poll-card").getByRole("button", { name: "Send" }).click();
  await expect(panel.locator(".poll-total")).toHaveText("1 answer");
  await panel.getByRole("button", { name: "Reveal" }).click();
  await expect(learners[1].locator(".poll-card .bar.correct")).toHaveCount(1);
  await expect(learners[0].locator(".poll-card .bar.correct.mine")).toHaveCount(1);
  await panel.getByRole("button", { name: "Close poll" }).click();
  for (const page of learners) {
    await expect(page.locator(".poll-card")).toHaveCount(0);
  }
  for (const page of [presenter, ...learners]) await page.context().close();
});
