// Sora Studio's small enhancements. Every page works without this file; it only adds conveniences.
"use strict";

// "Play all together": start every variation of one submit from the beginning at the same moment.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-play-all]");
  if (!button) return;
  const group = document.querySelector(button.dataset.playAll);
  if (!group) return;
  for (const video of group.querySelectorAll("video")) {
    video.muted = true;
    video.currentTime = 0;
    video.play().catch(() => {});
  }
});
