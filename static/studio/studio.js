// Sora Studio's small enhancements. Every page works without this file; it only adds conveniences.
"use strict";

// The words shown here come translated from the page (base.html's #studio-i18n, made by browser_text.py);
// the English given beside each key is used when the page has none.
const studioText = (() => {
  let messages = null;
  return (key, english, values = {}) => {
    if (messages === null) {
      try {
        messages = JSON.parse(document.getElementById("studio-i18n")?.textContent || "null");
      } catch (e) {
        messages = null;
      }
    }
    const text = (messages && messages[key]) || english;
    return text.replace(/%\((\w+)\)s|%%/g, (match, name) =>
      name === undefined ? "%" : name in values ? String(values[name]) : match,
    );
  };
})();

// A request too large for the studio (413, refused before it is read) answers with a message for the form,
// retargeted beside the submit button: htmx swaps no error response unless told to.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 413 && event.detail.xhr.getResponseHeader("HX-Retarget")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The colour theme: auto (the system's) → dark → light → auto, remembered in this browser.
const THEMES = ["auto", "dark", "light"];
const THEME_WORDS = {
  auto: ["Theme: auto", "Colour theme: follows the system"],
  dark: ["Theme: dark", "Colour theme: dark"],
  light: ["Theme: light", "Colour theme: light"],
};
function showTheme(button, theme) {
  const [text, label] = THEME_WORDS[theme] || THEME_WORDS.auto;
  button.textContent = studioText(`theme.${theme}`, text);
  button.setAttribute("aria-label", studioText(`themeLabel.${theme}`, label));
}
document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector("[data-theme-toggle]");
  if (button) showTheme(button, document.documentElement.dataset.theme || "auto");
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-theme-toggle]");
  if (!button) return;
  const root = document.documentElement;
  const next = THEMES[(THEMES.indexOf(root.dataset.theme || "auto") + 1) % THEMES.length];
  if (next === "auto") delete root.dataset.theme;
  else root.dataset.theme = next;
  try {
    if (next === "auto") localStorage.removeItem("sorastudio-theme");
    else localStorage.setItem("sorastudio-theme", next);
  } catch (e) {
    // Not remembered when storage is blocked; the choice still applies to this page.
  }
  showTheme(button, next);
});

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

// Selects marked data-autosubmit (the language switcher) submit their form on change; the button beside
// them is for browsers without scripts.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select) select.form.requestSubmit();
});
