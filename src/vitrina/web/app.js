// Vitrina web page. No framework, no build step, no CDN.
// Every piece of product text is set with textContent: names come from stores and may
// contain HTML or script, which must show as text and never run.
"use strict";

const $ = (sel) => document.querySelector(sel);
const PAGE = 12; // results per page: four rows of three cards on a laptop
const TOKEN_KEY = "vitrina.adminToken";
let searchOffset = 0;
let lastSearchHash = "#/"; // where "← к результатам" goes back to
let opsTimer = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (options.admin) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers["Authorization"] = "Bearer " + token;
  }
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET", headers,
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const err = (body && body.error) || {};
    const text = (err.message || "HTTP " + response.status) + (err.hint ? " — " + err.hint : "");
    throw new Error(text);
  }
  return body;
}

const money = (p) => p && typeof p.amount === "number"
  ? p.amount.toLocaleString("ru-RU", { minimumFractionDigits: 2 }) + " " + (p.currency || "") : "—";

function stockNode(product) {
  const available = product.stock ? product.stock.available : 0;
  return available > 0
    ? el("span", { class: "stock-yes", text: "в наличии: " + available })
    : el("span", { class: "stock-no", text: "нет в наличии" });
}

function productCard(product, extra) {
  const link = el("a", { class: "name", href: "#/product/" + encodeURIComponent(product.product_id),
                         "data-testid": "product-link", text: product.name || "?" });
  const card = el("li", { class: "card", "data-product-id": product.product_id },
    link,
    el("span", { class: "price", text: money(product.price) }),
    el("span", { class: "muted", text: [product.category, product.brand].filter(Boolean).join(" · ") }),
    stockNode(product));
  if (extra) card.append(el("span", { class: "muted", text: extra }));
  return card;
}

// -- search --------------------------------------------------------------------------------
// The search's state lives in the address (#/?q=…&category=…&offset=12), so a search can be
// bookmarked, shared and reloaded, and Back/Forward step through searches and pages.
const FILTER_FIELDS = ["category", "brand", "price_min", "price_max"];

function searchState() {
  const state = new URLSearchParams();
  const q = $("#q").value.trim();
  if (q) state.set("q", q);
  for (const id of FILTER_FIELDS) {
    const v = $("#" + id).value.trim();
    if (v) state.set(id, v);
  }
  if ($("#in_stock").checked) state.set("in_stock", "true");
  if ($("#sort").value !== "relevance") state.set("sort", $("#sort").value);
  if (searchOffset > 0) state.set("offset", String(searchOffset));
  return state;
}

function applySearchState(state) {
  $("#q").value = state.get("q") || "";
  for (const id of FILTER_FIELDS) $("#" + id).value = state.get(id) || "";
  $("#in_stock").checked = state.get("in_stock") === "true";
  const sort = state.get("sort");
  $("#sort").value = [...$("#sort").options].some((o) => o.value === sort) ? sort : "relevance";
  const offset = Number.parseInt(state.get("offset") || "0", 10);
  searchOffset = Number.isFinite(offset) && offset > 0 ? offset - (offset % PAGE) : 0;
}

function goSearch() {
  const state = searchState().toString();
  const hash = "#/" + (state ? "?" + state : "");
  if (location.hash === hash) runSearch(); // the same search again: no hashchange
  else location.hash = hash; // route() runs it
}

function searchParams() {
  const params = new URLSearchParams();
  params.set("q", $("#q").value);
  for (const id of FILTER_FIELDS) {
    const v = $("#" + id).value.trim();
    if (v) params.set(id, v);
  }
  if ($("#in_stock").checked) params.set("in_stock", "true");
  params.set("sort", $("#sort").value);
  params.set("limit", String(PAGE));
  params.set("offset", String(searchOffset));
  params.set("user", sessionStorage.getItem("vitrina.user") || "web");
  return params;
}

let searchSeq = 0; // a slower answer to an older search must not replace a newer one's

