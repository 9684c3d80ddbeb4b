// pixserve's page: choose a photo (and crop it) or draw a sketch, pick a style, watch the job,
// compare, download, delete. This module wires the others together; each holds one idea.

import * as api from "./api.js";
import * as bots from "./bots.js";
import { byId, scrollBehavior } from "./dom.js";
import { errorText } from "./errors.js";
import { formatBytes, lang, switchLanguage, t } from "./i18n.js";
import * as progress from "./progress.js";
import { rest, RESTING_CODES } from "./resting.js";
import * as result from "./result.js";
import { SketchPad } from "./sketch.js";
import { cropAspect, isSketchStyle, maxSide, StylePicker } from "./styles.js";
import { PhotoStep } from "./upload.js";
import { TERMINAL, watch } from "./watcher.js";

const SIZES_DELAY_MS = 250;

const el = {
  form: byId("job-form"),
  photoStepText: byId("step-photo-text"),
  photoInput: byId("photo-input"),
  sizeHint: byId("size-hint"),
  sketchBox: byId("sketch-box"),
  stylesFieldset: byId("styles-fieldset"),
  styles: byId("styles"),
  emailStep: byId("email-step"),
  email: byId("email"),
  error: byId("error"),
  submitRow: byId("submit-row"),
  submit: byId("submit"),
  panel: byId("job-panel"),
  statusRow: byId("status-row"),
  cancel: byId("cancel"),
  actions: byId("actions"),
  anotherStyle: byId("another-style"),
  newPhoto: byId("new-photo"),
  deleteBox: byId("delete-box"),
  deleteButton: byId("delete"),
  retentionNote: byId("retention-note"),
  botCheck: botCheckBox(),
};

/** Where the bot check's widget goes, above the submit button (hidden unless one is on). */
function botCheckBox() {
  const box = document.createElement("div");
  box.id = "bot-check";
  box.hidden = true;
  byId("submit-row").before(box);
  return box;
}

const state = {
  limits: {},
  beforeUrl: null, // object URL of the "before" image of the job on screen
  job: null, // {id, style, urls}
  stopWatching: null,
  busy: false,
};

// ---------- errors ----------

/**
 * Show the text for `code` next to what it is about: the photo or the sketch ("file"), the
 * submit button ("form") or the job panel ("job", the default while a job is shown).
 */
function showError(code, serverMessage = "", where = null) {
  const place = where || (el.panel.hidden ? "form" : "job");
  if (place === "file") (el.photoInput.hidden ? el.sketchBox : el.photoInput).after(el.error);
  else if (place === "form") el.submitRow.before(el.error);
  else el.statusRow.after(el.error);
  el.error.textContent = errorText(code, serverMessage, {
    maxBytes: state.limits.max_upload_bytes,
    maxPixels: state.limits.max_pixels,
  });
  el.error.dataset.code = code || "";
  el.error.hidden = false;
  el.error.scrollIntoView({ block: "nearest", behavior: scrollBehavior() });
}

function clearError() {
  el.error.hidden = true;
  el.error.textContent = "";
  delete el.error.dataset.code;
}

// ---------- styles ----------

const picker = new StylePicker(el.styles, { onChange: styleChanged });
let stylesReady = null;
let sizesTimer = null;

async function loadStyles() {
  el.styles.setAttribute("aria-busy", "true");
  try {
    const data = await api.getStyles();
    state.limits = data.limits || {};
    picker.setStyles(Array.isArray(data.styles) ? data.styles : []);
    if (state.limits.max_upload_bytes) {
      el.sizeHint.textContent = t(", up to {size}", { size: formatBytes(state.limits.max_upload_bytes) });
    }
    styleChanged(picker.selected());
  } catch (err) {
    el.styles.textContent = "";
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = errorText(err.code === "network_error" ? err.code : "styles_unavailable");
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "btn";
    retry.textContent = t("Try again");
    retry.addEventListener("click", () => {
      stylesReady = loadStyles();
    });
    el.styles.append(p, retry);
  } finally {
    el.styles.setAttribute("aria-busy", "false");
  }
}

