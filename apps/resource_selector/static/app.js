// The Resource Selector page. Every string from the chain (offers), the playbooks and the OCR text is
// untrusted: it is only ever set with textContent on elements built here, never parsed as HTML.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
const state = { page: 1, sort: "price", order: "asc", filters: {}, config: null, offer: null,
                run: null, source: null, startedAt: 0, timer: null, busy: false };
// Moments progress lines reached the page (bench/gui_bench.py reads them): {seq, created, shown} in ms.
window.progressTimes = [];

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = cell instanceof Node ? document.createElement("td") : el("td", cell);
    if (cell instanceof Node) td.appendChild(cell);
    tr.appendChild(td);
  }
  return tr;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  if (opts.body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.headers["X-CSRF-Token"] = csrf;
    opts.body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(path, opts);
  } catch (e) {
    throw new Error("The Resource Selector server does not answer (" + e.message + "); is it still running?");
  }
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) throw new Error(data.error || ("HTTP " + response.status + " for " + path));
  return data;
}

// ---------------------------------------------------------------------------------------------- units

function cpu(millicores) { return (millicores / 1000) + " CPU"; }
function mib(value) { return value >= 1024 ? (value / 1024) + " GiB" : value + " MiB"; }
function ethOf(wei) {
  const w = BigInt(wei), unit = 10n ** 18n;
  let frac = (w % unit).toString().padStart(18, "0").replace(/0+$/, "");
  return (w / unit).toString() + (frac ? "." + frac : "") + " ETH";
}
function duration(seconds) {
  if (seconds <= 0) return "0 min";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
  return (h ? h + " h " : "") + m + " min";
}
function short(address) { return address.slice(0, 8) + "\u2026" + address.slice(-4); }

// --------------------------------------------------------------------------------------------- market

function queryString() {
  const params = new URLSearchParams({ page: state.page, sort: state.sort, order: state.order, per_page: 25 });
  for (const [k, v] of Object.entries(state.filters)) if (v !== "") params.set(k, v);
  return params.toString();
}

function fillSelect(select, values) {
  const keep = select.value;
  while (select.options.length > 1) select.remove(1);
  for (const value of values) select.add(new Option(value, value));
  if (values.includes(keep)) select.value = keep;
}

async function loadOffers() {
  let data;
  try {
    data = await api("/api/offers?" + queryString());
  } catch (e) { showError(e.message); return; }
  showError("");
  fillSelect($("f-region"), data.facets.regions || []);
  fillSelect($("f-device-kind"), data.facets.device_kinds || []);
  if (state.filters.region) $("f-region").value = state.filters.region;
  if (state.filters.device_kind) $("f-device-kind").value = state.filters.device_kind;
  const body = $("offers").tBodies[0];
  body.replaceChildren();
  for (const o of data.offers) {
    const reserve = el("button", "Reserve", "reserve");
    reserve.type = "button";
    reserve.addEventListener("click", () => openReserve(o));
    // the seller's registered name next to its address: names are not unique, addresses are
    const seller = el("span", (o.seller_name ? o.seller_name + " " : "") + short(o.seller), "seller");
    seller.title = o.seller;
    const tr = row([o.id, seller, o.region, o.location, o.tier, cpu(o.cpu_millicores),
                    mib(o.memory_mib), o.storage_gib + " GiB",
                    o.devices.map((d) => d.id + " (" + d.kind + ")").join(", "), o.price_eth,
                    o.meets.join(", "), reserve]);
    tr.dataset.offerId = o.id;
    if (o.meets.length) tr.classList.add("meets");
    body.appendChild(tr);
  }
  $("page-info").textContent = "page " + data.page + " of " + data.pages;
  $("market-info").textContent = data.total + " open offer(s) match, sorted by " + data.sort + " (" + data.order +
    "); highlighted rows meet a requirement the buyer's own regions cannot.";
  $("prev").disabled = data.page <= 1;
  $("next").disabled = data.page >= data.pages;
  state.page = data.page;
  document.querySelectorAll("th button").forEach((b) => b.classList.toggle("sorted", b.dataset.sort === state.sort));
}

