// Review: comments pinned to the player's moment, marks on the timeline, the review room (a comment list that
// follows playback, writing that holds the frame, keyboard shortcuts, the references enlarged), synchronised compare.
import { studioText } from "./text.js";

// A moment as the player and the page show it: m:ss, whole seconds (the server's `clock` filter).
function reviewClock(seconds) {
  const whole = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// --- Pinned comments ----------------------------------------------------------------------------------
// Without scripts a comment form has an "At (m:ss)" field. With them a "Pin to 0:03" checkbox takes its
// place and keeps the field in step with the player: checked by itself when the player is paused past the
// start, until the person ticks or unticks it.

function reviewPlayer() {
  return document.getElementById("player");
}

function syncPins() {
  const player = reviewPlayer();
  if (!player) return;
  const time = player.currentTime || 0;
  for (const box of document.querySelectorAll("[data-moment]")) {
    const pin = box.querySelector("[data-pin]");
    const input = box.querySelector("input[name=at_seconds]");
    if (!pin || !input) continue;
    if (!box.dataset.ready) {
      box.dataset.ready = "1";
      pin.closest("label").hidden = false;
      box.querySelector("[data-moment-field]").hidden = true;
      // A form shown again after a refusal keeps the moment it was sent with.
      if (input.value) {
        pin.checked = true;
        box.dataset.touched = "1";
      }
    }
    if (!box.dataset.touched) pin.checked = player.paused && time > 0;
    box.querySelector("[data-pin-label]").textContent = studioText("review.pinTo", "Pin to %(time)s", {
      time: reviewClock(time),
    });
    input.value = pin.checked ? time.toFixed(2) : "";
  }
}

for (const kind of ["timeupdate", "pause", "play", "seeked", "loadedmetadata"]) {
  // Media events do not bubble: they are caught on their way down.
  document.addEventListener(kind, (event) => {
    if (event.target === reviewPlayer()) syncPins();
  }, true);
}
document.addEventListener("change", (event) => {
  const pin = event.target.closest("[data-pin]");
  if (!pin) return;
  pin.closest("[data-moment]").dataset.touched = "1";
  syncPins();
});
document.addEventListener("DOMContentLoaded", syncPins);
document.addEventListener("htmx:afterSettle", syncPins);

// A pinned time in the comments, or a mark on the bar under the player: show that moment, paused.
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-seek]");
  const player = reviewPlayer();
  if (!link || !player) return;
  event.preventDefault();
  player.pause();
  player.currentTime = Number(link.dataset.seek);
  player.scrollIntoView({ block: "nearest" });
  // A mark that stands for several comments at that moment also opens (or closes) the list of their threads.
  const list = link.dataset.markList && document.getElementById(link.dataset.markList);
  if (!list) return;
  list.hidden = !list.hidden;
  link.setAttribute("aria-expanded", String(!list.hidden));
  if (!list.hidden) list.scrollIntoView({ block: "nearest" });
});

// --- The review room ----------------------------------------------------------------------------------
// The comment list follows the player: the thread whose moment was passed last is marked as the current
// one and brought into view inside the list (which scrolls on its own beside the player on wide screens;
// on narrow ones the page is left where the person put it).

function commentList() {
  return document.querySelector("#review .comments");
}

function scrollWithin(box, item) {
  if (box.scrollHeight <= box.clientHeight + 1) return;
  const top = item.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  const bottom = top + item.offsetHeight;
  const behavior = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  if (top < box.scrollTop || item.offsetHeight > box.clientHeight) box.scrollTo({ top, behavior });
  else if (bottom > box.scrollTop + box.clientHeight) box.scrollTo({ top: bottom - box.clientHeight, behavior });
}

function followPlayback() {
  const player = reviewPlayer();
  const list = commentList();
  if (!player || !list) return;
  // A pin is kept to the hundredth of a second: a player paused on it has passed it.
  const time = (player.currentTime || 0) + 0.005;
  let current = null;
  let passed = -1;
  for (const thread of list.querySelectorAll(":scope > li.comment")) {
    // The thread's own moment is its first one: replies come after it and are not pinned.
    const moment = thread.querySelector(".comment-head [data-seek]");
    const at = moment ? Number(moment.dataset.seek) : NaN;
    if (at <= time && at >= passed) [current, passed] = [thread, at];
  }
  for (const thread of list.querySelectorAll(":scope > li[aria-current]")) {
    if (thread === current) continue;
    thread.classList.remove("current");
    thread.removeAttribute("aria-current");
  }
  if (!current || current.hasAttribute("aria-current")) return;
  current.classList.add("current");
  current.setAttribute("aria-current", "true");
  scrollWithin(list, current);
}

for (const kind of ["timeupdate", "seeked", "loadedmetadata"]) {
  document.addEventListener(kind, (event) => {
    if (event.target === reviewPlayer()) followPlayback();
  }, true);
}