/** The most pixels on a side any photo style uses: a photo beyond it is made smaller. */
function largestSide() {
  const sides = picker.styles.filter((s) => !isSketchStyle(s)).map(maxSide);
  return sides.every(Boolean) && sides.length ? Math.max(...sides) : null;
}

function styleChanged(style) {
  const sketch = isSketchStyle(style);
  el.photoInput.hidden = sketch;
  el.sketchBox.hidden = !sketch;
  el.photoStepText.textContent = sketch ? t("Draw a sketch") : t("Choose a photo");
  el.submit.textContent = sketch ? t("Make a picture of my drawing") : t("Restyle my photo");
  if (sketch) {
    const aspect = cropAspect(style);
    pad.resize(512, Math.round(512 / (aspect || 1)));
  } else {
    photoStep.setAspect(cropAspect(style));
  }
}

/** Ask the server what size each style would return for the chosen crop (debounced). */
function refreshSizes(rect) {
  clearTimeout(sizesTimer);
  if (!rect) {
    picker.showSizes(null);
    return;
  }
  sizesTimer = setTimeout(async () => {
    try {
      const data = await api.getStyles({ width: rect.w, height: rect.h });
      const sizes = {};
      for (const s of data.styles || []) if (s.output_size) sizes[s.name] = s.output_size;
      picker.showSizes(sizes);
    } catch (_) {
      picker.showSizes(null); // sizes are a courtesy: the page works without them
    }
  }, SIZES_DELAY_MS);
}

// ---------- the photo and its crop ----------

const photoStep = new PhotoStep({
  limits: async () => {
    await stylesReady;
    return {
      max_side: largestSide(),
      max_pixels: state.limits.max_pixels,
      max_bytes: state.limits.max_upload_bytes,
    };
  },
  aspect: () => cropAspect(picker.selected()),
  accepting: () => !el.form.hidden && !state.busy && !el.photoInput.hidden,
  onCrop: refreshSizes,
  onError: (code) => showError(code, "", "file"),
  onClear: clearError,
});

// ---------- the sketch pad ----------

const pad = new SketchPad(byId("sketch-pad"), {
  onChange: () => {
    if (!el.error.hidden && el.error.dataset.code === "no_sketch") clearError();
  },
});
byId("sketch-undo").addEventListener("click", () => pad.undo());
byId("sketch-clear").addEventListener("click", () => pad.clear());

// ---------- submitting ----------

el.form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (state.busy) return;
  clearError();
  const style = picker.selected();
  if (!style) {
    showError("no_style");
    picker.focusTarget()?.focus();
    return;
  }
  let upload;
  try {
    upload = isSketchStyle(style) ? await sketchUpload() : await photoUpload(style);
  } catch (_) {
    showError("invalid_image", "", "file");
    return;
  }
  if (upload) submit(upload, style);
});

async function sketchUpload() {
  if (pad.isEmpty()) {
    showError("no_sketch", "", "file");
    return null;
  }
  const blob = await pad.toBlob();
  return { blob, name: "sketch.png", crop: null, before: blob };
}

async function photoUpload(style) {
  const upload = await photoStep.upload(maxSide(style));
  if (!upload) {
    showError("no_file", "", "file");
    photoStep.focus();
  }
  return upload;
}

function setBusy(busy) {
  state.busy = busy;
  el.submit.disabled = busy;
  photoStep.setDisabled(busy);
  el.stylesFieldset.disabled = busy;
}

