// The bot check (issue #14). When the server has one on, GET /v1/config says which
// ({provider: "turnstile", site_key}); only then is the provider's widget loaded, and each
// submission carries the widget's one-time token. Off (the default), nothing loads and no
// request leaves this site.

const TURNSTILE_SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";

/** The form field the server reads the token from (the name Turnstile gives it). */
export const TOKEN_FIELD = "cf-turnstile-response";

let widgetId = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.addEventListener("load", resolve);
    script.addEventListener("error", reject);
    document.head.append(script);
  });
}

/**
 * Show the widget the server asks for (config.bot) in `container`; nothing when it asks for
 * none. A widget that cannot load leaves the page working: the server then says
 * bot_check_failed, which the page explains.
 */
export async function setup(bot, container, language) {
  if (!bot || bot.provider !== "turnstile" || !bot.site_key) return;
  container.hidden = false;
  try {
    await loadScript(TURNSTILE_SCRIPT);
    widgetId = window.turnstile.render(container, {
      sitekey: bot.site_key,
      language,
      "refresh-expired": "auto",
    });
  } catch (_) {
    widgetId = null;
  }
}

/** Add the widget's token to a submission's form (nothing when there is no widget). */
export function addToken(form) {
  if (widgetId === null) return;
  const token = window.turnstile.getResponse(widgetId);
  if (token) form.append(TOKEN_FIELD, token);
}

/** A token is good once: ask the widget for a new one after each submission. */
export function reset() {
  if (widgetId !== null) window.turnstile.reset(widgetId);
}
