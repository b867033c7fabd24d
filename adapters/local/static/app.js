// The local chat page: who this tab is, the socket to the room, the composer, and the private
// panel (this person's direct messages with the bot: cameo steps, consent requests, uploads).
import { renderMessage } from "./render.js";

const $ = (id) => document.getElementById(id);
const ui = {
  log: $("log"), intro: $("intro"), conn: $("conn"), connText: $("conn-text"), presence: $("presence"), rename: $("rename"),
  alert: $("alert"), composer: $("composer"), text: $("text"), send: $("send"),
  replying: $("replying"), replyingText: $("replying-text"), cancelReply: $("cancel-reply"),
  join: $("join"), joinForm: $("join-form"), name: $("name"), joinError: $("join-error"),
  tryIt: $("try"), remixExample: $("remix-example"), roomTitle: $("room-title"),
  toast: $("toast"), private: $("private"), privateLog: $("private-log"), privateToggle: $("private-toggle"),
  privateBadge: $("private-badge"), privateClose: $("private-close"), privateComposer: $("private-composer"),
  privateText: $("private-text"), privateSend: $("private-send"), selfieForm: $("selfie-form"),
  selfie: $("selfie"), selfieSend: $("selfie-send"), selfieStatus: $("selfie-status"),
  verifySend: $("verify-send"),
};
// The server keeps 200 messages for newcomers; an open tab may show a few more.
const MAX_SHOWN = 400;
const state = {
  socket: null, joined: false, command: "sora", replyTo: null, retryMs: 500, alertTimer: 0, toastTimer: 0,
  unseen: 0, uploading: false,
};
// Wide enough for the panel to sit beside the room rather than over it.
const wide = window.matchMedia("(min-width: 800px)");

// ---- Identity: per tab, so two tabs are two people in the room. ----

function identity() {
  let userId = sessionStorage.getItem("clipcrew.user_id");
  if (!userId) {
    // getRandomValues works on plain http too (randomUUID needs a secure context).
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    userId = "u" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem("clipcrew.user_id", userId);
  }
  return { userId, name: sessionStorage.getItem("clipcrew.name") || "" };
}

function sayHello(name) {
  send({ type: "hello", name, user_id: identity().userId });
}

function askName() {
  ui.name.value = identity().name;
  if (!ui.join.open) ui.join.showModal();
  ui.name.focus();
}

ui.joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = ui.name.value.trim();
  if (!name) {
    ui.joinError.textContent = "Pick a name first.";
    return;
  }
  ui.joinError.textContent = "";
  sessionStorage.setItem("clipcrew.name", name);
  sayHello(name);
});
// Escape would leave a tab with no name and nothing to do; keep the dialog until joined.
ui.join.addEventListener("cancel", (event) => { if (!state.joined) event.preventDefault(); });
ui.rename.addEventListener("click", askName);

