// The presenter's page: polls live.json every 2 s and fills the page in. No library, no CDN.
"use strict";
const PALETTE = ["#3ddc84", "#2ec4b6", "#ffb020", "#ff7a30", "#ff4d5e", "#c77dff"];
const $ = (id) => document.getElementById(id);
const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(x < 0.1 ? 1 : 0) + " %");
const num = (x, d = 0) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));

function set(id, text, cls, value) {
  const el = $(id);
  el.textContent = text;
  if (cls !== undefined) el.className = el.className.replace(/\b(good|warn|bad|muted)\b/g, "").trim() + " " + cls;
  if (value !== undefined) el.dataset.value = value === null ? "" : String(value);
}

function lastComplete(status) {
  const done = status.minutes.filter((m) => m.complete);
  return done.length ? done[done.length - 1] : null;
}

function drawTimeline(data) {
  const tl = data.timeline, st = data.status, total = data.scenario.duration_minutes;
  const bar = $("bar"), ticks = $("ticks");
  bar.replaceChildren(); ticks.replaceChildren();
  tl.phases.forEach((p, i) => {
    const seg = document.createElement("div");
    seg.className = "seg";
    seg.style.width = (100 * (p.endMinute - p.startMinute)) / total + "%";
    seg.style.background = PALETTE[i % PALETTE.length];
    seg.style.opacity = st.minute !== null && st.minute >= p.endMinute ? "0.45" : "1";
    seg.textContent = p.name.replace(/_/g, " ");
    bar.appendChild(seg);
  });
  if (st.minute !== null) {
    const now = document.createElement("div");
    now.className = "now";
    const frac = Math.min(1, (data.server_time - st.start_timestamp) / (st.minute_seconds * total));
    now.style.left = `calc(${100 * Math.max(0, frac)}% - 2px)`;
    bar.appendChild(now);
  }
  tl.events.forEach((e) => {
    const tick = document.createElement("span");
    tick.style.left = (100 * e.minute) / total + "%";
    tick.className = e.minute === tl.alert.minute ? "alert" : "";
    tick.textContent = "▲" + e.minute;
    tick.title = e.what;
    ticks.appendChild(tick);
  });
}

function upcoming(data) {
  const m = data.status.minute === null ? -1 : data.status.minute;
  const tl = data.timeline;
  const items = tl.phases.filter((p) => p.startMinute > m)
    .map((p) => ({ minute: p.startMinute, what: `phase ${p.name.replace(/_/g, " ")}: ${p.description}` }))
    .concat(tl.events.filter((e) => e.minute > m).map((e) => ({ minute: e.minute, what: e.what })));
  items.sort((a, b) => a.minute - b.minute);
  return items[0] ? { ...items[0], in: items[0].minute - Math.max(m, 0) } : null;
}

function drawChart(status) {
  const svg = $("chart"), w = 600, h = 160, total = status.duration_minutes || 30;
  const rows = status.minutes, peak = Math.max(1, ...rows.map((r) => Math.max(r.achieved_rpm, r.target_rpm)));
  const ns = "http://www.w3.org/2000/svg", bw = w / total;
  svg.replaceChildren();
  const y = (v) => h - (h - 8) * (v / peak);
  rows.forEach((r) => {
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", r.minute * bw + 1); rect.setAttribute("width", bw - 2);
    rect.setAttribute("y", y(r.achieved_rpm)); rect.setAttribute("height", h - y(r.achieved_rpm));
    rect.setAttribute("fill", r.error_rate > 0.2 ? "#ff4d5e" : r.error_rate > 0.05 ? "#ffb020" : "#4da3ff");
    rect.setAttribute("opacity", r.complete ? "1" : "0.5");
    svg.appendChild(rect);
  });
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", rows.map((r) => `${r.minute * bw},${y(r.target_rpm)} ${(r.minute + 1) * bw},${y(r.target_rpm)}`).join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", "#f2f4f8"); line.setAttribute("stroke-width", "3");
  svg.appendChild(line);
}

function drawPools(pools) {
  const body = $("pools").tBodies[0];
  body.replaceChildren(...pools.map((p) => {
    const tr = document.createElement("tr");
    const cells = p.state === "ok"
      ? [p.service, `${num(p.size - p.available)} / ${num(p.max)}`, num(p.waiting), num(p.timeouts)]
      : [p.service, p.state, "", ""];
    cells.forEach((c, i) => {
      const td = document.createElement("td"); td.textContent = c;
      if (i === 2 && p.waiting > 0) td.className = "bad";
      if (p.state !== "ok" && i === 1) td.className = "muted";
      tr.appendChild(td);
    });
    return tr;
  }));
}

function render(data) {
  const st = data.status, sc = data.scenario, rule = sc.alert, last = lastComplete(st);
  set("scenario", sc.name); set("description", sc.description);
  set("minute", st.minute === null ? "–" : String(st.minute), undefined, st.minute);
  set("duration", ` / ${st.duration_minutes || sc.duration_minutes}`);
  set("phase", st.phase.replace(/_/g, " "), undefined, st.phase);
  const phase = data.timeline.phases.find((p) => p.name === st.phase);
  set("phase-text", phase ? phase.description : "");
  const next = upcoming(data);
  $("next").innerHTML = "";
  if (next) {
    const b = document.createElement("b");
    b.textContent = next.in <= 0 ? "now" : `in ${next.in} min`;
    $("next").append("Next, ", b, ` (minute ${next.minute}): ${next.what}`);
  }
  drawTimeline(data);
  set("achieved-rpm", num(st.achieved_rpm));
  set("target-rpm", num(st.target_rpm), undefined, st.target_rpm);
  const p95 = last ? last.catalog_p95_ms : null;
  set("catalog-p95", p95 === null ? "–" : `${(p95 / 1000).toFixed(2)} s`, p95 > rule.catalog_p95_ms_gt ? "bad" : "good");
  set("catalog-threshold", `alert above ${(rule.catalog_p95_ms_gt / 1000).toFixed(1)} s`);
  const cf = last && last.checkout_attempts ? last.checkout_failures / last.checkout_attempts : null;
  set("checkout-failures", pct(cf), cf > rule.checkout_error_rate_gt ? "bad" : cf > 0.05 ? "warn" : "good");
  set("checkout-total", `${st.checkout_failures} of ${st.checkout_attempts} in the run`);
  set("error-rate", pct(last ? last.error_rate : null), last && last.error_rate > 0.05 ? "bad" : "good");
  set("error-total", `${pct(st.error_rate)} of ${st.requests} requests in the run`);
  const ours = st.alert.fired ? `FIRED · min ${st.alert.first_minute}` : "not fired";
  set("alert-ours", ours, st.alert.fired ? "bad" : "good");
  const a = data.timeline.alert;
  set("alert-expected", `expected minute ${a.minute} (${a.earliest}–${a.latest})`);
  const prom = data.prometheus.state;
  set("alert-prometheus", prom, prom === "firing" ? "bad" : prom === "pending" ? "warn" : prom === "inactive" ? "good" : "muted");
  set("alert-name", data.prometheus.alert);
  drawChart(st); drawPools(data.pools);
  set("updated", `updated ${new Date().toLocaleTimeString()} · ${st.running ? "demo running" : "no demo running"} · ${st.minute_seconds || 60} s per demo minute`, "muted");
}

async function poll() {
  try {
    const response = await fetch("live.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (err) {
    set("updated", `cannot reach the load generator (${err.message}); retrying`, "bad");
  }
}
poll();
setInterval(poll, 2000);
