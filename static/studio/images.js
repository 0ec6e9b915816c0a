// Reference images: drag and drop, paste, pick; thumbnails to reorder and remove; the version 2.0 fit preview.
// The chosen files live here, in order, and are written back into the form's real <input type=file
// name=images> (through a DataTransfer), so the plain form and htmx both submit them unchanged. The list
// outlives htmx swaps of #options (a provider, model or version switch) and is put back into the new input.
// Without this file the plain file input works on its own.

// The words shown come translated from the page (text.js).
import { bothSentences as both, studioText as t } from "./text.js";

const FITS = {
  crop:
    "%(name)s is %(width)s × %(height)s; the video is %(videoWidth)s × %(videoHeight)s. " +
    "It will be cropped to fill the frame at %(videoWidth)s × %(videoHeight)s.",
  pad:
    "%(name)s is %(width)s × %(height)s; the video is %(videoWidth)s × %(videoHeight)s. " +
    "It will be padded with black bars at %(videoWidth)s × %(videoHeight)s.",
  none: "%(name)s is %(width)s × %(height)s; the video is %(videoWidth)s × %(videoHeight)s. It will be sent as it is.",
};

// {file, url, width, height}: the images in the order they are sent.
let chosen = [];
let pasted = 0;
let refused = ""; // what the last drop, paste or pick could not add, until the next change
let adding = Promise.resolve(); // files are checked one drop (or pick, or paste) after another, in order

const zone = () => document.querySelector("[data-dropzone]");
const input = () => document.querySelector("#compose input[type=file][name=images]");

function describe(item) {
  return item.file.name || t("images.unnamed", "image");
}

function say(text) {
  const box = zone()?.querySelector("[data-images-message]");
  if (!box || box.textContent === text) return;
  box.textContent = text;
  box.hidden = !text;
}

// --- The list -----------------------------------------------------------------------------------------

// The person's own change (not a swap putting the list back): what the server said of the images sent
// before, and of a request too large, no longer holds (compose.js clears the latter).
function changed() {
  const box = zone();
  box?.classList.remove("invalid");
  for (const error of document.querySelectorAll("#compose #err-images")) error.remove();
  box?.dispatchEvent(new CustomEvent("images-changed", { bubbles: true }));
}

// Each file is checked as the server will check it (its type and size, from the drop zone's data
// attributes, which the form sets from its own limits), and opened: one the browser cannot show as an
// image is refused here, not shown as a broken thumbnail and refused after the submit.
function add(files, byPerson = true) {
  const given = [...files];
  adding = adding.then(async () => {
    const checked = await Promise.all(given.map(check));
    const reasons = checked.filter((found) => found.reason).map((found) => found.reason);
    chosen.push(...checked.filter((found) => found.item).map((found) => found.item));
    refused = reasons.length
      ? t("images.refused", "%(reasons)s, so it was not added. Use a PNG, JPEG or WebP image.", {
          reasons: reasons.join(t("images.reasonGap", "; ")),
        })
      : "";
    if (byPerson) changed();
    update();
  });
}

function check(file) {
  const box = zone();
  const types = (box?.dataset.imageTypes || "").split(",").filter(Boolean);
  const most = Number(box?.dataset.maxImageBytes || 0);
  if (types.length && !types.includes(file.type)) {
    return {
      reason: file.name
        ? t("images.notImage", "%(name)s is not a PNG, JPEG or WebP image", { name: file.name })
        : t("images.notImageUnnamed", "That file is not a PNG, JPEG or WebP image"),
    };
  }
  if (most && file.size > most) {
    const mb = Math.round(most / (1024 * 1024));
    return { reason: t("images.tooBig", "%(name)s is larger than %(most)s MB", { name: file.name, most: mb }) };
  }
  const url = URL.createObjectURL(file);
  return new Promise((resolve) => {
    const probe = new Image();
    probe.onload = () =>
      resolve({ item: { file, url, width: probe.naturalWidth, height: probe.naturalHeight } });
    probe.onerror = () => {
      URL.revokeObjectURL(url);
      const name = file.name || t("images.unnamed", "image");
      resolve({ reason: t("images.unreadable", "%(name)s is not an image the browser can open", { name }) });
    };
    probe.src = url;
  });
}

