// The scripts' words in the page's language: the server writes them (app/src/i18n.rs,
// SCRIPT_MESSAGES) as JSON into <script id="stacklab-words">, with each argument left as
// `{name}` for `say` to fill in. A page without them (a test harness) gets the English given.

let words;

export function say(key, english, args = {}) {
  if (!words) {
    try {
      words = JSON.parse(document.getElementById("stacklab-words")?.textContent || "{}");
    } catch {
      words = {};
    }
  }
  let text = words[key] ?? english;
  for (const [name, value] of Object.entries(args)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}