// Writing a comment holds the picture: the player pauses, and the comment's pin (syncPins) takes the frame
// it stopped on.
document.addEventListener("focusin", holdForComment);
document.addEventListener("input", holdForComment);

function holdForComment(event) {
  const field = event.target;
  if (!(field instanceof HTMLTextAreaElement) || !field.form?.querySelector("[data-moment]")) return;
  const player = reviewPlayer();
  if (player && !player.paused) player.pause();
}

// The frame rate is not among a video's facts: it is read off the frames while the video plays (the
// shortest step between two shown frames), and until then taken to be the simulator's and most films'.
const DEFAULT_FRAME_RATE = 24;

function frameRate(player) {
  return Number(player.dataset.frameRate) || DEFAULT_FRAME_RATE;
}

function measureFrameRate(player) {
  if (!player.requestVideoFrameCallback || player.dataset.measuring) return;
  player.dataset.measuring = "1";
  let last = null;
  let shortest = Infinity;
  let frames = 0;
  const onFrame = (now, frame) => {
    if (last !== null && frame.mediaTime > last) shortest = Math.min(shortest, frame.mediaTime - last);
    last = frame.mediaTime;
    frames += 1;
    if (frames < 24 && !player.paused) {
      player.requestVideoFrameCallback(onFrame);
      return;
    }
    delete player.dataset.measuring;
    if (shortest < Infinity) player.dataset.frameRate = String(Math.min(120, Math.max(1, Math.round(1 / shortest))));
  };
  player.requestVideoFrameCallback(onFrame);
}

document.addEventListener("play", (event) => {
  if (event.target === reviewPlayer() && !event.target.dataset.frameRate) measureFrameRate(event.target);
}, true);

// --- Keyboard -----------------------------------------------------------------------------------------
// Space plays or pauses, K pauses, J and L go back or forward a second, comma and period a frame, M pins a
// new comment to this frame, C writes one, ? shows the list. Keys typed into a field stay the field's, a
// space on a focused button or link presses it, and a key with Ctrl, Alt or Meta is the browser's.

const TYPING = "textarea, select, [contenteditable]:not([contenteditable=false]), " +
  "input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit]):not([type=reset])";
const PRESSABLE = "a[href], button, summary, input, label, select, textarea, [role=button], [role=checkbox]";

function seekTo(player, time) {
  player.currentTime = Math.max(0, Math.min(time, player.duration || time));
}

function newCommentBox() {
  return document.querySelector("form.new-comment textarea[name=body]");
}

function pinNewComment(player) {
  const box = document.querySelector("form.new-comment [data-moment]");
  const pin = box?.querySelector("[data-pin]");
  if (!pin) return;
  player.pause();
  pin.checked = true;
  box.dataset.touched = "1";
  syncPins();
}

function toggleShortcuts() {
  const help = document.getElementById("shortcuts");
  if (help) help.open = !help.open;
}

const KEYS = {
  " ": (player) => (player.paused ? player.play().catch(() => {}) : player.pause()),
  k: (player) => player.pause(),
  j: (player) => seekTo(player, player.currentTime - 1),
  l: (player) => seekTo(player, player.currentTime + 1),
  ",": (player) => {
    player.pause();
    seekTo(player, player.currentTime - 1 / frameRate(player));
  },
  ".": (player) => {
    player.pause();
    seekTo(player, player.currentTime + 1 / frameRate(player));
  },
  m: (player) => {
    pinNewComment(player);
    newCommentBox()?.focus();
  },
  c: () => newCommentBox()?.focus(),
  "?": toggleShortcuts,
};

document.addEventListener("keydown", (event) => {
  const player = reviewPlayer();
  if (!player || event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const act = KEYS[key];
  if (!act || (event.shiftKey && key !== "?") || document.querySelector("dialog[open]")) return;
  const target = event.target instanceof Element ? event.target : null;
  if (target?.closest(TYPING)) return;
  // The player's own controls answer a space when it has the focus.
  if (key === " " && (target === player || target?.closest(PRESSABLE))) return;
  event.preventDefault();
  act(player);
});

// The references the video was asked with open larger over the page (or, without scripts, as the file).
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-enlarge]");
  const dialog = document.getElementById("reference-view");
  if (!link || !dialog || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  const view = dialog.querySelector("[data-reference-view]");
  const media = document.createElement(link.dataset.enlarge === "video" ? "video" : "img");
  if (media instanceof HTMLVideoElement) {
    media.controls = true;
    media.playsInline = true;
    media.src = `${link.href}#t=${link.dataset.start || 0}`;
  } else {
    media.src = link.href;
    media.alt = link.querySelector("img")?.alt || "";
  }
  view.replaceChildren(media);
  dialog.showModal();
});
document.addEventListener("close", (event) => {
  if (event.target.id === "reference-view") event.target.querySelector("[data-reference-view]").replaceChildren();
}, true);

