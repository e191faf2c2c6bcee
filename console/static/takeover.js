// 人工接管: new messages of the open conversation appear without reloading (the reply box keeps what is typed).
// Texts are set with textContent only, so nothing from a conversation can become markup.
"use strict";

(function () {
  const POLL_MS = 3000;
  const chat = document.getElementById("chat");
  if (!chat) {
    return;
  }
  const changed = document.getElementById("changed");
  const handoff = chat.dataset.handoff;
  const status = chat.dataset.status;
  let after = Number(chat.dataset.after || "0");

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // Shown in China Standard Time (UTC+8, no daylight saving), like the server-rendered messages.
  function clock(seconds) {
    const d = new Date((seconds + 8 * 3600) * 1000);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function who(message) {
    if (message.kind === "user") return "市民";
    if (message.kind === "operator") return "工作人员 " + (message.operator || "");
    if (message.kind === "bot") return "智能助手";
    return "系统";
  }

  function add(message) {
    const row = document.createElement("div");
    row.className = "chat-msg " + message.kind;
    const head = document.createElement("div");
    head.className = "who";
    head.textContent = who(message) + " · " + clock(message.at);
    const text = document.createElement("div");
    text.className = "text";
    text.textContent = message.text;
    row.appendChild(head);
    row.appendChild(text);
    chat.appendChild(row);
  }

  async function poll() {
    try {
      const response = await fetch("/api/takeover/" + encodeURIComponent(handoff) + "/messages?after=" + after, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (response.ok) {
        const body = await response.json();
        const nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
        const empty = document.getElementById("empty");
        if (empty && body.messages.length) {
          empty.remove();
        }
        body.messages.forEach((message) => {
          add(message);
          after = Math.max(after, message.id);
        });
        if (nearBottom) {
          chat.scrollTop = chat.scrollHeight;
        }
        if (body.status !== status && changed) {
          changed.classList.remove("hidden");
        }
      }
    } catch (e) {
      // network hiccup: try again at the next tick
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  chat.scrollTop = chat.scrollHeight;
  setTimeout(poll, POLL_MS);
})();
