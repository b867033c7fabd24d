// Room messages (the server's JSON) → DOM nodes. Every piece of user or bot text goes in through
// textContent or an attribute, never innerHTML, so nothing anyone types can become markup.

const timeFormat = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });

/** A new element with a class and optional text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/**
 * One message as an <article>. `me` is this tab's user id (own lines sit on the right);
 * `onReply(message)` is called by a clip's Reply button, `onPress(message, payload)` by a
 * button under a note (Approve once, Always allow, Deny).
 */
export function renderMessage(message, { me, onReply, onPress }) {
  const article = el("article", "msg");
  article.dataset.id = message.id;
  article.dataset.kind = message.kind;
  if (message.author.bot) article.classList.add("from-bot");
  if (message.author.id === me) article.classList.add("mine");
  article.append(renderMeta(message));
  if (message.quote) article.append(renderQuote(message.quote));
  if (message.kind === "clip") article.append(...renderClip(message, onReply, onPress));
  else if (message.kind === "notice") article.append(renderNotice(message, onPress));
  else article.append(el("p", "text", message.text));
  return article;
}

function renderMeta(message) {
  const meta = el("div", "meta");
  meta.append(el("span", "author", message.author.name));
  const time = el("time", "when", timeFormat.format(new Date(message.created_at * 1000)));
  time.dateTime = new Date(message.created_at * 1000).toISOString();
  meta.append(time);
  return meta;
}

function renderQuote(quote) {
  const box = el("div", "quote");
  const who = quote.clip_id ? `clip #${quote.clip_id}` : quote.author;
  box.append(el("span", "quote-who", `↪ ${who}`), el("span", "quote-text", quote.text));
  return box;
}

/** A bot notice. Progress and queued notices get a bar; a note its buttons; the rest are text. */
function renderNotice(message, onPress) {
  const data = message.data || {};
  const box = el("div", "notice");
  box.dataset.notice = data.kind || "text";
  if (data.kind === "progress" || data.kind === "queued") {
    // A live region of its own: a screen reader hears the stage change without re-reading
    // the whole log.
    box.setAttribute("role", "status");
    box.append(renderBar(data, message.text));
  } else if (data.kind === "usage" && data.note && message.text.startsWith(data.note)) {
    // The note is a sentence; the usage lines below it read best as a block of examples.
    box.append(el("p", "text", data.note), el("pre", "usage", message.text.slice(data.note.length).trim()));
  } else if (data.kind === "usage") {
    box.append(el("pre", "usage", message.text));
  } else {
    box.append(linked(el("p", "text"), message.text));
  }
  if (data.kind === "progress" && data.preview) {
    // The picture as it forms: a small frame the engine sent, replaced by the clip at the end.
    const img = el("img", "preview");
    img.src = data.preview;
    img.alt = "Preview of the clip being made";
    box.append(img);
  }
  const buttons = data.kind === "note" || data.kind === "progress" || data.kind === "queued";
  if (buttons && data.choices?.length && onPress) box.append(renderChoices(message, onPress));
  return box;
}

function renderChoices(message, onPress) {
  const group = el("div", "choices");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "Your answer");
  for (const choice of message.data.choices) {
    const button = el("button", "choice", choice.label);
    button.type = "button";
    button.addEventListener("click", () => {
      // One answer per note: the bot's edit (or an error) follows.
      for (const other of group.querySelectorAll("button")) other.disabled = true;
      onPress(message, choice.payload);
    });
    group.append(button);
  }
  return group;
}

function renderBar(data, text) {
  const wrap = el("div", "bar");
  const label = el("div", "bar-label");
  const bar = document.createElement("progress");
  bar.max = 100;
  if (data.kind === "progress") {
    bar.value = data.percent;
    bar.setAttribute("aria-label", `Clip progress: ${data.percent}%`);
    label.append(el("span", "pct", `${data.percent}%`), el("span", "stage", data.stage));
  } else {
    // No value: the browser draws an indeterminate bar while the job waits its turn.
    bar.setAttribute("aria-label", "Waiting to start");
    label.append(el("span", "stage", text.replace(/^🎬\s*/, "")));
  }
  wrap.append(bar, label);
  return wrap;
}

/** Text into `node`, with http(s) addresses (a /feed answer's links) as links: each piece goes
 * in as a text node or an href, never as markup. */
function linked(node, text) {
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    node.append(document.createTextNode(text.slice(last, match.index)));
    const link = el("a", "link", match[0]);
    link.href = match[0];
    link.target = "_blank";
    link.rel = "noopener";
    node.append(link);
    last = match.index + match[0].length;
  }
  node.append(document.createTextNode(text.slice(last)));
  return node;
}

function renderClip(message, onReply, onPress) {
  const data = message.data;
  const figure = el("figure", "clip");
  const video = document.createElement("video");
  video.controls = true;
  video.playsInline = true;
  video.preload = "metadata";
  video.src = data.url;
  // The real size up front keeps the log from jumping when the video loads.
  video.width = data.width;
  video.height = data.height;
  video.setAttribute("aria-label", `Clip #${data.clip_id}: ${data.prompt}`);
  figure.append(video, el("figcaption", "caption", message.text));

  const actions = el("div", "clip-actions");
  const reply = el("button", "reply", "Reply");
  reply.type = "button";
  reply.setAttribute("aria-label", `Reply to clip #${data.clip_id} (a command in reply remixes it)`);
  reply.addEventListener("click", () => onReply(message));
  const open = el("a", "quiet", "Open video");
  open.href = data.url;
  open.target = "_blank";
  open.rel = "noopener";
  if (data.like && onPress) {
    // The local chat has no reactions of its own: ❤️ counts instead, once per person.
    const like = el("button", "like", "❤️");
    like.type = "button";
    like.setAttribute("aria-label", `Like clip #${data.clip_id} (press again to take it back)`);
    like.addEventListener("click", () => onPress(message, data.like));
    actions.append(like);
  }
  actions.append(reply, el("span", "clip-info", `${data.duration_s.toFixed(1)} s · ${data.width}×${data.height}`), open);
  return [figure, actions];
}