function readFilters() {
  state.filters = {
    region: $("f-region").value, device: $("f-device").value.trim(), device_kind: $("f-device-kind").value,
    min_cpu: $("f-min-cpu").value.trim(), min_memory: $("f-min-memory").value.trim(),
    max_price: $("f-max-price").value.trim(),
  };
}

function setFilters(filters) {
  $("f-region").value = "";
  for (const select of [$("f-region"), $("f-device-kind")]) {
    const name = select.name;
    if (filters[name] && ![...select.options].some((o) => o.value === filters[name])) {
      select.add(new Option(filters[name], filters[name]));
    }
  }
  $("f-region").value = filters.region || "";
  $("f-device").value = filters.device || "";
  $("f-device-kind").value = filters.device_kind || "";
  $("f-min-cpu").value = filters.min_cpu_millicores || "";
  $("f-min-memory").value = filters.min_memory_mib || "";
  $("f-max-price").value = filters.max_price_per_hour || "";
  readFilters();
  state.page = 1;
  loadOffers();
}

// ---------------------------------------------------------------------------------------- application

async function loadApp() {
  let data;
  try { data = await api("/api/app"); } catch (e) { showError(e.message); return; }
  $("app-name").textContent = data.app;
  const body = $("placement").tBodies[0];
  body.replaceChildren();
  for (const p of data.placement) {
    body.appendChild(row([p.microservice, p.host + (p.rented ? " (rented)" : ""), p.region, p.provider, p.tier]));
  }
  const list = $("unmet");
  list.replaceChildren();
  if (!data.unmet.length) list.appendChild(el("li", "Nothing: every microservice is placed."));
  for (const u of data.unmet) {
    const item = el("li");
    item.appendChild(el("strong", u.microservice + ": "));
    item.appendChild(el("span", u.reason + " "));
    const show = el("button", "Show the " + u.matching_offers + " matching offer(s)", "show-matching");
    show.type = "button";
    show.addEventListener("click", () => setFilters(u.offer_filters));
    item.appendChild(show);
    list.appendChild(item);
  }
}

// ------------------------------------------------------------------------------------ reserve & federate

function openReserve(offer) {
  state.offer = offer;
  $("reserve").hidden = false;
  $("reserve-offer").textContent = "Offer " + offer.id + ": " + offer.node_id + " in " + offer.region + " (" +
    cpu(offer.cpu_millicores) + ", " + mib(offer.memory_mib) + ", devices " +
    (offer.devices.map((d) => d.id).join(", ") || "none") + ") at " + offer.price_eth + " per hour.";
  const hours = $("hours");
  hours.min = offer.min_hours;
  hours.max = offer.max_hours;
  hours.value = Math.max(offer.min_hours, Math.min(offer.max_hours, Number(hours.value) || 1));
  $("hours-range").textContent = offer.min_hours + " to " + offer.max_hours + " hours";
  updateEscrow();
  $("confirm").disabled = state.busy;
  $("reserve").scrollIntoView();
}

function updateEscrow() {
  const hours = $("hours").value;
  if (!state.offer || !/^\d+$/.test(hours)) { $("escrow").textContent = "-"; return; }
  $("escrow").textContent = ethOf(BigInt(state.offer.price_per_hour) * BigInt(hours)) + " for " + hours + " h";
}

async function confirmReserve() {
  if (state.busy) return;  // the server refuses a second run anyway (HTTP 409)
  state.busy = true;
  $("confirm").disabled = true;
  try {
    const data = await api("/api/federate", { body: { offer_id: state.offer.id, hours: $("hours").value } });
    $("reserve").hidden = true;
    follow(data.run);
  } catch (e) {
    showError(e.message);
    state.busy = false;
    $("confirm").disabled = false;
  }
}

// ------------------------------------------------------------------------------------------- progress

function drawSteps(kind) {
  const list = $("steps");
  list.replaceChildren();
  const ids = kind === "release" ? ["release"] : ["publish", "compose", "check", "reserve", "provision", "deploy"];
  for (const s of state.config.steps.filter((s) => ids.includes(s.id))) {
    const item = el("li", s.label);
    item.dataset.step = s.id;
    list.appendChild(item);
  }
  if (kind !== "release") markStep("check");  // published offer and app descriptor are the starting point
}

