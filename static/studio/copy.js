// The Copy button in a failure's Details (templates/studio/_state.html): it copies the service's message and
// the ids as plain text, "Code: …" a line, ready to paste into a message to the admins or to support.
// Without this script the button stays hidden and the details can still be opened and selected.
import { studioText } from "./text.js";

function reveal(root) {
  for (const button of root.querySelectorAll("[data-copy]")) button.hidden = false;
}

export function detailsText(scope) {
  const lines = [];
  const message = scope.querySelector(".upstream-message");
  if (message) lines.push(message.textContent.trim());
  for (const term of scope.querySelectorAll("dl dt")) {
    const value = term.nextElementSibling;
    if (value) lines.push(`${term.textContent.trim()}: ${value.textContent.trim()}`);
  }
  return lines.join("\n");
}

async function copy(button) {
  const scope = button.closest("[data-copy-scope]");
  if (!scope) return;
  const english = button.dataset.label || button.textContent;
  button.dataset.label = english;
  try {
    await navigator.clipboard.writeText(detailsText(scope));
    button.textContent = studioText("copy.done", "Copied");
  } catch (e) {
    button.textContent = studioText("copy.failed", "Could not copy: select the text instead");
  }
  // Says so until the details are closed: a timer could put "Copy" back before a slow reader saw it.
  scope.addEventListener("toggle", () => (button.textContent = english), { once: true });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-copy]");
  if (button) copy(button);
});
// Cards come and go by htmx (a live card turns into a failed one in place).
document.addEventListener("htmx:load", (event) => reveal(event.target));
reveal(document);
