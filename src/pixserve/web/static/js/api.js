// The HTTP API client: every request the page makes goes to this app, under /v1.

import { lang } from "./i18n.js";

export const API = "/v1";

/** An API failure with its stable error code (see core/errors.py) and the server's text. */
export class ApiError extends Error {
  constructor(code, serverMessage = "", status = 0) {
    super(serverMessage || code);
    this.code = code;
    this.serverMessage = serverMessage;
    this.status = status;
  }
}

function codeForStatus(status) {
  if (status === 413) return "image_too_large";
  if (status === 415) return "unsupported_image";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status === 502 || status === 503 || status === 504) return "unavailable";
  if (status >= 400 && status < 500) return "invalid_request";
  return "internal_error";
}

/** The ApiError of a response: its JSON {"error": {code, message}} or a code for the status. */
function errorOf(status, text) {
  try {
    const body = JSON.parse(text);
    if (body && body.error && body.error.code) {
      return new ApiError(body.error.code, body.error.message || "", status);
    }
  } catch (_) {
    // not JSON: fall through
  }
  return new ApiError(codeForStatus(status), "", status);
}

function parse(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch (_) {
    throw new ApiError("internal_error");
  }
}

/** JSON in, JSON out; throws ApiError (code "network_error" when the server can't be reached). */
export async function request(method, url, options = {}) {
  let response;
  try {
    response = await fetch(url, { method, headers: { Accept: "application/json" }, ...options });
  } catch (_) {
    throw new ApiError("network_error");
  }
  const text = await response.text();
  if (!response.ok) throw errorOf(response.status, text);
  return parse(text);
}

export const getConfig = () => request("GET", `${API}/config`);

/** The catalogue, its titles and descriptions in the page's language (which the server chose
 * from ?lang=, the cookie or Accept-Language: saying it keeps the cards in step with the page);
 * with a size, each style also says the size it would return (output_size). */
export function getStyles(size) {
  const query = new URLSearchParams({ lang });
  if (size) {
    query.set("width", size.width);
    query.set("height", size.height);
  }
  return request("GET", `${API}/styles?${query}`);
}

/** Faces in an image, largest first, in upright coordinates: {width, height, faces: [...]}. */
export function findFaces(blob, filename) {
  const form = new FormData();
  form.append("file", blob, filename);
  return request("POST", `${API}/faces`, { body: form });
}

const jobPath = (id) => `${API}/jobs/${encodeURIComponent(id)}`;

export const getJob = (id) => request("GET", jobPath(id));
export const deleteJob = (id) => request("DELETE", jobPath(id));

/** Where to watch a job, from its API body. */
export function jobUrls(job) {
  return {
    status: job.status_url || jobPath(job.id),
    events: job.events_url || `${jobPath(job.id)}/events`,
    result: job.result_url || `${jobPath(job.id)}/result`,
  };
}

/** POST /v1/jobs with upload progress (fetch can't report it): resolves to the job's body. */
export function submitJob(form, onProgress) {
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
          resolve(parse(xhr.responseText));
        } catch (err) {
          reject(err);
        }
      } else {
        reject(errorOf(xhr.status, xhr.responseText));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError("network_error")));
    xhr.addEventListener("abort", () => reject(new ApiError("network_error")));
    xhr.send(form);
  });
}
