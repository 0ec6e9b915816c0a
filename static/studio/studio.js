// Sora Studio's small enhancements for every page: the colour theme and the selects that submit themselves.
// Every page works without this file; it only adds conveniences. The form beside the gallery has its own
// (compose.js), and so have the gallery, the review, the images and character pickers and the team pages.
import { studioText } from "./text.js";

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

// Selects marked data-autosubmit (the language switcher) submit their form on change; the button beside
// them is for browsers without scripts.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select) select.form.requestSubmit();
});

// On a phone the top bar is one row: the Menu button opens the rest of it under the bar, and Escape, a
// click elsewhere, focus moving out or the button again closes it.
function setMenu(open, refocus) {
  const button = document.querySelector("[data-menu-toggle]");
  const menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) return;
  menu.classList.toggle("open", open);
  button.setAttribute("aria-expanded", String(open));
  if (open) menu.querySelector("a, button, select")?.focus();
  else if (refocus) button.focus();
}
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-menu-toggle]");
  if (button) setMenu(button.getAttribute("aria-expanded") !== "true", false);
  else if (!event.target.closest("#topbar-menu")) setMenu(false, false);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.querySelector("#topbar-menu.open")) setMenu(false, true);
});
// Tabbing on past its last item closes it too.
document.addEventListener("focusout", (event) => {
  const menu = document.querySelector("#topbar-menu.open");
  const to = event.relatedTarget;
  if (menu && menu.contains(event.target) && to instanceof Element && !menu.contains(to) && !to.closest("[data-menu-toggle]")) {
    setMenu(false, false);
  }
});
