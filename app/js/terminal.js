// The browser side of Stacklab's terminals: xterm.js attached to /ws/terminal/<tab> (a
// learner's own shell) or to /ws/instructor/learners/<id>/terminal/<tab> (the instructor
// watching, or typing after taking over).
//
// The Leptos components call `StacklabTerminal.mount(element, {tab, path, watch, control})`; everything
// else (the WebSocket, reconnecting with backoff, replaying the server's scrollback, resizing the
// PTY when the pane changes, the honest connection banner, and "run in terminal" buttons) lives
// here. Bundled with xterm.js by scripts/build; no CDN.

import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { mountReplay } from "./replay.js";
import { say } from "./words.js";

const encoder = new TextEncoder();
const sessions = new Map();
let active = null;
// The learner's screen reader mode (their preference, components/terminal.rs): xterm.js then
// keeps its rows as text in an accessibility tree and reads new output out in a live region.
let screenReader = false;
// How long an Escape waits for a Tab that would move the focus out of the terminal.
const ESCAPE_HOLD_MS = 500;

function statusText(status) {
  switch (status) {
    case "connecting":
      return say("js-connecting", "Connecting…");
    case "reconnecting":
      return say("js-reconnecting", "Connection lost — reconnecting…");
    case "stopped":
      return say("js-stopped", "Your sandbox was stopped (your files are kept).");
    case "ended":
      return say("js-ended", "The shell ended.");
    case "error":
      return say("js-error", "The terminal is unavailable.");
    default:
      return "";
  }
}

// The class is full: the learner's place in line and the server's estimate.
function queuedText({ position, eta_secs }) {
  const wait =
    eta_secs == null
      ? say("js-no-estimate", "no estimate yet")
      : say("js-about-minutes", "about {minutes} min", { minutes: Math.max(1, Math.ceil(eta_secs / 60)) });
  return say(
    "js-queued",
    "The class is full: you are number {position} in line for a sandbox ({wait}). This terminal opens by itself when one is free.",
    { position, wait },
  );
}

