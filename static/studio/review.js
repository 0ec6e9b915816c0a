// Review: comments pinned to the player's moment, marks on the timeline, synchronised compare.
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
