// Drawing on a frame: a reviewer pauses, draws (pen, arrow, box, in the palette's colours) over the player
// and posts the drawing with the comment, pinned to that moment. The drawings already made show over their
// video (its page's player, or each video of the compare page) while the playhead is near their moment.
// The server draws those (review_tags.drawing_shapes); this file draws the one being made, the same way.
import { studioText } from "./text.js";

const SVG = "http://www.w3.org/2000/svg";
// Seconds either side of a drawing's moment while it shows over a playing (or paused) video.
const NEAR = 0.5;
// A pen's points closer together than this share of the frame are taken as one.
const STEP = 0.003;
const PLACES = 10000;

const clock = (seconds) => {
  const whole = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
};

// --- Showing the drawings at their moments ------------------------------------------------------------
// A layer of drawings covers its video's box; each drawing's viewBox is the frame, letterboxed inside the
// box as the video itself is, so that the vectors land on the picture whatever the player's size.

function fit(layer, video) {
  layer.style.left = `${video.offsetLeft}px`;
  layer.style.top = `${video.offsetTop}px`;
  layer.style.width = `${video.offsetWidth}px`;
  layer.style.height = `${video.offsetHeight}px`;
}

function showMoments(video) {
  if (!video.id) return;
  const time = video.currentTime || 0;
  for (const layer of document.querySelectorAll(`[data-drawings-for="${video.id}"]`)) {
    fit(layer, video);
    for (const drawing of layer.querySelectorAll("[data-drawing-at]")) {
      drawing.hidden = Math.abs(time - Number(drawing.dataset.drawingAt)) > NEAR;
    }
  }
  if (video === editor.player) showCanvas();
}

const resized = new ResizeObserver((entries) => {
  for (const entry of entries) showMoments(entry.target);
});

function watchVideos() {
  for (const video of document.querySelectorAll("video[id]")) {
    resized.observe(video);
    showMoments(video);
  }
}

for (const kind of ["timeupdate", "seeked", "seeking", "pause", "play", "loadedmetadata"]) {
  // Media events do not bubble: they are caught on their way down. review.js keeps the pin in step with
  // the player on these same events, before this (its module runs first), and a pending drawing keeps it
  // where it was drawn.
  document.addEventListener(kind, (event) => {
    if (!(event.target instanceof HTMLVideoElement)) return;
    showMoments(event.target);
    if (event.target === editor.player) holdPin();
  }, true);
}

// --- Making a drawing ---------------------------------------------------------------------------------
// The hidden field of the comment form holds the drawing (the server's JSON): a form shown again after a
// refusal brings back what was drawn, and a fresh one (after the comment was posted) starts empty.

const editor = {
  box: null, // the comment form's [data-draw]
  player: null,
  canvas: null,
  shapes: [],
  current: null,
  on: false,
  at: 0, // the moment drawn on
  tool: "pen",
  colour: "",
};

function frame() {
  const [, , width, height] = editor.box.dataset.frame.split(" ").map(Number);
  return { width, height };
}

function palette() {
  const colours = {};
  for (const swatch of editor.box.querySelectorAll("[data-draw-colour]")) {
    colours[swatch.dataset.drawColour] = swatch.dataset.value;
  }
  return colours;
}

function read(text) {
  try {
    const drawing = JSON.parse(text || "null");
    return drawing && Array.isArray(drawing.shapes) ? drawing.shapes : [];
  } catch (e) {
    return [];
  }
}

function say(message) {
  const status = editor.box.querySelector("[data-draw-status]");
  if (status) status.textContent = message;
}

function write() {
  const field = editor.box.querySelector("[data-drawing-field]");
  field.value = editor.shapes.length ? JSON.stringify({ v: 1, shapes: editor.shapes }) : "";
  holdPin();
  showCanvas();
}

// A drawing is made on one frame: while there is one, the comment stays pinned to that moment.
function holdPin() {
  if (!editor.box) return;
  const moment = editor.box.closest("form").querySelector("[data-moment]");
  const pin = moment && moment.querySelector("[data-pin]");
  if (!pin) return;
  const pending = editor.shapes.length > 0;
  if (pending) {
    pin.checked = true;
    moment.dataset.touched = "1";
    moment.querySelector("input[name=at_seconds]").value = editor.at.toFixed(2);
    moment.querySelector("[data-pin-label]").textContent = studioText(
      "draw.pinned",
      "Pinned to %(time)s, where you drew",
      { time: clock(editor.at) },
    );
  }
  if (pin.disabled === pending) return;
  pin.disabled = pending;
  if (!pending) pin.dispatchEvent(new Event("change", { bubbles: true }));
}

