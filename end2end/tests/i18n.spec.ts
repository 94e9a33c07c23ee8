// The learner's pages in a second language: chosen from the browser's Accept-Language or with
// the switch in the top bar, remembered; the lab page in German shows no English UI string
// (its visible text is held against the English catalogue), and the lab is its German copy.
import fs from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect, hydrated, screenshots, terminalText } from "./fixtures";
import { instructorToken } from "../playwright.config";

/** A Fluent catalogue's messages (app/locales/LANG/*.ftl), each as its text with every
 *  placeable and variant key taken out: the words a reader sees, in pieces. */
function catalogue(lang: string): Map<string, string[]> {
  const dir = path.join(__dirname, "../../app/locales", lang);
  const messages = new Map<string, string[]>();
  let current: string | undefined;
  for (const file of fs.readdirSync(dir)) {
    for (const line of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
      const start = /^([a-z][a-z0-9-]*) =(.*)$/.exec(line);
      if (start) {
        current = start[1];
        messages.set(current, []);
      }
      if (!current || line.startsWith("#")) continue;
      const body = start ? start[2] : line;
      const pieces = body
        .replace(/\*?\[[a-z]+\]/g, "{}")
        .split(/\{[^}]*\}?|\}/)
        .map((p) => p.trim())
        .filter((p) => /\p{L}{2}/u.test(p));
      messages.get(current)!.push(...pieces);
    }
  }
  return messages;
}

/** The pieces of English that must not be on a German page: every English message's words that
 *  its German message does not share (a "Terminal" is a Terminal in both), of at least two
 *  words or one long word, so a command's "ip" or a lab's own code never counts. */
function englishOnly(): string[] {
  const en = catalogue("en");
  const de = catalogue("de");
  const pieces = new Set<string>();
  for (const [id, words] of en) {
    const german = (de.get(id) ?? []).join(" ");
    for (const piece of words) {
      if (german.includes(piece)) continue;
      if (piece.includes(" ") || piece.length >= 7) pieces.add(piece);
    }
  }
  return [...pieces];
}

async function visibleText(page: Page): Promise<string> {
  return (await page.locator("body").innerText()).replace(/\u00a0/g, " ");
}

test("the browser's language picks German; the switch changes it and is remembered", async ({ browser }) => {
  const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto("/");
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.getByRole("link", { name: "Dem Kurs beitreten" })).toBeVisible();
  await expect(page.locator(".lab-card h3").filter({ hasText: "Netzwerk-Namespace" })).toBeVisible();

  // The switch: English, on the same page, after a reload too; then back.
  await page.getByRole("navigation", { name: "Sprache" }).getByRole("link", { name: "English" }).click();
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("link", { name: "Join the class" })).toBeVisible();
  await page.goto("/labs/netns-veth");
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.locator("h1")).toHaveText("Demo 2: a network namespace and a veth cable");
  // The English page is what the German test must not find: the pieces find it.
  const english = await visibleText(page);
  expect(englishOnly().filter((piece) => english.includes(piece)).length).toBeGreaterThan(10);
  await page.getByRole("navigation", { name: "Language" }).getByRole("link", { name: "Deutsch" }).click();
  await expect(page).toHaveURL(/\/labs\/netns-veth$/);
  await hydrated(page);
  await expect(page.locator("h1")).toHaveText("Demo 2: ein Netzwerk-Namespace und ein veth-Kabel");
  await context.close();
});

test("the lab page in German has no English UI string left", async ({ browser }) => {
  const forbidden = englishOnly();
  expect(forbidden.length, "English pieces to look for").toBeGreaterThan(200);
  const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const noEnglish = async (what: string) => {
    const text = await visibleText(page);
    const found = forbidden.filter((piece) => text.includes(piece));
    expect(found, `English on ${what}:\n${text}`).toEqual([]);
  };

  await page.goto("/labs/netns-veth");
  await hydrated(page);
  await noEnglish("the lab page, signed out");
  // The server's own sentences come in German too: a code no class has.
  await page.getByLabel("Kurscode").fill("NOSUCHCODE");
  await page.getByLabel("Ihr Name").fill("Greta");
  await page.getByRole("button", { name: "Beitreten", exact: true }).click();
  await expect(page.locator(".join-form .error")).toHaveText("Kein Kurs hat diesen Code: Prüfen Sie ihn mit Ihrer Kursleitung.");
  await hydrated(page);
  await noEnglish("the join form with the server's error");
  await page.getByLabel("Kurscode").fill("E2ECLASS");
  await page.getByLabel("Ihr Name").fill("Greta");
  await page.getByRole("button", { name: "Beitreten", exact: true }).click();
  await hydrated(page);
  await expect(page.locator(".terminal-host:not([hidden])")).toHaveAttribute("data-status", "live", { timeout: 20_000 });

  // Step 1 by its German Run buttons; the check's sentence comes in the copy's German.
  const runs = page.locator(".step .prose button.run");
  await expect(runs.first()).toHaveText("Ausführen");
  await runs.nth(0).click();
  await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("demo-ns");
  await runs.nth(1).click();
  await expect(page.locator("#step-announcer")).toHaveText("Schritt 1 bestanden: demo-ns existiert, Loopback ist eingeschaltet", {
    timeout: 15_000,
  });
  await expect(page.locator(".check-text")).toHaveText("Erledigt — demo-ns existiert, Loopback ist eingeschaltet");
  await noEnglish("the lab page with a step done");

  // Step 2: a hint in German, the help panel, the ports menu.
  await page.getByRole("link", { name: "Nächster Schritt →" }).click();
  await expect(page).toHaveURL(/steps\/2$/);
  await page.getByRole("button", { name: /Einen Hinweis zeigen/ }).click();
  await expect(page.locator(".hint").first()).toContainText("legt beide Enden auf einmal an");
  await page.locator(".ports-menu summary").click();
  await expect(page.locator(".ports-body")).toContainText(/Port|lauscht/);
  await page.getByRole("button", { name: "Um Hilfe bitten" }).click();
  await expect(page.locator("#help-panel")).toBeVisible();
  await noEnglish("step 2 with a hint, the help panel and the ports menu");
  await page.screenshot({ path: `${screenshots}/lab-in-german.png` });

  // The instructor's side in German too: the classes, the dashboard, a learner's panel.
  const teacher = await context.newPage();
  await teacher.goto(`/instructor/login?token=${instructorToken}`);
  await expect(teacher).toHaveURL(/\/instructor$/);
  await hydrated(teacher);
  await expect(teacher.getByRole("heading", { name: "Kurse" })).toBeVisible();
  const classes = await (await teacher.request.get("/api/instructor/classes")).json();
  await teacher.goto(`/instructor/classes/${classes[0].id}`);
  await hydrated(teacher);
  await expect(teacher.locator("table.matrix")).toBeVisible();
  await teacher.locator("tr[data-learner]").filter({ hasText: "Greta" }).getByRole("button", { name: "Greta" }).click();
  await expect(teacher.locator(".learner-panel")).toBeVisible();
  const english = englishOnly();
  const text = await visibleText(teacher);
  expect(english.filter((piece) => text.includes(piece)), `English on the dashboard:\n${text}`).toEqual([]);
  await teacher.screenshot({ path: `${screenshots}/dashboard-in-german.png` });
  await context.close();
});
