// The job's state in words and in the progress bar: queue position, percentage, time left.

import { byId, setText } from "./dom.js";
import { formatNumber, formatSeconds, t } from "./i18n.js";

const el = {
  status: byId("status"),
  progress: byId("progress"),
  eta: byId("eta"),
};

/** The main line and the time line for a queued or running job (API body). */
export function describe(job) {
  const eta = typeof job.eta_seconds === "number" && job.eta_seconds > 0 ? job.eta_seconds : null;
  if (job.status === "queued") {
    const ahead = typeof job.position === "number" ? job.position : null;
    let text = t("Waiting in the queue");
    if (ahead === 0) text = t("Waiting in the queue — you’re next");
    else if (ahead !== null) text = t("Waiting in the queue — jobs ahead of yours: {n}", { n: formatNumber(ahead) });
    return { text, eta: eta ? t("Ready in about {time}", { time: formatSeconds(eta) }) : "" };
  }
  const p = typeof job.progress === "number" ? job.progress : null;
  const text = p === null ? t("Working on it") : t("Working on it — {n} %", { n: formatNumber(Math.round(p * 100)) });
  return { text, eta: eta ? t("About {time} left", { time: formatSeconds(eta) }) : "" };
}

/** The status line (and the time line, hidden when empty). */
export function setStatus(text, eta = "") {
  setText(el.status, text);
  setText(el.eta, eta);
  el.eta.hidden = !eta;
}

export function setDone(done) {
  el.status.classList.toggle("is-done", done);
}

/** The bar at `fraction` (0..1), or moving without a value when null. */
export function setProgress(fraction) {
  if (fraction === null || fraction === undefined) {
    el.progress.removeAttribute("value");
    el.progress.removeAttribute("aria-valuetext");
  } else {
    const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    el.progress.value = pct;
    el.progress.setAttribute("aria-valuetext", `${formatNumber(pct)} %`);
  }
  el.progress.hidden = false;
}

export function hideProgress() {
  el.progress.hidden = true;
  el.eta.hidden = true;
}

/** Show a queued or running job's state. */
export function showJob(job) {
  const { text, eta } = describe(job);
  setStatus(text, eta);
  if (job.status === "queued") setProgress(null);
  else setProgress(typeof job.progress === "number" ? job.progress : null);
}
