// The operator page (/admin): asks for the token once per tab (sessionStorage), shows
// /v1/admin/stats as tables and flips the pause switch. English only: it is for operators.

const KEY = "pixserve-admin-token";
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(KEY);
}

async function call(method, path) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token()}` },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error?.message || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const value of cells) {
    const td = document.createElement("td");
    td.textContent = String(value);
    tr.append(td);
  }
  return tr;
}

function show(stats) {
  const intake = stats.intake;
  $("admin-intake").textContent = intake.open
    ? "open"
    : `closed (${intake.reason}${intake.note ? `: ${intake.note}` : ""})`;
  $("admin-pause").disabled = intake.paused;
  $("admin-resume").disabled = !intake.paused;
  const b = stats.budget;
  $("admin-budget").textContent =
    `${b.used_this_hour} this hour (limit ${b.per_hour ?? "none"}), ` +
    `${b.used_today} today (limit ${b.per_day ?? "none"})`;
  const queue = Object.entries(stats.queue).sort();
  $("admin-queue-rows").replaceChildren(
    ...(queue.length
      ? queue.map(([style, n]) => row([style, n.queued, n.running]))
      : [row(["(empty)", 0, 0])]),
  );
  $("admin-hour-rows").replaceChildren(
    ...stats.hours
      .slice()
      .reverse()
      .map((h) =>
        row([
          h.hour.slice(0, 13).replace("T", " ") + ":00",
          h.accepted,
          h.failed,
          Object.entries(h.failures)
            .map(([code, n]) => `${code}: ${n}`)
            .join(", "),
        ]),
      ),
  );
}

async function refresh() {
  try {
    show(await call("GET", "/v1/admin/stats"));
    $("admin-login").hidden = true;
    $("admin-panel").hidden = false;
  } catch (error) {
    if (error.status === 401) sessionStorage.removeItem(KEY);
    $("admin-panel").hidden = true;
    $("admin-login").hidden = false;
    $("admin-login-error").textContent = error.message;
    $("admin-login-error").hidden = false;
  }
}

$("admin-login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("admin-token").value);
  $("admin-token").value = "";
  refresh();
});
$("admin-pause").addEventListener("click", async () => {
  await call("POST", "/v1/admin/pause");
  refresh();
});
$("admin-resume").addEventListener("click", async () => {
  await call("POST", "/v1/admin/resume");
  refresh();
});
$("admin-refresh").addEventListener("click", refresh);
$("admin-logout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  $("admin-panel").hidden = true;
  $("admin-login").hidden = false;
});

if (token()) refresh();
setInterval(() => {
  if (token() && !$("admin-panel").hidden) refresh();
}, 10000);