function remove(index) {
  const [gone] = chosen.splice(index, 1);
  if (gone) URL.revokeObjectURL(gone.url);
  refused = "";
  changed();
  update();
}

function move(index, step) {
  const to = index + step;
  if (to < 0 || to >= chosen.length) return;
  [chosen[index], chosen[to]] = [chosen[to], chosen[index]];
  refused = "";
  changed();
  update();
}

// --- Back into the form -------------------------------------------------------------------------------

function sync() {
  const field = input();
  if (!field) return;
  const transfer = new DataTransfer();
  for (const item of chosen) transfer.items.add(item.file);
  field.files = transfer.files;
}

function update() {
  sync();
  render();
}

function render() {
  const box = zone();
  if (!box) return;
  const list = box.querySelector("[data-thumbs]");
  list.replaceChildren(...chosen.map(thumbnail));
  list.hidden = chosen.length === 0;
  const most = Number(box.dataset.maxImages || 0);
  const extra = chosen.length - most;
  let tooMany = "";
  if (extra > 0 && "firstImageOnly" in box.dataset) {
    tooMany =
      extra === 1
        ? t("images.tooManyV2One", "Version 2.0 uses one image: remove one before generating.")
        : t("images.tooManyV2", "Version 2.0 uses one image: remove %(extra)s before generating.", { extra });
  } else if (extra > 0) {
    tooMany = t("images.tooMany", "Use at most %(most)s images: remove %(extra)s before generating.", {
      most,
      extra,
    });
  }
  say(both(refused, tooMany));
  box.classList.toggle("refused", Boolean(refused));
  preview();
}

function thumbnail(item, index) {
  const name = describe(item);
  const li = document.createElement("li");
  li.className = "thumb";
  li.dataset.index = String(index);
  const img = document.createElement("img");
  img.src = item.url;
  img.alt = name;
  const caption = document.createElement("span");
  caption.className = "thumb-name";
  caption.textContent = item.width ? `${index + 1}. ${name} · ${item.width} × ${item.height}` : `${index + 1}. ${name}`;
  const actions = document.createElement("span");
  actions.className = "thumb-actions";
  actions.append(
    button("◀", t("images.moveEarlier", "Move %(name)s earlier", { name }), "earlier", index === 0),
    button("▶", t("images.moveLater", "Move %(name)s later", { name }), "later", index === chosen.length - 1),
    button("✕", t("images.remove", "Remove %(name)s", { name }), "remove", false),
  );
  li.append(img, caption, actions);
  return li;
}

function button(text, label, action, disabled) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.title = label;
  b.setAttribute("aria-label", label);
  b.dataset.thumbAction = action;
  b.disabled = disabled;
  return b;
}

// --- Version 2.0: how the first image will fit the chosen size -----------------------------------------

function target() {
  const match = /^(\d+)x(\d+)$/.exec(document.querySelector("#compose [name=size]")?.value || "");
  return match ? { width: Number(match[1]), height: Number(match[2]) } : null;
}