function markStep(step, failed) {
  let seen = false;
  const items = [...$("steps").children];
  if (!items.some((i) => i.dataset.step === step)) return;
  for (const item of items) {
    item.className = "";
    if (item.dataset.step === step) { item.className = failed ? "failed" : "current"; seen = true; }
    else if (!seen) item.className = "done";
  }
}

function follow(run) {
  state.run = run;
  state.busy = true;
  $("progress").hidden = false;
  $("done").hidden = true;
  $("run-error").hidden = true;
  $("run-notice").hidden = true;
  $("log").replaceChildren();
  $("answers").replaceChildren();
  stopWaiting();
  $("run-summary").textContent = "Run " + run.id + ": " + run.summary;
  $("run-status").textContent = "running";
  drawSteps(run.kind);
  state.startedAt = Date.now() - (run.elapsed || 0) * 1000;
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    $("elapsed").textContent = Math.round((Date.now() - state.startedAt) / 1000) + " s";
  }, 500);
  if (state.source) state.source.close();
  const source = new EventSource("/api/runs/" + run.id + "/events");
  state.source = source;
  source.addEventListener("progress", (event) => progress(JSON.parse(event.data)));
  source.addEventListener("end", (event) => {
    source.close();  // or the browser reconnects and replays the stream
    finished(run, JSON.parse(event.data));
  });
  $("progress").scrollIntoView();
}

// The buyer waits for the seller's own agent to answer on chain: say whom, and for how long.
function startWaiting(e) {
  stopWaiting();
  state.waitingTask = e.task;
  $("waiting-for").textContent = state.run.seller || "the seller";
  const since = Date.now();
  const tick = () => { $("waiting-elapsed").textContent = Math.round((Date.now() - since) / 1000) + " s"; };
  tick();
  state.waitTimer = setInterval(tick, 250);
  $("waiting").hidden = false;
}

function stopWaiting() {
  clearInterval(state.waitTimer);
  $("waiting").hidden = true;
}

function showAnswers(answers) {
  for (const a of answers) {
    const who = state.run.seller || "the seller";
    let text = "Reservation " + a.reservation_id + " (" + a.node_id + "): " + a.state + " by " + who;
    if (a.waited !== null && a.waited !== undefined) text += " after " + a.waited + " s";
    if (a.reason) text += " \u2014 reason: " + a.reason;
    $("answers").appendChild(el("li", text, a.state));
  }
}

function progress(e) {
  if (e.step) markStep(e.step);
  if (e.type === "waiting") { startWaiting(e); return; }
  if (e.type === "task" && e.task === state.waitingTask) stopWaiting();
  if (e.answers) showAnswers(e.answers);
  let text;
  if (e.type === "play") text = "PLAY " + e.play + " (" + e.playbook + ")";
  else if (e.type === "task") text = e.status + ": " + e.task + " [" + e.host + "]" + (e.msg ? " - " + e.msg : "") +
    (e.notice ? " - " + e.notice : "");
  else if (e.type === "stats") text = e.playbook + ": " + e.counts.ok + " ok, " + e.counts.changed + " changed, " +
    e.counts.failures + " failed, " + e.counts.dark + " unreachable";
  else return;
  const line = el("li", "[" + e.elapsed.toFixed(1) + " s] " + text, e.status || e.type);
  line.dataset.seq = e.seq;
  $("log").appendChild(line);
  $("log").scrollTop = $("log").scrollHeight;
  if (e.created) {
    requestAnimationFrame(() => window.progressTimes.push({ seq: e.seq, created: e.created * 1000,
                                                           shown: performance.timeOrigin + performance.now() }));
  }
}

