// The resting message: shown instead of the upload form while the site takes no new photos
// (the operator paused intake, or today's budget is spent: /v1/config's `intake`, or a
// submit refused with one of those codes).

import { byId } from "./dom.js";
import { t } from "./i18n.js";

const REASONS = {
  paused: () => t("We’re taking a short break and not accepting new photos right now. Please come back a little later."),
  budget_exhausted: () => t("We’ve made all the pictures we can for now. Please come back later."),
};

/** The error codes that mean "intake is closed": the page rests instead of showing an error. */
export const RESTING_CODES = new Set(Object.keys(REASONS));

/** Hide the upload form and say why we rest (and, when known, for about how long). */
export function rest(reason, retryAfterSeconds = null) {
  const text = (REASONS[reason] || REASONS.paused)();
  const minutes = retryAfterSeconds ? Math.max(1, Math.ceil(retryAfterSeconds / 60)) : null;
  byId("resting-text").textContent = text;
  const when = byId("resting-when");
  when.textContent = minutes ? t("Try again in about {n} minutes.", { n: minutes }) : "";
  when.hidden = !minutes;
  byId("job-form").hidden = true;
  const box = byId("resting");
  box.dataset.reason = reason;
  box.hidden = false;
}