async function submit(upload, style) {
  setBusy(true);
  stopWatching();
  if (state.beforeUrl) URL.revokeObjectURL(state.beforeUrl);
  state.beforeUrl = upload.before ? URL.createObjectURL(upload.before) : null;
  showJobPanel(style.name, state.beforeUrl);
  el.panel.focus({ preventScroll: true }); // the submit button just went away
  progress.setStatus(t("Uploading…"));
  progress.setProgress(0);

  const form = new FormData();
  form.append("file", upload.blob, upload.name);
  form.append("style", style.name);
  if (upload.crop) {
    const c = upload.crop;
    form.append("crop", `${c.x},${c.y},${c.w},${c.h}`);
  }
  const email = el.emailStep.hidden ? "" : el.email.value.trim();
  if (email) {
    form.append("email", email);
    form.append("lang", lang);
  }
  bots.addToken(form);
  let job;
  try {
    job = await api.submitJob(form, (fraction) => {
      progress.setStatus(t("Uploading — {n} %", { n: Math.round(fraction * 100) }));
      progress.setProgress(fraction);
    });
  } catch (err) {
    bots.reset();
    setBusy(false);
    hideJobPanel();
    if (RESTING_CODES.has(err.code)) {
      rest(err.code);
      return;
    }
    el.submit.focus({ preventScroll: true });
    showError(err.code, err.serverMessage, err.code === "invalid_email" ? "form" : null);
    return;
  }
  bots.reset();
  watchJob(job);
}

// ---------- the job panel ----------

function styleTitle(name) {
  const style = picker.byName.get(name);
  return style ? style.title || style.name : name;
}

function showJobPanel(styleName, beforeUrl) {
  el.form.hidden = true;
  el.panel.hidden = false;
  result.reset({ beforeUrl, caption: styleName ? styleTitle(styleName) : "" });
  el.actions.hidden = true;
  el.deleteBox.hidden = true;
  el.cancel.hidden = true;
  el.deleteButton.disabled = false;
  progress.setDone(false);
  el.anotherStyle.hidden = !photoStep.photo && !isSketchStyle(picker.selected());
  el.panel.scrollIntoView({ block: "start", behavior: scrollBehavior() });
}

function hideJobPanel() {
  el.panel.hidden = true;
  el.form.hidden = false;
}

function watchJob(job) {
  state.job = { id: job.id, style: job.style, urls: api.jobUrls(job) };
  history.replaceState(null, "", `#job=${encodeURIComponent(job.id)}`);
  render(job);
  if (TERMINAL.has(job.status)) return;
  state.stopWatching = watch(state.job.urls, {
    onUpdate: render,
    onError: (err) => finishWithError(err.code, err.serverMessage),
    onTrouble: () => progress.setStatus(t("Connection lost — still trying…")),
  });
}

function stopWatching() {
  if (state.stopWatching) state.stopWatching();
  state.stopWatching = null;
}

/** The page for one state of the job (from POST, GET or an event). */
function render(job) {
  el.panel.dataset.status = job.status || "";
  if (job.status === "queued" || job.status === "running") {
    progress.showJob(job);
    el.cancel.hidden = false;
  } else if (job.status === "succeeded") {
    showResult(job);
  } else if (job.status === "failed") {
    const err = job.error || {};
    finishWithError(err.code || "internal_error", err.message);
    el.deleteBox.hidden = false;
  } else if (job.status === "canceled") {
    finish(t("Canceled. Your photo was deleted from our server."));
  } else if (job.status === "expired") {
    finish(t("This result has expired and its images were deleted."));
  }
}

/** The job ended without a picture: say `text`, offer the way back. */
function finish(text) {
  stopWatching();
  setBusy(false);
  progress.hideProgress();
  result.clear({ keepOriginal: true });
  el.cancel.hidden = true;
  progress.setStatus(text);
  el.actions.hidden = false;
}

function finishWithError(code, message) {
  finish(t("Something went wrong"));
  showError(code, message);
}

async function showResult(job) {
  stopWatching();
  setBusy(false);
  el.cancel.hidden = true;
  progress.setProgress(1);
  progress.setStatus(t("Finishing…"));
  const title = styleTitle(job.style);
  el.actions.hidden = false;
  el.deleteBox.hidden = false;
  try {
    await result.show(job, api.jobUrls(job).result, {
      title,
      alt: t("Your picture in the {style} style", { style: title }),
    });
  } catch (_) {
    progress.hideProgress();
    result.clear({ keepOriginal: true });
    progress.setStatus(t("The result could not be shown"));
    showError("result_not_ready");
    return;
  }
  progress.hideProgress();
  progress.setStatus(t("Done! Here’s your picture in the {style} style.", { style: title }));
  progress.setDone(true);
}