function showCanvas() {
  const { canvas, player } = editor;
  if (!canvas || !player) return;
  fit(canvas, player);
  const near = Math.abs((player.currentTime || 0) - editor.at) <= NEAR;
  // An <svg> has no `hidden` property: the attribute, which the style sheet hides.
  canvas.toggleAttribute("hidden", !(editor.on || (editor.shapes.length > 0 && near)));
  canvas.classList.toggle("drawing-on", editor.on);
}

function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

const path = (points) => "M" + points.map(([x, y]) => `${x.toFixed(1)} ${y.toFixed(1)}`).join(" L");

// The two ends of an arrow's head, in the frame's pixels: lib/drawing.py's arrow_head.
function arrowHead(start, tip, width) {
  const length = Math.hypot(tip[0] - start[0], tip[1] - start[1]);
  if (length === 0) return [tip, tip];
  const barb = Math.min(length * 0.6, Math.max(width * 4, 12));
  const angle = Math.atan2(tip[1] - start[1], tip[0] - start[0]);
  return [Math.PI / 7, -Math.PI / 7].map((side) => [
    tip[0] - barb * Math.cos(angle + side),
    tip[1] - barb * Math.sin(angle + side),
  ]);
}

function shapeElement(shape, colours, { width, height }) {
  const stroke = shape.width * width;
  const px = ([x, y]) => [x * width, y * height];
  let d;
  if (shape.kind === "pen") {
    const points = shape.points.map(px);
    d = path(points.length === 1 ? [points[0], points[0]] : points);
  } else {
    const [start, end] = [px(shape.from), px(shape.to)];
    if (shape.kind === "box") {
      d = `${path([start, [end[0], start[1]], end, [start[0], end[1]], start])} Z`;
    } else {
      const [left, right] = arrowHead(start, end, stroke);
      d = `${path([start, end])} ${path([left, end, right])}`;
    }
  }
  return element("path", {
    class: `shape shape-${shape.kind}`,
    d,
    stroke: colours[shape.colour] || "#fff",
    "stroke-width": stroke.toFixed(1),
    fill: "none",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
  });
}

function render() {
  if (!editor.canvas) return;
  const colours = palette();
  const size = frame();
  const shapes = editor.current ? [...editor.shapes, editor.current] : editor.shapes;
  editor.canvas.replaceChildren(...shapes.map((shape) => shapeElement(shape, colours, size)));
}

// Where the pointer is, as shares of the frame (the canvas's viewBox), kept inside it.
function shareAt(event) {
  const { width, height } = frame();
  const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(
    editor.canvas.getScreenCTM().inverse(),
  );
  const share = (value, whole) => Math.round(Math.min(1, Math.max(0, value / whole)) * PLACES) / PLACES;
  return [share(point.x, width), share(point.y, height)];
}

function makeCanvas() {
  const { width, height } = frame();
  const canvas = element("svg", {
    class: "drawing-canvas",
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "xMidYMid meet",
    "aria-label": studioText("draw.canvas", "Drawing on the paused frame"),
    role: "img",
  });
  canvas.addEventListener("pointerdown", startShape);
  canvas.addEventListener("pointermove", extendShape);
  canvas.addEventListener("pointerup", endShape);
  canvas.addEventListener("pointercancel", () => {
    editor.current = null;
    render();
  });
  // Last on the stage: the player and its marks stay side by side (review.js and the room's layout).
  editor.player.parentElement.append(canvas);
  return canvas;
}

function startShape(event) {
  if (!editor.on || event.button > 0) return;
  event.preventDefault();
  const most = Number(editor.box.dataset.mostShapes);
  if (editor.shapes.length >= most) {
    say(studioText("draw.tooMany", "A drawing can have at most %(most)s shapes: undo one to draw another.", { most }));
    return;
  }
  // The first shape sets the moment: the player may have been stepped since drawing was switched on.
  if (!editor.shapes.length) editor.at = editor.player.currentTime || 0;
  editor.canvas.setPointerCapture(event.pointerId);
  const at = shareAt(event);
  const base = { kind: editor.tool, colour: editor.colour, width: Number(editor.box.dataset.width) };
  editor.current = editor.tool === "pen" ? { ...base, points: [at] } : { ...base, from: at, to: at };
  say("");
  render();
}

