// The crop: Cropper.js (installed from npm by `make vendor`, served from /static/vendor) over
// the working copy of the photo. The box starts on the largest face the server found, with
// some margin, in the style's aspect ratio when it has one. All rectangles here are in the
// pixels of the image the page uploads, upright.

const CROPPER_URL = "/static/vendor/cropperjs/cropper.esm.js";
/** How far the box reaches around a face, in face widths/heights (room for hair and chin). */
const FACE_MARGIN_X = 0.7;
const FACE_MARGIN_TOP = 0.8;
const FACE_MARGIN_BOTTOM = 0.6;
/** Arrow keys move the box by this share of the image; Shift+arrows resize by it. */
const KEY_STEP = 0.02;

let cropperModule = null;

/** The Cropper class, or null when the library is missing (the page then sends no crop). */
async function loadCropper() {
  if (!cropperModule) cropperModule = import(CROPPER_URL).then((m) => m.default).catch(() => null);
  return cropperModule;
}

const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

/** Integer {x, y, w, h} inside a width×height image. */
function snap(box, width, height) {
  const x = clamp(Math.round(box.x), 0, width - 1);
  const y = clamp(Math.round(box.y), 0, height - 1);
  return {
    x,
    y,
    w: clamp(Math.round(box.w), 1, width - x),
    h: clamp(Math.round(box.h), 1, height - y),
  };
}

/** Shrink w×h (keeping its shape) until it fits in width×height. */
function fitInside(w, h, width, height) {
  const scale = Math.min(1, width / w, height / h);
  return [w * scale, h * scale];
}

/** The biggest centred box of `aspect` (w/h; null = the whole image). */
export function wholeBox(width, height, aspect) {
  if (!aspect) return { x: 0, y: 0, w: width, h: height };
  const [w, h] = fitInside(width, width / aspect, width, height);
  return snap({ x: (width - w) / 2, y: (height - h) / 2, w, h }, width, height);
}

/** The box around `face` with margin, of `aspect` when given, clamped to the image. */
export function faceBox(face, width, height, aspect) {
  let w = face.width * (1 + 2 * FACE_MARGIN_X);
  let h = face.height * (1 + FACE_MARGIN_TOP + FACE_MARGIN_BOTTOM);
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height * (0.5 + (FACE_MARGIN_BOTTOM - FACE_MARGIN_TOP) / 2);
  if (aspect) {
    if (w / h > aspect) h = w / aspect;
    else w = h * aspect;
  }
  [w, h] = fitInside(w, h, width, height);
  const x = clamp(cx - w / 2, 0, width - w);
  const y = clamp(cy - h / 2, 0, height - h);
  return snap({ x, y, w, h }, width, height);
}

/** `box` in the shape `aspect` (null: as it is), same centre and area, inside the image. */
function reshape(box, aspect, { width, height }) {
  if (!aspect) return box;
  let w = Math.sqrt(box.w * box.h * aspect);
  let h = w / aspect;
  [w, h] = fitInside(w, h, width, height);
  const x = clamp(box.x + box.w / 2 - w / 2, 0, width - w);
  const y = clamp(box.y + box.h / 2 - h / 2, 0, height - h);
  return snap({ x, y, w, h }, width, height);
}

