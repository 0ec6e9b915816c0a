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

// A card's "⋯" menu (a <details>, which opens and closes by itself without this file): one open at a time,
// closed by a click elsewhere, by Escape (focus back on its button) or when focus leaves it; opened from
// the keyboard it puts focus on its first item, and the arrows, Home and End move through its items.
const menuOf = (node) => node instanceof Element && node.closest("details[data-card-menu]");
const itemsOf = (menu) => [...menu.querySelectorAll(".card-menu-items a, .card-menu-items button")];
let openedByKey = false;

function closeMenu(menu, refocus) {
  if (!menu.open) return;
  menu.open = false;
  if (refocus) menu.querySelector("summary").focus();
}

document.addEventListener(
  "toggle",
  (event) => {
    const menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.matches("[data-card-menu]") || !menu.open) return;
    for (const other of document.querySelectorAll("details[data-card-menu][open]")) {
      if (other !== menu) closeMenu(other, false);
    }
    if (openedByKey) itemsOf(menu)[0]?.focus();
    openedByKey = false;
  },
  true, // "toggle" does not bubble
);

document.addEventListener("keydown", (event) => {
  const menu = menuOf(event.target);
  if (!menu) return;
  const onSummary = event.target.matches("summary");
  if (onSummary && !menu.open && ["Enter", " ", "ArrowDown"].includes(event.key)) {
    openedByKey = true;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      menu.open = true;
    }
    return;
  }
  if (!menu.open) return;
  if (event.key === "Escape") {
    event.preventDefault();
    closeMenu(menu, true);
    return;
  }
  const items = itemsOf(menu);
  const at = items.indexOf(event.target);
  const next = {
    ArrowDown: (at + 1) % items.length,
    ArrowUp: (at - 1 + items.length) % items.length,
    Home: 0,
    End: items.length - 1,
  }[event.key];
  if (next === undefined || !items.length) return;
  event.preventDefault();
  items[next].focus();
});

document.addEventListener("click", (event) => {
  const menu = menuOf(event.target);
  for (const open of document.querySelectorAll("details[data-card-menu][open]")) {
    if (open !== menu) closeMenu(open, false);
  }
  // An item chosen: the menu closes once the click has done its work (a download, a form sent by htmx).
  if (menu && event.target.closest(".card-menu-items")) setTimeout(() => closeMenu(menu, menu.isConnected), 0);
});

document.addEventListener("focusout", (event) => {
  const menu = menuOf(event.target);
  if (menu && event.relatedTarget instanceof Node && !menu.contains(event.relatedTarget)) closeMenu(menu, false);
});

// On a phone the filters are a sheet over the gallery: the Filters button opens it (and says how many
// filters apply), Done or Escape closes it, focus going back to the button, and so does a tap beside it. The grid follows each change
// behind it, as on a wide screen where the filters are always shown.
function setFilters(open, refocus = true) {
  const sheet = document.getElementById("filters");
  const opener = document.querySelector("[data-filters-open]");
  if (!sheet || !opener) return;
  sheet.classList.toggle("open", open);
  opener.setAttribute("aria-expanded", String(open));
  if (open) sheet.querySelector("input, select")?.focus();
  else if (refocus) opener.focus();
}

function countFilters() {
  const sheet = document.getElementById("filters");
  const count = document.querySelector("[data-filters-count]");
  if (!sheet || !count) return;
  const active = [...sheet.elements].filter((field) =>
    field.type === "checkbox" ? field.checked : field.name && field.type !== "submit" && field.value.trim() !== "",
  ).length;
  count.textContent = String(active);
  count.hidden = active === 0;
}

document.addEventListener("click", (event) => {
  if (!(event.target instanceof Element)) return;
  if (event.target.closest("[data-filters-open]")) setFilters(true);
  else if (event.target.closest("[data-filters-close]")) setFilters(false);
  // A tap on the gallery beside the open sheet closes it, as a sheet does.
  else if (document.querySelector("#filters.open") && !event.target.closest("#filters")) setFilters(false, false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.querySelector("#filters.open") && !menuOf(event.target)) setFilters(false);
});
document.addEventListener("input", (event) => {
  if (event.target instanceof Element && event.target.closest("#filters")) countFilters();
});
document.addEventListener("change", (event) => {
  if (event.target instanceof Element && event.target.closest("#filters")) countFilters();
});