function extendShape(event) {
  const shape = editor.current;
  if (!shape) return;
  const at = shareAt(event);
  if (shape.kind !== "pen") {
    shape.to = at;
  } else {
    const last = shape.points[shape.points.length - 1];
    if (Math.hypot(at[0] - last[0], at[1] - last[1]) < STEP) return;
    if (shape.points.length >= Number(editor.box.dataset.mostPoints)) {
      say(studioText("draw.longStroke", "That stroke is as long as one can be: lift the pen and start another."));
      return;
    }
    shape.points.push(at);
  }
  render();
}

function endShape(event) {
  const shape = editor.current;
  if (!shape) return;
  extendShape(event);
  editor.current = null;
  // A click with the arrow or the box (no drag) draws nothing.
  const tiny = shape.kind !== "pen" && Math.hypot(shape.to[0] - shape.from[0], shape.to[1] - shape.from[1]) < 0.01;
  if (!tiny) {
    editor.shapes.push(shape);
    if (JSON.stringify({ v: 1, shapes: editor.shapes }).length > Number(editor.box.dataset.mostChars)) {
      editor.shapes.pop();
      say(studioText("draw.tooBig", "The drawing is as detailed as it can be: undo a stroke, or draw shorter ones."));
    }
  }
  write();
  render();
}

function switchDrawing(on) {
  const toggle = editor.box.querySelector("[data-draw-toggle]");
  editor.on = on;
  if (on) {
    if (!editor.shapes.length) editor.at = editor.player.currentTime || 0;
    else if (Math.abs(editor.player.currentTime - editor.at) > 0.05) editor.player.currentTime = editor.at;
    editor.player.pause();
    editor.canvas ||= makeCanvas();
    editor.player.scrollIntoView({ block: "nearest" });
  }
  toggle.setAttribute("aria-pressed", String(on));
  toggle.textContent = on
    ? studioText("draw.stop", "Stop drawing")
    : studioText("draw.start", "Draw on the frame");
  editor.box.querySelector("[data-draw-tools]").hidden = !on;
  showCanvas();
}

function press(buttons, chosen) {
  for (const button of buttons) button.setAttribute("aria-pressed", String(button === chosen));
}

// The comment form, new on the page or swapped in by htmx: take its drawing (if any) as the one being made.
function setUp() {
  const box = document.querySelector("[data-draw]");
  const player = document.getElementById("player");
  if (!box || !player || box === editor.box) return;
  editor.box = box;
  editor.player = player;
  editor.shapes = read(box.querySelector("[data-drawing-field]").value);
  editor.current = null;
  const moment = box.closest("form").querySelector("input[name=at_seconds]");
  editor.at = moment && moment.value ? Number(moment.value) : player.currentTime || 0;
  editor.tool = box.querySelector("[data-draw-tool][aria-pressed=true]")?.dataset.drawTool || "pen";
  editor.colour = box.querySelector("[data-draw-colour][aria-pressed=true]")?.dataset.drawColour || "red";
  box.querySelector("[data-draw-toggle]").hidden = false;
  if (editor.shapes.length) editor.canvas ||= makeCanvas();
  switchDrawing(editor.shapes.length > 0);
  render();
  holdPin();
}

document.addEventListener("click", (event) => {
  if (!editor.box || !editor.box.contains(event.target)) return;
  const button = event.target.closest("button");
  if (!button) return;
  if (button.matches("[data-draw-toggle]")) switchDrawing(!editor.on);
  else if (button.matches("[data-draw-tool]")) {
    editor.tool = button.dataset.drawTool;
    press(editor.box.querySelectorAll("[data-draw-tool]"), button);
  } else if (button.matches("[data-draw-colour]")) {
    editor.colour = button.dataset.drawColour;
    press(editor.box.querySelectorAll("[data-draw-colour]"), button);
  } else if (button.matches("[data-draw-undo]")) {
    editor.shapes.pop();
  } else if (button.matches("[data-draw-clear]")) {
    editor.shapes = [];
  } else return;
  if (button.matches("[data-draw-undo], [data-draw-clear]")) {
    say("");
    write();
    render();
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && editor.on) switchDrawing(false);
});

// The last word on the moment, whatever moved the pin since (a key that steps the player, say): caught on
// the way down, before htmx reads the form.
document.addEventListener("submit", (event) => {
  if (editor.box && event.target === editor.box.closest("form")) holdPin();
}, true);

function ready() {
  setUp();
  // review.js sets the pin again after every swap (each of a response's out-of-band parts too).
  holdPin();
  watchVideos();
}

document.addEventListener("DOMContentLoaded", ready);
document.addEventListener("htmx:afterSettle", ready);
window.addEventListener("resize", watchVideos);
