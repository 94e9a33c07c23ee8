// The editor pane: the learner's files (a tree from their home), CodeMirror 6 for one file at a
// time, and saving back to the sandbox. Files come and go through the server's file routes
// (/api/files), which run inside the learner's sandbox; a save names the version the file was
// opened at, and the server refuses it (409) when the file changed since — vim in the terminal,
// a build — so nothing the learner did elsewhere is overwritten without them choosing to.
//
// Bundled on its own (scripts/build) and loaded by the page only when the editor is first
// opened: CodeMirror and its languages weigh more than the rest of the page's script.
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { StreamLanguage } from "@codemirror/language";
import { yaml } from "@codemirror/lang-yaml";
import { markdown } from "@codemirror/lang-markdown";
import { python } from "@codemirror/lang-python";
import { cpp } from "@codemirror/lang-cpp";
import { go } from "@codemirror/lang-go";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { dockerFile } from "@codemirror/legacy-modes/mode/dockerfile";
import { say } from "./words.js";

/** The language of a file, by its name. */
export function languageOf(path) {
  const name = path.split("/").pop().toLowerCase();
  if (name === "dockerfile" || name.startsWith("dockerfile.") || name.endsWith(".dockerfile") || name === "containerfile") return "dockerfile";
  const ext = name.includes(".") ? name.split(".").pop() : "";
  return (
    { yaml: "yaml", yml: "yaml", md: "markdown", markdown: "markdown", py: "python", c: "c", h: "c", cc: "c", cpp: "c", go: "go", sh: "shell", bash: "shell" }[ext] ??
    (name === ".bashrc" || name === ".profile" ? "shell" : "text")
  );
}

function languageSupport(language) {
  switch (language) {
    case "dockerfile": return StreamLanguage.define(dockerFile);
    case "yaml": return yaml();
    case "markdown": return markdown();
    case "python": return python();
    case "c": return cpp();
    case "go": return go();
    case "shell": return StreamLanguage.define(shell);
    default: return [];
  }
}

async function api(method, url, options = {}) {
  const response = await fetch(url, { method, credentials: "same-origin", ...options });
  const text = await response.text();
  if (!response.ok) throw Object.assign(new Error(text || `HTTP ${response.status}`), { status: response.status });
  return text ? JSON.parse(text) : null;
}

const filesUrl = (path) => `/api/files?path=${encodeURIComponent(path)}`;

class Editor {
  constructor(host, options) {
    this.host = host;
    // The folders the tree shows: the lab's (`editor` in lab.md), or the learner's home.
    this.folders = options.folders?.length ? options.folders : [options.root ?? "/root"];
    this.file = null; // { path, version, language }
    this.saved = ""; // the text as last opened or saved
    host.innerHTML = `
      <div class="editor-layout">
        <nav class="editor-tree"><ul role="tree"></ul></nav>
        <div class="editor-main">
          <div class="editor-bar">
            <span class="editor-path" aria-live="polite"></span>
            <button type="button" class="button small editor-save" disabled></button>
          </div>
          <div class="editor-status" role="status" aria-live="polite"></div>
          <div class="editor-code"></div>
        </div>
      </div>`;
    this.tree = host.querySelector(".editor-tree ul");
    this.pathLabel = host.querySelector(".editor-path");
    this.saveButton = host.querySelector(".editor-save");
    // The words are set as text, never as markup: a catalogue is not code.
    host.querySelector(".editor-tree").setAttribute("aria-label", say("js-files", "Files"));
    this.pathLabel.textContent = say("js-pick-file", "Pick a file on the left.");
    this.saveButton.textContent = say("js-save", "Save");
    this.status = host.querySelector(".editor-status");
    this.saveButton.addEventListener("click", () => this.save());
    this.view = new EditorView({ parent: host.querySelector(".editor-code"), state: this.state("", "text") });
    if (this.folders.length === 1) {
      this.listFolder(this.folders[0], this.tree);
    } else {
      this.folders.forEach((folder, i) => this.tree.append(this.folderItem(folder, `${folder.replace(/\/$/, "")}/`, i === 0)));
    }
  }