async function finished(run, end) {
  clearInterval(state.timer);
  stopWaiting();
  state.busy = false;
  $("confirm").disabled = false;
  $("run-status").textContent = end.status;
  $("elapsed").textContent = end.elapsed.toFixed(1) + " s";
  if (end.status === "successful") {
    for (const item of $("steps").children) item.className = "done";
    if (end.notices && end.notices.length) {  // e.g. released on chain, a node's clean-up still pending
      $("run-notice").textContent = end.notices.join(" ");
      $("run-notice").hidden = false;
    }
    if (run.kind === "federate") {
      const link = $("webserver-link");
      link.href = location.protocol + "//" + location.hostname + ":" + state.config.webserver_port + "/";
      link.textContent = "Open the Webserver (" + link.href + ")";
      $("done").hidden = false;
      loadRentedTexts();
    }
  } else {
    const current = [...$("steps").children].find((i) => i.className === "current");
    if (current) markStep(current.dataset.step, true);
    $("run-error").textContent = end.error;
    $("run-error").hidden = false;
  }
  loadOffers(); loadApp(); loadReservations();
}

async function loadRentedTexts() {
  const list = $("rented-texts");
  for (let attempt = 0; attempt < 30; attempt++) {  // bounded: the new Processor needs a few seconds
    try {
      const data = await api("/api/rented_texts");
      if (data.texts.length) {
        list.replaceChildren(...data.texts.map((t) => el("li", t.camera + ": " + t.text, "rented-text")));
        return;
      }
      list.replaceChildren(el("li", "waiting for the first text from " + data.cameras.join(", ") + "..."));
    } catch (e) {
      list.replaceChildren(el("li", e.message));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

// ------------------------------------------------------------------------------------------ reservations

async function loadReservations() {
  let data;
  try { data = await api("/api/reservations"); } catch (e) { showError(e.message); return; }
  const body = $("reservation-table").tBodies[0];
  body.replaceChildren();
  for (const r of data.reservations) {
    let action = el("span", "");
    if (r.releasable) {
      action = el("button", "Release", "release");
      action.type = "button";
      action.addEventListener("click", () => release(r, action));
    }
    const tr = row([r.id, r.offer_id, r.node_id, r.region, r.state, r.hours,
                    r.state === "accepted" || r.state === "requested" ? duration(r.time_left_s) : "-",
                    r.escrow_eth, r.cost_so_far_eth, action]);
    tr.dataset.reservationId = r.id;
    body.appendChild(tr);
  }
  if (!data.reservations.length) body.appendChild(row(["none yet"]));
}

async function release(reservation, button) {
  if (state.busy) return;
  state.busy = true;
  button.disabled = true;
  try {
    const data = await api("/api/release", { body: { reservation_id: reservation.id } });
    follow(data.run);
  } catch (e) {
    showError(e.message);
    state.busy = false;
    button.disabled = false;
  }
}

// ------------------------------------------------------------------------------------------------ start

async function start() {
  try {
    state.config = await api("/api/config");
  } catch (e) { showError(e.message); return; }
  $("who").textContent = "Buyer " + state.config.buyer + " on chain " + state.config.chain_id + ", REB " +
    state.config.contract + ", app " + state.config.app;
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); readFilters(); state.page = 1;
                                                       loadOffers(); });
  $("clear").addEventListener("click", () => setFilters({}));
  $("prev").addEventListener("click", () => { state.page -= 1; loadOffers(); });
  $("next").addEventListener("click", () => { state.page += 1; loadOffers(); });
  document.querySelectorAll("th button").forEach((b) => b.addEventListener("click", () => {
    state.order = state.sort === b.dataset.sort && state.order === "asc" ? "desc" : "asc";
    state.sort = b.dataset.sort;
    loadOffers();
  }));
  $("hours").addEventListener("input", updateEscrow);
  $("confirm").addEventListener("click", confirmReserve);
  $("cancel-reserve").addEventListener("click", () => { $("reserve").hidden = true; });
  $("refresh-texts").addEventListener("click", loadRentedTexts);
  await loadOffers();
  loadApp();
  loadReservations();
  try {
    const runs = await api("/api/runs");  // a reloaded page follows the run that is going
    if (runs.current && runs.current.status === "running") follow(runs.current);
  } catch (e) { showError(e.message); }
}

start();
