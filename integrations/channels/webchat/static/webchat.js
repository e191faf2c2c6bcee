// 政务服务助手 web chat. Vanilla JS, no dependencies. Every text reaches the page through textContent,
// never innerHTML, so nothing a user types or the bot says can become markup.
"use strict";

(function () {
  const STORAGE_KEY = "govbot.webchat.sender";
  const ENDPOINT = "webhook"; // relative: /webhooks/webchat/webhook, whatever prefix a proxy adds
  const TIMEOUT_MS = 30000;
  const NETWORK_ERROR = "网络不稳定，请稍后重试。";
  const UPDATES = "updates"; // messages sent outside a turn: a staff member's reply, "the assistant is back"
  const POLL_MS = 3000;
  const OPERATOR_LABEL = "工作人员";

  const log = document.getElementById("log");
  const welcome = document.getElementById("welcome");
  const typing = document.getElementById("typing");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const newChatButton = document.getElementById("new-chat");

  let busy = false;
  let conversation = 0; // answers that arrive after "新对话" belong to the old conversation and are dropped
  let memorySender = null; // used when the browser refuses localStorage (private mode, blocked storage)

  function newId() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      return crypto.randomUUID();
    }
    // randomUUID needs a secure context (https or localhost); getRandomValues works on a plain LAN address too.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function senderId() {
    try {
      let id = localStorage.getItem(STORAGE_KEY);
      if (!id) {
        id = newId();
        localStorage.setItem(STORAGE_KEY, id);
      }
      return id;
    } catch (e) {
      memorySender = memorySender || newId();
      return memorySender;
    }
  }

  function startNewSender() {
    memorySender = newId();
    try {
      localStorage.setItem(STORAGE_KEY, memorySender);
    } catch (e) {
      // storage blocked: the in-memory id serves this page until it is closed
    }
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function addBubble(kind, text) {
    const row = document.createElement("div");
    row.className = "msg " + kind;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    row.appendChild(bubble);
    log.appendChild(row);
    scrollToEnd();
    return row;
  }

  function addButtons(row, buttons) {
    const group = document.createElement("div");
    group.className = "buttons";
    buttons.forEach((button) => {
      const element = document.createElement("button");
      element.type = "button";
      element.className = "choice";
      element.textContent = button.title;
      element.dataset.payload = button.payload;
      group.appendChild(element);
    });
    row.appendChild(group);
    scrollToEnd();
  }

  function showBotMessages(messages) {
    messages.forEach((message) => {
      const buttons = Array.isArray(message.buttons) ? message.buttons : [];
      if (!message.text && buttons.length === 0) {
        return;
      }
      const row = addBubble("bot", message.text || "请选择：");
      if (buttons.length > 0) {
        addButtons(row, buttons);
      }
    });
  }

  function showPushedMessages(messages) {
    messages.forEach((message) => {
      if (message.from !== "operator") {
        showBotMessages([message]);
        return;
      }
      if (!message.text) {
        return;
      }
      const row = addBubble("bot operator", message.text);
      const label = document.createElement("div");
      label.className = "sender";
      label.textContent = OPERATOR_LABEL;
      row.insertBefore(label, row.firstChild);
    });
  }

  // Polls the outbox while the page is visible; a hidden tab fetches what waited once it is shown again.
  async function poll() {
    const mine = conversation;
    try {
      if (!document.hidden) {
        const response = await fetch(UPDATES + "?sender=" + encodeURIComponent(senderId()), { cache: "no-store" });
        const body = response.ok ? await response.json() : null;
        if (mine === conversation && Array.isArray(body)) {
          showPushedMessages(body);
        }
      }
    } catch (e) {
      // offline for a moment: the messages wait in the outbox for the next poll
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    typing.hidden = !value;
    if (value) {
      scrollToEnd();
    }
  }

  async function post(message) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(ENDPOINT, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: senderId(), message: message }),
        signal: controller.signal,
      });
      let body = null;
      try {
        body = await response.json();
      } catch (e) {
        body = null;
      }
      if (response.ok && Array.isArray(body)) {
        return { messages: body };
      }
      return { error: body && typeof body.error === "string" ? body.error : NETWORK_ERROR };
    } catch (e) {
      return { error: NETWORK_ERROR };
    } finally {
      clearTimeout(timer);
    }
  }

  // Sends `message` to the assistant and shows `shownAs` as what the user said (a button's title, not its payload).
  // Resolves to true once the assistant has answered.
  async function send(message, shownAs, typed) {
    const mine = conversation;
    addBubble("user", shownAs);
    setBusy(true);
    const result = await post(message);
    if (mine !== conversation) {
      return false;
    }
    setBusy(false);
    if (result.error) {
      addBubble("notice", result.error);
      if (typed && !input.value) {
        input.value = message; // one Enter to try again
      }
      return false;
    }
    showBotMessages(result.messages);
    return true;
  }

  function sendTyped() {
    const text = input.value.trim();
    if (!text || busy) {
      return;
    }
    input.value = "";
    send(text, text, true);
    input.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendTyped();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") {
      return;
    }
    // Enter that confirms a pinyin candidate must not send: Chrome marks it isComposing, Safari sends keyCode 229.
    if (event.isComposing) {
      return;
    }
    event.preventDefault();
    if (event.keyCode !== 229) {
      sendTyped();
    }
  });

  function setDisabled(group, value) {
    group.querySelectorAll("button").forEach((b) => { b.disabled = value; });
  }

  log.addEventListener("click", async (event) => {
    const button = event.target.closest("button.choice");
    if (!button || button.disabled || busy) {
      return;
    }
    const group = button.parentElement;
    // A question's buttons answer it once; the welcome shortcuts stay available.
    const once = !welcome.contains(group);
    setDisabled(group, once);
    const answered = await send(button.dataset.payload, button.textContent, false);
    if (!answered && once) {
      setDisabled(group, false); // not delivered: let the user try again
    }
  });

  newChatButton.addEventListener("click", () => {
    conversation += 1;
    startNewSender();
    Array.from(log.children).forEach((child) => {
      if (child !== welcome) {
        child.remove();
      }
    });
    setBusy(false);
    input.value = "";
    input.focus();
  });

  senderId(); // create the id on first visit
  setTimeout(poll, POLL_MS);
})();
