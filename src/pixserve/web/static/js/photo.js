// The chosen photo: decoded upright (EXIF orientation applied), checked against the server's
// limits, and made smaller in the browser when it is far larger than any style needs, so a
// phone does not upload 12 megapixels for a 1024-pixel result.

/** A photo is re-encoded only when it is this much larger than needed. */
const SLACK = 1.5;
const JPEG_QUALITY = 0.92;

/** The browser could not decode the file (it may still be a format only the server reads). */
export class Undecodable extends Error {}

/** Upright pixels of `blob`, or throws Undecodable. */
export async function decodeUpright(blob) {
  try {
    return await createImageBitmap(blob, { imageOrientation: "from-image" });
  } catch (_) {
    throw new Undecodable();
  }
}

/** The factor (≤ 1) that brings a width×height image within maxSide and maxPixels. */
export function fitScale(width, height, maxSide, maxPixels) {
  let scale = 1;
  if (maxSide) scale = Math.min(scale, maxSide / Math.max(width, height));
  if (maxPixels) scale = Math.min(scale, Math.sqrt(maxPixels / (width * height)));
  return scale;
}

/** A JPEG of `source` (a bitmap, or a region {x, y, w, h} of it) drawn at width×height. */
export function encodeJpeg(bitmap, width, height, region) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; // JPEG has no transparency: what was see-through becomes white
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  const r = region || { x: 0, y: 0, w: bitmap.width, h: bitmap.height };
  ctx.drawImage(bitmap, r.x, r.y, r.w, r.h, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode"))), "image/jpeg", JPEG_QUALITY),
  );
}

function jpegName(name) {
  return `${(name || "photo").replace(/\.[^.]*$/, "")}.jpg`;
}

/**
 * The working copy of a chosen file: the bytes the page sends (for faces and the job), their
 * upright size, and the decoded bitmap. `maxSide` is the most any style can use.
 *
 * Returns {file, name, bitmap, width, height, blob, scaled}; throws Undecodable.
 */
export async function prepare(file, { maxSide, maxPixels, maxBytes }) {
  const bitmap = await decodeUpright(file);
  const { width, height } = bitmap;
  const scale = fitScale(width, height, maxSide, maxPixels);
  const tooBig = scale < 1 / SLACK || (maxPixels && width * height > maxPixels);
  if (!tooBig && !(maxBytes && file.size > maxBytes)) {
    return { file, name: file.name || "photo", bitmap, width, height, blob: file, scaled: false };
  }
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const blob = await encodeJpeg(bitmap, w, h);
  bitmap.close();
  const small = await decodeUpright(blob);
  return { file, name: jpegName(file.name), bitmap: small, width: w, height: h, blob, scaled: true };
}

/**
 * What to upload for a style that uses at most `maxSide` pixels of the crop: the working
 * copy as is, or a smaller JPEG of it with the crop scaled to match.
 *
 * Returns {blob, name, crop} (crop {x, y, w, h} in the uploaded image, or null).
 */
export async function forStyle(photo, crop, maxSide) {
  const region = crop || { x: 0, y: 0, w: photo.width, h: photo.height };
  const scale = maxSide ? maxSide / Math.max(region.w, region.h) : 1;
  if (!photo.bitmap || scale >= 1 / SLACK) return { blob: photo.blob, name: photo.name, crop };
  const w = Math.max(1, Math.round(photo.width * scale));
  const h = Math.max(1, Math.round(photo.height * scale));
  const blob = await encodeJpeg(photo.bitmap, w, h);
  let scaled = null;
  if (crop) {
    const x = Math.min(w - 1, Math.floor(crop.x * scale));
    const y = Math.min(h - 1, Math.floor(crop.y * scale));
    scaled = {
      x,
      y,
      w: Math.max(1, Math.min(w - x, Math.round(crop.w * scale))),
      h: Math.max(1, Math.min(h - y, Math.round(crop.h * scale))),
    };
  }
  return { blob, name: jpegName(photo.name), crop: scaled };
}

/** A JPEG of the cropped part of the photo, at most `maxSide` wide or high: the "before". */
export function cropImage(photo, crop, maxSide = 1600) {
  const r = crop || { x: 0, y: 0, w: photo.width, h: photo.height };
  const scale = Math.min(1, maxSide / Math.max(r.w, r.h));
  const w = Math.max(1, Math.round(r.w * scale));
  const h = Math.max(1, Math.round(r.h * scale));
  return encodeJpeg(photo.bitmap, w, h, r);
}