async function runSearch() {
  showError("");
  const seq = ++searchSeq;
  const q = $("#q").value;
  const state = searchState().toString(); // as the address bar has it (#/?…)
  try {
    const body = await api("/api/v1/search?" + searchParams().toString());
    if (seq !== searchSeq) return;
    const list = $("#results");
    list.replaceChildren(...body.items.map((p) => productCard(p)));
    list.dataset.q = q; // which search the list shows (the browser tests wait on it)
    list.dataset.search = state; // and with which filters, sort and page
    $("#summary").textContent = body.total
      ? `Найдено: ${body.total} · показаны ${body.offset + 1}–${body.offset + body.items.length} · ${body.latency_ms.toFixed(1)} мс`
      : "Ничего не найдено";
    $("#understood").textContent = body.refined
      ? `По запросу «${q}» ничего не нашлось. Показаны результаты по запросу «${body.refined.query}» — так его искали другие покупатели.`
      : understoodText(body.understood);
    $("#prev").disabled = body.offset === 0;
    $("#next").disabled = body.offset + body.items.length >= body.total;
  } catch (e) { if (seq === searchSeq) showError(e.message); }
}

// How the API read the query: a price, «в наличии», a price order said in words.
function understoodText(u) {
  if (!u) return "";
  const rub = (v) => Math.round(v).toLocaleString("ru-RU") + " ₽";
  const parts = [`«${u.q}»`];
  if (u.price_min != null && u.price_max != null) parts.push(`${rub(u.price_min)} – ${rub(u.price_max)}`);
  else if (u.price_min != null) parts.push(`от ${rub(u.price_min)}`);
  else if (u.price_max != null) parts.push(`до ${rub(u.price_max)}`);
  if (u.in_stock) parts.push("в наличии");
  if (u.sort === "price_asc") parts.push("сначала дешёвые");
  if (u.sort === "price_desc") parts.push("сначала дорогие");
  return "Понято: " + parts.join(" · ");
}

// -- suggest as you type -----------------------------------------------------------------------
// The page's own list (a listbox under the box), not a <datalist>: a browser shows only the
// datalist options that contain the typed text, so the names search understood (мышку →
// «Мышь …», айф → «… iPhone …») were fetched and never shown.
const SUGGEST_DELAY_MS = 120; // one request per pause in typing, not per keystroke
let suggestTimer = null;
let suggestSeq = 0;
let suggestActive = -1; // the option chosen with the arrow keys; -1: none

function scheduleSuggest() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(async () => {
    const q = $("#q").value.trim();
    const seq = ++suggestSeq;
    if (!q) { showSuggestions([]); return; }
    try {
      const body = await api("/api/v1/suggest?" + new URLSearchParams({ q, limit: "8" }));
      if (seq !== suggestSeq) return; // a newer keystroke (or a search) came since
      showSuggestions(body.suggestions.map((s) => s.name));
    } catch (_) { /* suggestions are optional: typing and searching still work */ }
  }, SUGGEST_DELAY_MS);
}

function showSuggestions(names) {
  const list = $("#suggestions");
  suggestActive = -1;
  list.replaceChildren(...names.map((name, i) => {
    const item = el("li", { id: "suggestion-" + i, role: "option", text: name }); // text, never markup
    item.setAttribute("aria-selected", "false");
    // mousedown, not click: the box's blur (which closes the list) comes before a click
    item.addEventListener("mousedown", (e) => { e.preventDefault(); pickSuggestion(name); });
    return item;
  }));
  list.hidden = names.length === 0;
  $("#q").setAttribute("aria-expanded", String(!list.hidden));
  $("#q").removeAttribute("aria-activedescendant");
}

function closeSuggestions() {
  clearTimeout(suggestTimer);
  suggestSeq++; // an answer still on its way is not shown
  showSuggestions([]);
}

function pickSuggestion(name) {
  $("#q").value = name;
  closeSuggestions();
  searchOffset = 0;
  goSearch();
}

function onSuggestKey(e) {
  const items = [...$("#suggestions").children];
  if (e.key === "Escape") { closeSuggestions(); return; }
  if (!items.length) return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    // the keys choose from the list shown: an answer still on its way would replace it, and
    // the choice with it (seen on a loaded machine: Enter then searched nothing new)
    clearTimeout(suggestTimer);
    suggestSeq++;
    const step = e.key === "ArrowDown" ? 1 : -1;
    suggestActive = Math.min(items.length - 1, Math.max(-1, suggestActive + step));
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === suggestActive)));
    if (suggestActive < 0) $("#q").removeAttribute("aria-activedescendant");
    else {
      $("#q").setAttribute("aria-activedescendant", items[suggestActive].id);
      items[suggestActive].scrollIntoView({ block: "nearest" });
    }
  } else if (e.key === "Enter" && suggestActive >= 0) {
    e.preventDefault();
    pickSuggestion(items[suggestActive].textContent);
  }
}

