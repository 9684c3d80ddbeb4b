// Watching a job: server-sent events from /v1/jobs/{id}/events, falling back to polling
// GET /v1/jobs/{id} when the stream breaks or the browser has no EventSource.

import { ApiError, request } from "./api.js";

const POLL_MS = 1000;
/** After this many failed polls in a row the page says the connection is in trouble. */
const TROUBLE_AFTER = 3;

export const TERMINAL = new Set(["succeeded", "failed", "canceled", "expired"]);

/**
 * Follow the job at `urls` ({status, events}) until it is finished.
 *
 * onUpdate(job) gets every new state; onError(apiError) a failure that ends the watch;
 * onTrouble() repeated connection failures (it keeps trying). Returns stop().
 */
export function watch(urls, { onUpdate, onError, onTrouble }) {
  let stopped = false;
  let source = null;
  let timer = null;
  let failures = 0;

  const deliver = (job) => {
    if (stopped) return;
    onUpdate(job);
    if (TERMINAL.has(job.status)) stop();
  };

  const closeSource = () => {
    if (source) source.close();
    source = null;
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const job = await request("GET", urls.status);
      failures = 0;
      deliver(job);
    } catch (err) {
      if (stopped) return;
      if (err.code !== "network_error" && err.code !== "unavailable") {
        stop();
        onError(err);
        return;
      }
      failures += 1;
      if (failures >= TROUBLE_AFTER && onTrouble) onTrouble();
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  };

  const onEvent = (e) => {
    try {
      deliver(JSON.parse(e.data));
    } catch (_) {
      // an unreadable event: the next one or the poll will do
    }
  };

  function stop() {
    stopped = true;
    closeSource();
    if (timer) clearTimeout(timer);
    timer = null;
  }

  if ("EventSource" in window) {
    source = new EventSource(urls.events);
    source.addEventListener("status", onEvent);
    source.addEventListener("message", onEvent);
    // "error" is both the server's own `event: error` (with data) and a broken connection.
    source.addEventListener("error", (e) => {
      if (stopped) return;
      closeSource();
      let err = null;
      try {
        err = e.data ? JSON.parse(e.data).error : null;
      } catch (_) {
        err = null;
      }
      if (err && err.code) {
        stop();
        onError(new ApiError(err.code, err.message || ""));
      } else {
        timer = setTimeout(poll, POLL_MS);
      }
    });
  } else {
    timer = setTimeout(poll, POLL_MS);
  }
  return stop;
}
