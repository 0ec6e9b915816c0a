// A client's review page (templates/studio/client_review.html): a comment's moment seeks its video, "Use the
// player's moment" fills in where the player is, typing a comment pauses the video and pins the comment to
// that frame, and the name typed once is put in every form. Without this file the forms work as they are.

function clock(seconds) {
  const whole = Math.max(0, seconds);
  const minutes = Math.floor(whole / 60);
  const rest = (whole - minutes * 60).toFixed(1).padStart(4, "0");
  return `${minutes}:${rest}`;
}

const playerOf = (node) => node.closest("[data-client-video]")?.querySelector("[data-client-player]");

function pin(form) {
  const player = playerOf(form);
  const field = form.querySelector("[data-client-moment] input");
  if (player && field) field.value = clock(player.currentTime);
}

for (const button of document.querySelectorAll("[data-use-moment]")) button.hidden = false;

document.addEventListener("click", (event) => {
  const seek = event.target.closest("[data-seek]");
  if (seek) {
    const player = playerOf(seek);
    if (!player) return;
    event.preventDefault();
    player.currentTime = Number(seek.dataset.seek);
    player.pause();
    player.scrollIntoView({ block: "nearest" });
    return;
  }
  const use = event.target.closest("[data-use-moment]");
  if (use) pin(use.form);
});

document.addEventListener("input", (event) => {
  const target = event.target;
  if (target.matches("textarea")) {
    const player = playerOf(target);
    const field = target.form?.querySelector("[data-client-moment] input");
    if (player && !player.paused) {
      player.pause();
      if (field && !field.value) pin(target.form);
    }
  }
  if (target.matches("[data-client-name]")) {
    for (const other of document.querySelectorAll("[data-client-name]")) {
      if (other !== target) other.value = target.value;
    }
  }
});
