// The editor tab: a step's link opens a file of the learner's sandbox in it, a save lands in the
// sandbox (the terminal sees it), and a change made in the terminal meanwhile is reported as a
// conflict on the next save, with a way to reload.
// (Playwright's own `test`: the conflict is an HTTP 409 the page handles, which the shared
// fixture would count as an error.)
import { test, expect, Page } from "@playwright/test";
import { hydrated, join, terminalText, screenshots } from "./fixtures";

const own = ".terminal-host:not([hidden])";

async function typeInTerminal(page: Page, text: string) {
  await page.getByRole("tab", { name: "Terminal 1" }).click();
  await page.locator(`${own} .xterm`).click();
  await page.keyboard.type(text);
}

/** Joins as `name` on `path`, runs `command` in the terminal and waits for the word it ends with. */
async function startIn(page: Page, path: string, name: string, command: string, done: string, within: number) {
  await page.goto(path);
  await join(page, name);
  await hydrated(page);
  await expect(page.locator(own)).toHaveAttribute("data-status", "live", { timeout: 20_000 });
  await typeInTerminal(page, command);
  await expect.poll(() => terminalText(page), { timeout: within }).toContain(done);
}

test("a learner edits a file of their sandbox in the editor tab", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  const make = "mkdir -p /root/myapp && printf 'FROM scratch\\n' > /root/myapp/Dockerfile && chmod 640 /root/myapp/Dockerfile && echo made-$((40+2))\n";
  await startIn(page, "/labs/dockerfile", "Edie", make, "made-42", 10_000);

  // The step's link opens it in the editor tab.
  await page.getByRole("link", { name: "open the Dockerfile" }).click();
  const editor = page.getByTestId("editor");
  await expect(editor).toBeVisible();
  await expect(page.getByRole("tab", { name: "Editor" })).toHaveAttribute("aria-selected", "true");
  await expect(editor).toHaveAttribute("data-file", "/root/myapp/Dockerfile", { timeout: 20_000 });
  await expect(editor).toHaveAttribute("data-language", "dockerfile");
  const code = editor.locator(".cm-content");
  await expect(code).toHaveText("FROM scratch");

  // Edit and save with Ctrl-S: the terminal sees the new text, the mode kept.
  await code.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\nEXPOSE 8080");
  await expect(editor).toHaveAttribute("data-dirty", "true");
  await page.keyboard.press("Control+s");
  await expect(editor.locator(".editor-status")).toHaveText("Saved /root/myapp/Dockerfile.");
  await expect(editor).toHaveAttribute("data-dirty", "false");
  await typeInTerminal(page, "clear; cat /root/myapp/Dockerfile; stat -c 'mode=%a' /root/myapp/Dockerfile\n");
  await expect.poll(() => terminalText(page), { timeout: 10_000 }).toContain("mode=640");
  expect(await terminalText(page)).toContain("EXPOSE 8080");

  // The terminal changes it; the editor's next save is refused, and reloading shows the change.
  await typeInTerminal(page, "echo '# from the terminal' >> /root/myapp/Dockerfile\n");
  await page.getByRole("tab", { name: "Editor" }).click();
  await code.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\nUSER nobody");
  await editor.getByRole("button", { name: "Save" }).click();
  await expect(editor.locator(".editor-status")).toContainText("changed since you opened it");
  await page.screenshot({ path: `${screenshots}/editor-conflict.png` });
  await editor.getByRole("button", { name: "Reload from the sandbox" }).click();
  await expect(code).toContainText("# from the terminal");
  await expect(code).not.toContainText("USER nobody");

  // The tree: the folders the lab names (the learner's home first, open), folders first; a
  // file opens from it.
  await editor.getByRole("button", { name: "/etc/containers/" }).click();
  await expect(editor.getByRole("button", { name: "registries.conf", exact: true })).toBeVisible();
  await editor.getByRole("button", { name: "myapp/" }).click();
  await editor.locator(".editor-tree").getByRole("button", { name: "Dockerfile", exact: true }).click();
  await expect(editor.locator(".editor-path")).toHaveText("/root/myapp/Dockerfile");
  await expect(editor.locator(".editor-status")).toHaveText("");
  await page.screenshot({ path: `${screenshots}/editor.png` });
  expect(errors).toEqual([]);
});

// The Dockerfile lab as a learner does it in the browser: the Dockerfile written in the editor,
// built and run with a published port in the terminal, the app opened from the step's preview
// link. (The image build compiles Go in the sandbox: minutes, not seconds.)
test("the Dockerfile lab: edit in the editor, build, run with -p, open the preview", async ({ page }) => {
  test.setTimeout(900_000);
  // The step's setup makes the project; the Dockerfile is the learner's to write.
  const wait = "until [ -e /root/myapp/cmd/server/main.go ]; do sleep 0.2; done; cd /root/myapp && touch Dockerfile && echo ready-$((40+2))\n";
  await startIn(page, "/labs/dockerfile/steps/1", "Dora", wait, "ready-42", 60_000);

  await page.getByRole("link", { name: "open the Dockerfile" }).click();
  const editor = page.getByTestId("editor");
  await expect(editor).toHaveAttribute("data-file", "/root/myapp/Dockerfile", { timeout: 20_000 });
  const code = editor.locator(".cm-content");
  await code.click();
  // Inserted as one input, as a paste is: the editor's bracket and indent helpers stay out of it.
  await page.keyboard.insertText(
    'FROM golang:1.19-bookworm\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app/server ./cmd/server\nEXPOSE 8080\nCMD ["/app/server"]\n',
  );
  await page.keyboard.press("Control+s");
  await expect(editor.locator(".editor-status")).toHaveText("Saved /root/myapp/Dockerfile.");

  await typeInTerminal(
    page,
    "clear; docker build -q -t myapp:1.0 . && docker run -d --name myapp -p 8080:8080 myapp:1.0 && until curl -s localhost:8080 >/dev/null; do sleep 0.5; done; echo started-$((40+2))\n",
  );
  await expect.poll(() => terminalText(page), { timeout: 780_000, intervals: [2_000] }).toContain("started-42");

  // Step 5's link opens the app, published by Podman in the sandbox, in a tab of its own.
  await page.goto("/labs/dockerfile/steps/5");
  await hydrated(page);
  const [app] = await Promise.all([page.context().waitForEvent("page"), page.getByRole("link", { name: "open your app" }).click()]);
  await expect(app.locator("body")).toContainText("Hello from myapp, running as uid 0");
  await app.screenshot({ path: `${screenshots}/dockerfile-preview.png` });
});