class Session {
  constructor(element, { tab, path, watch = false, control = false, screenReader: reader = screenReader }) {
    this.element = element;
    this.tab = tab;
    this.path = path || `/ws/terminal/${tab}`;
    // Watching someone else's shell: no input (unless taken over), no resizing their PTY, no
    // restarting their sandbox, and "Run" buttons on the page are not for this terminal.
    this.watch = watch;
    this.takenOver = control;
    this.disposed = false;
    this.backoff = 500;
    this.status = "connecting";

    this.banner = document.createElement("div");
    this.banner.className = "terminal-banner";
    this.banner.setAttribute("role", "status");
    this.screen = document.createElement("div");
    this.screen.className = "terminal-screen";
    element.replaceChildren(this.banner, this.screen);

    const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
    const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    screenReader = reader;
    this.term = new Terminal({
      // A blinking cursor is motion: not for those who asked their system for less.
      cursorBlink: !still,
      screenReaderMode: reader,
      fontFamily: '"DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace',
      fontSize: watch ? 13 : 14,
      scrollback: 5000,
      disableStdin: watch && !control,
      theme: dark
        ? { background: "#101316", foreground: "#e6e6e1", cursor: "#5fb89c" }
        : { background: "#1d2125", foreground: "#f0f0eb", cursor: "#5fb89c" },
    });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.screen);
    this.term.onData((data) => this.send(encoder.encode(data)));
    // The shell integration marks each prompt (OSC 6973 "end"): who waits for one hears it.
    this.promptWaiters = [];
    this.term.parser.registerOscHandler(6973, (data) => {
      if (data.startsWith("end;")) this.promptWaiters.splice(0).forEach((wake) => wake());
      return true;
    });
    // Tab belongs to the shell (completion), which would trap a keyboard in the terminal: Escape,
    // then Tab or Shift+Tab, moves the focus on instead, as in CodeMirror. The pane's hint says
    // so (components/terminal.rs). That Escape must not reach the shell, where readline would
    // take it as Meta for the learner's next key when they come back: an Escape is held for a
    // moment and sent only when what follows is not Tab (at once, before that key), or when
    // nothing follows.
    let heldEscape = null;
    const sendEscape = () => {
      clearTimeout(heldEscape);
      heldEscape = null;
      this.send(encoder.encode("\x1b"));
    };
    this.term.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown" || this.watch) return true;
      // Shift, held down for Shift+Tab, is a keydown of its own: it must not end the Escape.
      if (["Shift", "Control", "Alt", "Meta"].includes(event.key)) return true;
      if (heldEscape !== null) {
        if (event.key === "Tab") {
          clearTimeout(heldEscape);
          heldEscape = null;
          return false;
        }
        sendEscape();
      }
      if (event.key === "Escape" && !event.altKey && !event.ctrlKey && !event.metaKey) {
        heldEscape = setTimeout(sendEscape, ESCAPE_HOLD_MS);
        return false;
      }
      return true;
    });
    this.term.textarea?.setAttribute("aria-describedby", "terminal-keys");
    if (watch) this.term.onCursorMove(() => this.followCursor());
    if (!watch) this.term.textarea?.addEventListener("focus", () => (active = this));

    // A watcher draws the learner's whole screen, scaled to its box: the learner's cursor and
    // latest line are always in sight, with no scrolling inside the view.
    if (watch) element.classList.add("fitted");
    this.resizeObserver = new ResizeObserver(() => this.refit());
    this.resizeObserver.observe(this.screen);
    window.addEventListener("resize", this.onWindowResize = () => this.refit());
    this.refit();
    this.connect(true);
    this.keepAlive = setInterval(() => this.control({ type: "ping" }), 25000);
  }

  refit() {
    // A watcher draws at the learner's size (from the server), not at its own pane's.
    if (this.watch) return this.scaleToBox();
    if (this.disposed || !this.screen.offsetParent) return;
    try {
      this.fit.fit();
    } catch (_) {
      return;
    }
    this.control({ type: "resize", cols: this.term.cols, rows: this.term.rows });
  }

  // The largest font (up to the usual 13 px) at which the learner's cols x rows fit the box.
  // Below 10 px it is hard to read: then the view stays at 10 px and follows the cursor instead.
  scaleToBox(attempt = 0) {
    if (this.disposed || !this.screen.offsetParent) return;
    const box = this.element.getBoundingClientRect();
    const width = box.width - 12;
    const height = box.height - this.banner.offsetHeight - 8;
    const cells = this.screen.querySelector(".xterm-screen")?.getBoundingClientRect();
    if (!cells || !cells.width || !cells.height || width <= 0 || height <= 0) return;
    const size = this.term.options.fontSize;
    const scale = Math.min(width / cells.width, height / cells.height);
    const next = Math.max(10, Math.min(13, Math.floor(size * scale * 2) / 2));
    // Cell sizes round to whole pixels, so a size and its neighbour can each measure as the
    // other's better fit: a few steps, then stay (a view that never settles cannot be read).
    if (next !== size && attempt < 3) {
      this.term.options.fontSize = next;
      // The cells are measured again once drawn at the new size.
      requestAnimationFrame(() => this.scaleToBox(attempt + 1));
      return;
    }
    this.followCursor();
  }

  // When the learner's screen is taller than the box, shows the part with their cursor.
  followCursor() {
    const cells = this.screen.querySelector(".xterm-screen")?.getBoundingClientRect();
    if (!cells) return;
    const visible = this.element.getBoundingClientRect().height - this.banner.offsetHeight - 8;
    const rows = this.term.rows;
    const line = cells.height / rows;
    let offset = 0;
    if (cells.height > visible) {
      const cursorBottom = (this.term.buffer.active.cursorY + 1) * line;
      offset = Math.min(Math.max(0, cursorBottom + line - visible), cells.height - visible);
    }
    // The drawing moves inside its box (which clips it), the box stays.
    const drawing = this.term.element;
    const shift = offset ? `translateY(${-Math.round(offset)}px)` : "";
    if (drawing && drawing.style.transform !== shift) drawing.style.transform = shift;
  }

  connect(start) {
    if (this.disposed) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.watch
      ? `control=${this.takenOver ? 1 : 0}`
      : `cols=${this.term.cols}&rows=${this.term.rows}&start=${start ? 1 : 0}`;
    const ws = new WebSocket(`${scheme}//${location.host}${this.path}?${query}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") {
        this.term.write(new Uint8Array(event.data));
        return;
      }
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      switch (message.type) {
        case "attached":
          // The scrollback follows: start from a clean screen so nothing shows twice.
          this.term.reset();
          if (this.watch) this.watchSize(message.cols, message.rows);
          this.backoff = 500;
          this.setStatus("live");
          if (this.waiting) {
            const waiting = this.waiting;
            this.waiting = "";
            this.type(waiting);
          }
          break;
        case "size":
          if (this.watch) this.watchSize(message.cols, message.rows);
          break;
        case "exit":
          this.setStatus(
            "ended",
            this.watch
              ? say("js-their-shell-ended", "Their shell ended (exit {code}). This view follows them to their next one.", { code: message.code })
              : say("js-shell-ended", "The shell ended (exit {code}).", { code: message.code }),
          );
          break;
        case "stopped":
          this.setStatus("stopped");
          break;
        case "queued":
          this.setStatus("queued", queuedText(message));
          break;
        case "error":
          if (this.status !== "live") this.setStatus("error", message.message);
          break;
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws || this.disposed) return;
      // A watcher follows the learner: to the shell they open after theirs ended (a reset, an
      // exit), or to their first one. It asks again every few seconds, quietly.
      if (this.watch && ["stopped", "ended", "error"].includes(this.status)) {
        setTimeout(() => this.connect(false), 2000);
        return;
      }
      if (["stopped", "ended", "error"].includes(this.status)) return;
      // Waiting in line is a request to start: asked again, it takes a place again.
      const start = this.status === "queued";
      this.setStatus("reconnecting");
      const delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 10000);
      setTimeout(() => this.connect(start), delay);
    };
  }

  watchSize(cols, rows) {
    this.term.resize(cols, rows);
    requestAnimationFrame(() => this.scaleToBox());
  }

  send(bytes) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  control(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  setStatus(status, detail) {
    this.status = status;
    this.element.dataset.status = status;
    this.banner.replaceChildren();
    const text = detail || statusText(status);
    if (text) this.banner.append(text);
    if (!this.watch && (status === "stopped" || status === "ended" || status === "error")) {
      const button = document.createElement("button");
      button.className = "button small";
      button.textContent = status === "stopped" ? say("js-restart-sandbox", "Restart sandbox") : say("js-new-shell", "New shell");
      button.addEventListener("click", () => {
        this.setStatus("connecting");
        this.connect(true);
        this.term.focus();
      });
      this.banner.append(" ", button);
    }
  }

  /// Types `text` into the shell, as if the learner had (once the shell is there: text typed
  /// while connecting waits for it).
  type(text) {
    if (this.status !== "live") {
      this.waiting = (this.waiting || "") + text;
      return;
    }
    this.send(encoder.encode(text));
    this.term.focus();
  }

  /// Runs a command from the page: Ctrl-C first when asked (to stop what runs), then the
  /// command as one bracketed paste when the shell accepts those — so a multi-line block runs
  /// whole, and `sudo` or a command reading its input on the first line cannot swallow the
  /// lines after it — then Enter unless asked not to.
  async run(command, { interrupt = false, newline = true } = {}) {
    let text = "";
    if (interrupt) {
      // The terminal driver throws away input that arrives with the interrupt, and readline
      // takes pastes only at its prompt: the rest waits for the prompt (or a second).
      this.type("\x03");
      await this.nextPrompt(1000);
    }
    const multiline = command.includes("\n");
    if (multiline && this.term.modes.bracketedPasteMode) {
      text += "\x1b[200~" + command.replace(/\r?\n/g, "\r") + "\x1b[201~";
    } else {
      text += command;
    }
    this.type(newline ? text + "\r" : text);
  }

  /// Resolves at the shell's next prompt (its integration's end-of-command mark), or after
  /// `ms` milliseconds.
  nextPrompt(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.promptWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  dispose() {
    this.disposed = true;
    clearInterval(this.keepAlive);
    this.resizeObserver.disconnect();
    window.removeEventListener("resize", this.onWindowResize);
    this.ws?.close();
    this.term.dispose();
    if (active === this) active = null;
  }
}

function mount(element, options) {
  const session = new Session(element, options);
  sessions.set(element, session);
  if (!active && !session.watch) active = session;
  return {
    type: (text) => session.type(text),
    focus: () => {
      if (!session.watch) active = session;
      session.term.focus();
      session.refit();
    },
    dispose: () => {
      session.dispose();
      sessions.delete(element);
    },
  };
}

// "Run in terminal": any element with data-run-command types its command into the active
// terminal (data-run-interrupt: Ctrl-C first; data-run-no-newline: no Enter after); one with
// data-copy-text copies its text. Delegated, so buttons in server-rendered lab text work
// without their own code; Enter or Space on a focused one does what a click does.
function activate(event) {
  const run = event.target.closest?.("[data-run-command]");
  if (run && active) {
    event.preventDefault();
    active.run(run.dataset.runCommand, {
      interrupt: "runInterrupt" in run.dataset,
      newline: !("runNoNewline" in run.dataset),
    });
    return;
  }
  const open = event.target.closest?.("[data-open-file]");
  if (open) {
    // A step's "open this file" link: the editor tab shows it (components/editor.rs).
    event.preventDefault();
    window.dispatchEvent(new CustomEvent("stacklab-open-file", { detail: open.dataset.openFile }));
    return;
  }
  const copy = event.target.closest?.("[data-copy-text]");
  if (copy) {
    event.preventDefault();
    navigator.clipboard?.writeText(copy.dataset.copyText).then(
      () => flash(copy, say("js-copied", "Copied")),
      () => flash(copy, say("js-select-to-copy", "Select the text to copy it")),
    );
  }
}

function flash(element, text) {
  element.dataset.flash = text;
  setTimeout(() => delete element.dataset.flash, 1500);
}

document.addEventListener("click", activate);
document.addEventListener("keydown", (event) => {
  if ((event.key === "Enter" || event.key === " ") && event.target.matches?.("[data-run-command], [data-copy-text]")) {
    if (event.target.tagName !== "BUTTON") activate(event);
  }
});

// A step's foreground script (Killercoda's `foreground`): typed into the learner's terminal
// when they first reach the step, line by line as Killercoda does.
window.addEventListener("stacklab-type", (event) => {
  const session = active || [...sessions.values()].find((s) => !s.watch);
  if (session && typeof event.detail === "string") session.type(event.detail);
});

// Screen reader mode on or off in every terminal on the page, and in the next ones.
function setScreenReader(on) {
  screenReader = on;
  for (const session of sessions.values()) session.term.options.screenReaderMode = on;
}

window.StacklabTerminal = { mount, sessions, replay: mountReplay, setScreenReader };
window.dispatchEvent(new Event("stacklab-terminal-ready"));
