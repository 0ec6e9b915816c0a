// Sora Studio: the character picker. Play the character's clip, mark where the character appears with the
// player ("Set start here", "Set end here"), see the marked part on a bar over the clip, loop it, and learn at
// once whether it lasts the 1 to 3 seconds the video service requires. The times go into the form's own
// "Appears at" and "Until" inputs, which work without this file too; the server checks them again.
//
// The fieldset lives inside the #options fragment that htmx re-renders, so everything here is found from the
// event's target (delegated listeners on the document) and the player is made afresh after every swap.

// The words shown come translated from the page (text.js).
import { bothSentences as both, studioText as t } from "./text.js";

const MIN_SPAN = 1;
const MAX_SPAN = 3;
const objectUrls = new WeakMap(); // fieldset -> the object URL of the picked file shown in its player
const looping = new WeakSet(); // players playing the marked part over and over

const fieldsetOf = (node) => (node instanceof Element ? node.closest("[data-character]") : null);
const find = (fieldset, selector) => fieldset.querySelector(selector);
const startInput = (fieldset) => find(fieldset, "input[name=character_start]");
const endInput = (fieldset) => find(fieldset, "input[name=character_end]");
const playerOf = (fieldset) => find(fieldset, "[data-clip-player]");

function readTime(input) {
  if (!input || input.value.trim() === "") return null;
  const value = Number(input.value);
  return Number.isFinite(value) ? value : null;
}

function say(fieldset, text, kind = "") {
  const message = find(fieldset, "[data-clip-message]");
  if (!message) return;
  message.textContent = text;
  message.dataset.kind = kind; // "refused", "ok" or "" (the CSS colours it)
}

// --- The player ------------------------------------------------------------------------------------

