// Switchyard's dashboard: plain JavaScript, no build step, nothing loaded from elsewhere.
// Reads /admin/api/* (signed in by a session cookie); every value from the server is put
// into the page as text (textContent), never as HTML: model names, keys and bodies are
// other people's input.
"use strict";

const API = "/admin/api/";
const SVG = "http://www.w3.org/2000/svg";
const state = { last: null, timers: [], selected: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  return node;
}

const usd = (v) => (v === null || v === undefined ? "–" : "$" + Number(v).toFixed(Math.abs(v) < 1 ? 4 : 2));
const int = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"));
const ms = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(v < 10 ? 1 : 0));

async function get(path) {
  const response = await fetch(API + path, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401 || response.status === 403) {
    const body = await response.json().catch(() => ({}));
    throw Object.assign(new Error(body?.error?.message || "sign in"), { signIn: true, status: response.status });
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// --- live tiles -----------------------------------------------------------------------

async function refreshOverview() {
  const o = await get("overview");
  const now = performance.now();
  if (state.last) {
    const seconds = (now - state.last.at) / 1000;
    const rate = Math.max(0, o.requests_total - state.last.total) / seconds;
    document.getElementById("t-rate").textContent = rate.toFixed(rate < 10 ? 2 : 0);
  }
  state.last = { at: now, total: o.requests_total };
  document.getElementById("t-requests").textContent = int(o.requests_total);
  const share = o.requests_total ? (100 * o.errors_total) / o.requests_total : 0;
  document.getElementById("t-errors").textContent = `${int(o.errors_total)} (${share.toFixed(1)}%)`;
  document.getElementById("t-latency").textContent = `${ms(o.latency_ms.p50)} / ${ms(o.latency_ms.p95)} ms`;
  document.getElementById("t-inflight").textContent = int(o.in_flight);
  document.getElementById("t-cost").textContent = usd(o.cost_usd_total);
  const rate = o.cache.hit_rate;
  document.getElementById("t-cache").textContent = rate === null ? "no lookups" : `${(100 * rate).toFixed(1)}%`;
  const trail = o.trail;
  document.getElementById("t-trail").textContent = trail
    ? `${int(trail.backlog)}${trail.database_ok ? "" : " (db down)"}`
    : "–";
  renderBudgets(o.budgets);
}

function renderBudgets(budgets) {
  const rows = budgets.map((b) => {
    const used = b.limit_usd ? Math.min(1, b.spent_usd / b.limit_usd) : 0;
    const bar = el("span");
    bar.style.width = `${(100 * used).toFixed(1)}%`;
    const meter = el("div", { class: used >= 0.9 ? "meter hot" : "meter", title: `${(100 * used).toFixed(1)}% used` }, bar);
    return el("tr", { "data-scope": `${b.level}:${b.scope}` },
      el("td", {}, `${b.level} ${b.scope}`), el("td", {}, b.period),
      el("td", { class: "num" }, usd(b.limit_usd)), el("td", { class: "num" }, usd(b.spent_usd)),
      el("td", { class: "num budget-left" }, usd(b.left_usd)), el("td", {}, meter));
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "no budgets configured")));
  fill(document.querySelector("#budgets tbody"), rows);
}

// --- charts ---------------------------------------------------------------------------

function barChart(container, columns, options) {
  // columns: [{label, stacks: [{value, cls, title}]}]; options.line: [values] on a second axis
  const width = 900, height = 180, left = 44, bottom = 18, top = 8;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  const totals = columns.map((c) => c.stacks.reduce((sum, s) => sum + s.value, 0));
  const max = Math.max(...totals, 0) || 1;
  const step = (width - left) / Math.max(columns.length, 1);
  const y = (v) => height - bottom - ((height - bottom - top) * v) / max;
  chart.append(svg("line", { class: "axis", x1: left, x2: width, y1: height - bottom, y2: height - bottom }));
  const maxLabel = svg("text", { x: 2, y: top + 8 });
  maxLabel.textContent = options.format(max);
  chart.append(maxLabel);
  columns.forEach((column, i) => {
    let base = 0;
    for (const stack of column.stacks) {
      if (stack.value <= 0) continue;
      const rect = svg("rect", {
        class: stack.cls, x: left + i * step + 1, width: Math.max(1, step - 2),
        y: y(base + stack.value), height: Math.max(0.5, y(base) - y(base + stack.value)),
      });
      const title = svg("title", {});
      title.textContent = stack.title;
      rect.append(title);
      chart.append(rect);
      base += stack.value;
    }
    if (i % Math.ceil(columns.length / 10) === 0) {
      const label = svg("text", { x: left + i * step, y: height - 4 });
      label.textContent = column.label;
      chart.append(label);
    }
  });
  if (options.line) {
    const peak = Math.max(...options.line.filter((v) => v !== null), 0) || 1;
    const points = options.line
      .map((v, i) => (v === null ? null : `${left + (i + 0.5) * step},${height - bottom - ((height - bottom - top) * v) / peak}`))
      .filter(Boolean);
    if (points.length) chart.append(svg("polyline", { class: "lat", points: points.join(" ") }));
    for (const point of points) {  // a lone minute is a dot, not an invisible line
      const [cx, cy] = point.split(",");
      chart.append(svg("circle", { class: "lat-dot", cx, cy, r: 3 }));
    }
  }
  container.replaceChildren(chart);
}

async function refreshTraffic() {
  const minutes = await get("traffic?minutes=30");
  const columns = minutes.map((m) => ({
    label: m.minute.slice(11, 16),
    stacks: [
      { value: m.requests - m.errors, cls: "bar-ok", title: `${m.minute.slice(11, 16)}: ${m.requests} requests` },
      { value: m.errors, cls: "bar-err", title: `${m.errors} errors` },
    ],
  }));
  barChart(document.getElementById("traffic-chart"), columns, {
    format: (v) => `${v}/min`, line: minutes.map((m) => m.latency_ms_mean),
  });
}

const PALETTE = ["#3b82f6", "#10b981", "#f59e0b", "#8b5cf6", "#ef4444", "#14b8a6", "#ec4899", "#64748b"];

async function refreshSpend() {
  const by = document.getElementById("spend-by").value;
  const days = document.getElementById("spend-days").value;
  const spend = await get(`spend?by=${encodeURIComponent(by)}&days=${encodeURIComponent(days)}`);
  const names = [...new Set(spend.series.map((s) => s.name))];
  const colour = new Map(names.map((n, i) => [n, `spend-${i % PALETTE.length}`]));
  const dayList = [];
  for (let d = new Date(spend.since + "T00:00:00Z"); dayList.length < Number(days); d.setUTCDate(d.getUTCDate() + 1)) {
    dayList.push(d.toISOString().slice(0, 10));
  }
  const columns = dayList.map((day) => ({
    label: day.slice(5),
    stacks: spend.series.filter((s) => s.day === day).map((s) => ({
      value: s.cost_usd, cls: colour.get(s.name), title: `${day} ${s.name}: ${usd(s.cost_usd)}`,
    })),
  }));
  barChart(document.getElementById("spend-chart"), columns, { format: usd });
  document.querySelectorAll("#spend-chart rect").forEach((rect) => {
    const cls = rect.getAttribute("class") || "";
    if (cls.startsWith("spend-")) rect.setAttribute("fill", PALETTE[Number(cls.slice(6))]);
  });
  const key = { model: ["provider", "model"], key: ["virtual_key"], team: ["team"] }[by];
  const rows = spend.totals.map((t) => {
    const name = key.map((k) => t[k] ?? "-").join("/");
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = PALETTE[names.indexOf(name) % PALETTE.length] || "#ccc";
    return el("tr", { "data-name": name, "data-cost": t.cost_usd ?? 0 },
      el("td", {}, swatch, name), el("td", { class: "num" }, int(t.requests)),
      el("td", { class: "num" }, usd(t.cost_usd ?? 0)));
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 3, class: "muted" }, "nothing spent in this span")));
  fill(document.querySelector("#spend-totals tbody"), rows);
}