/** The crop widget in the photo step. */
export class CropArea {
  /** stage: the element around `image`; onChange(rect) after every change of the box. */
  constructor({ stage, image, onChange }) {
    this.stage = stage;
    this.image = image;
    this.onChange = onChange;
    this.cropper = null;
    this.size = null; // {width, height} of the image
    this.aspect = null;
    this.face = null;
    this.adjusted = false; // the visitor moved the box: faces arriving later leave it alone
    this.box = null; // the rectangle when there is no cropper
    this.Cropper = null;
    this.builtWidth = 0; // the stage's width when the cropper was built
    stage.addEventListener("keydown", (e) => this.onKey(e));
    // Cropper.js measures its container once and rescales by ratios on window resizes; a
    // stage that changed width meanwhile (the page still laying out) left the photo zoomed
    // and the box in a corner. Rebuild it instead whenever the stage's width changes.
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => this.refit()).observe(stage);
    }
  }

  /** Rebuild the cropper for the stage's new width, keeping the box where it was. */
  refit() {
    if (!this.cropper || !this.Cropper || this.stage.dataset.ready !== "true") return;
    if (Math.abs(this.stage.clientWidth - this.builtWidth) < 1) return;
    this.box = this.rect();
    this.cropper.destroy();
    this.cropper = null;
    delete this.stage.dataset.ready;
    this.build(this.Cropper);
  }

  build(Cropper) {
    this.builtWidth = this.stage.clientWidth;
    return new Promise((resolve) => {
      this.cropper = new Cropper(this.image, {
        viewMode: 1, // the box stays inside the photo
        dragMode: "none", // dragging outside the box scrolls the page on phones
        autoCropArea: 1,
        background: false, // the stage's own colour around the photo, not a checkerboard
        aspectRatio: this.aspect || NaN,
        checkOrientation: false, // the image is already upright (EXIF applied)
        responsive: false, // refit() rebuilds it on a new stage width
        zoomable: false,
        movable: false,
        rotatable: false,
        scalable: false,
        toggleDragModeOnDblclick: false,
        minCropBoxWidth: 32,
        minCropBoxHeight: 32,
        ready: () => {
          this.apply(this.box);
          this.stage.dataset.ready = "true"; // for tests: the box is where the page put it
          this.stage.dataset.width = String(this.builtWidth); // ... for a stage this wide
          resolve();
        },
        cropstart: () => {
          this.adjusted = true;
        },
        cropend: () => this.changed(),
      });
    });
  }

  /** Show the image at `url` (width×height) and start the box on the whole image. */
  async show(url, width, height, aspect) {
    this.destroy();
    this.size = { width, height };
    this.aspect = aspect || null;
    this.face = null;
    this.adjusted = false;
    this.box = wholeBox(width, height, this.aspect);
    const stageWidth = this.stage.clientWidth || width;
    const fitted = Math.min((stageWidth * height) / width, window.innerHeight * 0.6, 520);
    this.stage.style.height = `${Math.max(160, Math.round(fitted))}px`;
    this.image.src = url;
    await this.image.decode().catch(() => undefined);
    const Cropper = await loadCropper();
    if (!Cropper || this.image.src !== url) return;
    this.Cropper = Cropper;
    await this.build(Cropper);
  }

  /** The largest face, when the server found one: the box goes there unless moved already. */
  setFace(face) {
    this.face = face || null;
    if (this.face && !this.adjusted) this.frameFace();
  }

  /**
   * A style with another shape: the box goes back around the face in that shape, or, once
   * the visitor has moved it, keeps its centre and takes the new shape.
   */
  setAspect(aspect) {
    if ((aspect || null) === this.aspect) return;
    const before = this.rect();
    this.aspect = aspect || null;
    if (this.cropper) this.cropper.setAspectRatio(this.aspect || NaN); // (re-centres the box)
    if (this.face && !this.adjusted) this.frameFace();
    else if (before && this.adjusted) this.apply(reshape(before, this.aspect, this.size));
    else this.whole(false);
  }

  frameFace() {
    if (!this.face || !this.size) return;
    this.apply(faceBox(this.face, this.size.width, this.size.height, this.aspect));
  }

  /** The whole photo (or its biggest centred part of the style's shape). */
  whole(byVisitor = true) {
    if (!this.size) return;
    if (byVisitor) this.adjusted = true;
    this.apply(wholeBox(this.size.width, this.size.height, this.aspect));
  }

  apply(box) {
    this.box = box;
    if (this.cropper) {
      this.cropper.setData({ x: box.x, y: box.y, width: box.w, height: box.h });
    }
    this.changed();
  }

  changed() {
    if (this.onChange) this.onChange(this.rect());
  }

  /** The chosen rectangle {x, y, w, h}, in the image's pixels; null when there is no image. */
  rect() {
    if (!this.size) return null;
    if (!this.cropper || this.stage.dataset.ready !== "true") return this.box;
    const d = this.cropper.getData(true);
    return snap({ x: d.x, y: d.y, w: d.width, h: d.height }, this.size.width, this.size.height);
  }

  /** Whether the rectangle is the whole image (then no crop needs sending). */
  isWhole() {
    const r = this.rect();
    return !r || (r.x === 0 && r.y === 0 && r.w === this.size.width && r.h === this.size.height);
  }

  onKey(e) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[e.key];
    if (!move || !this.size) return;
    e.preventDefault();
    this.adjusted = true;
    const { width, height } = this.size;
    const r = this.rect();
    const step = Math.max(1, Math.round(Math.max(width, height) * KEY_STEP));
    let box;
    if (e.shiftKey) {
      // Right/Down grow the box, Left/Up shrink it, around its centre.
      const grow = move[0] + move[1];
      let w = r.w + 2 * grow * step;
      let h = this.aspect ? w / this.aspect : r.h + 2 * grow * step;
      w = clamp(w, 16, width);
      h = clamp(h, 16, height);
      if (this.aspect) [w, h] = fitInside(w, w / this.aspect, width, height);
      box = { x: r.x + (r.w - w) / 2, y: r.y + (r.h - h) / 2, w, h };
      box.x = clamp(box.x, 0, width - w);
      box.y = clamp(box.y, 0, height - h);
    } else {
      box = {
        x: clamp(r.x + move[0] * step, 0, width - r.w),
        y: clamp(r.y + move[1] * step, 0, height - r.h),
        w: r.w,
        h: r.h,
      };
    }
    this.apply(snap(box, width, height));
  }

  destroy() {
    if (this.cropper) this.cropper.destroy();
    this.cropper = null;
    this.size = null;
    this.face = null;
    this.box = null;
    this.image.removeAttribute("src");
    this.stage.style.height = "";
    delete this.stage.dataset.ready;
  }
}