function makePlayer(fieldset) {
  let video = playerOf(fieldset);
  if (video) return video;
  video = document.createElement("video");
  video.className = "clip-player";
  video.dataset.clipPlayer = "";
  video.controls = true;
  video.muted = true;
  video.playsInline = true;
  video.preload = "metadata";
  video.setAttribute("aria-label", t("clip.player", "The character clip"));
  video.addEventListener("loadedmetadata", () => {
    const length = find(fieldset, "[data-clip-length]");
    if (length) length.textContent = t("clip.seconds", "%(seconds)s s", { seconds: video.duration.toFixed(1) });
    for (const button of fieldset.querySelectorAll("[data-clip-mark]")) button.disabled = false;
    update(fieldset);
  });
  video.addEventListener("error", () => {
    for (const button of fieldset.querySelectorAll("[data-clip-mark], [data-clip-loop]")) button.disabled = true;
    say(
      fieldset,
      t(
        "clip.cannotPlay",
        "This clip cannot be played here. Check the address, or pick an MP4, WebM or MOV file.",
      ),
      "refused",
    );
  });
  video.addEventListener("timeupdate", () => follow(fieldset, video));
  video.addEventListener("seeked", () => follow(fieldset, video));
  video.addEventListener("play", () => {
    const tick = () => {
      follow(fieldset, video);
      if (!video.paused && video.isConnected) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  // A part that ends where the clip does: the clip's end pauses it, and the loop starts it again.
  video.addEventListener("pause", () => {
    if (!video.ended) stopLoop(fieldset, video);
  });
  video.addEventListener("ended", () => {
    const start = readTime(startInput(fieldset));
    if (!looping.has(video) || start === null) return stopLoop(fieldset, video);
    video.currentTime = start;
    video.play().catch(() => stopLoop(fieldset, video));
  });
  find(fieldset, "[data-clip-screen]").append(video);
  return video;
}

function load(fieldset, source, objectUrl = null) {
  const previous = objectUrls.get(fieldset);
  if (previous && previous !== objectUrl) URL.revokeObjectURL(previous);
  if (objectUrl) objectUrls.set(fieldset, objectUrl);
  else objectUrls.delete(fieldset);
  const video = makePlayer(fieldset);
  stopLoop(fieldset, video);
  for (const button of fieldset.querySelectorAll("[data-clip-mark], [data-clip-loop]")) button.disabled = true;
  find(fieldset, "[data-clip-picker]").hidden = false;
  say(fieldset, t("clip.loading", "Loading the clip…"));
  video.src = source;
  video.load();
}

// Keeps the play head on the bar, and the marked part looping while "Play the marked part" is on.
function follow(fieldset, video) {
  const head = find(fieldset, "[data-clip-head]");
  if (head && video.duration) head.style.left = `${(100 * video.currentTime) / video.duration}%`;
  if (!looping.has(video)) return;
  const start = readTime(startInput(fieldset));
  const end = readTime(endInput(fieldset));
  if (start === null || end === null) return;
  if (video.currentTime >= end || video.currentTime < start - 0.25) video.currentTime = start;
}

function stopLoop(fieldset, video) {
  looping.delete(video);
  const button = find(fieldset, "[data-clip-loop]");
  if (button) button.textContent = t("clip.play", "Play the marked part");
}

// --- The marked part --------------------------------------------------------------------------------

// What is wrong with a part from `start` to `end` (either may be null) of a clip `length` seconds long
// (0: not known yet), with what to do about it, in plain words; "" when nothing is. `moving` says which
// end the creator is placing, so the advice is about that one.
function problem(start, end, moving, length) {
  if (start === null || end === null) return "";
  const span = end - start;
  const last = length ? Math.round(length) : Infinity;
  if (span >= MIN_SPAN && span <= MAX_SPAN && end <= last) return "";
  if (end > last && span >= MIN_SPAN && span <= MAX_SPAN) {
    return t("clip.tooLate", "The clip lasts only %(length)s s: the part must end by %(last)s s.", {
      length: length.toFixed(1),
      last,
    });
  }
  let why;
  if (span > 0) why = t("clip.wrongSpan", "The part must last 1 to 3 seconds, and this would be %(span)s s", { span });
  else if (moving === "start") why = t("clip.startBeforeEnd", "The start must come before the end (%(end)s s)", { end });
  else why = t("clip.endAfterStart", "The end must come after the start (%(start)s s)", { start });
  if (moving === "start") {
    if (end < MIN_SPAN) {
      return t("clip.setEndFirst", "%(why)s: the end (%(end)s s) is too early, so set the end first.", { why, end });
    }
    return t("clip.moveStart", "%(why)s: move the start to between %(low)s and %(high)s s.", {
      why,
      low: Math.max(0, end - MAX_SPAN),
      high: end - MIN_SPAN,
    });
  }
  const low = start + MIN_SPAN;
  const high = Math.min(start + MAX_SPAN, last);
  if (low > high) {
    return t("clip.clipEnds", "%(why)s, and the clip ends %(last)s s in: move the start to %(latest)s s or earlier.", {
      why,
      last,
      latest: Math.max(0, last - MIN_SPAN),
    });
  }
  return t("clip.moveEnd", "%(why)s: move the end to between %(low)s and %(high)s s.", { why, low, high });
}

function clipLength(fieldset) {
  const video = playerOf(fieldset);
  return video && Number.isFinite(video.duration) ? video.duration : 0;
}

// Draws the part (the one in the inputs, or a refused one) on the bar, and says in a sentence where the
// marking stands and what comes next.
function update(fieldset, refused = null, note = "") {
  const length = clipLength(fieldset);
  const start = refused ? refused.start : readTime(startInput(fieldset));
  const end = refused ? refused.end : readTime(endInput(fieldset));
  const wrong = problem(start, end, refused ? refused.moving : "end", length);
  draw(fieldset, start, end, length, Boolean(wrong));
  const loop = find(fieldset, "[data-clip-loop]");
  if (loop) loop.disabled = !(length && start !== null && end !== null && !wrong && !refused);
  if (wrong) {
    say(fieldset, wrong, "refused");
  } else if (start === null && end === null) {
    say(
      fieldset,
      t("clip.begin", "Play the clip, pause where the character appears and press “Set start here”."),
    );
  } else if (end === null) {
    const high = length ? Math.min(start + MAX_SPAN, Math.round(length)) : start + MAX_SPAN;
    const next = t(
      "clip.started",
      "Start: %(start)s s. Now set the end 1 to 3 seconds later, between %(low)s and %(high)s s.",
      { start, low: start + MIN_SPAN, high },
    );
    say(fieldset, both(note, next));
  } else if (start === null) {
    const next = t(
      "clip.ended",
      "End: %(end)s s. Now set the start 1 to 3 seconds before, between %(low)s and %(high)s s.",
      { end, low: Math.max(0, end - MAX_SPAN), high: end - MIN_SPAN },
    );
    say(fieldset, both(note, next));
  } else {
    const marked = t(
      "clip.marked",
      "Marked: %(start)s s to %(end)s s (%(span)s s). “Play the marked part” to check it.",
      { start, end, span: end - start },
    );
    say(fieldset, both(note, marked), "ok");
  }
}

function draw(fieldset, start, end, length, refused) {
  const span = find(fieldset, "[data-clip-span]");
  if (!span) return;
  if (!length || start === null || end === null) {
    span.hidden = true;
    return;
  }
  const from = Math.max(0, Math.min(start, end, length));
  const to = Math.min(length, Math.max(start, end));
  span.hidden = false;
  span.style.left = `${(100 * from) / length}%`;
  span.style.width = `${(100 * Math.max(0, to - from)) / length}%`;
  span.classList.toggle("refused", refused);
  span.title = t("clip.span", "%(start)s s to %(end)s s", { start, end });
}

// "Set start here" / "Set end here": the player's time, to the nearest whole second, is taken if the part
// it makes is possible; otherwise the inputs keep what they had and the message says what to do.
function mark(fieldset, which) {
  const video = playerOf(fieldset);
  if (!video || !Number.isFinite(video.duration)) return;
  video.pause();
  const at = Math.min(Math.max(0, Math.round(video.currentTime)), Math.round(video.duration));
  const start = which === "start" ? at : readTime(startInput(fieldset));
  const end = which === "end" ? at : readTime(endInput(fieldset));
  if (problem(start, end, which, video.duration)) {
    update(fieldset, { start, end, moving: which });
    return;
  }
  const input = which === "start" ? startInput(fieldset) : endInput(fieldset);
  input.value = String(at);
  const off = Math.abs(video.currentTime - at) >= 0.05;
  const note = off
    ? t("clip.rounded", "The player was at %(time)s s, taken as %(taken)s s: the service takes whole seconds.", {
        time: video.currentTime.toFixed(1),
        taken: at,
      })
    : "";
  update(fieldset, null, note);
}

function playPart(fieldset) {
  const video = playerOf(fieldset);
  const start = readTime(startInput(fieldset));
  const end = readTime(endInput(fieldset));
  if (!video || start === null || end === null || problem(start, end, "end", video.duration)) {
    say(fieldset, t("clip.markFirst", "Mark a start and an end 1 to 3 seconds apart first."), "refused");
    return;
  }
  if (looping.has(video)) {
    video.pause(); // stops the loop too
    return;
  }
  looping.add(video);
  find(fieldset, "[data-clip-loop]").textContent = t("clip.stop", "Stop playing the part");
  video.currentTime = start;
  video.play().catch(() => stopLoop(fieldset, video));
}

// --- Where the clip comes from ----------------------------------------------------------------------

function looksLikeAddress(value) {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function chooseSaved(fieldset, select, automatic = false) {
  const option = select.selectedOptions[0];
  if (!option || !option.value) return;
  const clip = option.dataset.clip || "";
  if (!automatic) {
    startInput(fieldset).value = option.dataset.start;
    endInput(fieldset).value = option.dataset.end;
  }
  // On its own (after a page load or a swap) only the studio's own copy is fetched, never another site.
  if (clip && (!automatic || clip.startsWith("/"))) load(fieldset, clip);
}

function init(root) {
  const scope = root instanceof Element ? root : document;
  const fieldsets = scope.matches?.("[data-character]") ? [scope] : scope.querySelectorAll("[data-character]");
  for (const fieldset of fieldsets) {
    const address = find(fieldset, "input[name=character_url]");
    const open = find(fieldset, "[data-clip-open]");
    if (open && address) open.hidden = !looksLikeAddress(address.value.trim());
    const select = find(fieldset, "select[name=character]");
    if (select && select.value) chooseSaved(fieldset, select, true);
  }
}

document.addEventListener("change", (event) => {
  const fieldset = fieldsetOf(event.target);
  if (!fieldset) return;
  if (event.target.matches("input[name=character_clip]")) {
    const file = event.target.files && event.target.files[0];
    if (file) {
      const url = URL.createObjectURL(file);
      load(fieldset, url, url);
    }
  } else if (event.target.matches("select[name=character]")) {
    chooseSaved(fieldset, event.target);
  }
});

document.addEventListener("input", (event) => {
  const fieldset = fieldsetOf(event.target);
  if (!fieldset) return;
  if (event.target.matches("input[name=character_url]")) {
    const open = find(fieldset, "[data-clip-open]");
    if (open) open.hidden = !looksLikeAddress(event.target.value.trim());
  } else if (event.target.matches("input[name=character_start], input[name=character_end]")) {
    update(fieldset);
  }
});

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button") : null;
  const fieldset = fieldsetOf(button);
  if (!button || !fieldset) return;
  if (button.matches("[data-clip-mark]")) mark(fieldset, button.dataset.clipMark);
  else if (button.matches("[data-clip-loop]")) playPart(fieldset);
  else if (button.matches("[data-clip-open]")) {
    const address = find(fieldset, "input[name=character_url]").value.trim();
    if (looksLikeAddress(address)) load(fieldset, address);
  }
});

// A picked file does not survive htmx swapping the form (a change of model, a refused submit): carry it
// over to the new file input, unless the submit went through or the clip itself was refused. Other
// swaps (the cost beside the button, the bell) happen at the same moment and must leave it alone.
let carried = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const input = document.querySelector("input[name=character_clip]");
  if (!input || !event.detail.target.contains(input)) return;
  const created = (event.detail.xhr?.getResponseHeader("HX-Trigger") || "").includes("generation-created");
  carried = !created && input.files && input.files.length ? Array.from(input.files) : null;
});
document.addEventListener("htmx:afterSettle", () => {
  const input = document.querySelector("input[name=character_clip]");
  if (!carried || !input) return;
  const files = carried;
  carried = null;
  if (input.files.length || input.getAttribute("aria-invalid") === "true") return;
  const transfer = new DataTransfer();
  for (const file of files) transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});

if (window.htmx) window.htmx.onLoad(init);
else document.addEventListener("DOMContentLoaded", () => init(document));