// -- product page ----------------------------------------------------------------------------
async function showNeighbours(id) {
  const box = $("#neighbours");
  box.replaceChildren();
  try {
    const body = await api("/api/v1/products/" + encodeURIComponent(id) + "/similar?limit=6");
    const panels = [["similar", "Похожие товары"], ["also_bought", "С этим товаром покупают"]]
      .filter(([kind]) => body[kind].length)
      .map(([kind, title]) => el("div", { class: "panel", "data-testid": kind },
        el("h2", { text: title }), el("ul", { class: "cards" }, ...body[kind].map((p) => productCard(p)))));
    box.replaceChildren(...panels);
  } catch (_) { /* no analytics run yet: the product page stands alone */ }
}

async function showProduct(id) {
  showError("");
  const box = $("#product");
  box.replaceChildren(el("p", { class: "muted", text: "Загрузка…" }));
  try {
    const p = await api("/api/v1/products/" + encodeURIComponent(id));
    const specs = el("dl");
    const rows = [["ID", p.product_id], ["Цена", money(p.price)], ["Категория", p.category],
      ["Бренд", p.brand], ["Артикул", p.sku], ["Магазин", p.store_id],
      ["Наличие", p.stock ? `${p.stock.available} (в резерве ${p.stock.reserved})` : "—"]];
    for (const [k, v] of Object.entries(p.specifications || {})) rows.push([k, v]);
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === "") continue;
      specs.append(el("dt", { text: k }), el("dd", { text: String(v) }));
    }
    box.replaceChildren(el("h1", { id: "product-name", text: p.name }),
      el("p", { text: p.description || "" }), specs);
    if (p.tags && p.tags.length) box.append(el("p", { class: "muted", text: "#" + p.tags.join(" #") }));
    showNeighbours(p.product_id);
    api("/api/v1/events", { method: "POST", body: {
      user_id: sessionStorage.getItem("vitrina.user") || "web", type: "view",
      product_id: p.product_id } }).catch(() => {}); // a lost view event must not break the page
  } catch (e) { box.replaceChildren(); showError(e.message); }
}

// -- recommendations -------------------------------------------------------------------------
const SOURCES = { personal: "персональные", popular: "популярное (новый покупатель)",
  "top-in-stock": "топ товаров в наличии", none: "пока нечего рекомендовать" };

async function showRecs(user) {
  showError("");
  sessionStorage.setItem("vitrina.user", user);
  try {
    // "." escaped too: a customer id of "." or ".." would be resolved away as a dot segment
    const body = await api("/api/v1/recommendations/" + encodeURIComponent(user).replace(/\./g, "%2E"));
    $("#recs-summary").textContent = `Для ${body.user_id}: ${SOURCES[body.source] || body.source}` +
      (body.model ? ` · модель ${body.model}` : "") +
      (body.source === "personal" && body.model === "popularity"
        ? " (персональная модель не обошла популярность на этих заказах)" : "");
    $("#recs").replaceChildren(...body.items.filter((i) => i.product)
      .map((i) => productCard(i.product, i.reason)));
  } catch (e) { showError(e.message); }
}

