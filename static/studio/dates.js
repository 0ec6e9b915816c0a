// Date fields (sorastudio/lib/dates.py): a text field in the studio's format for the page's language
// ("3 Nov 2026", 2026年11月3日). This adds a calendar button beside each: it opens the browser's own date
// picker, whose date is written back in that format. Without this file the field takes typed dates.
import { studioText } from "./text.js";

// Django's date format letters that DATE_FORMAT uses; anything else is written as it is.
function formatDate(iso, pattern, months) {
  const [year, month, day] = iso.split("-").map(Number);
  const pad = (n) => String(n).padStart(2, "0");
  const parts = { j: day, d: pad(day), n: month, m: pad(month), Y: year, y: pad(year % 100) };
  parts.M = months[month - 1] || parts.m;
  return [...pattern].map((letter) => (letter in parts ? parts[letter] : letter)).join("");
}

function enhance(field) {
  if (field.dataset.dateReady) return;
  field.dataset.dateReady = "1";
  let months;
  try {
    months = JSON.parse(field.dataset.months || "[]");
  } catch (e) {
    months = [];
  }
  // Not submitted (no name): it only lends its picker. Kept rendered, as showPicker() needs.
  const picker = document.createElement("input");
  picker.type = "date";
  picker.className = "date-picker-input";
  picker.tabIndex = -1;
  picker.setAttribute("aria-hidden", "true");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "date-picker-button";
  button.textContent = "📅";
  button.setAttribute("aria-label", studioText("dates.pick", "Pick the date from a calendar"));
  button.addEventListener("click", () => {
    picker.value = field.dataset.iso || "";
    if (typeof picker.showPicker === "function") {
      try {
        picker.showPicker();
        return;
      } catch (e) {
        // Not allowed here: fall back to focusing the native field below.
      }
    }
    picker.focus();
    picker.click();
  });
  picker.addEventListener("change", (event) => {
    // The form hears the text field's change instead, once, with the formatted date in it.
    event.stopPropagation();
    field.dataset.iso = picker.value;
    field.value = picker.value ? formatDate(picker.value, field.dataset.dateText, months) : "";
    field.dispatchEvent(new Event("change", { bubbles: true }));
  });
  field.addEventListener("input", () => {
    // Typed by hand: the picker no longer knows the date, the server reads what was typed.
    field.dataset.iso = "";
  });
  const wrapper = document.createElement("span");
  wrapper.className = "date-field";
  field.replaceWith(wrapper);
  wrapper.append(field, button, picker);
}

function enhanceAll(root) {
  root.querySelectorAll("input[data-date-text]").forEach(enhance);
}

document.addEventListener("DOMContentLoaded", () => enhanceAll(document));
// The dashboard swaps its filters in with each answer.
document.addEventListener("htmx:load", (event) => enhanceAll(event.target));
if (document.readyState !== "loading") enhanceAll(document);