  state(text, language) {
    return EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        languageSupport(language),
        keymap.of([{ key: "Mod-s", preventDefault: true, run: () => (this.save(), true) }]),
        EditorView.updateListener.of((update) => update.docChanged && this.markDirty()),
      ],
    });
  }

  say(text, kind = "") {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  markDirty() {
    const dirty = this.file && this.view.state.doc.toString() !== this.saved;
    this.saveButton.disabled = !dirty;
    this.host.dataset.dirty = dirty ? "true" : "false";
  }

  async listFolder(path, into) {
    into.innerHTML = "";
    try {
      const entries = await api("GET", `/api/files/list?path=${encodeURIComponent(path)}`);
      for (const entry of entries) {
        const full = `${path.replace(/\/$/, "")}/${entry.name}`;
        if (entry.folder) {
          into.append(this.folderItem(full, `${entry.name}/`, false));
          continue;
        }
        const item = document.createElement("li");
        item.setAttribute("role", "treeitem");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "tree-file";
        button.textContent = entry.name;
        button.dataset.path = full;
        button.addEventListener("click", () => this.open(full));
        item.append(button);
        into.append(item);
      }
      if (!entries.length) into.innerHTML = `<li class="muted">(empty)</li>`;
    } catch (e) {
      into.innerHTML = "";
      const item = document.createElement("li");
      item.className = "error";
      item.textContent = e.message;
      into.append(item);
    }
  }

  /** A folder of the tree, `label` on its button, listed when opened (now, if `open`). */
  folderItem(path, label, open) {
    const item = document.createElement("li");
    item.setAttribute("role", "treeitem");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tree-folder";
    button.textContent = label;
    button.dataset.path = path;
    const children = document.createElement("ul");
    children.setAttribute("role", "group");
    const toggle = (show) => {
      children.hidden = !show;
      item.setAttribute("aria-expanded", String(show));
      if (show) this.listFolder(path, children);
    };
    button.addEventListener("click", () => toggle(children.hidden));
    item.append(button, children);
    toggle(open);
    return item;
  }

  /** Opens `path` (after asking, when the open file has changes not saved). */
  async open(path) {
    if (this.host.dataset.dirty === "true" && !confirm(say("js-drop-changes", "Drop the changes to {path} that are not saved?", { path: this.file.path }))) return;
    this.say(say("js-opening", "Opening {path}…", { path }));
    try {
      const file = await api("GET", filesUrl(path));
      const language = languageOf(path);
      this.file = { path, version: file.version, language };
      this.saved = file.text;
      this.view.setState(this.state(file.text, language));
      this.pathLabel.textContent = path;
      this.host.dataset.file = path;
      this.host.dataset.language = language;
      this.markDirty();
      this.say("");
      this.host.dispatchEvent(new CustomEvent("stacklab-editor-opened", { bubbles: true, detail: path }));
    } catch (e) {
      this.say(e.message, "error");
    }
  }

  async save() {
    if (!this.file) return;
    const text = this.view.state.doc.toString();
    this.saveButton.disabled = true;
    this.say(say("js-saving", "Saving {path}…", { path: this.file.path }));
    try {
      const answer = await api("PUT", filesUrl(this.file.path), { body: text, headers: { "if-match": `"${this.file.version}"` } });
      this.file.version = answer.version;
      this.saved = text;
      this.markDirty();
      this.say(say("js-saved", "Saved {path}.", { path: this.file.path }), "saved");
    } catch (e) {
      this.markDirty();
      this.say(e.message, e.status === 409 ? "conflict" : "error");
      if (e.status === 409) this.offerReload();
    }
  }

  /** After a conflict: reload the file as it is now (this text is lost), or keep editing. */
  offerReload() {
    const reload = document.createElement("button");
    reload.type = "button";
    reload.className = "button small";
    reload.textContent = say("js-reload", "Reload from the sandbox");
    reload.addEventListener("click", () => {
      this.saved = this.view.state.doc.toString(); // no "unsaved changes" question: they chose
      this.host.dataset.dirty = "false";
      this.open(this.file.path);
    });
    this.status.append(" ", reload);
  }
}

window.StacklabEditor = { mount: (host, options = {}) => new Editor(host, options), languageOf };
window.dispatchEvent(new Event("stacklab-editor-ready"));