function setUpRoom() {
  const help = document.getElementById("shortcuts");
  if (help) help.hidden = false;
  followPlayback();
}
document.addEventListener("DOMContentLoaded", setUpRoom);
document.addEventListener("htmx:afterSettle", setUpRoom);

// --- Compare ------------------------------------------------------------------------------------------
// One bar drives every video: play and pause all, one slider for the position. When one video is played,
// paused or sought by other means (media keys, picture in picture), the others follow; while they play,
// any that drifts more than DRIFT seconds from the first one playing is put back in step.

const DRIFT = 0.15;

function setUpCompare(root) {
  const videos = [...root.querySelectorAll("[data-compare-video]")];
  const bar = root.querySelector("[data-compare-bar]");
  const button = bar.querySelector("[data-compare-play]");
  const slider = bar.querySelector("[data-compare-seek]");
  const output = bar.querySelector("[data-compare-time]");
  // Seeks this script made, by video, so that their "seeked" events are not taken for someone else's.
  const asked = new Map();
  let scrubbing = false;

  const atEnd = (video) => video.ended || (video.duration > 0 && video.currentTime >= video.duration - 0.05);
  const playing = () => videos.some((video) => !video.paused && !atEnd(video));
  const leader = () => videos.find((video) => !video.paused && !atEnd(video)) || videos[0];
  const longest = () => Math.max(Number(slider.max) || 0, ...videos.map((video) => video.duration || 0));

  function moveTo(video, time) {
    const to = Math.min(time, video.duration || time);
    if (Math.abs(video.currentTime - to) <= 0.05) return;
    asked.set(video, to);
    video.currentTime = to;
  }

  function start(video) {
    video.play().catch((error) => {
      // A browser that refuses sound without a gesture still plays the video muted.
      if (error.name !== "NotAllowedError" || video.muted) return;
      video.muted = true;
      const sound = video.closest(".compare-item").querySelector("[data-compare-sound]");
      if (sound) sound.checked = false;
      video.play().catch(() => {});
    });
  }

  function show() {
    const now = leader().currentTime || 0;
    if (!scrubbing) slider.value = String(now);
    output.textContent = `${reviewClock(now)} / ${reviewClock(longest())}`;
    const on = playing();
    button.textContent = on ? studioText("compare.pause", "Pause all") : studioText("compare.play", "Play all");
    button.setAttribute("aria-pressed", String(on));
  }

  function seekAll(time, except = null) {
    const on = playing();
    for (const video of videos) {
      if (video === except) continue;
      moveTo(video, time);
      if (on && video.paused && time < (video.duration || Infinity)) start(video);
    }
    show();
  }

  function keepInStep() {
    const first = leader();
    if (!playing()) return;
    for (const video of videos) {
      if (video === first || video.paused || first.currentTime >= (video.duration || Infinity)) continue;
      if (Math.abs(video.currentTime - first.currentTime) > DRIFT) moveTo(video, first.currentTime);
    }
  }

  button.addEventListener("click", () => {
    if (playing()) {
      for (const video of videos) video.pause();
      return;
    }
    if (videos.every(atEnd)) seekAll(0);
    const from = leader().currentTime || 0;
    for (const video of videos) if (from < (video.duration || Infinity)) start(video);
  });
  slider.addEventListener("input", () => {
    scrubbing = true;
    seekAll(Number(slider.value));
  });
  slider.addEventListener("change", () => {
    scrubbing = false;
    seekAll(Number(slider.value));
  });

  for (const video of videos) {
    video.addEventListener("play", () => {
      for (const other of videos) if (other.paused && !atEnd(other)) start(other);
      show();
    });
    video.addEventListener("pause", () => {
      // A shorter video reaching its end leaves the others playing.
      if (!atEnd(video)) for (const other of videos) other.pause();
      show();
    });
    video.addEventListener("seeked", () => {
      const wanted = asked.get(video);
      asked.delete(video);
      if (wanted === undefined || Math.abs(video.currentTime - wanted) > DRIFT) seekAll(video.currentTime, video);
      show();
    });
    video.addEventListener("timeupdate", () => {
      if (video === leader()) keepInStep();
      show();
    });
    video.addEventListener("durationchange", () => {
      slider.max = String(longest());
      show();
    });
    const sound = video.closest(".compare-item").querySelector("[data-compare-sound]");
    if (sound) {
      sound.closest("label").hidden = false;
      video.muted = !sound.checked;
      sound.addEventListener("change", () => {
        video.muted = !sound.checked;
      });
    }
    video.controls = false;
  }
  bar.hidden = false;
  show();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const root of document.querySelectorAll("[data-compare]")) setUpCompare(root);
});
