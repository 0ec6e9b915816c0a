// The team page's "Copy" buttons beside the invitation links.
import { studioText } from "./text.js";

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
