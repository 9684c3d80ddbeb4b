// The sketch pad for styles that take drawings: draw with a mouse, a pen or a finger
// (pointer events), undo, clear, and hand the drawing over as a PNG (dark lines on white).

const INK = "#111";
const PAPER = "#fff";
/** Line width in canvas pixels (the canvas is drawn at its own resolution, then scaled). */
const LINE_WIDTH = 5;

export class SketchPad {
  constructor(canvas, { onChange } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.strokes = []; // each a list of [x, y] points in canvas pixels
    this.current = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", () => this.up());
    canvas.addEventListener("pointercancel", () => this.up());
    this.redraw();
  }

  /** Draw at width×height pixels (the style's shape); clears the drawing. */
  resize(width, height) {
    if (this.canvas.width === width && this.canvas.height === height) return;
    this.canvas.width = width;
    this.canvas.height = height;
    this.clear();
  }

  point(e) {
    const box = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - box.left) * this.canvas.width) / box.width,
      ((e.clientY - box.top) * this.canvas.height) / box.height,
    ];
  }

  down(e) {
    if (e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.current = [this.point(e)];
    this.strokes.push(this.current);
    this.redraw();
  }

  move(e) {
    if (!this.current) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const event of events.length ? events : [e]) this.current.push(this.point(event));
    this.redraw();
  }

  up() {
    if (!this.current) return;
    this.current = null;
    this.changed();
  }

  undo() {
    this.strokes.pop();
    this.redraw();
    this.changed();
  }

  clear() {
    this.strokes = [];
    this.current = null;
    this.redraw();
    this.changed();
  }

  isEmpty() {
    return this.strokes.length === 0;
  }

  changed() {
    if (this.onChange) this.onChange(this);
  }

  redraw() {
    const { ctx, canvas } = this;
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = LINE_WIDTH;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const stroke of this.strokes) {
      if (stroke.length === 1) {
        // a tap: a dot
        ctx.beginPath();
        ctx.arc(stroke[0][0], stroke[0][1], LINE_WIDTH / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(stroke[0][0], stroke[0][1]);
      for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    }
  }

  /** The drawing as a PNG blob. */
  toBlob() {
    return new Promise((resolve, reject) =>
      this.canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode"))), "image/png"),
    );
  }
}
