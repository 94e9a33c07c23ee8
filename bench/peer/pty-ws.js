// The terminal stack of the lab platforms the bench compares with: Node's node-pty serving a
// bash over a `ws` WebSocket, as Educates' terminal server does, with terminado's JSON frames
// (JupyterLab's): ["stdin", text] in, ["stdout", text] out. No sandbox around the bash: this
// times the stack between the browser and the PTY, the same path Stacklab's bench times.
// Usage: node pty-ws.js PORT — prints "listening" once it takes connections on 127.0.0.1.
"use strict";
const pty = require("node-pty");
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node pty-ws.js PORT");
  process.exit(2);
}
const server = new WebSocketServer({ host: "127.0.0.1", port });
server.on("listening", () => console.log("listening"));
server.on("connection", (socket) => {
  const shell = pty.spawn("/bin/bash", ["--norc", "--noprofile"], {
    name: "xterm-256color",
    cols: 80,
    rows: 24,
    cwd: "/tmp",
    env: { PATH: process.env.PATH, HOME: "/tmp", TERM: "xterm-256color", PS1: "# ", LANG: "C.UTF-8" },
  });
  shell.onData((data) => socket.send(JSON.stringify(["stdout", data])));
  shell.onExit(() => socket.close());
  socket.on("message", (message) => {
    const [kind, ...rest] = JSON.parse(message.toString());
    if (kind === "stdin") shell.write(rest[0]);
    else if (kind === "set_size") shell.resize(rest[1], rest[0]);
  });
  socket.on("close", () => shell.kill());
  socket.send(JSON.stringify(["setup", {}]));
});