// ---- The socket. ----

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws`);
  state.socket = socket;
  setConnection("connecting", "Connecting…");
  socket.addEventListener("open", () => {
    state.retryMs = 500;
    setConnection("open", "Connected");
    const { name } = identity();
    if (name) sayHello(name);
    else askName();
  });
  socket.addEventListener("message", (event) => onFrame(JSON.parse(event.data)));
  socket.addEventListener("close", () => {
    state.joined = false;
    setComposerEnabled(false);
    setConnection("closed", "Reconnecting…");
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 5000);
  });
}

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(frame));
    return true;
  }
  showAlert("Not connected; trying again…");
  return false;
}

const handlers = {
  welcome(frame) {
    state.command = frame.command;
    ui.roomTitle.textContent = frame.room.title;
    ui.tryIt.textContent = `/${frame.command} a cat says "hello"`;
    ui.remixExample.textContent = `/${frame.command} make it rain`;
    ui.text.placeholder = `Message, or /${frame.command} …`;
    ui.text.maxLength = frame.limits.text;
    ui.name.maxLength = frame.limits.name;
    for (const node of ui.log.querySelectorAll("article.msg")) node.remove();
    for (const message of frame.history) addMessage(message);
    ui.intro.hidden = frame.history.length > 0;
    scrollToEnd(true);
  },
  joined(frame) {
    state.joined = true;
    state.me = frame.user.id;
    if (ui.join.open) ui.join.close();
    const who = frame.user.username ? `${frame.user.name} (@${frame.user.username})` : frame.user.name;
    ui.rename.hidden = false;
    ui.rename.textContent = `✎ ${who}`;
    ui.rename.setAttribute("aria-label", `Change your name (now ${who})`);
    ui.rename.title = "Change your name; others mention you by your @name";
    ui.privateToggle.hidden = false;
    ui.privateLog.replaceChildren(...frame.private.map((m) => renderPrivate(m)));
    if (frame.private.length) notePrivate(frame.private.length);
    setComposerEnabled(true);
    ui.text.focus();
  },
  message(frame) {
    if (frame.panel === "private") {
      ui.privateLog.append(renderPrivate(frame.message));
      ui.privateLog.scrollTop = ui.privateLog.scrollHeight;
      if (frame.message.author.bot) notePrivate(1);
      return;
    }
    const stick = nearEnd();
    addMessage(frame.message);
    scrollToEnd(stick);
  },
  update(frame) {
    const old = findMessage(frame.message.id, frame.panel);
    if (old) old.replaceWith(frame.panel === "private" ? renderPrivate(frame.message) : render(frame.message));
  },
  delete(frame) {
    findMessage(frame.id, frame.panel)?.remove();
    if (frame.panel === "private") return;
    if (state.replyTo && state.replyTo.id === frame.id) setReplyTo(null);
    ui.intro.hidden = ui.log.querySelector("article.msg") !== null;
  },
  toast(frame) {
    showToast(frame.text);
  },
  presence(frame) {
    ui.presence.textContent = frame.online === 1 ? "1 tab here" : `${frame.online} tabs here`;
  },
  error(frame) {
    if (frame.code === "bad_name" || (!state.joined && frame.code !== "internal")) {
      ui.joinError.textContent = frame.error;
      askName();
    } else {
      showAlert(frame.error);
    }
  },
};

function onFrame(frame) {
  const handler = handlers[frame.type];
  if (handler) handler(frame);
}

// ---- The log. ----

function render(message) {
  return renderMessage(message, {
    me: state.me ?? identity().userId,
    onReply: (m) => setReplyTo(m),
    onPress: (m, payload) => send({ type: "press", payload, message_id: m.id, panel: "room" }),
  });
}

function renderPrivate(message) {
  return renderMessage(message, {
    me: state.me ?? identity().userId,
    // A clip in the panel is remixed from the room, where the Reply box is.
    onReply: (m) => setReplyTo(m),
    onPress: (m, payload) => send({ type: "press", payload, message_id: m.id, panel: "private" }),
  });
}

function addMessage(message) {
  ui.log.append(render(message));
  ui.intro.hidden = true;
  // A tab left open all day should not hold every clip ever posted.
  const shown = ui.log.querySelectorAll("article.msg");
  for (let i = 0; i < shown.length - MAX_SHOWN; i++) shown[i].remove();
}

function findMessage(id, panel) {
  const log = panel === "private" ? ui.privateLog : ui.log;
  return log.querySelector(`article.msg[data-id="${CSS.escape(id)}"]`);
}

function nearEnd() {
  return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 120;
}

function scrollToEnd(stick) {
  if (stick) ui.log.scrollTop = ui.log.scrollHeight;
}

// ---- The composer. ----

function setReplyTo(message) {
  state.replyTo = message ? { id: message.id, clipId: message.data?.clip_id } : null;
  ui.replying.hidden = !message;
  if (!message) return;
  ui.replyingText.textContent = state.replyTo.clipId ? `Replying to #${state.replyTo.clipId}` : `Replying to ${message.author.name}`;
  if (!ui.text.value.trim()) ui.text.value = `/${state.command} `;
  ui.text.focus();
}

function setComposerEnabled(enabled) {
  ui.text.disabled = !enabled;
  ui.send.disabled = !enabled;
  ui.privateText.disabled = !enabled;
  ui.privateSend.disabled = !enabled;
  ui.selfie.disabled = !enabled;
  ui.selfieSend.disabled = !enabled || state.uploading || !ui.selfie.files.length;
  ui.verifySend.disabled = ui.selfieSend.disabled;
}