function preview() {
  const box = zone();
  const fit = document.querySelector("#compose [data-fit]");
  if (!box || !fit) return;
  const first = chosen[0];
  const size = target();
  const differs =
    first && first.width && size && Math.abs(first.width / first.height - size.width / size.height) > 0.01;
  fit.hidden = !differs;
  const figure = fit.querySelector(".fit-preview");
  figure.hidden = !differs;
  if (!differs) return;
  const mode = fit.querySelector("input[name=image_fit]:checked")?.value || "crop";
  const canvas = fit.querySelector("[data-fit-preview]");
  const shape = mode === "none" ? { width: first.width, height: first.height } : size;
  const scale = 240 / Math.max(shape.width, shape.height);
  canvas.width = Math.round(shape.width * scale);
  canvas.height = Math.round(shape.height * scale);
  const image = new Image();
  image.onload = () => {
    const context = canvas.getContext("2d");
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const ratio = (mode === "crop" ? Math.max : Math.min)(canvas.width / first.width, canvas.height / first.height);
    const w = first.width * ratio;
    const h = first.height * ratio;
    context.drawImage(image, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    canvas.dataset.mode = mode;
  };
  image.src = first.url;
  fit.querySelector("[data-fit-caption]").textContent = t(`images.fit.${mode}`, FITS[mode] || FITS.none, {
    name: describe(first),
    width: first.width,
    height: first.height,
    videoWidth: size.width,
    videoHeight: size.height,
  });
}

// --- Wiring (delegated, so it survives every swap) ----------------------------------------------------

function setUp(root) {
  const box = root.matches?.("[data-dropzone]") ? root : root.querySelector?.("[data-dropzone]");
  if (!box) return;
  box.hidden = false;
  box.closest("fieldset")?.classList.add("has-dropzone");
  const field = input();
  if (field) {
    // The "Pick images" button opens it: one control for the keyboard and screen readers, not two.
    field.tabIndex = -1;
    field.setAttribute("aria-hidden", "true");
    // A fresh input after a swap is empty: put the list back; files it already holds join the list.
    if (chosen.length === 0 && field.files.length) add(field.files, false);
  }
  update();
}

document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches?.("#compose input[type=file][name=images]")) {
    add([...field.files]); // the picker holds only the new files: they join the list, which goes back in
  } else if (field.matches?.("#compose [name=image_fit], #compose [name=size]")) {
    preview();
  }
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-pick-images]")) {
    input()?.click();
    return;
  }
  const action = event.target.closest("[data-thumb-action]");
  if (!action) return;
  const index = Number(action.closest(".thumb").dataset.index);
  const kind = action.dataset.thumbAction;
  if (kind === "remove") remove(index);
  else move(index, kind === "earlier" ? -1 : 1);
  // Keep the keyboard where it was: on the same button of the moved image, else on another of its
  // buttons, else (the last image gone) on the drop zone.
  const at = kind === "remove" ? Math.min(index, chosen.length - 1) : index + (kind === "earlier" ? -1 : 1);
  const thumb = zone()?.querySelector(`.thumb[data-index="${at}"]`);
  const again =
    thumb?.querySelector(`[data-thumb-action="${kind}"]:not(:disabled)`) ||
    thumb?.querySelector("button:not(:disabled)") ||
    zone();
  again?.focus();
});

document.addEventListener("keydown", (event) => {
  if (event.target.matches?.("[data-dropzone]") && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    input()?.click();
  }
});

for (const type of ["dragenter", "dragover"]) {
  document.addEventListener(type, (event) => {
    const box = event.target.closest?.("[data-dropzone]");
    if (!box) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    box.classList.add("over");
  });
}
document.addEventListener("dragleave", (event) => {
  const box = event.target.closest?.("[data-dropzone]");
  if (box && !box.contains(event.relatedTarget)) box.classList.remove("over");
});
document.addEventListener("drop", (event) => {
  const box = event.target.closest?.("[data-dropzone]");
  if (!box) return;
  event.preventDefault();
  box.classList.remove("over");
  const files = [...(event.dataTransfer?.files || [])];
  if (files.length) {
    add(files);
    return;
  }
  // An image dragged from another page arrives as its address: that goes with the addresses.
  const links = (event.dataTransfer?.getData("text/uri-list") || "")
    .split(/\r?\n/)
    .filter((line) => /^https?:\/\//.test(line));
  const urls = document.querySelector("#compose [name=image_urls]");
  if (links.length && urls) urls.value = [urls.value.trim(), ...links].filter(Boolean).join("\n");
});

// Paste anywhere on the compose form: image data joins the list; text pastes as usual.
document.addEventListener("paste", (event) => {
  if (!event.target.closest?.("#compose") || !zone()) return;
  const images = [...(event.clipboardData?.files || [])].filter((file) => file.type.startsWith("image/"));
  if (!images.length) return;
  event.preventDefault();
  add(
    images.map((file) => {
      pasted += 1;
      const extension = file.type.split("/")[1] === "jpeg" ? "jpg" : file.type.split("/")[1];
      return new File([file], `pasted-${pasted}.${extension}`, { type: file.type });
    }),
  );
});

// A job was made: the next one starts with no images, and with nothing said of the earlier ones. (htmx
// fires this before it swaps the fresh form in.)
document.addEventListener("generation-created", () => {
  for (const item of chosen) URL.revokeObjectURL(item.url);
  chosen = [];
  refused = "";
});

if (window.htmx) htmx.onLoad(setUp);
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => setUp(document));
else setUp(document);
