// pixserve web page: choose a photo, pick a style, watch the job, get the result.
// Plain JavaScript, no framework, no build step; every request goes to this app.
"use strict";

(() => {
  const API = "/v1";
  const POLL_MS = 1000;
  const TERMINAL = new Set(["succeeded", "failed", "canceled", "expired"]);

  // Plain-language messages for the API's stable error codes.
  const MESSAGES = {
    unsupported_image:
      "That file isn’t a photo we can read. Please choose a JPEG, PNG, WebP, AVIF, GIF, BMP " +
      "or TIFF image.",
    corrupt_image:
      "That photo seems to be damaged or incomplete, so we couldn’t open it. Please try another one.",
    image_too_large: "That photo is too big. Please choose a smaller one{limit}.",
    invalid_crop: "The selected area doesn’t fit inside the photo. Please select it again.",
    unknown_style:
      "That style isn’t available any more. Please reload the page and pick another one.",
    queue_full: "We’re very busy right now and can’t take more photos. Please try again in a minute.",
    unavailable: "The service is temporarily unavailable. Please try again in a little while.",
    job_not_found:
      "We couldn’t find this photo on the server. It may have expired or been deleted.",
    result_not_ready: "The result isn’t ready yet. Please wait a moment.",
    no_face_found:
      "We couldn’t find a face in this photo. Try a clear, well-lit photo of a face looking at " +
      "the camera.",
    invalid_request:
      "Something about that request wasn’t right. Please check your photo and style and try again.",
    internal_error: "Something went wrong on our side. Please try again.",
    // Codes the server or this page may also use.
    invalid_image: "We couldn’t use that photo. Please try another one.",
    invalid_parameter: "One of the options isn’t valid. Please check it and try again.",
    network_error: "We couldn’t reach the server. Please check your connection and try again.",
    no_file: "Please choose a photo first.",
    no_style: "Please pick a style.",
    styles_unavailable: "We couldn’t load the styles. Please reload the page.",
    invalid_email: "That e-mail address doesn’t look right. Please check it, or leave it empty.",
    email_unavailable: "This site doesn’t send e-mail. Please leave the address empty.",
    webhook_refused: "That webhook address isn’t allowed.",
    result_expired: "This result has been deleted, as promised. Please make a new one.",
    link_expired: "This link has expired.",
    link_invalid: "This link doesn’t work; it may have been changed.",
    link_required: "The full-size picture is only available through the link we sent.",
  };

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("job-form"),
    dropzone: $("dropzone"),
    fileInput: $("file-input"),
    sizeHint: $("size-hint"),
    dzEmpty: $("dropzone-empty"),
    dzPreview: $("dropzone-preview"),
    previewImage: $("preview-image"),
    previewName: $("preview-name"),
    previewSize: $("preview-size"),
    stylesFieldset: $("styles-fieldset"),
    styles: $("styles"),
    submit: $("submit"),
    submitRow: $("submit-row"),
    statusRow: $("status-row"),
    resultFigure: $("result-figure"),
    resultFrame: $("result-frame"),
    error: $("error"),
    panel: $("job-panel"),
    status: $("status"),
    cancel: $("cancel"),
    progress: $("progress"),
    compare: $("compare"),
    originalFigure: $("original-figure"),
    originalImage: $("original-image"),
    resultImage: $("result-image"),
    resultPlaceholder: $("result-placeholder"),
    resultCaption: $("result-caption"),
    actions: $("actions"),
    download: $("download"),
    anotherStyle: $("another-style"),
    newPhoto: $("new-photo"),
    deleteBox: $("delete-box"),
    deleteButton: $("delete"),
    emailStep: $("email-step"),
    email: $("email"),
    retentionNote: $("retention-note"),
  };

  const state = {
    styles: [],
    limits: {},
    file: null,
    objectUrl: null,
    job: null, // {id, style, status_url, events_url}
    watch: 0, // bumped whenever we stop watching a job, so late updates are ignored
    source: null,
    pollTimer: null,
    pollFailures: 0,
    busy: false,
    hasOriginal: false, // whether the job panel shows the local original
  };

  // ---------- small helpers ----------

  function formatBytes(n) {
    if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n >= 10 * 1024 * 1024 ? 0 : 1)} MB`;
    if (n >= 1024) return `${Math.round(n / 1024)} KB`;
    return `${n} bytes`;
  }

  function formatSeconds(s) {
    const n = Math.max(1, Math.round(s));
    if (n < 60) return `${n} s`;
    const m = Math.round(n / 60);
    return m < 60 ? `${m} min` : `${Math.round(m / 6) / 10} h`;
  }

  function styleTitle(name) {
    const s = state.styles.find((x) => x.name === name);
    return s ? s.title || s.name : name;
  }

  function withQuery(url, query) {
    return url + (url.includes("?") ? "&" : "?") + query;
  }

  /** An Error carrying an API error code. */
  function apiError(code, message) {
    const err = new Error(message || code);
    err.code = code;
    err.serverMessage = message || "";
    return err;
  }

  function codeForStatus(httpStatus) {
    if (httpStatus === 413) return "image_too_large";
    if (httpStatus === 415) return "unsupported_image";
    if (httpStatus === 404) return "job_not_found";
    if (httpStatus === 429) return "queue_full";
    if (httpStatus === 502 || httpStatus === 503 || httpStatus === 504) return "unavailable";
    if (httpStatus >= 400 && httpStatus < 500) return "invalid_request";
    return "internal_error";
  }

  /** Turn a response body (text) and HTTP status into an apiError. */
  function errorFromBody(httpStatus, text) {
    try {
      const body = JSON.parse(text);
      if (body && body.error && body.error.code) {
        return apiError(body.error.code, body.error.message);
      }
    } catch (_) {
      // not JSON: fall through
    }
    return apiError(codeForStatus(httpStatus), "");
  }

  async function api(method, url, options = {}) {
    let resp;
    try {
      resp = await fetch(url, { method, headers: { Accept: "application/json" }, ...options });
    } catch (_) {
      throw apiError("network_error");
    }
    const text = await resp.text();
    if (!resp.ok) throw errorFromBody(resp.status, text);
    try {
      return text ? JSON.parse(text) : {};
    } catch (_) {
      throw apiError("internal_error", "The server sent an unreadable answer.");
    }
  }

  function friendlyMessage(code, serverMessage) {
    let msg = MESSAGES[code];
    if (!msg) return serverMessage || MESSAGES.internal_error;
    if (code === "image_too_large") {
      const max = state.limits.max_upload_bytes;
      msg = msg.replace("{limit}", max ? ` (up to ${formatBytes(max)})` : "");
    }
    return msg;
  }

  // ---------- error box ----------

  /**
   * Show a plain-language message for an error code, next to what it is about: the photo
   * ("file"), the form's submit button ("form") or the job panel ("job"; the default while
   * a job is shown).
   */
  function showError(code, serverMessage, where, text) {
    const place = where || (el.panel.hidden ? "form" : "job");
    if (place === "file") el.dropzone.after(el.error);
    else if (place === "form") el.submitRow.before(el.error);
    else el.statusRow.after(el.error);
    el.error.textContent = text || friendlyMessage(code, serverMessage);
    el.error.dataset.code = code || "";
    el.error.hidden = false;
    el.error.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function clearError() {
    el.error.hidden = true;
    el.error.textContent = "";
    delete el.error.dataset.code;
  }

  // ---------- what the server promises: e-mail, retention ----------

  function duration(hours) {
    if (hours >= 48 && hours % 24 === 0) return `${hours / 24} days`;
    if (hours >= 1) return `${hours} hour${hours === 1 ? "" : "s"}`;
    const minutes = Math.round(hours * 60);
    return minutes >= 1 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : "a few seconds";
  }

  async function loadConfig() {
    let config;
    try {
      config = await api("GET", `${API}/config`);
    } catch (err) {
      return; // the page works without it: no e-mail field, the generic retention note
    }
    el.emailStep.hidden = !config.email;
    const r = config.retention || {};
    if (typeof r.result_ttl_hours === "number") {
      const original = r.delete_originals
        ? "Your photo is deleted from this server as soon as your picture is ready"
        : `Your photo is deleted with the result`;
      el.retentionNote.textContent =
        `${original}; the result is deleted ${duration(r.result_ttl_hours)} after it is made.`;
    }
  }

  // ---------- styles gallery ----------

  async function loadStyles() {
    el.styles.setAttribute("aria-busy", "true");
    try {
      const data = await api("GET", `${API}/styles`);
      state.styles = Array.isArray(data.styles) ? data.styles : [];
      state.limits = data.limits || {};
      renderStyles();
      if (state.limits.max_upload_bytes) {
        el.sizeHint.textContent = `, up to ${formatBytes(state.limits.max_upload_bytes)}`;
      }
    } catch (err) {
      el.styles.textContent = "";
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = friendlyMessage(err.code === "network_error" ? err.code : "styles_unavailable");
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn";
      retry.textContent = "Try again";
      retry.addEventListener("click", loadStyles);
      el.styles.append(p, retry);
    } finally {
      el.styles.setAttribute("aria-busy", "false");
    }
  }

  function renderStyles() {
    const previous = selectedStyle();
    el.styles.textContent = "";
    if (!state.styles.length) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = "No styles are installed on this server yet.";
      el.styles.append(p);
      return;
    }
    state.styles.forEach((style, i) => {
      const card = document.createElement("label");
      card.className = "style-card";
      card.dataset.style = style.name;
      card.dataset.testid = `style-${style.name}`;

      const input = document.createElement("input");
      input.type = "radio";
      input.name = "style";
      input.value = style.name;
      input.checked = previous ? previous === style.name : i === 0;
      const descId = `style-desc-${i}`;
      if (style.description) input.setAttribute("aria-describedby", descId);

      const thumb = document.createElement("span");
      thumb.className = "style-thumb";
      thumb.setAttribute("aria-hidden", "true");
      const initial = (style.title || style.name || "?").trim().charAt(0).toUpperCase();
      if (style.thumbnail_url) {
        const img = document.createElement("img");
        img.alt = "";
        img.loading = "lazy";
        img.decoding = "async";
        img.src = style.thumbnail_url;
        img.addEventListener("error", () => {
          thumb.textContent = initial;
        });
        thumb.append(img);
      } else {
        thumb.textContent = initial;
      }

      const check = document.createElement("span");
      check.className = "check";
      check.setAttribute("aria-hidden", "true");
      check.innerHTML =
        '<svg viewBox="0 0 24 24"><path d="m5 12.5 4.5 4.5L19 7.5" fill="none" ' +
        'stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>';

      const body = document.createElement("span");
      body.className = "style-body";
      const title = document.createElement("span");
      title.className = "style-title";
      title.textContent = style.title || style.name;
      if (style.fast) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "Fast";
        title.append(" ", badge);
      }
      body.append(title);
      if (style.description) {
        const desc = document.createElement("span");
        desc.className = "style-desc";
        desc.id = descId;
        desc.textContent = style.description;
        body.append(desc);
      }

      card.append(input, thumb, check, body);
      if (style.kind === "upscaler") {
        enlargeGrid().append(card);
        if (input.checked) card.closest("details").open = true;
      } else {
        el.styles.append(card);
      }
    });
    const group = el.styles.querySelector(".enlarge-group");
    if (group) el.styles.append(group); // after every style card
  }

  // Upscalers enlarge a photo rather than restyle it, and come in many variants: they sit
  // in their own folded group so the gallery shows the styles first.
  function enlargeGrid() {
    let grid = el.styles.querySelector(".enlarge-grid");
    if (grid) return grid;
    const details = document.createElement("details");
    details.className = "enlarge-group";
    details.dataset.testid = "enlarge-group";
    const summary = document.createElement("summary");
    summary.textContent = "Enlarge instead (neural upscalers)";
    grid = document.createElement("div");
    grid.className = "style-grid enlarge-grid";
    details.append(summary, grid);
    el.styles.append(details);
    return grid;
  }

  function selectedStyle() {
    const checked = el.styles.querySelector('input[name="style"]:checked');
    return checked ? checked.value : null;
  }

  // ---------- choosing a photo ----------

  function setFile(file) {
    clearError();
    if (!file) return;
    if (file.type && !file.type.startsWith("image/")) {
      rejectFile("unsupported_image");
      return;
    }
    const max = state.limits.max_upload_bytes;
    if (max && file.size > max) {
      rejectFile("image_too_large");
      return;
    }
    if (file.size === 0) {
      rejectFile("corrupt_image");
      return;
    }
    if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
    state.file = file;
    state.objectUrl = URL.createObjectURL(file);
    el.previewImage.hidden = false;
    el.previewImage.src = state.objectUrl;
    el.previewName.textContent = file.name || "Pasted photo";
    el.previewSize.textContent = formatBytes(file.size);
    el.dzEmpty.hidden = true;
    el.dzPreview.hidden = false;
  }

  function rejectFile(code, text) {
    resetFile();
    showError(code, "", "file", text);
  }

  function resetFile() {
    if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
    state.file = null;
    state.objectUrl = null;
    el.fileInput.value = "";
    el.previewImage.removeAttribute("src");
    el.dzPreview.hidden = true;
    el.dzEmpty.hidden = false;
  }

  el.previewImage.addEventListener("load", () => {
    const maxPixels = state.limits.max_pixels;
    const img = el.previewImage;
    if (maxPixels && img.naturalWidth * img.naturalHeight > maxPixels) {
      const mp = Math.floor(maxPixels / 1e6);
      rejectFile(
        "image_too_large",
        `That photo has too many pixels. Please choose one under ${mp} megapixels.`,
      );
    }
  });
  // A preview that does not decode is not fatal: the server decides what it can read.
  el.previewImage.addEventListener("error", () => {
    if (el.previewImage.getAttribute("src")) el.previewImage.hidden = true;
  });
  el.originalImage.addEventListener("error", () => {
    if (!el.originalImage.getAttribute("src")) return;
    state.hasOriginal = false;
    showCompare({ original: false, result: !el.resultFigure.hidden });
  });

  // Keep the result's placeholder the shape of the photo, so nothing jumps when it arrives.
  el.originalImage.addEventListener("load", () => {
    const img = el.originalImage;
    if (img.naturalWidth && img.naturalHeight && el.resultImage.hidden) {
      el.resultFrame.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
    }
  });

  el.fileInput.addEventListener("change", () => setFile(el.fileInput.files[0]));

  function formVisible() {
    return !el.form.hidden && !state.busy;
  }

  let dragDepth = 0;
  window.addEventListener("dragenter", (e) => {
    if (!formVisible() || !hasFiles(e)) return;
    e.preventDefault();
    dragDepth += 1;
    el.dropzone.classList.add("is-dragover");
  });
  window.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) el.dropzone.classList.remove("is-dragover");
  });
  window.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); // never let the browser navigate to a dropped file
    e.dataTransfer.dropEffect = formVisible() ? "copy" : "none";
  });
  window.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    el.dropzone.classList.remove("is-dragover");
    if (formVisible() && e.dataTransfer.files.length) setFile(e.dataTransfer.files[0]);
  });
  window.addEventListener("paste", (e) => {
    if (!formVisible() || !e.clipboardData) return;
    const file = Array.from(e.clipboardData.files || []).find((f) => f.type.startsWith("image/"));
    if (file) {
      e.preventDefault();
      setFile(file);
    }
  });

  function hasFiles(e) {
    return !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
  }

  // ---------- submitting ----------

  el.form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.busy) return;
    clearError();
    if (!state.file) {
      showError("no_file", "", "file");
      el.fileInput.focus();
      return;
    }
    const style = selectedStyle();
    if (!style) {
      showError("no_style");
      const first = el.styles.querySelector('input[name="style"]');
      if (first) first.focus();
      return;
    }
    submitJob(state.file, style);
  });

  function setBusy(busy) {
    state.busy = busy;
    el.submit.disabled = busy;
    el.fileInput.disabled = busy;
    el.stylesFieldset.disabled = busy;
    el.dropzone.classList.toggle("is-disabled", busy);
  }

  function upload(formData, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${API}/jobs`);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(xhr.responseText));
          } catch (_) {
            reject(apiError("internal_error", "The server sent an unreadable answer."));
          }
        } else {
          reject(errorFromBody(xhr.status, xhr.responseText));
        }
      });
      xhr.addEventListener("error", () => reject(apiError("network_error")));
      xhr.addEventListener("abort", () => reject(apiError("network_error")));
      xhr.send(formData);
    });
  }

  async function submitJob(file, style) {
    setBusy(true);
    stopWatching();
    showJobPanel({ withOriginal: true, style });
    el.panel.focus({ preventScroll: true }); // the submit button just went away
    setStatus("Uploading…");
    setProgress(0);

    const form = new FormData();
    form.append("file", file, file.name || "photo");
    form.append("style", style);
    const email = el.emailStep.hidden ? "" : el.email.value.trim();
    if (email) form.append("email", email);

    let job;
    try {
      job = await upload(form, (fraction) => {
        setStatus(`Uploading — ${Math.round(fraction * 100)} %`);
        setProgress(fraction);
      });
    } catch (err) {
      setBusy(false);
      hideJobPanel();
      el.submit.focus({ preventScroll: true });
      showError(err.code, err.serverMessage);
      return;
    }
    watchJob(job);
  }

  // ---------- the job panel ----------

  function showJobPanel({ withOriginal, style }) {
    el.form.hidden = true;
    el.panel.hidden = false;
    state.hasOriginal = Boolean(withOriginal && state.objectUrl);
    if (state.hasOriginal) el.originalImage.src = state.objectUrl;
    else el.originalImage.removeAttribute("src");
    el.resultFrame.style.aspectRatio = "";
    showCompare({ original: state.hasOriginal, result: true });
    el.resultImage.hidden = true;
    el.resultImage.removeAttribute("src");
    el.resultImage.alt = "";
    el.resultPlaceholder.hidden = false;
    el.resultCaption.textContent = style ? styleTitle(style) : "Result";
    el.actions.hidden = true;
    el.deleteBox.hidden = true;
    el.cancel.hidden = true;
    el.deleteButton.disabled = false;
    el.status.classList.remove("is-done");
    el.anotherStyle.hidden = !state.file;
    el.panel.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  /** Show the original and/or the result figure; one alone gets a single centred column. */
  function showCompare({ original, result }) {
    el.originalFigure.hidden = !original;
    el.resultFigure.hidden = !result;
    el.compare.hidden = !original && !result;
    el.compare.classList.toggle("single", !(original && result));
  }

  function hideJobPanel() {
    el.panel.hidden = true;
    el.form.hidden = false;
  }

  function setStatus(text) {
    if (el.status.textContent !== text) el.status.textContent = text;
  }

  function setProgress(fraction) {
    if (fraction === null || fraction === undefined) {
      el.progress.removeAttribute("value"); // indeterminate
      el.progress.removeAttribute("aria-valuetext");
    } else {
      const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
      el.progress.value = pct;
      el.progress.setAttribute("aria-valuetext", `${pct} %`);
    }
    el.progress.hidden = false;
  }

  function hideProgress() {
    el.progress.hidden = true;
  }

  // ---------- watching a job: server-sent events, falling back to polling ----------

  function watchJob(job) {
    state.job = {
      id: job.id,
      style: job.style,
      status_url: job.status_url || `${API}/jobs/${encodeURIComponent(job.id)}`,
      events_url: job.events_url || `${API}/jobs/${encodeURIComponent(job.id)}/events`,
    };
    history.replaceState(null, "", `#job=${encodeURIComponent(job.id)}`);
    const token = ++state.watch;
    render(job);
    if (TERMINAL.has(job.status)) return;

    if ("EventSource" in window) {
      const source = new EventSource(state.job.events_url);
      state.source = source;
      const onData = (e) => {
        if (token !== state.watch) return;
        let data;
        try {
          data = JSON.parse(e.data);
        } catch (_) {
          return;
        }
        render(data);
        if (TERMINAL.has(data.status)) closeSource();
      };
      source.addEventListener("status", onData);
      source.addEventListener("message", onData);
      // "error" is both the server's own `event: error` (with data) and a broken connection.
      source.addEventListener("error", (e) => {
        if (token !== state.watch || state.source !== source) return;
        closeSource();
        if (e.data) {
          let err = {};
          try {
            err = JSON.parse(e.data).error || {};
          } catch (_) {
            // unreadable: treat it like a broken connection below
          }
          if (err.code) {
            finishWithError(err.code, err.message);
            return;
          }
        }
        startPolling(token);
      });
    } else {
      startPolling(token);
    }
  }

  function closeSource() {
    if (state.source) {
      state.source.close();
      state.source = null;
    }
  }

  function startPolling(token) {
    state.pollFailures = 0;
    const tick = async () => {
      if (token !== state.watch) return;
      try {
        const data = await api("GET", state.job.status_url);
        if (token !== state.watch) return;
        state.pollFailures = 0;
        render(data);
        if (TERMINAL.has(data.status)) return;
      } catch (err) {
        if (token !== state.watch) return;
        if (err.code !== "network_error" && err.code !== "unavailable") {
          finishWithError(err.code, err.serverMessage);
          return;
        }
        state.pollFailures += 1;
        if (state.pollFailures >= 3) setStatus("Connection lost — still trying…");
      }
      state.pollTimer = setTimeout(tick, POLL_MS);
    };
    state.pollTimer = setTimeout(tick, POLL_MS);
  }

  function stopWatching() {
    state.watch += 1;
    closeSource();
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  function finishWithError(code, message) {
    stopWatching();
    setBusy(false);
    hideProgress();
    showCompare({ original: state.hasOriginal, result: false });
    el.cancel.hidden = true;
    setStatus("Something went wrong");
    showError(code, message);
    el.actions.hidden = false;
    el.download.hidden = true;
  }

  /** Update the page for one job status (from POST, GET, or an event). */
  function render(job) {
    if (state.job && job.style) state.job.style = job.style;
    const status = job.status;
    el.panel.dataset.status = status || "";
    if (status === "queued") {
      let text = "In queue";
      if (typeof job.position === "number") {
        text += job.position === 0 ? " — you’re next" : ` — position ${job.position + 1}`;
      }
      if (typeof job.eta_seconds === "number") text += `, about ${formatSeconds(job.eta_seconds)}`;
      setStatus(text);
      setProgress(null);
      el.cancel.hidden = false;
    } else if (status === "running") {
      const p = typeof job.progress === "number" ? job.progress : null;
      let text = "Running";
      if (p !== null) text += ` — ${Math.round(p * 100)} %`;
      if (typeof job.eta_seconds === "number" && job.eta_seconds > 0) {
        text += `, about ${formatSeconds(job.eta_seconds)} left`;
      }
      setStatus(text);
      setProgress(p);
      el.cancel.hidden = false;
    } else if (status === "succeeded") {
      showResult(job);
    } else if (status === "failed") {
      const err = job.error || {};
      finishWithError(err.code || "internal_error", err.message);
      el.deleteBox.hidden = false;
    } else if (status === "canceled") {
      stopWatching();
      setBusy(false);
      hideProgress();
      showCompare({ original: state.hasOriginal, result: false });
      el.cancel.hidden = true;
      setStatus("Canceled. Your photo was deleted from our server.");
      el.actions.hidden = false;
      el.download.hidden = true;
    } else if (status === "expired") {
      stopWatching();
      setBusy(false);
      hideProgress();
      showCompare({ original: state.hasOriginal, result: false });
      el.cancel.hidden = true;
      setStatus("This result has expired and its images were deleted.");
      el.actions.hidden = false;
      el.download.hidden = true;
    }
  }

  function showResult(job) {
    stopWatching();
    setBusy(false);
    el.cancel.hidden = true;
    const url = job.result_url || `${API}/jobs/${encodeURIComponent(job.id)}/result`;
    setProgress(1);
    setStatus("Finishing…");
    const img = el.resultImage;
    img.onload = () => {
      img.hidden = false;
      el.resultPlaceholder.hidden = true;
      el.resultFrame.style.aspectRatio = "";
      hideProgress();
      setStatus(`Done! Here’s your photo in the ${styleTitle(job.style)} style.`);
      el.status.classList.add("is-done");
    };
    img.onerror = () => {
      img.hidden = true;
      showCompare({ original: state.hasOriginal, result: false });
      hideProgress();
      setStatus("The result could not be shown");
      showError("result_not_ready");
    };
    img.alt = `Your photo in the ${styleTitle(job.style)} style`;
    img.src = url;
    el.download.href = withQuery(url, "download=1");
    el.download.hidden = false;
    el.actions.hidden = false;
    el.deleteBox.hidden = false;
  }

  // ---------- actions ----------

  el.cancel.addEventListener("click", async () => {
    if (!state.job) return;
    el.cancel.disabled = true;
    stopWatching();
    try {
      await api("DELETE", `${API}/jobs/${encodeURIComponent(state.job.id)}`);
      render({ status: "canceled" });
    } catch (err) {
      if (err.code === "job_not_found") {
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
      await api("DELETE", `${API}/jobs/${encodeURIComponent(state.job.id)}`);
    } catch (err) {
      if (err.code !== "job_not_found") {
        el.deleteButton.disabled = false;
        showError(err.code, err.serverMessage);
        return;
      }
    }
    stopWatching();
    el.resultImage.hidden = true;
    el.resultImage.removeAttribute("src");
    showCompare({ original: false, result: false });
    el.download.hidden = true;
    el.download.removeAttribute("href");
    el.deleteBox.hidden = true;
    el.status.classList.remove("is-done");
    setStatus("Deleted. Your photo and its result have been removed from our server.");
    history.replaceState(null, "", location.pathname + location.search);
    state.job = null;
    el.actions.hidden = false;
  });

  el.anotherStyle.addEventListener("click", () => {
    backToForm();
    const checked = el.styles.querySelector('input[name="style"]:checked');
    el.stylesFieldset.scrollIntoView({ block: "start", behavior: "smooth" });
    if (checked) checked.focus({ preventScroll: true });
  });

  el.newPhoto.addEventListener("click", () => {
    backToForm();
    resetFile();
    window.scrollTo({ top: 0, behavior: "smooth" });
    el.fileInput.focus({ preventScroll: true });
  });

  function backToForm() {
    stopWatching();
    setBusy(false);
    clearError();
    state.job = null;
    history.replaceState(null, "", location.pathname + location.search);
    hideJobPanel();
  }

  window.addEventListener("pagehide", closeSource);

  // ---------- start ----------

  async function resumeFromHash() {
    const m = /^#job=([A-Za-z0-9_-]+)$/.exec(location.hash);
    if (!m) return;
    const id = m[1];
    try {
      const job = await api("GET", `${API}/jobs/${encodeURIComponent(id)}`);
      showJobPanel({ withOriginal: false, style: job.style });
      if (!TERMINAL.has(job.status)) setBusy(true);
      watchJob(job);
    } catch (err) {
      history.replaceState(null, "", location.pathname + location.search);
      if (err.code === "job_not_found") showError("job_not_found");
    }
  }

  loadConfig();
  loadStyles().then(resumeFromHash);
})();