// --- requests and their trails --------------------------------------------------------

async function refreshRequests() {
  const requests = await get("requests?limit=50");
  const rows = requests.map((r) => {
    const failed = r.http_status !== null && r.http_status >= 400;
    const row = el("tr", { "data-request-id": r.request_id },
      el("td", {}, (r.started_at || "").slice(11, 19)), el("td", { title: r.request_id }, r.request_id),
      el("td", {}, r.virtual_key ?? "–"), el("td", {}, r.model ?? r.model_requested),
      el("td", {}, r.provider ?? "–"),
      el("td", { class: failed ? "num status-err" : "num" }, r.http_status ?? r.status),
      el("td", { class: "num" }, ms(r.latency_ms)),
      el("td", { class: "num" }, int((r.input_tokens || 0) + (r.output_tokens || 0))),
      el("td", { class: "num" }, usd(r.cost_usd)));
    if (r.request_id === state.selected) row.classList.add("selected");
    row.addEventListener("click", () => showTrail(r.request_id).catch(report));
    return row;
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 9, class: "muted" }, "no requests yet")));
  fill(document.querySelector("#requests tbody"), rows);
}

async function showTrail(requestId) {
  state.selected = requestId;
  document.querySelectorAll("#requests tbody tr").forEach((tr) => {
    tr.classList.toggle("selected", tr.dataset.requestId === requestId);
  });
  const trail = await get(`requests/${encodeURIComponent(requestId)}/trail`);
  document.getElementById("trail-id").textContent = trail.request_id;
  const items = trail.events.map((e) => el("li", { "data-kind": e.kind },
    el("span", { class: "kind" }, e.kind), " ",
    el("span", { class: "muted" }, e.payload?.at ? new Date(e.payload.at * 1000).toISOString().slice(11, 23) : ""),
    el("pre", {}, JSON.stringify(e.payload, null, 2))));
  document.getElementById("trail-events").replaceChildren(...items);
  const panel = document.getElementById("trail");
  panel.hidden = false;
  panel.scrollIntoView({ block: "nearest" });
}

