// The notification bell and the browser's own notifications, and the team page's "Copy" buttons.
"use strict";

// The bell (notifications.html#bell) refreshes itself through htmx. When its count rose, it comes back with
// the newest unread notification, which the browser shows too while the studio is open (if allowed).
document.addEventListener("htmx:load", (event) => {
  const bell = event.target;
  if (!(bell instanceof Element) || bell.id !== "bell") return;
  const { newestText: text, newestUrl: url, newestId: id } = bell.dataset;
  if (!text || !("Notification" in window) || Notification.permission !== "granted") return;
  // The tag makes several open tabs of the studio show one notification, not one each.
  const shown = new Notification(text, { tag: id });
  shown.onclick = () => {
    window.focus();
    if (url) window.location.href = url;
    shown.close();
  };
});

// "Desktop notifications" on the notifications page: ask the browser's permission, then say where it stands.
function showDesktopState(box) {
  const permission = Notification.permission;
  box.querySelector("[data-desktop-ask]").hidden = permission !== "default";
  const state = box.querySelector("[data-desktop-state]");
  if (permission === "granted") {
    state.textContent = studioText(
      "team.desktopOn",
      "Desktop notifications are on: while the studio is open, new ones also appear on your desktop.",
    );
  } else if (permission === "denied") {
    state.textContent = studioText(
      "team.desktopBlocked",
      "Desktop notifications are blocked for this site: allow them in the browser's site settings.",
    );
  } else {
    state.textContent = "";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-desktop-notifications]");
  if (!box || !("Notification" in window)) return;
  box.hidden = false;
  showDesktopState(box);
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-desktop-ask]");
  if (!button || !("Notification" in window)) return;
  const box = button.closest("[data-desktop-notifications]");
  Notification.requestPermission().then(() => showDesktopState(box));
});

// "Copy" beside an invitation link. Without a secure context (plain http on a LAN address) the clipboard API
// is missing: the link is selected and copied the old way, or left selected for the person to copy.
document.addEventListener("htmx:load", (event) => {
  for (const button of event.target.querySelectorAll?.("[data-copy]") || []) button.hidden = false;
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.focus();
  field.select();
  const done = (copied) => {
    const message = copied
      ? studioText("team.copied", "Copied")
      : studioText("team.copyByHand", "The link is selected: copy it with Ctrl+C (⌘C on a Mac).");
    const announcer = document.getElementById("announcer");
    if (announcer) announcer.textContent = message;
    if (!copied) return;
    const label = button.textContent;
    button.textContent = message;
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(
      () => done(true),
      () => done(document.execCommand("copy")),
    );
  } else {
    done(document.execCommand("copy"));
  }
});
