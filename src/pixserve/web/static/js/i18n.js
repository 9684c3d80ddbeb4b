// The page's words: t(text) looks the text up in the catalogue the server embedded
// (locale/<lang>/LC_MESSAGES/page.po, msgid = the English text) and fills {name} placeholders.

const messages = readMessages();

/** The page's language, as the server chose it (<html lang>). */
export const lang = document.documentElement.lang || "en";

function readMessages() {
  const node = document.getElementById("page-messages");
  try {
    return node ? JSON.parse(node.textContent) || {} : {};
  } catch (_) {
    return {};
  }
}

/** `text` in the page's language, with `{name}` placeholders taken from `params`. */
export function t(text, params) {
  const found = Object.prototype.hasOwnProperty.call(messages, text) ? messages[text] : text;
  if (!params) return found;
  return found.replace(/\{(\w+)\}/g, (whole, key) =>
    Object.prototype.hasOwnProperty.call(params, key) ? String(params[key]) : whole,
  );
}

/** A number written the way this language writes it. */
export function formatNumber(n, options) {
  return new Intl.NumberFormat(lang, options).format(n);
}

/** "1.2 MB", "340 KB" (in the page's number style). */
export function formatBytes(n) {
  if (n >= 1024 * 1024) {
    const mb = n / (1024 * 1024);
    return t("{n} MB", { n: formatNumber(mb, { maximumFractionDigits: mb >= 10 ? 0 : 1 }) });
  }
  if (n >= 1024) return t("{n} KB", { n: formatNumber(Math.round(n / 1024)) });
  return t("{n} bytes", { n: formatNumber(n) });
}

/** "12 s", "3 min", "1.5 h". */
export function formatSeconds(seconds) {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return t("{n} s", { n: formatNumber(s) });
  const m = Math.round(s / 60);
  if (m < 60) return t("{n} min", { n: formatNumber(m) });
  return t("{n} h", { n: formatNumber(m / 60, { maximumFractionDigits: 1 }) });
}

/** "1024 × 683". */
export function formatSize(width, height) {
  return `${formatNumber(width, { useGrouping: false })} × ${formatNumber(height, { useGrouping: false })}`;
}

/** Remember `code` (cookie `lang`, one year) and reload the page in it. */
export function switchLanguage(code) {
  document.cookie = `lang=${encodeURIComponent(code)}; Path=/; Max-Age=31536000; SameSite=Lax`;
  const url = new URL(window.location.href);
  url.searchParams.delete("lang"); // ?lang= would win over the cookie
  window.location.replace(url.toString());
}
