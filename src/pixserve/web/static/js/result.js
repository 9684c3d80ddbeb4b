// The result: a before/after slider over the original (the cropped part that was sent) and
// the picture, zoom to full size, download, share, and the real size of the picture.

import { byId, setText } from "./dom.js";
import { formatNumber, formatSize, t } from "./i18n.js";

const el = {
  compare: byId("compare"),
  frame: byId("compare-frame"),
  result: byId("result-image"),
  beforeLayer: byId("before-layer"),
  original: byId("original-image"),
  handle: byId("compare-handle"),
  labelBefore: byId("label-before"),
  labelAfter: byId("label-after"),
  range: byId("compare-range"),
  placeholder: byId("result-placeholder"),
  caption: byId("result-caption"),
  size: byId("result-size"),
  download: byId("download"),
  zoom: byId("zoom"),
  share: byId("share"),
  shareNote: byId("share-note"),
  dialog: byId("zoom-dialog"),
  dialogImage: byId("zoom-image"),
  dialogClose: byId("zoom-close"),
};

let current = null; // {url, title, filename}

function withQuery(url, query) {
  return url + (url.includes("?") ? "&" : "?") + query;
}

/** The frame takes the picture's shape (and narrows for a tall one, see style.css). */
function setShape(width, height) {
  el.frame.style.aspectRatio = `${width} / ${height}`;
  el.frame.style.setProperty("--ratio", String(width / height));
}

/** Where the divider is: the left `pct` % shows the original. */
function setSplit(pct) {
  el.frame.style.setProperty("--split", `${pct}%`);
  el.range.setAttribute("aria-valuetext", t("{n} % original", { n: formatNumber(pct) }));
}

el.range.addEventListener("input", () => setSplit(Number(el.range.value)));

/** Waiting for the picture: the original (if any) with a spinner over it, the caption. */
export function reset({ beforeUrl, caption }) {
  current = null;
  el.result.hidden = true;
  el.result.removeAttribute("src");
  el.result.alt = "";
  el.compare.hidden = false;
  el.frame.classList.remove("has-result", "has-before");
  el.frame.style.removeProperty("aspect-ratio");
  el.frame.style.removeProperty("--ratio");
  if (beforeUrl) {
    el.original.src = beforeUrl;
    el.beforeLayer.hidden = false;
    el.frame.classList.add("has-before");
  } else {
    el.original.removeAttribute("src");
    el.beforeLayer.hidden = true;
  }
  for (const node of [el.handle, el.range, el.labelBefore, el.labelAfter]) node.hidden = true;
  el.placeholder.hidden = false;
  el.range.value = "50";
  setSplit(50);
  setText(el.caption, caption || "");
  setText(el.size, "");
  el.shareNote.hidden = true;
}

// Keep the frame the shape of the original while the picture is on its way.
el.original.addEventListener("load", () => {
  if (el.result.hidden && el.original.naturalWidth) {
    setShape(el.original.naturalWidth, el.original.naturalHeight);
  }
});
el.original.addEventListener("error", () => {
  if (!el.original.getAttribute("src")) return;
  el.beforeLayer.hidden = true;
  el.frame.classList.remove("has-before");
});

/**
 * Show the finished job's picture (API body `job`, its result `url`). Resolves with
 * {width, height} once it is shown; rejects when it can't be loaded.
 */
export function show(job, url, { title, alt }) {
  current = { url, title, name: `pixserve-${job.style}` };
  return new Promise((resolve, reject) => {
    el.result.onload = () => {
      const width = job.result_width || el.result.naturalWidth;
      const height = job.result_height || el.result.naturalHeight;
      setShape(el.result.naturalWidth, el.result.naturalHeight);
      el.result.hidden = false;
      el.placeholder.hidden = true;
      el.frame.classList.add("has-result");
      const compare = !el.beforeLayer.hidden;
      for (const node of [el.handle, el.range, el.labelBefore, el.labelAfter]) node.hidden = !compare;
      setText(el.size, t("{size} pixels", { size: formatSize(width, height) }));
      el.zoom.hidden = false;
      el.share.hidden = false;
      resolve({ width, height });
    };
    el.result.onerror = () => {
      el.result.hidden = true;
      el.placeholder.hidden = true;
      reject(new Error("result"));
    };
    el.result.alt = alt;
    el.result.src = url;
    el.download.href = withQuery(url, "download=1");
    el.download.hidden = false;
  });
}

/** The job ended without a picture (failed, canceled, expired, deleted). */
export function clear({ keepOriginal }) {
  current = null;
  el.result.hidden = true;
  el.result.removeAttribute("src");
  el.placeholder.hidden = true;
  for (const node of [el.handle, el.range, el.labelBefore, el.labelAfter]) node.hidden = true;
  el.frame.classList.remove("has-result");
  if (!keepOriginal || el.beforeLayer.hidden) {
    el.compare.hidden = true;
    el.original.removeAttribute("src");
  }
  setText(el.size, "");
  el.download.hidden = true;
  el.download.removeAttribute("href");
  el.zoom.hidden = true;
  el.share.hidden = true;
  el.shareNote.hidden = true;
}

// ---------- zoom ----------

el.zoom.addEventListener("click", () => {
  if (!current) return;
  el.dialogImage.src = current.url;
  el.dialogImage.alt = el.result.alt;
  el.dialog.showModal();
  el.dialogClose.focus();
});
el.dialogClose.addEventListener("click", () => el.dialog.close());
el.dialog.addEventListener("click", (e) => {
  if (e.target === el.dialog) el.dialog.close(); // a click on the backdrop
});

// ---------- share ----------

function note(text) {
  el.shareNote.textContent = text;
  el.shareNote.hidden = false;
}

async function shareFile() {
  const response = await fetch(current.url);
  const blob = await response.blob();
  const extension = (blob.type.split("/")[1] || "jpg").replace("jpeg", "jpg");
  const file = new File([blob], `${current.name}.${extension}`, { type: blob.type });
  if (!navigator.canShare || !navigator.canShare({ files: [file] })) return false;
  await navigator.share({ files: [file], title: current.title });
  return true;
}

async function copyLink(link) {
  try {
    await navigator.clipboard.writeText(link);
    note(t("Link copied. It works until the picture is deleted."));
  } catch (_) {
    note(t("Copy this link: {link}", { link }));
  }
}

el.share.addEventListener("click", async () => {
  if (!current) return;
  const link = new URL(current.url, window.location.href).toString();
  if (navigator.share) {
    try {
      if (await shareFile()) return;
      await navigator.share({ url: link, title: current.title });
      return;
    } catch (err) {
      if (err && err.name === "AbortError") return; // the visitor closed the share sheet
    }
  }
  await copyLink(link);
});
