// Plain-language texts for the API's stable error codes and the page's own ones.
// The server's `message` (already in the visitor's language) is the fallback for codes the
// page does not know.

import { formatBytes, t } from "./i18n.js";

const TEXTS = {
  unsupported_image: () => t("That file isn’t a photo we can read. Please choose a JPEG, PNG, WebP, AVIF, GIF, BMP or TIFF image."),
  corrupt_image: () => t("That photo seems to be damaged or incomplete, so we couldn’t open it. Please try another one."),
  image_too_large: ({ maxBytes }) =>
    maxBytes
      ? t("That photo is too big. Please choose one under {size}.", { size: formatBytes(maxBytes) })
      : t("That photo is too big. Please choose a smaller one."),
  too_many_pixels: ({ maxPixels }) =>
    t("That photo has too many pixels. Please choose one under {n} megapixels.", {
      n: Math.floor(maxPixels / 1e6),
    }),
  invalid_crop: () => t("The selected area doesn’t fit inside the photo. Please select it again."),
  unknown_style: () => t("That style isn’t available any more. Please reload the page and pick another one."),
  queue_full: () => t("We’re very busy right now and can’t take more photos. Please try again in a minute."),
  bot_check_failed: () => t("Please complete the check that shows you’re a person, then try again."),
  rate_limited: () => t("You’ve sent a lot of photos in a short time. Please wait a minute and try again."),
  paused: () => t("We’re taking a short break and not accepting new photos right now. Please come back a little later."),
  budget_exhausted: () => t("We’ve made all the pictures we can for now. Please come back later."),
  unavailable: () => t("The service is temporarily unavailable. Please try again in a little while."),
  job_not_found: () => t("We couldn’t find this picture on the server. It may have expired or been deleted."),
  not_found: () => t("We couldn’t find this picture on the server. It may have expired or been deleted."),
  result_not_ready: () => t("The result isn’t ready yet. Please wait a moment."),
  no_face_found: () => t("We couldn’t find a face in this photo. Try a clear, well-lit photo of a face looking at the camera."),
  invalid_request: () => t("Something about that request wasn’t right. Please check your photo and style and try again."),
  internal_error: () => t("Something went wrong on our side. Please try again."),
  invalid_image: () => t("We couldn’t use that photo. Please try another one."),
  invalid_parameter: () => t("One of the options isn’t valid. Please check it and try again."),
  network_error: () => t("We couldn’t reach the server. Please check your connection and try again."),
  no_file: () => t("Please choose a photo first."),
  no_sketch: () => t("Please draw something first."),
  no_style: () => t("Please pick a style."),
  styles_unavailable: () => t("We couldn’t load the styles. Please reload the page."),
  invalid_email: () => t("That e-mail address doesn’t look right. Please check it, or leave it empty."),
  email_unavailable: () => t("This site doesn’t send e-mail. Please leave the address empty."),
  webhook_refused: () => t("That webhook address isn’t allowed."),
  result_expired: () => t("This result has been deleted, as promised. Please make a new one."),
  link_expired: () => t("This link has expired."),
  link_invalid: () => t("This link doesn’t work; it may have been changed."),
  link_required: () => t("The full-size picture is only available through the link we sent."),
};

/** What to tell a person about error `code` (limits: {maxBytes, maxPixels} for size errors). */
export function errorText(code, serverMessage = "", limits = {}) {
  const text = TEXTS[code];
  if (text) return text(limits);
  return serverMessage || TEXTS.internal_error();
}