function submit() {
  const text = ui.text.value.trim();
  if (!text || !state.joined) return;
  if (send({ type: "send", text, reply_to: state.replyTo ? state.replyTo.id : null })) {
    ui.text.value = "";
    setReplyTo(null);
    fitComposer();
  }
}

function fitComposer() {
  ui.text.style.height = "auto";
  ui.text.style.height = `${ui.text.scrollHeight}px`;
}

function showAlert(text) {
  ui.alert.textContent = text;
  ui.alert.hidden = false;
  clearTimeout(state.alertTimer);
  state.alertTimer = setTimeout(() => { ui.alert.hidden = true; }, 6000);
}

function showToast(text) {
  ui.toast.textContent = text;
  ui.toast.hidden = false;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 6000);
}

function setConnection(kind, text) {
  ui.conn.dataset.state = kind;
  ui.connText.textContent = text;
}

ui.composer.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
ui.text.addEventListener("input", fitComposer);
ui.text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  } else if (event.key === "Escape" && state.replyTo) {
    setReplyTo(null);
  }
});
ui.cancelReply.addEventListener("click", () => { setReplyTo(null); ui.text.focus(); });
ui.tryIt.addEventListener("click", () => {
  ui.text.value = ui.tryIt.textContent;
  fitComposer();
  ui.text.focus();
});

// ---- The private panel. ----

function setPrivateOpen(open) {
  ui.private.hidden = !open;
  ui.privateToggle.setAttribute("aria-expanded", String(open));
  if (open) {
    state.unseen = 0;
    ui.privateBadge.hidden = true;
    ui.privateLog.scrollTop = ui.privateLog.scrollHeight;
  }
}

/** Something new arrived in the panel: beside the room it opens; over the room it waits. */
function notePrivate(count) {
  if (!ui.private.hidden) return;
  if (wide.matches) {
    setPrivateOpen(true);
    return;
  }
  state.unseen += count;
  ui.privateBadge.hidden = false;
  ui.privateBadge.textContent = ` ${state.unseen}`;
  ui.privateToggle.setAttribute("aria-label", `Private (${state.unseen} new)`);
}

ui.privateToggle.addEventListener("click", () => {
  setPrivateOpen(ui.private.hidden);
  ui.privateToggle.removeAttribute("aria-label");
  if (!ui.private.hidden) ui.privateText.focus();
});
ui.privateClose.addEventListener("click", () => {
  setPrivateOpen(false);
  ui.privateToggle.focus();
});
ui.privateComposer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.privateText.value.trim();
  if (text && state.joined && send({ type: "send", text, reply_to: null, panel: "private" })) {
    ui.privateText.value = "";
  }
});

ui.selfie.addEventListener("change", () => {
  ui.selfieSend.disabled = state.uploading || !ui.selfie.files.length;
  ui.verifySend.disabled = ui.selfieSend.disabled;
});
ui.selfieForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = ui.selfie.files[0];
  if (!file || state.uploading || !state.joined) return;
  state.uploading = true;
  ui.selfieSend.disabled = true;
  ui.verifySend.disabled = true;
  ui.selfieStatus.textContent = "Uploading…";
  // The Verify button sends it with /verify (where did it come from?), not as a selfie.
  const headers = { "X-Clipcrew-User": identity().userId, "Content-Type": file.type || "application/octet-stream" };
  if (event.submitter && event.submitter.id === "verify-send") headers["X-Clipcrew-Purpose"] = "verify";
  try {
    // The raw file as the body: the server reads it only if its size is acceptable.
    const response = await fetch("/selfie", { method: "POST", headers, body: file });
    const answer = await response.json().catch(() => ({ text: `The upload failed (${response.status}).` }));
    ui.selfieStatus.textContent = response.ok ? "Sent. The answer is above." : answer.text;
    if (response.ok) ui.selfieForm.reset();
  } catch {
    ui.selfieStatus.textContent = "The upload did not get through; check the connection and try again.";
  } finally {
    state.uploading = false;
    ui.selfieSend.disabled = !ui.selfie.files.length;
    ui.verifySend.disabled = ui.selfieSend.disabled;
  }
});

connect();
