// The notifications page: its "Desktop notifications" button asks the browser's permission (bell.js then
// shows new ones as the browser's own).
import { studioText } from "./text.js";

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
