// Runs before the page paints: apply the saved theme (or follow the system) and mark that scripts run, so
// styles that need JavaScript (the phone drawer) only apply when it is there.
"use strict";
(function () {
  const root = document.documentElement;
  root.classList.add("js");
  try {
    const saved = localStorage.getItem("sorastudio-theme");
    if (saved === "light" || saved === "dark") root.dataset.theme = saved;
  } catch (e) {
    // Storage may be blocked; the system theme applies.
  }
})();
