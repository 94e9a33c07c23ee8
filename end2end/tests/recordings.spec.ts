// Terminal recordings as people meet them: the learner is told their terminal is recorded; the
// instructor replays the step a learner just passed from the dashboard (the commands appear as
// typed, the step's marker is on the timeline, a command can be found); the learner plays and
// downloads their own.
import { test, expect, hydrated, learnerOnNetnsLab, screenshots } from "./fixtures";

const own = ".terminal-host:not([hidden])";

test("the instructor replays how a learner solved a step", async ({ browser, page }) => {
  const rae = await learnerOnNetnsLab(browser, "Rae Replay");
  await expect(rae.locator(".recording-note")).toBeVisible();

  // Rae solves the first step by typing.
  await rae.locator(`${own} .xterm`).click();
  await rae.keyboard.type("ip netns add demo-ns\n");
  await rae.waitForTimeout(500);
  await rae.keyboard.type("ip netns exec demo-ns ip link set lo up\n");
  await expect(rae.locator('.step-item[data-step="netns"]')).toHaveAttribute("data-state", "done", { timeout: 15_000 });
  // A second passes before the recording is on disk.
  await rae.waitForTimeout(1500);

  const me = await (await rae.request.get("/api/me")).json();
  await page.goto("/instructor/login?token=e2e-instructor-token-0001");
  await page.goto(`/instructor/classes/${me.class_id}`);
  await hydrated(page);
  await page.locator("tr[data-learner]", { hasText: "Rae Replay" }).getByRole("button", { name: "Rae Replay" }).click();
  const panel = page.locator(".learner-panel");
  await expect(panel.locator(".recording-usage")).toContainText(/Recordings: \d/);
  await panel.getByLabel("Step").selectOption("netns-veth/netns");
  await panel.getByRole("button", { name: "Replay", exact: true }).click();
  const player = panel.locator(".replay");
  await expect(player).toHaveAttribute("data-state", "paused");
  await expect(player.locator(".replay-tick.passed")).toHaveCount(1);
  await player.getByLabel("Speed").selectOption("8");
  await player.getByRole("button", { name: "Play", exact: true }).click();
  await expect(player).toHaveAttribute("data-state", "ended", { timeout: 20_000 });
  await expect(player.locator(".xterm-rows")).toContainText("ip netns exec demo-ns ip link set lo up");
  // The search finds a command; jumping there shows the screen as it was then.
  await player.getByLabel("Find a command").fill("netns add");
  await expect(player.locator(".replay-jump.command")).toHaveCount(1);
  await player.locator(".replay-jump.command").click();
  await expect(player.locator(".xterm-rows")).not.toContainText("set lo up");
  await page.screenshot({ path: `${screenshots}/replay.png` });

  // Time per step: learners passed the first step (Rae among them; earlier tests add theirs).
  await page.locator(".step-times summary").click();
  await expect(page.locator('.step-times tr[data-step="netns-veth/netns"] td').first()).toHaveText(/^[1-9]\d*$/);

  // Rae's own recordings, from her home page.
  await rae.goto("/");
  await hydrated(rae);
  await expect(rae.locator(".recording-notice")).toContainText("recorded for your instructor");
  await rae.locator(".my-recordings summary").click();
  const recording = rae.locator(".my-recordings .recording").first();
  await expect(recording).toBeVisible();
  const download = await rae.request.get(`/api/recordings/${await recording.getAttribute("data-recording")}?download=1`);
  expect((await download.text()).split("\n")[0]).toContain('"version":2');
  await recording.getByRole("button", { name: "Play", exact: true }).click();
  await expect(rae.locator(".my-recordings .replay")).toHaveAttribute("data-state", "paused");
  await rae.context().close();
});
