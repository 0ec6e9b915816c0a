// The team gallery: hover previews and the selection toolbar. The gallery works without this file: posters
// link to the video's page, and the toolbar is a plain form that is always shown.
import { studioText } from "./text.js";

// Hovering or focusing a poster plays the first seconds of its video, muted, over it; nothing moves for
// people who asked their system for less motion. The video is only fetched at that moment.
const PREVIEW_SECONDS = 4;
const lessMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

function startPreview(poster) {
  if (lessMotion.matches || poster.querySelector("video.preview")) return;
  const video = document.createElement("video");
  video.className = "preview";
  video.muted = true;
  video.loop = true;
  video.playsInline = true;
  video.setAttribute("aria-hidden", "true");
  video.addEventListener("timeupdate", () => {
    if (video.currentTime > PREVIEW_SECONDS) video.currentTime = 0;
  });
  video.src = poster.dataset.preview;
  poster.append(video);
  video.play().catch(() => {}); // a preview that cannot play leaves the poster showing
}

function stopPreview(poster) {
  const video = poster.querySelector("video.preview");
  if (!video) return;
  video.pause();
  video.removeAttribute("src");
  video.load(); // lets the browser drop the download
  video.remove();
}

const posterOf = (node) => node instanceof Element && node.closest(".poster[data-preview]");
document.addEventListener("pointerover", (event) => {
  const poster = posterOf(event.target);
  if (poster) startPreview(poster);
});
document.addEventListener("pointerout", (event) => {
  const poster = posterOf(event.target);
  if (poster && !poster.contains(event.relatedTarget) && document.activeElement !== poster) stopPreview(poster);
});
document.addEventListener("focusin", (event) => {
  const poster = posterOf(event.target);
  if (poster) startPreview(poster);
});
document.addEventListener("focusout", (event) => {
  const poster = posterOf(event.target);
  if (poster && !poster.matches(":hover")) stopPreview(poster);
});

// The selection toolbar shows once a card is ticked, says how many are, and offers Compare for 2 to 4. It
// offers only what the viewer may do with what is ticked, as each card says of itself: Delete when every
// ticked video may be deleted by them (their own, or any for an admin, and none still being made), and the
// zip when one at least is ready. (The server checks again; without this file every button is shown.)
function showSelection() {
  const toolbar = document.querySelector("[data-selection]");
  if (!toolbar) return;
  const ticked = [...document.querySelectorAll("input[data-pick]:checked")];
  const count = ticked.length;
  toolbar.querySelector("[data-selection-delete]").hidden = !ticked.every((pick) => "deletable" in pick.dataset);
  toolbar.querySelector("[data-selection-zip]").hidden = !ticked.some((pick) => "ready" in pick.dataset);
  // Sharing with a client (reviewers and admins only: the button is there only for them) takes finished ones.
  const share = toolbar.querySelector("[data-selection-share]");
  if (share) share.hidden = !ticked.length || !ticked.every((pick) => "ready" in pick.dataset);
  toolbar.classList.toggle("active", count > 0);
  toolbar.querySelector("[data-selection-count]").textContent = studioText(
    "gallery.selected",
    "%(count)s selected",
    { count },
  );
  const compare = toolbar.querySelector("[data-selection-compare]");
  compare.disabled = count < 2 || count > 4;
  compare.title = compare.disabled ? studioText("gallery.compareRange", "Compare takes 2 to 4 videos.") : "";
}
document.addEventListener("change", (event) => {
  if (event.target.matches("input[data-pick]")) showSelection();
});
// New cards (filters, "More", a finished job) may come and ticked ones go.
document.addEventListener("htmx:afterSettle", showSelection);
document.addEventListener("DOMContentLoaded", showSelection);
