// The photo step: choosing a photo (file picker, drag and drop, paste), checking it, making a
// working copy (photo.js), asking the server for faces and starting the crop there
// (crop.js), and, at submit, what to upload for the chosen style.

import { findFaces } from "./api.js";
import { CropArea } from "./crop.js";
import { byId } from "./dom.js";
import { formatBytes, formatSize, t } from "./i18n.js";
import { cropImage, forStyle, prepare, Undecodable } from "./photo.js";

/** Errors about the file itself: shown at once, and the photo is dropped. */
const FILE_ERRORS = ["unsupported_image", "corrupt_image", "image_too_large"];

const el = {
  dropzone: byId("dropzone"),
  fileInput: byId("file-input"),
  photoBox: byId("photo-box"),
  stage: byId("crop-stage"),
  note: byId("crop-note"),
  cropFace: byId("crop-face"),
  cropAll: byId("crop-all"),
  changePhoto: byId("change-photo"),
  previewName: byId("preview-name"),
  previewSize: byId("preview-size"),
};

const hasFiles = (e) => !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");

export class PhotoStep {
  /**
   * limits(): {max_side, max_pixels, max_bytes} for the working copy (max_side: the most
   * any style uses); aspect(): the chosen style's crop_aspect; accepting(): whether a dropped
   * or pasted file is welcome now; onCrop(rect | null): the part that would be sent changed;
   * onError(code) / onClear(): what to tell the visitor about the file.
   */
  constructor({ limits, aspect, accepting, onCrop, onError, onClear }) {
    Object.assign(this, { limits, aspect, accepting, onCrop, onError, onClear });
    this.photo = null; // the working copy (photo.js prepare), or null
    this.token = 0; // bumped per chosen file, so late answers about an old one are ignored
    this.crop = new CropArea({ stage: el.stage, image: byId("crop-image"), onChange: onCrop });
    el.fileInput.addEventListener("change", () => this.choose(el.fileInput.files[0]));
    el.changePhoto.addEventListener("click", () => el.fileInput.click());
    el.cropFace.addEventListener("click", () => this.crop.frameFace());
    el.cropAll.addEventListener("click", () => this.crop.whole());
    this.listenForDrops();
  }

  /** Take `file` as the photo: check it, show it with its crop box, look for a face. */
  async choose(file) {
    if (!file) return;
    this.onClear();
    const token = ++this.token;
    if (file.size === 0) return this.reject("corrupt_image");
    if (file.type && !file.type.startsWith("image/")) return this.reject("unsupported_image");
    const limits = await this.limits();
    let photo;
    try {
      photo = await prepare(file, {
        maxSide: limits.max_side,
        maxPixels: limits.max_pixels,
        maxBytes: limits.max_bytes,
      });
    } catch (err) {
      if (!(err instanceof Undecodable)) throw err;
      photo = await this.serverOnly(file, token, limits);
      if (!photo) return;
    }
    if (token !== this.token) return;
    this.show(photo);
    if (photo.bitmap) this.findFace(photo, token);
  }

  /**
   * A file this browser cannot decode: the server decides (it reads formats browsers don't,
   * such as TIFF). Returns a photo without a preview, or null after showing why not.
   */
  async serverOnly(file, token, limits) {
    if (limits.max_bytes && file.size > limits.max_bytes) {
      this.reject("image_too_large");
      return null;
    }
    this.setNote(t("Checking your file…"));
    try {
      const answer = await findFaces(file, file.name || "photo");
      if (token !== this.token) return null;
      const { width, height } = answer;
      return { file, name: file.name, bitmap: null, width, height, blob: file, scaled: false };
    } catch (err) {
      if (token === this.token) this.reject(FILE_ERRORS.includes(err.code) ? err.code : "unsupported_image");
      return null;
    }
  }

