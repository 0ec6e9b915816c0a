// The cost beside the Generate button counts a batch's prompts, one per line. Its htmx refresh sends the
// number of lines (kept in the form's hidden `prompt_lines`) rather than the prompt itself, which may be far
// too long for an address; the "prompt-lines" event asks for a refresh when that number changes.
"use strict";

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
