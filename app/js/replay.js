// Replaying a terminal recording (asciicast v2, as the server serves it) in xterm.js: play and
// pause, 1x–8x, idle time capped so a learner's coffee break does not play, a timeline with the
// step markers, and a search over the commands run (the recording marks each one's start).

import { Terminal } from "@xterm/xterm";
import { say } from "./words.js";

// Longest pause played, in seconds.
const IDLE_CAP = 2;
const SPEEDS = [1, 2, 4, 8];

function parse(text) {
  const lines = text.split("\n").filter((l) => l.trim());
  const header = JSON.parse(lines[0]);
  const events = [];
  let played = 0;
  let last = 0;
  for (const line of lines.slice(1)) {
    const [time, code, data] = JSON.parse(line);
    played += Math.min(Math.max(time - last, 0), IDLE_CAP);
    last = time;
    events.push({ at: played, code, data });
  }
  return { header, events, length: played };
}

function button(text, label) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "button small";
  b.textContent = text;
  if (label) b.setAttribute("aria-label", label);
  return b;
}

function clock(secs) {
  const s = Math.floor(secs);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

class Player {
  constructor(element, cast) {
    this.element = element;
    this.cast = cast;
    this.position = 0;
    this.next = 0;
    this.speed = 1;
    this.playing = false;

    const controls = document.createElement("div");
    controls.className = "replay-controls";
    this.play = button(say("js-play", "Play"));
    this.play.addEventListener("click", () => (this.playing ? this.pause() : this.start()));
    this.speedSelect = document.createElement("select");
    this.speedSelect.setAttribute("aria-label", say("js-speed", "Speed"));
    for (const s of SPEEDS) this.speedSelect.add(new Option(`${s}x`, String(s)));
    this.speedSelect.addEventListener("change", () => (this.speed = Number(this.speedSelect.value)));
    this.timeline = document.createElement("input");
    this.timeline.type = "range";
    this.timeline.min = "0";
    this.timeline.max = String(cast.length);
    this.timeline.step = "0.1";
    this.timeline.value = "0";
    this.timeline.setAttribute("aria-label", say("js-position", "Position"));
    this.timeline.addEventListener("input", () => this.seek(Number(this.timeline.value)));
    this.time = document.createElement("span");
    this.time.className = "replay-time";
    controls.append(this.play, this.speedSelect, this.timeline, this.time);

    // Step markers on the timeline, and the list of them and of commands to jump to.
    const marks = cast.events.filter((e) => e.code === "m");
    this.ticks = document.createElement("div");
    this.ticks.className = "replay-ticks";
    for (const m of marks.filter((m) => !m.data.startsWith("$ "))) {
      const tick = button("", m.data);
      tick.className = `replay-tick ${/: passed$/.test(m.data) ? "passed" : /: failed/.test(m.data) ? "failed" : "other"}`;
      tick.title = m.data;
      tick.style.left = `${cast.length ? (100 * m.at) / cast.length : 0}%`;
      tick.addEventListener("click", () => this.seek(m.at));
      this.ticks.append(tick);
    }
    const search = document.createElement("input");
    search.type = "search";
    search.placeholder = say("js-find-command", "Find a command");
    search.setAttribute("aria-label", search.placeholder);
    this.found = document.createElement("ul");
    this.found.className = "replay-found";
    const list = () => {
      const q = search.value.trim().toLowerCase();
      this.found.replaceChildren(
        ...marks
          .filter((m) => !q || m.data.toLowerCase().includes(q))
          .map((m) => {
            const item = document.createElement("li");
            const jump = button(`${clock(m.at)} ${m.data}`);
            jump.className = `replay-jump ${m.data.startsWith("$ ") ? "command" : "step"}`;
            jump.addEventListener("click", () => this.seek(m.at));
            item.append(jump);
            return item;
          }),
      );
    };
    search.addEventListener("input", list);
    list();

    this.screen = document.createElement("div");
    this.screen.className = "replay-screen";
    element.replaceChildren(controls, this.ticks, this.screen, search, this.found);
    const { width = 80, height = 24 } = cast.header;
    this.term = new Terminal({
      cols: width,
      rows: height,
      disableStdin: true,
      fontSize: 13,
      scrollback: 5000,
      fontFamily: '"DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace',
      theme: { background: "#1d2125", foreground: "#f0f0eb" },
    });
    this.term.open(this.screen);
    this.show();
  }

  show() {
    this.timeline.value = String(this.position);
    this.time.textContent = `${clock(this.position)} / ${clock(this.cast.length)}`;
    this.element.dataset.state = this.playing ? "playing" : this.position >= this.cast.length ? "ended" : "paused";
    this.play.textContent = this.playing ? say("js-pause", "Pause") : say("js-play", "Play");
  }

  // Applies every event up to the position.
  advance() {
    const events = this.cast.events;
    let out = "";
    while (this.next < events.length && events[this.next].at <= this.position) {
      const e = events[this.next++];
      if (e.code === "o") out += e.data;
      else if (e.code === "r") {
        const [cols, rows] = e.data.split("x").map(Number);
        if (cols && rows) this.term.resize(cols, rows);
      }
    }
    if (out) this.term.write(out);
  }

  start() {
    if (this.position >= this.cast.length) this.seek(0);
    this.playing = true;
    let before = performance.now();
    const frame = (now) => {
      if (!this.playing) return;
      this.position = Math.min(this.cast.length, this.position + ((now - before) / 1000) * this.speed);
      before = now;
      this.advance();
      if (this.position >= this.cast.length) this.playing = false;
      this.show();
      if (this.playing) this.raf = requestAnimationFrame(frame);
    };
    this.raf = requestAnimationFrame(frame);
    this.show();
  }

  pause() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.show();
  }

  seek(to) {
    this.term.reset();
    this.next = 0;
    this.position = Math.max(0, Math.min(to, this.cast.length));
    this.advance();
    this.show();
  }

  dispose() {
    this.pause();
    this.term.dispose();
  }
}

// Mounts a player for the recording at `src` in `element`; says so there if it cannot.
export function mountReplay(element, { src }) {
  let player = null;
  let disposed = false;
  element.dataset.state = "loading";
  fetch(src, { credentials: "same-origin" })
    .then(async (response) => {
      const text = await response.text();
      if (!response.ok) throw new Error(text || `the server answered ${response.status}`);
      return parse(text);
    })
    .then((cast) => {
      if (disposed) return;
      player = new Player(element, cast);
    })
    .catch((e) => {
      element.dataset.state = "error";
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = say("js-cannot-play", "This recording cannot be played: {reason}", { reason: e.message });
      element.replaceChildren(note);
    });
  return {
    dispose: () => {
      disposed = true;
      player?.dispose();
    },
  };
}