  show(photo) {
    this.release();
    this.photo = photo;
    el.dropzone.hidden = true;
    el.photoBox.hidden = false;
    el.previewName.textContent = photo.file.name || t("Pasted photo");
    const size = formatSize(photo.width, photo.height);
    const bytes = formatBytes(photo.blob.size);
    el.previewSize.textContent = photo.scaled
      ? t("{size} pixels, made smaller to send: {bytes}", { size, bytes })
      : t("{size} pixels, {bytes}", { size, bytes });
    el.cropFace.hidden = true;
    el.cropAll.hidden = !photo.bitmap;
    if (photo.bitmap) {
      photo.url = URL.createObjectURL(photo.blob);
      this.crop.show(photo.url, photo.width, photo.height, this.aspect());
      this.setNote(t("Looking for a face…"));
    } else {
      this.crop.destroy();
      el.stage.hidden = true;
      this.setNote(t("This browser can’t show this photo, but the server can read it: it will be used whole."));
      this.onCrop({ x: 0, y: 0, w: photo.width, h: photo.height });
    }
  }

  async findFace(photo, token) {
    let answer;
    try {
      answer = await findFaces(photo.blob, photo.name);
    } catch (err) {
      if (token !== this.token) return;
      if (FILE_ERRORS.includes(err.code)) this.reject(err.code);
      else this.setNote(t("Drag the box or its corners to choose the part to restyle."));
      return;
    }
    if (token !== this.token) return;
    const face = (answer.faces || [])[0];
    if (!face) {
      this.crop.setFace(null);
      this.setNote(t("No face found. Drag the box or its corners to choose the part to restyle."));
      return;
    }
    // The server's boxes are in its upright view of the same bytes; scale in case it differs.
    const sx = photo.width / (answer.width || photo.width);
    const sy = photo.height / (answer.height || photo.height);
    this.crop.setFace({ x: face.x * sx, y: face.y * sy, width: face.width * sx, height: face.height * sy });
    el.cropFace.hidden = false;
    this.setNote(t("We found a face and put the box around it. Drag the box or its corners to change it."));
  }

  /** The chosen style wants another shape. */
  setAspect(aspect) {
    if (this.photo && this.photo.bitmap) this.crop.setAspect(aspect);
  }

  setNote(text) {
    el.note.textContent = text;
  }

  reject(code) {
    this.reset();
    this.onError(code);
  }

  release() {
    if (this.photo) {
      if (this.photo.url) URL.revokeObjectURL(this.photo.url);
      if (this.photo.bitmap) this.photo.bitmap.close();
    }
    this.photo = null;
  }

  /** Back to "choose a photo". */
  reset() {
    this.token += 1;
    this.release();
    this.crop.destroy();
    el.fileInput.value = "";
    el.photoBox.hidden = true;
    el.stage.hidden = false;
    el.dropzone.hidden = false;
    this.setNote("");
    this.onCrop(null);
  }

  setDisabled(disabled) {
    el.fileInput.disabled = disabled;
  }

  focus() {
    el.fileInput.focus({ preventScroll: true });
  }

  /**
   * What to send for a style that uses at most `maxSide` pixels a side: {blob, name, crop,
   * before}, `before` being the part of the photo that is restyled (for the before/after
   * slider); null without a photo.
   */
  async upload(maxSide) {
    if (!this.photo) return null;
    const rect = this.crop.isWhole() ? null : this.crop.rect();
    const upload = await forStyle(this.photo, rect, maxSide);
    const before = this.photo.bitmap ? await cropImage(this.photo, rect) : null;
    return { ...upload, before };
  }

  /** A photo dropped anywhere on the page, or pasted, is chosen like a picked one. */
  listenForDrops() {
    let depth = 0;
    window.addEventListener("dragenter", (e) => {
      if (!this.accepting() || !hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      el.dropzone.classList.add("is-dragover");
    });
    window.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) el.dropzone.classList.remove("is-dragover");
    });
    window.addEventListener("dragover", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // never let the browser navigate to a dropped file
      e.dataTransfer.dropEffect = this.accepting() ? "copy" : "none";
    });
    window.addEventListener("drop", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      el.dropzone.classList.remove("is-dragover");
      if (this.accepting() && e.dataTransfer.files.length) this.choose(e.dataTransfer.files[0]);
    });
    window.addEventListener("paste", (e) => {
      if (!this.accepting() || !e.clipboardData) return;
      const file = Array.from(e.clipboardData.files || []).find((f) => f.type.startsWith("image/"));
      if (file) {
        e.preventDefault();
        this.choose(file);
      }
    });
  }
}