// -- category charts (inline SVG) --------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function barChart(title, rows, value, format) {
  const rowH = 22, labelW = 140, width = 480; // px in the viewBox; the SVG scales to its box
  const max = Math.max(1, ...rows.map(value));
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${rows.length * rowH + 4}`, role: "img",
                             "aria-label": title });
  rows.forEach((row, i) => {
    const y = i * rowH + 2, w = ((width - labelW - 70) * value(row)) / max;
    const label = svgEl("text", { x: 0, y: y + 14 }); label.textContent = row.category.slice(0, 22);
    const bar = svgEl("rect", { x: labelW, y, width: Math.max(1, w), height: rowH - 6, class: "bar" });
    const num = svgEl("text", { x: labelW + w + 4, y: y + 14 }); num.textContent = format(value(row));
    svg.append(label, bar, num);
  });
  return el("div", { class: "chart" }, el("h3", { text: title }), svg);
}

async function showStats() {
  showError("");
  try {
    const body = await api("/api/v1/analytics/categories");
    const rows = body.categories;
    $("#stats-summary").textContent = rows.length
      ? `Категорий: ${rows.length} · посчитано ${rows[0].computed_at}`
      : "Статистики пока нет: её считает задача аналитики (vitrina run analytics).";
    const n = (v) => Math.round(v).toLocaleString("ru-RU");
    $("#charts").replaceChildren(...(rows.length ? [
      barChart("Выручка, ₽", rows, (r) => r.revenue, n),
      barChart("Заказы", rows, (r) => r.orders, n),
      barChart("Товаров", rows, (r) => r.products, n),
      barChart("Средняя цена, ₽", rows, (r) => r.avg_price || 0, n),
    ] : []));
  } catch (e) { showError(e.message); }
}

// -- operator view ---------------------------------------------------------------------------
function tokenState() {
  const has = !!sessionStorage.getItem(TOKEN_KEY);
  $("#token-state").textContent = has ? "токен сохранён на время сессии" : "введите токен";
  return has;
}

async function loadBans() {
  const body = await api("/api/v1/bans", { admin: true });
  $("#bans tbody").replaceChildren(...body.bans.map((b) => {
    const unban = el("button", { type: "button", class: "secondary", "data-unban": b.product_id,
                                 text: "Разблокировать" });
    unban.addEventListener("click", () => opsAction(() =>
      api("/api/v1/bans/" + encodeURIComponent(b.product_id), { method: "DELETE", admin: true })));
    return el("tr", { "data-ban": b.product_id }, el("td", { text: b.product_id }),
      el("td", { text: b.reason }), el("td", { text: b.banned_by }),
      el("td", { text: b.banned_at }), el("td", {}, unban));
  }));
}

async function loadHealth() {
  const body = await api("/api/v1/ops/health", { admin: true });
  $("#health-note").textContent = body.note || "";
  const num = (v) => (v === undefined ? "—" : String(Math.round(v * 100) / 100));
  $("#health tbody").replaceChildren(...body.services.map((s) => el("tr", {},
    el("td", { text: s.service }),
    el("td", { class: s.up ? "up" : "down", text: s.up ? "работает" : "нет ответа" }),
    el("td", { text: num(s.consumed_per_s ?? s.requests_per_s) }),
    el("td", { text: num(s.produced_per_s) }),
    el("td", { text: num(s.dead_lettered) }), el("td", { text: num(s.lag) }))));
}

// Severity → CSS class; anything else is shown as "other" (labels come from rule files).
const SEVERITY = { critical: "sev-critical", warning: "sev-warning", info: "sev-info" };

function alertItem(a, status) {
  const head = el("div", { class: "alert-head" },
    el("span", { class: "sev " + (SEVERITY[a.severity] || "sev-other"), text: a.severity }),
    el("strong", { text: a.name }),
    el("span", { class: "muted", text: [a.service, status].filter(Boolean).join(" · ") }));
  const item = el("li", { class: "alert " + (SEVERITY[a.severity] || "sev-other"),
                          "data-alert": a.name }, head);
  if (a.summary) item.append(el("div", { text: a.summary }));
  if (a.runbook) item.append(el("div", { class: "runbook", text: "Что делать: " + a.runbook }));
  if (a.since || a.starts_at) item.append(el("div", { class: "muted", text: "с " + (a.since || a.starts_at) }));
  return item;
}

async function loadAlerts() {
  const body = await api("/api/v1/ops/alerts", { admin: true });
  $("#alerts-state").textContent = !body.available
    ? "Prometheus не запущен: " + body.hint
    : body.alerts.length ? `Срабатывает: ${body.alerts.length}` : "Активных алертов нет";
  $("#alerts").replaceChildren(...body.alerts.map((a) => alertItem(a, "")));
  // Newest notifications first; ten are enough to see what was paged recently.
  $("#notifications").replaceChildren(...body.notifications.slice(0, 10).flatMap((n) =>
    n.alerts.map((a) => alertItem(a, `${a.status} · получено ${n.received_at}`))));
}

async function loadTopics() {
  const body = await api("/api/v1/ops/topics", { admin: true });
  $("#topics tbody").replaceChildren(...body.topics.map((t) => {
    const browse = el("button", { type: "button", class: "secondary", text: "Последние" });
    browse.addEventListener("click", () => showMessages(t.topic));
    return el("tr", {}, el("td", { text: t.topic + (t.compacted ? " (compact)" : "") }),
      el("td", { text: t.partitions }), el("td", { text: "≈ " + t.messages_approx }), el("td", {}, browse));
  }));
}

async function showMessages(topic) {
  try {
    const body = await api(`/api/v1/ops/topics/${encodeURIComponent(topic)}/messages?limit=20`, { admin: true });
    $("#messages-title").textContent = `${topic}: последние ${body.messages.length}`;
    $("#messages").replaceChildren(...body.messages.map((m) => el("li", {
      text: `p${m.partition}@${m.offset} key=${m.key}\n${JSON.stringify(m.value, null, 1)}` })));
  } catch (e) { showError(e.message); }
}

async function loadDeadLetters() {
  const body = await api("/api/v1/ops/dead-letters?limit=50", { admin: true });
  $("#dlq tbody").replaceChildren(...body.dead_letters.map((d) => el("tr", {},
    el("td", { text: d.headers.failed_at || "" }),
    el("td", { text: `${d.headers.source_topic || "?"} p${d.headers.source_partition ?? "?"}@${d.headers.source_offset ?? "?"}` }),
    el("td", { text: d.headers.service || "" }), el("td", { text: d.reason }),
    el("td", { text: d.key || "" }))));
}

async function refreshOps() {
  if (!tokenState()) return;
  showError("");
  const results = await Promise.allSettled([loadBans(), loadHealth(), loadAlerts(), loadTopics(), loadDeadLetters()]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) showError(failed.reason.message);
}

async function opsAction(action) {
  showError("");
  try { await action(); } catch (e) { showError(e.message); return; }
  // The ban list view folds the topic asynchronously: refresh now and once more shortly.
  await loadBans().catch(() => {});
  setTimeout(() => loadBans().catch(() => {}), 700);
}

// -- routing -----------------------------------------------------------------------------------
function route() {
  const hash = location.hash || "#/";
  const [, name, arg] = hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const view = { "": "search", product: "product", recs: "recs", stats: "stats", ops: "ops" }[name] || "search";
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== "view-" + view; });
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === view));
  clearInterval(opsTimer);
  if (view === "product") {
    $("#view-product .back").setAttribute("href", lastSearchHash);
    let id = null;
    try { id = decodeURIComponent(arg); } catch { /* a broken %-escape: said below */ }
    if (id === null) {
      $("#product").replaceChildren();
      showError("the address names no product: it has a broken %-escape");
    } else showProduct(id);
  }
  else if (view === "stats") showStats();
  else if (view === "ops") { refreshOps(); opsTimer = setInterval(refreshOps, 5000); }
  else if (view === "recs") {
    const user = sessionStorage.getItem("vitrina.user");
    if (user) { $("#recs-user").value = user; showRecs(user); }
  } else if (view === "search") {
    applySearchState(new URLSearchParams(arg.startsWith("?") ? arg.slice(1) : ""));
    lastSearchHash = hash;
    runSearch();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#search-form").addEventListener("submit", (e) => {
    e.preventDefault(); closeSuggestions(); searchOffset = 0; goSearch();
  });
  $("#q").addEventListener("input", scheduleSuggest);
  $("#q").addEventListener("keydown", onSuggestKey);
  $("#q").addEventListener("blur", closeSuggestions);
  $("#prev").addEventListener("click", () => { searchOffset = Math.max(0, searchOffset - PAGE); goSearch(); });
  $("#next").addEventListener("click", () => { searchOffset += PAGE; goSearch(); });
  $("#recs-form").addEventListener("submit", (e) => { e.preventDefault(); showRecs($("#recs-user").value.trim()); });
  $("#token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
    $("#token").value = "";
    refreshOps();
  });
  $("#logout").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); tokenState(); });
  $("#ban-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("#ban-id").value.trim();
    opsAction(() => api("/api/v1/bans/" + encodeURIComponent(id), { method: "POST", admin: true,
      body: { reason: $("#ban-reason").value.trim() } }));
  });
  window.addEventListener("hashchange", route);
  // A link from outside may carry the search as a query string: /?q=велосипед.
  if (location.search && !location.hash) {
    history.replaceState(null, "", location.pathname + "#/" + location.search);
  }
  route();
});