// ---------- actions ----------

el.cancel.addEventListener("click", async () => {
  if (!state.job) return;
  el.cancel.disabled = true;
  stopWatching();
  try {
    await api.deleteJob(state.job.id);
    render({ status: "canceled" });
  } catch (err) {
    if (err.code === "job_not_found" || err.code === "not_found") {
      render({ status: "canceled" });
    } else {
      showError(err.code, err.serverMessage);
      watchJob({ ...state.job, status: "queued" });
    }
  } finally {
    el.cancel.disabled = false;
  }
});

el.deleteButton.addEventListener("click", async () => {
  if (!state.job) return;
  el.deleteButton.disabled = true;
  clearError();
  try {
    await api.deleteJob(state.job.id);
  } catch (err) {
    if (err.code !== "job_not_found" && err.code !== "not_found") {
      el.deleteButton.disabled = false;
      showError(err.code, err.serverMessage);
      return;
    }
  }
  stopWatching();
  result.clear({ keepOriginal: false });
  el.deleteBox.hidden = true;
  progress.setDone(false);
  progress.setStatus(t("Deleted. Your photo and its result have been removed from our server."));
  history.replaceState(null, "", location.pathname + location.search);
  state.job = null;
  el.actions.hidden = false;
});

el.anotherStyle.addEventListener("click", () => {
  backToForm();
  el.stylesFieldset.scrollIntoView({ block: "start", behavior: scrollBehavior() });
  picker.focusTarget()?.focus({ preventScroll: true });
});

el.newPhoto.addEventListener("click", () => {
  backToForm();
  photoStep.reset();
  window.scrollTo({ top: 0, behavior: scrollBehavior() });
  photoStep.focus();
});

function backToForm() {
  stopWatching();
  setBusy(false);
  clearError();
  state.job = null;
  history.replaceState(null, "", location.pathname + location.search);
  hideJobPanel();
}

window.addEventListener("pagehide", stopWatching);

for (const button of document.querySelectorAll(".lang-button")) {
  button.addEventListener("click", () => {
    if (button.dataset.lang !== lang) switchLanguage(button.dataset.lang);
  });
}

// ---------- what the server promises: e-mail, retention ----------

function duration(hours) {
  if (hours >= 48 && hours % 24 === 0) return t("{n} days", { n: hours / 24 });
  if (hours === 1) return t("1 hour");
  if (hours > 1) return t("{n} hours", { n: hours });
  const minutes = Math.round(hours * 60);
  if (minutes === 1) return t("1 minute");
  return minutes > 1 ? t("{n} minutes", { n: minutes }) : t("a few seconds");
}

async function loadConfig() {
  let config;
  try {
    config = await api.getConfig();
  } catch (_) {
    return; // the page works without it: no e-mail field, the general retention note
  }
  el.emailStep.hidden = !config.email;
  bots.setup(config.bot, el.botCheck, lang);
  if (config.intake && !config.intake.open) rest(config.intake.reason, config.intake.retry_after_seconds);
  const r = config.retention || {};
  if (typeof r.result_ttl_hours === "number") {
    const time = duration(r.result_ttl_hours);
    el.retentionNote.textContent = r.delete_originals
      ? t("Your photo was deleted from this server as soon as your picture was ready; the picture is deleted {time} after it was made.", { time })
      : t("Your photo and the picture are deleted {time} after the picture was made.", { time });
  }
}

// ---------- start ----------

async function resumeFromHash() {
  const m = /^#job=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return;
  try {
    const job = await api.getJob(m[1]);
    showJobPanel(job.style, null);
    if (!TERMINAL.has(job.status)) setBusy(true);
    watchJob(job);
  } catch (err) {
    history.replaceState(null, "", location.pathname + location.search);
    if (err.code === "job_not_found" || err.code === "not_found") showError("job_not_found");
  }
}

loadConfig();
stylesReady = loadStyles();
stylesReady.then(resumeFromHash);