async function refreshReplays() {
  const runs = await get("replays");
  const rows = runs.map((run) => el("tr", { "data-run": run.run_id },
    el("td", {}, run.run_id), el("td", {}, run.status),
    el("td", { class: "num" }, `${int(run.replayed)} / ${int(run.requests)}`),
    el("td", { class: "num" }, usd(run.original_cost_usd)), el("td", { class: "num" }, usd(run.replay_cost_usd))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "no replay runs")));
  fill(document.querySelector("#replays tbody"), rows);
}

// --- sign-in and the refresh loop -----------------------------------------------------

function report(error) {
  if (error.signIn) {
    showLogin(error.status === 403 ? error.message : "");
    return;
  }
  document.getElementById("status").textContent = `error: ${error.message}`;
}

function showLogin(message) {
  state.timers.forEach(clearInterval);
  state.timers = [];
  document.getElementById("board").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("status").textContent = "signed out";
}

function every(seconds, refresh) {
  const run = () => refresh().catch(report);
  run();
  state.timers.push(setInterval(run, seconds * 1000));
}

async function start() {
  try {
    await refreshOverview();
  } catch (error) {
    report(error);
    return;
  }
  document.getElementById("login").hidden = true;
  document.getElementById("board").hidden = false;
  document.getElementById("logout").hidden = false;
  every(2, async () => {
    await refreshOverview();
    document.getElementById("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
  });
  every(5, refreshTraffic);
  every(5, refreshRequests);
  every(15, refreshSpend);
  every(30, refreshReplays);
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("login-key");
  const response = await fetch(API + "login", {
    method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json" }, body: JSON.stringify({ key: input.value }),
  });
  input.value = "";
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    document.getElementById("login-error").textContent = body?.error?.message || `HTTP ${response.status}`;
    return;
  }
  start();
});

document.getElementById("logout").addEventListener("click", async () => {
  await fetch(API + "logout", { method: "POST", credentials: "same-origin" });
  showLogin("");
});
document.getElementById("trail-close").addEventListener("click", () => {
  document.getElementById("trail").hidden = true;
  state.selected = null;
});
document.getElementById("spend-by").addEventListener("change", () => refreshSpend().catch(report));
document.getElementById("spend-days").addEventListener("change", () => refreshSpend().catch(report));
start();
