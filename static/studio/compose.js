// The form beside the gallery: a drawer on phones, the message of a request too large (until the files
// change), the number of a batch's prompts for the cost beside the Generate button, and the prompt's length
// beside it. The form works without this file.
import { studioText } from "./text.js";

// On phones the form is a drawer: open it from the gallery, close it with its button or Escape.
function setDrawer(open) {
  const panel = document.getElementById("compose-panel");
  if (!panel) return;
  panel.classList.toggle("open", open);
  for (const opener of document.querySelectorAll("[data-drawer-open]")) opener.setAttribute("aria-expanded", String(open));
  if (open) panel.querySelector("textarea, input, select")?.focus();
  else document.querySelector("[data-drawer-open]")?.focus();
}
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-drawer-open]")) setDrawer(true);
  else if (event.target.closest("[data-drawer-close]")) setDrawer(false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.querySelector(".compose-panel.open")) setDrawer(false);
});
// A submitted job appears in the gallery: on a phone, close the drawer so it can be seen.
document.body.addEventListener("generation-created", () => setDrawer(false));

// A request too large for the studio (413, refused before it is read) answers with a message for the form,
// retargeted beside the submit button: htmx swaps no error response unless told to.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 413 && event.detail.xhr.getResponseHeader("HX-Retarget")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// That message says what the files sent were: it goes once the person changes them (images.js tells of its
// list; a character clip is the file input itself). A later submit replaces the whole form, message and all.
function clearTooLarge() {
  const box = document.getElementById("upload-errors");
  if (box?.firstChild) box.replaceChildren();
}
document.addEventListener("images-changed", clearTooLarge);
document.addEventListener("change", (event) => {
  if (event.target.matches?.("#compose input[type=file]")) clearTooLarge();
});

// The cost beside the Generate button counts a batch's prompts, one per line. Its htmx refresh sends the
// number of lines (kept in the form's hidden `prompt_lines`) rather than the prompt itself, which may be far
// too long for an address; the "prompt-lines" event asks for a refresh when that number changes.
document.addEventListener(
  "input",
  (event) => {
    const prompt = event.target.closest("#id_prompt");
    const field = prompt?.form?.querySelector("input[name=prompt_lines]");
    if (!field) return;
    const lines = String(prompt.value.split("\n").filter((line) => line.trim()).length);
    if (lines === field.value) return;
    field.value = lines;
    prompt.form.dispatchEvent(new CustomEvent("prompt-lines", { bubbles: true }));
  },
  true,
);

// How long the prompt is against the form's limit (the counter's data-most, from the server), as it is typed:
// in a batch each line is its own prompt, so the longest line counts. The server says the same on submit.
function showPromptCount(prompt) {
  const counter = prompt?.form?.querySelector("[data-prompt-count]");
  if (!counter) return;
  const most = Number(counter.dataset.most);
  const batch = prompt.form.querySelector("input[name=batch]")?.checked;
  const lines = batch ? prompt.value.split("\n") : [prompt.value];
  // Characters as the server counts them (code points, not UTF-16 units), without the spaces it trims.
  const count = Math.max(0, ...lines.map((line) => [...line.trim()].length));
  const number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const values = { count: number.format(count), most: number.format(most) };
  const over = count > most;
  counter.textContent = over
    ? studioText("prompt.over", "%(count)s characters: keep each prompt under %(most)s.", values)
    : batch
      ? studioText("prompt.countLongest", "Longest line: %(count)s / %(most)s characters", values)
      : studioText("prompt.count", "%(count)s / %(most)s characters", values);
  counter.classList.toggle("over", over);
  counter.hidden = false;
}
document.addEventListener("input", (event) => {
  if (event.target.matches?.("#id_prompt")) showPromptCount(event.target);
});
document.addEventListener("change", (event) => {
  if (event.target.matches?.("#compose input[name=batch]")) showPromptCount(document.getElementById("id_prompt"));
});
// The form comes again from the server after a submit or a preset: count what it brings.
const countPrompt = () => showPromptCount(document.getElementById("id_prompt"));
document.addEventListener("DOMContentLoaded", countPrompt);
document.addEventListener("htmx:afterSettle", countPrompt);
