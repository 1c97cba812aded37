// The chat page: one WebSocket to /ws, JSON events in, JSON requests out.
// The protocol is described in the Go package comment (examples/chat/main.go).
"use strict";

const maxLines = 500; // per room, so a long session does not grow without bound

const $ = (id) => document.getElementById(id);
let ws = null;
let current = "";          // the room shown
const rooms = new Map();   // room name → {lines: [], members: [], unread: false}

function setStatus(text) { $("status").textContent = text; }

function send(req) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(req));
  else setStatus("not connected: the request was not sent");
}

function connect(nick) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  ws = new WebSocket(scheme + location.host + "/ws?nick=" + encodeURIComponent(nick));
  setStatus("connecting…");
  ws.onopen = () => setStatus("connected as " + nick);
  ws.onmessage = (e) => handle(JSON.parse(e.data));
  ws.onclose = (e) => {
    setStatus("closed: " + e.code + (e.reason ? " " + e.reason : ""));
    $("chat").hidden = true;
    $("login").hidden = false;
    rooms.clear();
    current = "";
    render();
  };
}

function handle(ev) {
  switch (ev.type) {
  case "welcome":
    $("login").hidden = true;
    $("chat").hidden = false;
    $("room").focus();
    break;
  case "joined":
    rooms.set(ev.room, {lines: [], members: [], unread: false});
    current = ev.room;
    break;
  case "left":
    rooms.delete(ev.room);
    if (current === ev.room) current = rooms.keys().next().value || "";
    break;
  case "members": {
    const r = rooms.get(ev.room);
    if (r) {
      const before = new Set(r.members);
      const after = new Set(ev.members || []);
      for (const m of after) if (!before.has(m) && r.members.length) addLine(ev.room, "", m + " joined");
      for (const m of before) if (!after.has(m)) addLine(ev.room, "", m + " left");
      r.members = ev.members || [];
    }
    break;
  }
  case "message":
    addLine(ev.room, ev.from, ev.text);
    break;
  case "error":
    addLine(rooms.has(ev.room) ? ev.room : current, "", "error: " + ev.text);
    break;
  }
  render();
}

function addLine(room, from, text) {
  const r = rooms.get(room);
  if (!r) return;
  r.lines.push({from, text});
  if (r.lines.length > maxLines) r.lines.shift();
  if (room !== current) r.unread = true;
}

function render() {
  const list = $("room-list");
  list.replaceChildren();
  for (const [name, r] of rooms) {
    const li = document.createElement("li");
    li.textContent = name;
    li.dataset.room = name;
    if (name === current) { li.className = "current"; r.unread = false; }
    else if (r.unread) li.className = "unread";
    li.onclick = () => { current = name; render(); };
    list.append(li);
  }

  const r = rooms.get(current);
  $("room-title").textContent = r ? current : "join a room";
  $("leave").disabled = !r;
  $("text").disabled = !r;
  $("send").disabled = !r;

  const msgs = $("messages");
  msgs.replaceChildren();
  for (const line of r ? r.lines : []) {
    const li = document.createElement("li");
    if (line.from) {
      const from = document.createElement("span");
      from.className = "from";
      from.textContent = line.from;
      li.append(from, document.createTextNode(line.text));
    } else {
      li.className = "system";
      li.textContent = line.text;
    }
    msgs.append(li);
  }
  msgs.scrollTop = msgs.scrollHeight;

  const members = $("member-list");
  members.replaceChildren();
  for (const m of r ? r.members : []) {
    const li = document.createElement("li");
    li.textContent = m;
    members.append(li);
  }
}

$("login").onsubmit = (e) => {
  e.preventDefault();
  connect($("nick").value.trim());
};

$("join").onsubmit = (e) => {
  e.preventDefault();
  const room = $("room").value.trim();
  if (rooms.has(room)) { current = room; render(); }
  else send({type: "join", room});
  $("room").value = "";
};

$("leave").onclick = () => send({type: "leave", room: current});

$("say").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (text === "" || !current) return;
  send({type: "say", room: current, text});
  $("text").value = "";
  $("text").focus();
};
