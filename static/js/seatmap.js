// Evently seat map: holds, cart countdown, live updates, pan/zoom and keyboard for the event page.
// The server draws the first map (templates/events/event_detail.html, events/seatmap.py); this
// script keeps it true. Plain modern JavaScript, no build step.
"use strict";

(() => {
  const dataNode = document.getElementById("seatmap-data");
  const svg = document.getElementById("seatmap");
  if (!dataNode || !svg) return;
  const data = JSON.parse(dataNode.textContent);
  const eventId = data.event_id;

  // Keep in step with events/seatmap.py.
  const STATUS_WORDS = {
    available: "available", mine: "selected by you", held: "held by another buyer",
    sold: "sold", blocked: "not for sale",
  };
  const STATUS_MARKS = {
    available: "", mine: "M-2.4 0.2L-0.7 2L2.6-1.9", held: "M-2.6 0H2.6",
    sold: "M-2.2-2.2L2.2 2.2M2.2-2.2L-2.2 2.2", blocked: "M-2.6 2.6L2.6-2.6",
  };
  const ACCESS_WORDS = { wheelchair: "wheelchair space", companion: "companion seat", restricted_view: "restricted view" };
  const SEAT_PITCH = 10; // map units between neighbouring seats
  const TOUCH_PX = 26; // seat pitch on screen that makes a comfortable touch target

  const el = (id) => document.getElementById(id);
  const ui = {
    error: el("map-error"), live: el("live-state"), tooltip: el("map-tooltip"), back: el("back-overview"),
    cartList: el("cart-list"), cartEmpty: el("cart-empty"), cartTotal: el("cart-total"),
    countdown: el("cart-countdown"), timer: el("cart-timer"), checkout: el("checkout-link"),
    cartMessage: el("cart-message"), seatLayer: el("seat-layer"), available: el("available-count"),
  };

  const state = {
    version: data.version,
    seats: new Map(), // seat id → drawn <g> element
    heldUntil: new Map(), // seat id → ms when another buyer's hold lapses
    cart: new Map(), // seat id → {id, name, categoryName, price}
    expiresAt: data.expires_at ? Date.parse(data.expires_at) : null,
    pending: new Set(),
    pendingBest: new Set(), // seat ids best available just held, waiting for their labels
    openSection: null,
  };
  // Per drawn seat: map position and the accessible name without its status (kept off the DOM to keep the HTML small).
  const seatInfo = new WeakMap();
  const position = (node) => seatInfo.get(node) || { x: Number(node.dataset.x), y: Number(node.dataset.y) };
  const categoryPrice = (node) => (data.categories[node.dataset.cat] || {}).price || "0";

  // --- helpers ---------------------------------------------------------------------------------

  const money = (price) => {
    const value = Number(price);
    const digits = Number.isInteger(value) ? 0 : 2;
    return data.currency + value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  };
  const csrfToken = () => (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1] || "";

  async function request(method, path, body) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = decodeURIComponent(csrfToken());
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let json = {};
    try { json = await response.json(); } catch { /* empty or not JSON */ }
    return { status: response.status, ok: response.ok, body: json };
  }

  function showError(text) {
    ui.error.textContent = text;
    ui.error.classList.toggle("is-visible", Boolean(text));
    clearTimeout(showError.timer);
    if (text) showError.timer = setTimeout(() => showError(""), 8000);
  }

  // --- seats -----------------------------------------------------------------------------------

  function registerSeat(node) {
    if (!seatInfo.has(node)) {
      const [x, y] = node.getAttribute("transform").match(/-?[\d.]+/g).map(Number);
      const suffix = `, ${STATUS_WORDS[node.dataset.status]}`;
      const label = node.getAttribute("aria-label");
      seatInfo.set(node, { x, y, label: label.endsWith(suffix) ? label.slice(0, -suffix.length) : label });
    }
    state.seats.set(Number(node.dataset.id), node);
    if (node.dataset.status === "held" && node.dataset.until) {
      state.heldUntil.set(Number(node.dataset.id), Date.parse(node.dataset.until));
    }
  }

  function setSeatStatus(node, status, until) {
    const id = Number(node.dataset.id);
    node.classList.remove("is-" + node.dataset.status, "is-pending");
    node.dataset.status = status;
    node.classList.add("is-" + status);
    node.setAttribute("aria-pressed", status === "mine" ? "true" : "false");
    if (status === "mine" || status === "available") node.removeAttribute("aria-disabled");
    else node.setAttribute("aria-disabled", "true");
    node.setAttribute("aria-label", `${seatInfo.get(node).label}, ${STATUS_WORDS[status]}`);
    node.querySelector("path").setAttribute("d", STATUS_MARKS[status]);
    if (status === "held" && until) state.heldUntil.set(id, Date.parse(until));
    else state.heldUntil.delete(id);
    if (data.mode === "full") countLater();
  }

  // Full maps know every seat, so the "N of M seats available" line is recounted (once per frame).
  let countFrame = 0;
  function countLater() {
    if (countFrame || !ui.available) return;
    countFrame = requestAnimationFrame(() => {
      countFrame = 0;
      let available = 0;
      for (const node of state.seats.values()) available += node.dataset.status === "available";
      ui.available.textContent = available.toLocaleString("en-US");
    });
  }

  // One change from the server: {seat_id, status, held_until?}. "held" is anybody's hold; ours are in the cart.
  function applyChange(change) {
    const id = change.seat_id;
    let status = change.status;
    // Seats best available just held are ours before the cart has their labels: the broadcast of that
    // very hold may arrive first, and must not paint them as somebody else's.
    if (state.cart.has(id) || state.pendingBest.has(id)) {
      if (status === "held") status = "mine";
      else if (state.cart.has(id)) cartRemove(id); // sold (by our checkout in another tab) or released/expired
    }
    const node = state.seats.get(id);
    if (node && !state.pending.has(id)) setSeatStatus(node, status, change.held_until);
  }

  const escapeHtml = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  // The same markup the server draws (templates/events/event_detail.html), as one string: one parse
  // for a whole section is several times faster than building 1,250 nodes one attribute at a time.
  function seatMarkup(section, row, seat, colours, mine) {
    const status = mine.has(seat.id) ? "mine" : seat.status;
    const access = (seat.accessibility || []).map((flag) => ACCESS_WORDS[flag]).filter(Boolean);
    const name = `${section.name}, row ${row.label}, seat ${seat.number}`;
    const label = [name, money(seat.price), ...access].join(", ");
    const fill = escapeHtml(colours[seat.category] || "#6b7280");
    const shape = (seat.accessibility || []).includes("wheelchair")
      ? `<rect x="-4.5" y="-4.5" width="9" height="9" rx="1.5" fill="${fill}"></rect>`
      : `<circle r="4.5" fill="${fill}"></circle>`;
    const disabled = status === "mine" || status === "available" ? "" : ' aria-disabled="true"';
    const until = seat.held_until ? ` data-until="${escapeHtml(seat.held_until)}"` : "";
    return `<g class="seat is-${status}" data-id="${seat.id}" data-cat="${seat.category}" data-name="${escapeHtml(name)}" `
      + `data-status="${status}"${until} transform="translate(${seat.x} ${seat.y})" role="button" tabindex="-1" `
      + `aria-pressed="${status === "mine"}"${disabled} aria-label="${escapeHtml(`${label}, ${STATUS_WORDS[status]}`)}">`
      + `${shape}<path d="${STATUS_MARKS[status]}"></path></g>`;
  }

  async function seatToggle(node) {
    const id = Number(node.dataset.id);
    if (state.pending.has(id)) return;
    if (!data.is_on_sale) {
      showError("Tickets for this event are not on sale right now.");
      return;
    }
    const status = node.dataset.status;
    if (status === "mine") return seatRelease(node, id);
    if (status !== "available") {
      showError(`${node.dataset.name} is ${STATUS_WORDS[status]}. Please choose another seat.`);
      return;
    }
    if (state.cart.size >= data.max_seats) {
      showError(`You can hold at most ${data.max_seats} seats at a time.`);
      return;
    }
    if (!accessConfirm(node)) return;
    state.pending.add(id);
    node.classList.add("is-pending");
    let result;
    try {
      result = await request("POST", "/api/seats/hold", { event_id: eventId, seat_ids: [id] });
    } catch {
      result = { ok: false, status: 0, body: { message: "Network problem: the seat was not held. Please try again." } };
    }
    state.pending.delete(id);
    node.classList.remove("is-pending");
    if (result.ok) {
      showError("");
      state.expiresAt = Date.parse(result.body.expires_at);
      const category = data.categories[node.dataset.cat] || {};
      cartAdd({ id, name: node.dataset.name, categoryName: category.name || "", price: heldPrice(result.body, id, node) });
      setSeatStatus(node, "mine");
      tick();
      pricesCheckAfterHold(result.body, node);
      accessOfferCompanion(node);
    } else if (result.status === 409) {
      setSeatStatus(node, "held");
      showError(`Sorry, ${node.dataset.name} was just taken by someone else.`);
      catchUp(); // learn its real status (held or sold) and anything else we missed
    } else {
      showError(result.body.message || "The seat could not be held. Please try again.");
    }
  }

  async function seatRelease(node, id) {
    state.pending.add(id);
    node.classList.add("is-pending");
    let result;
    try {
      result = await request("POST", "/api/seats/release", { event_id: eventId, seat_ids: [id] });
    } catch {
      result = { ok: false, body: {} };
    }
    state.pending.delete(id);
    node.classList.remove("is-pending");
    if (result.ok) {
      cartRemove(id);
      setSeatStatus(node, "available");
    } else {
      showError(result.body.message || "The seat could not be released. Please try again.");
    }
  }

  // --- prices: what the server fixed, and what sells now -------------------------------------
  // The cart shows the price each hold fixed (the hold response's `seats[].price`), never the
  // price the page loaded with: a pricing tier can run out between page load and the click.
  // The legend re-prices from GET /api/events/{id}/cart when a tier may have changed: after a
  // hold that drew from a quota-limited tier or came back at another price, when a tier's time
  // window ends, and when the page becomes visible again (docs/buyer-ui.md, "Prices").

  function heldPrice(body, id, node) {
    const fixed = (body.seats || []).find((item) => item.seat_id === id);
    return fixed ? fixed.price : categoryPrice(node);
  }

  function pricesCheckAfterHold(body, node) {
    const category = data.categories[node.dataset.cat] || {};
    const fixed = (body.seats || []).find((item) => item.seat_id === Number(node.dataset.id));
    const isQuotaTier = Boolean(category.tier && category.tier.quota !== null && category.tier.quota !== undefined);
    if (isQuotaTier || (fixed && Number(fixed.price) !== Number(category.price))) pricesRefresh();
  }

  let pricesPending = null;
  function pricesRefresh() {
    if (!data.cart_url) return Promise.resolve();
    if (pricesPending) return pricesPending;
    pricesPending = request("GET", data.cart_url).then((result) => {
      if (result.ok) pricesApply(result.body);
    }).catch(() => { /* offline: the next refresh tries again */ }).finally(() => { pricesPending = null; });
    return pricesPending;
  }

  // {seats: [{id, price, ...}], categories: [{id, price, tier}]} from the server.
  function pricesApply(body) {
    for (const category of body.categories || []) {
      const known = data.categories[category.id];
      if (!known) continue;
      known.price = category.price;
      known.tier = category.tier;
      const item = document.querySelector(`.legend li[data-category="${category.id}"]`);
      if (item) {
        item.querySelector(".legend-price").textContent = money(category.price);
        item.querySelector(".legend-tier").textContent = category.tier ? `(${category.tier.name})` : "";
      }
    }
    let changed = false;
    for (const seat of body.seats || []) {
      const item = state.cart.get(seat.id);
      if (item && item.price !== seat.price) { item.price = seat.price; changed = true; }
      if (!item && state.pendingBest.has(seat.id)) { // just held by best available
        state.cart.set(seat.id, { id: seat.id, name: seat.label, categoryName: seat.category_name, price: seat.price });
        state.pendingBest.delete(seat.id);
        const node = state.seats.get(seat.id);
        if (node && node.dataset.status === "held") setSeatStatus(node, "mine");
        changed = true;
      }
    }
    if (changed) renderCart();
    pricesScheduleWindowEnd();
  }

  // A tier that sells until a moment in time hands over to the next one then: re-price at that moment.
  let windowTimer = 0;
  function pricesScheduleWindowEnd() {
    clearTimeout(windowTimer);
    const ends = Object.values(data.categories)
      .map((category) => (category.tier && category.tier.available_until ? Date.parse(category.tier.available_until) : NaN))
      .filter((at) => at > Date.now());
    if (ends.length) windowTimer = setTimeout(pricesRefresh, Math.min(Math.min(...ends) - Date.now() + 500, 2 ** 31 - 1));
  }

  // --- best available: the server picks N adjacent seats (POST /api/seats/best) --------------

  async function bestAvailableFind(event) {
    event.preventDefault();
    if (!data.is_on_sale) { showError("Tickets for this event are not on sale right now."); return; }
    const button = el("best-button");
    const quantity = Number(el("best-quantity").value);
    const category = el("best-category").value;
    const body = { event_id: eventId, quantity };
    if (category) body.category = Number(category);
    button.disabled = true;
    let result;
    try {
      result = await request("POST", data.best_url, body);
    } catch {
      result = { ok: false, body: { message: "Network problem: no seats were held. Please try again." } };
    }
    button.disabled = false;
    if (!result.ok) { showError(result.body.message || "No seats could be held. Please try again."); return; }
    showError("");
    state.expiresAt = Date.parse(result.body.expires_at);
    for (const id of result.body.seat_ids) {
      state.pendingBest.add(id);
      const node = state.seats.get(id);
      if (node) setSeatStatus(node, "mine");
    }
    await pricesRefresh(); // labels and the fixed prices of the new seats, into the cart
    if (state.pendingBest.size) await pricesRefresh(); // an earlier refresh was still on its way
    state.pendingBest.clear();
    tick();
    const first = state.seats.get(result.body.seat_ids[0]);
    if (first) { rovingSet(first); ensureVisible(first); }
    ui.cartMessage.textContent = `${result.body.seat_ids.length} seats together held for you.`;
  }

  if (el("best-form") && data.best_url) el("best-form").addEventListener("submit", bestAvailableFind);

  // --- accessible seating: the filter, a confirmation for wheelchair spaces, the companion seat --

  const seatAccess = (node) => {
    const label = (seatInfo.get(node) || {}).label || node.getAttribute("aria-label") || "";
    return { wheelchair: label.includes("wheelchair space"), companion: label.includes("companion seat") };
  };

  function accessMark(node) {
    const access = seatAccess(node);
    node.classList.toggle("is-access", access.wheelchair || access.companion);
  }

  // A wheelchair space is a place without a seat: make sure the buyer means it.
  function accessConfirm(node) {
    if (!seatAccess(node).wheelchair) return true;
    return window.confirm(`${node.dataset.name} is a wheelchair space (no fixed seat). Hold it for a wheelchair user?`);
  }

  // After a wheelchair space is held, offer the free companion seat right next to it.
  function accessOfferCompanion(node) {
    if (!seatAccess(node).wheelchair) return;
    const { x, y } = position(node);
    let best = null;
    let bestDistance = SEAT_PITCH * 1.6;
    for (const other of state.seats.values()) {
      if (other === node || other.dataset.status !== "available" || !seatAccess(other).companion) continue;
      const distance = Math.hypot(position(other).x - x, position(other).y - y);
      if (distance <= bestDistance) { best = other; bestDistance = distance; }
    }
    if (!best) return;
    ui.cartMessage.replaceChildren();
    const add = document.createElement("button");
    add.type = "button";
    add.className = "link";
    add.id = "add-companion";
    add.textContent = `Add the companion seat next to it (${best.dataset.name})`;
    add.addEventListener("click", () => { ui.cartMessage.replaceChildren(); seatToggle(best); });
    ui.cartMessage.append(add);
  }

  const accessFilter = el("access-filter");
  if (accessFilter) {
    accessFilter.addEventListener("change", () => {
      state.seats.forEach(accessMark);
      svg.classList.toggle("show-access", accessFilter.checked);
    });
  }

  // --- cart and countdown ----------------------------------------------------------------------

  function cartAdd(item) {
    state.cart.set(item.id, item);
    renderCart();
  }

  function cartRemove(id) {
    if (!state.cart.delete(id)) return;
    if (!state.cart.size) state.expiresAt = null;
    renderCart();
  }

  function renderCart() {
    ui.cartList.replaceChildren(...[...state.cart.values()].map((item) => {
      const li = document.createElement("li");
      li.dataset.id = item.id;
      const label = document.createElement("span");
      label.className = "cart-seat";
      label.textContent = item.name;
      const category = document.createElement("span");
      category.className = "cart-cat";
      category.textContent = item.categoryName;
      const price = document.createElement("span");
      price.className = "cart-price";
      price.textContent = money(item.price);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link cart-remove";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${item.name}`);
      remove.addEventListener("click", () => {
        const node = state.seats.get(item.id);
        if (node) seatRelease(node, item.id);
        else request("POST", "/api/seats/release", { event_id: eventId, seat_ids: [item.id] }).then((r) => r.ok && cartRemove(item.id));
      });
      li.append(label, " ", category, " ", price, " ", remove);
      return li;
    }));
    const cents = [...state.cart.values()].reduce((sum, item) => sum + Math.round(Number(item.price) * 100), 0);
    const isEmpty = state.cart.size === 0;
    ui.cartTotal.textContent = money(cents / 100);
    ui.cartTotal.parentElement.hidden = isEmpty;
    ui.cartEmpty.hidden = !isEmpty;
    ui.checkout.hidden = isEmpty;
    ui.countdown.hidden = isEmpty;
    ui.cartList.closest(".cart").classList.toggle("has-items", !isEmpty);
    if (!isEmpty) ui.cartMessage.textContent = "";
    cartBarRender(cents);
  }

  // --- the phone cart bar: "2 seats · €110 · Checkout" below the map, expanding on tap --------
  // Shown by CSS on narrow screens only (static/css/buyer.css); in the page flow, never over the map.

  const cartBar = { node: el("cart-bar"), text: el("cart-bar-text"), timer: el("cart-bar-timer"),
    toggle: el("cart-bar-toggle"), details: el("cart-bar-details") };

  function cartBarRender(cents) {
    if (!cartBar.node) return;
    const count = state.cart.size;
    cartBar.node.hidden = count === 0;
    cartBar.text.textContent = `${count} seat${count === 1 ? "" : "s"} · ${money(cents / 100)}`;
    cartBar.details.replaceChildren(...[...state.cart.values()].map((item) => {
      const li = document.createElement("li");
      li.textContent = `${item.name} · ${item.categoryName} · ${money(item.price)}`;
      return li;
    }));
    if (!count) cartBarExpand(false);
  }

  function cartBarExpand(isOpen) {
    cartBar.toggle.setAttribute("aria-expanded", String(isOpen));
    cartBar.details.hidden = !isOpen;
  }

  if (cartBar.node) {
    cartBar.toggle.addEventListener("click", () => cartBarExpand(cartBar.toggle.getAttribute("aria-expanded") !== "true"));
  }

  function cartExpire() {
    for (const id of state.cart.keys()) {
      const node = state.seats.get(id);
      if (node) setSeatStatus(node, "available");
    }
    state.cart.clear();
    state.expiresAt = null;
    renderCart();
    ui.cartMessage.textContent = "Your time ran out and your seats were released. Choose seats again to continue.";
  }

  function tick() {
    const now = Date.now();
    for (const [id, until] of state.heldUntil) {
      if (until <= now) {
        const node = state.seats.get(id);
        if (node && node.dataset.status === "held") setSeatStatus(node, "available");
        state.heldUntil.delete(id);
      }
    }
    if (state.cart.size && state.expiresAt) {
      const left = Math.max(0, Math.ceil((state.expiresAt - now) / 1000));
      ui.timer.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
      if (cartBar.timer) cartBar.timer.textContent = `· ${ui.timer.textContent} left`;
      ui.countdown.classList.toggle("is-urgent", left <= 60);
      if (left <= 0) cartExpire();
    }
  }

  // --- live updates: websocket, catch-up, polling fallback ------------------------------------
  // One subscription at a time, matching what the map shows: every seat of a full map
  // (/ws/events/{id}/seats), one section's seats when a large venue is zoomed in (?section=), or
  // per-section counts on its overview (/ws/events/{id}/sections). Each catches up after a
  // (re)connect and falls back to polling while the socket is down (docs/buyer-ui.md).

  let socket = null;
  let attempts = 0;
  let pollTimer = null;
  let reconnectTimer = null;
  let catching = false;
  let catchAgain = false;
  const liveBase = (document.querySelector('meta[name="evently-live-ws"]') || {}).content || "";

  function setLive(mode, text) {
    ui.live.dataset.state = mode;
    ui.live.textContent = text;
  }

  // What the map shows now: "seats" (full map), "section" (zoomed in) or "counts" (overview).
  const liveView = () => (data.mode !== "overview" ? "seats" : state.openSection === null ? "counts" : "section");

  function socketPath() {
    if (liveView() === "counts") return `/ws/events/${eventId}/sections`;
    if (liveView() === "section") return `/ws/events/${eventId}/seats?section=${state.openSection}`;
    return `/ws/events/${eventId}/seats`;
  }

  async function catchUp() {
    if (catching) { catchAgain = true; return; }
    catching = true;
    const shown = liveView();
    const section = state.openSection;
    try {
      if (shown === "counts") {
        const result = await request("GET", `/api/events/${eventId}/sections`);
        if (result.ok && liveView() === "counts") applyCounts(result.body.sections);
      } else {
        const filter = shown === "section" ? `&section=${section}` : "";
        const result = await request("GET", `/api/events/${eventId}/seats/changes?since=${state.version}${filter}`);
        if (result.ok && liveView() === shown && state.openSection === section) {
          if (result.body.reset) { window.location.reload(); return; }
          // `version` is a cursor, not a counter: changes may arrive at the same cursor, and twice.
          result.body.changes.forEach(applyChange);
          state.version = Math.max(state.version, result.body.version);
        }
      }
    } catch { /* offline: the next poll or reconnect tries again */ }
    finally {
      catching = false;
      if (catchAgain) { catchAgain = false; catchUp(); }
    }
  }

  function onMessage(message) {
    // A message carries whole statuses (or whole counts), so applying one twice is harmless. Its
    // `version` is a cursor: asking changes?since=version after a reconnect misses nothing
    // (docs/architecture.md). A slow catch-up every 30 s heals any reordering.
    if (message.sections) {
      if (liveView() === "counts") applyCounts(message.sections);
      return;
    }
    message.changes.forEach(applyChange);
    state.version = Math.max(state.version, message.version);
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(catchUp, 5000);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (!("WebSocket" in window)) {
      setLive("polling", "Live updates every 5 s");
      startPolling();
      return;
    }
    // LIVE_WS_URL: empty (this origin), ":PORT" (this host, another port: `make run` with WS_WORKERS), or a URL.
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const base = !liveBase ? scheme + window.location.host
      : liveBase.startsWith(":") ? scheme + window.location.hostname + liveBase : liveBase;
    let opened;
    try {
      opened = new WebSocket(base + socketPath());
    } catch {
      startPolling();
      reconnectLater();
      return;
    }
    socket = opened;
    opened.addEventListener("open", () => {
      if (socket !== opened) return;
      attempts = 0;
      stopPolling();
      setLive("live", "Live");
      if (liveView() !== "counts") catchUp(); // anything that changed between page render and now (counts come first thing)
    });
    opened.addEventListener("message", (event) => {
      if (socket !== opened) return;
      try { onMessage(JSON.parse(event.data)); } catch { /* ignore a malformed message */ }
    });
    opened.addEventListener("close", () => {
      if (socket !== opened) return; // replaced on purpose (another section, back to the overview)
      socket = null;
      setLive("polling", "Reconnecting… (updates every 5 s)");
      startPolling();
      reconnectLater();
    });
  }

  // The map now shows something else: subscribe to that instead.
  function resubscribe() {
    const previous = socket;
    socket = null;
    if (previous) previous.close();
    if (reconnectTimer) return; // a reconnect is already scheduled; it will pick the new view
    attempts = 0;
    connect();
  }

  function reconnectLater() {
    const delay = Math.min(30000, 1000 * 2 ** attempts) * (0.75 + Math.random() / 4);
    attempts += 1;
    reconnectTimer = setTimeout(connect, delay);
  }

  document.addEventListener("visibilitychange", () => { if (!document.hidden) { catchUp(); pricesRefresh(); } });
  setInterval(() => { if (socket && !document.hidden && liveView() !== "counts") catchUp(); }, 30000); // heals rare reordering

  // --- section overview (large venues) --------------------------------------------------------

  // Per-section counts: [{section_id, available, seats}] — all sections, or only those that changed.
  function applyCounts(sections) {
    for (const section of sections) {
      const id = section.section_id === undefined ? section.id : section.section_id;
      const area = svg.querySelector(`.area[data-section="${id}"]`);
      if (!area) continue;
      const { available, seats } = section;
      area.dataset.available = available;
      area.dataset.seats = seats;
      const share = seats ? available / seats : 0;
      const level = available <= 0 ? "none" : share >= 0.5 ? "many" : share >= 0.15 ? "some" : "few";
      area.classList.remove("avail-many", "avail-some", "avail-few", "avail-none");
      area.classList.add("avail-" + level);
      const label = `Section ${area.dataset.name}: ${available.toLocaleString("en-US")} of ${seats.toLocaleString("en-US")} seats available, ${area.dataset.prices}`;
      area.querySelector("title").textContent = label; // the accessible name (SVG <title>)
      area.querySelector(".area-free").textContent = available ? `${available.toLocaleString("en-US")} free` : "Sold out";
    }
    if (ui.available) {
      let total = 0;
      svg.querySelectorAll(".area").forEach((area) => { total += Number(area.dataset.available || 0); });
      ui.available.textContent = total.toLocaleString("en-US");
    }
  }

  async function sectionOpen(area, { focus = false } = {}) {
    const sectionId = Number(area.dataset.section);
    if (state.openSection === sectionId) return;
    const result = await request("GET", `/api/events/${eventId}/sections/${sectionId}/layout`).catch(() => null);
    if (!result || !result.ok) { showError("This section could not be loaded. Please try again."); return; }
    sectionClose({ keepView: true });
    const layout = result.body;
    const colours = Object.fromEntries(layout.categories.map((category) => [category.id, category.colour]));
    const mine = new Set([...state.cart.keys(), ...layout.my_holds]);
    const parts = [];
    const section = layout.sections[0];
    for (const row of section.rows) {
      parts.push(rowOpenMarkup(section, row));
      for (const seat of row.seats) {
        if (mine.has(seat.id) && !state.cart.has(seat.id)) { // held in another tab
          const category = data.categories[seat.category] || {};
          state.cart.set(seat.id, { id: seat.id, name: `${section.name}, row ${row.label}, seat ${seat.number}`, categoryName: category.name || "", price: seat.price });
        }
        parts.push(seatMarkup(section, row, seat, colours, mine));
      }
      parts.push("</g>");
    }
    renderCart();
    if (layout.my_holds.length) pricesRefresh(); // seats held in another tab: their hold-time prices
    ui.seatLayer.innerHTML = parts.join("");
    for (const node of ui.seatLayer.querySelectorAll(".seat")) registerSeat(node);
    labelsIndex();
    if (accessFilter && accessFilter.checked) state.seats.forEach(accessMark);
    state.openSection = sectionId;
    svg.classList.add("is-zoomed");
    svg.querySelectorAll(".area").forEach((node) => node.classList.toggle("is-open", node === area));
    ui.back.hidden = false;
    state.version = layout.version; // this section's cursor: its stream catches up from here
    resubscribe();
    zoomToSection(section);
    const first = rovingStart();
    if (focus && first) first.focus({ preventScroll: true });
  }

  function sectionClose({ keepView = false } = {}) {
    if (state.openSection === null) return;
    for (const node of ui.seatLayer.querySelectorAll(".seat")) {
      state.seats.delete(Number(node.dataset.id));
      state.heldUntil.delete(Number(node.dataset.id));
    }
    ui.seatLayer.replaceChildren();
    labelsIndex();
    const area = svg.querySelector(`.area[data-section="${state.openSection}"]`);
    state.openSection = null;
    if (!keepView) resubscribe(); // back to the overview's counts
    svg.classList.remove("is-zoomed");
    svg.querySelectorAll(".area.is-open").forEach((node) => node.classList.remove("is-open"));
    if (!keepView) {
      ui.back.hidden = true;
      viewSet(fullView());
      rovingSet(area);
      if (area) area.focus({ preventScroll: true });
    }
  }

  function zoomToSection(section) {
    const xs = section.outline.map((point) => point[0]);
    const ys = section.outline.map((point) => point[1]);
    const box = { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
    const rect = svg.getBoundingClientRect();
    const fitScale = Math.min(rect.width / box.w, rect.height / box.h);
    const scale = Math.max(fitScale * 0.92, TOUCH_PX / SEAT_PITCH);
    const w = rect.width / scale;
    const h = rect.height / scale;
    // Too big to show whole at a touchable size: start at the front rows (row A), nearest the action.
    const front = section.rows[0].seats;
    const fx = front.reduce((sum, seat) => sum + seat.x, 0) / front.length;
    const fy = front.reduce((sum, seat) => sum + seat.y, 0) / front.length;
    const cx = w >= box.w ? box.x + box.w / 2 : fx;
    const cy = h >= box.h ? box.y + box.h / 2 : fy;
    viewSet({ x: cx - w / 2, y: cy - h / 2, w, h });
  }

  ui.back.addEventListener("click", () => sectionClose());

  // --- row labels and section names that stay readable when zoomed (issue 17) -----------------
  // Each row has a label beyond both of its ends (events/seatmap.py row_label_ends; rowOpenMarkup for
  // a stadium section). Their font size is counter-scaled to the zoom so they keep ~12 px on screen
  // when zoomed in. When both of a row's labels are off screen but some of its seats are in view, a
  // pinned label sits at the map's edge where the row leaves it, and a chip at the top names the
  // sections (and rows) in view. Decoration only (aria-hidden): every seat's name carries its row.
  // Updated once per frame on a viewBox change from a per-row index; no per-seat DOM work.

  const ROW_LABEL_GAP = 9; // keep in step with events/seatmap.py ROW_LABEL_GAP
  const LABEL_PX = 12; // on-screen size of row labels when zoomed in
  const pins = { box: el("map-pins"), section: el("map-pin-section"), rows: [] };
  let rowIndex = []; // [{section, label, points: [[x, y], …]}] in drawing order
  let labelsFrame = 0;

  // [{x, y, anchor}] × 2: the same rule as events/seatmap.py row_label_ends.
  function rowLabelEnds(points) {
    const step = (origin, towards) => {
      let dx = origin[0] - towards[0];
      let dy = origin[1] - towards[1];
      const length = Math.hypot(dx, dy);
      [dx, dy] = length ? [dx / length, dy / length] : [-1, 0];
      const anchor = dx < -0.7 ? "end" : dx > 0.7 ? "start" : "middle";
      return { x: Math.round((origin[0] + dx * ROW_LABEL_GAP) * 10) / 10, y: Math.round((origin[1] + dy * ROW_LABEL_GAP) * 10) / 10, anchor };
    };
    const first = points[0];
    const last = points[points.length - 1];
    if (points.length === 1) return [step(first, [first[0] + 1, first[1]]), step(first, [first[0] - 1, first[1]])];
    return [step(first, points[1]), step(last, points[points.length - 2])];
  }

  // A stadium section's row: its group and two labels (the seats follow, then "</g>").
  function rowOpenMarkup(section, row) {
    const label = escapeHtml(row.label);
    const ends = rowLabelEnds(row.seats.map((seat) => [seat.x, seat.y]));
    return `<g class="row" data-row="${label}" data-section="${escapeHtml(section.name)}">`
      + ends.map((end) => `<text class="row-label" x="${end.x}" y="${end.y}" text-anchor="${end.anchor}" aria-hidden="true">${label}</text>`).join("");
  }

  function labelsIndex() {
    rowIndex = [];
    svg.querySelectorAll("g.row").forEach((group) => {
      const points = [...group.querySelectorAll(".seat")].map((node) => { const { x, y } = position(node); return [x, y]; });
      if (points.length) rowIndex.push({ section: group.dataset.section, label: group.dataset.row, points, ends: rowLabelEnds(points) });
    });
    labelsLater();
  }

  function labelsLater() {
    if (!labelsFrame) labelsFrame = requestAnimationFrame(labelsUpdate);
  }

  function labelsUpdate() {
    labelsFrame = 0;
    const rect = svg.getBoundingClientRect();
    const ctm = svg.getScreenCTM();
    if (!ctm || !rect.width) return;
    const ppu = ctm.a;
    svg.style.setProperty("--row-label-size", `${Math.min(LABEL_PX / ppu, 9).toFixed(2)}px`);
    svg.style.setProperty("--section-label-size", `${Math.min(14 / ppu, 16).toFixed(2)}px`);
    const toScreen = (x, y) => [ctm.a * x + ctm.e - rect.left, ctm.d * y + ctm.f - rect.top];
    const inside = ([sx, sy], margin) => sx >= margin && sx <= rect.width - margin && sy >= margin && sy <= rect.height - margin;
    const full = fullView();
    const zoomed = view.w < full.w * 0.95 || state.openSection !== null;
    const top = zoomed ? 36 : 10; // pins stay below the section chip
    const placed = [];
    const inView = new Map(); // section → [first row, last row] in view
    for (const row of rowIndex) {
      const entry = row.points.findIndex(([x, y]) => inside(toScreen(x, y), 0));
      if (entry < 0) continue;
      const seen = inView.get(row.section);
      inView.set(row.section, seen ? [seen[0], row.label] : [row.label, row.label]);
      if (row.ends.some((end) => inside(toScreen(end.x, end.y), LABEL_PX))) continue; // its own label shows
      // Pin where the row enters the view: one label gap before its first seat in view, kept on screen.
      const [x, y] = row.points[entry];
      const [px, py] = row.points[entry > 0 ? entry - 1 : Math.min(1, row.points.length - 1)];
      const length = Math.hypot(x - px, y - py) || 1;
      const sign = entry > 0 ? 1 : -1;
      const [sx, sy] = toScreen(x - sign * ((x - px) / length) * ROW_LABEL_GAP, y - sign * ((y - py) / length) * ROW_LABEL_GAP);
      const at = [Math.min(Math.max(sx, 14), rect.width - 14), Math.min(Math.max(sy, top), rect.height - 10)];
      if (placed.some(([ox, oy]) => Math.abs(ox - at[0]) < 2 * LABEL_PX && Math.abs(oy - at[1]) < 1.3 * LABEL_PX)) continue;
      placed.push(at);
      let pin = pins.rows[placed.length - 1];
      if (!pin) {
        pin = document.createElement("span");
        pin.className = "map-pin-row";
        pins.box.append(pin);
        pins.rows.push(pin);
      }
      pin.textContent = row.label;
      pin.style.left = `${at[0]}px`;
      pin.style.top = `${at[1]}px`;
      pin.hidden = false;
    }
    for (const pin of pins.rows.slice(placed.length)) pin.hidden = true;
    // The chip: only while zoomed in (the whole map shows its own section names).
    pins.section.hidden = !zoomed || !inView.size;
    pins.section.textContent = [...inView].map(([name, [first, last]]) => `${name} · ${first === last ? `row ${first}` : `rows ${first}–${last}`}`).join("  |  ");
  }

  // --- pan and zoom (viewBox) ------------------------------------------------------------------

  const fullView = () => ({ x: 0, y: 0, w: Number(svg.dataset.width), h: Number(svg.dataset.height) });
  let view = fullView();

  function viewSet(next) {
    const full = fullView();
    const minW = 60;
    const w = Math.min(Math.max(next.w, minW), full.w * 1.5);
    const h = next.h * (w / next.w);
    view = { x: next.x + (next.w - w) / 2, y: next.y + (next.h - h) / 2, w, h };
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    labelsLater();
  }

  function toMap(clientX, clientY) {
    const point = new DOMPoint(clientX, clientY).matrixTransform(svg.getScreenCTM().inverse());
    return { x: point.x, y: point.y };
  }

  function zoomAt(factor, clientX, clientY) {
    const rect = svg.getBoundingClientRect();
    const at = clientX === undefined ? toMap(rect.left + rect.width / 2, rect.top + rect.height / 2) : toMap(clientX, clientY);
    const w = view.w / factor;
    const h = view.h / factor;
    viewSet({ x: at.x - (at.x - view.x) / factor, y: at.y - (at.y - view.y) / factor, w, h });
  }

  function pixelsPerUnit() {
    const rect = svg.getBoundingClientRect();
    return Math.min(rect.width / view.w, rect.height / view.h);
  }

  el("zoom-in").addEventListener("click", () => zoomAt(1.5));
  el("zoom-out").addEventListener("click", () => zoomAt(1 / 1.5));
  el("zoom-fit").addEventListener("click", () => viewSet(fullView()));
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
  }, { passive: false });

  const pointers = new Map();
  let drag = null;
  let suppressClick = false;
  let lastPointerType = "mouse";
  svg.addEventListener("pointerdown", (event) => {
    lastPointerType = event.pointerType;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    drag = { x: event.clientX, y: event.clientY, view: { ...view }, moved: false, pinch: null };
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      drag.pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
    }
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag || !pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (drag.pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      const factor = distance / drag.pinch.distance;
      if (Math.abs(factor - 1) > 0.02) {
        zoomAt(factor, drag.pinch.mid.x, drag.pinch.mid.y);
        drag.pinch.distance = distance;
        drag.moved = true;
      }
      return;
    }
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 6) return;
    drag.moved = true;
    const perPixel = 1 / pixelsPerUnit();
    viewSet({ ...drag.view, x: drag.view.x - dx * perPixel, y: drag.view.y - dy * perPixel });
  });
  const pointerEnd = (event) => {
    pointers.delete(event.pointerId);
    if (drag && drag.moved) suppressClick = true;
    if (!pointers.size) drag = null;
  };
  svg.addEventListener("pointerup", pointerEnd);
  svg.addEventListener("pointercancel", pointerEnd);

  svg.addEventListener("click", (event) => {
    if (suppressClick) { suppressClick = false; return; }
    const seat = event.target.closest(".seat");
    const area = event.target.closest(".area");
    if (seat && state.seats.has(Number(seat.dataset.id))) {
      // On a phone, a tap on seats drawn too small to aim at zooms in first.
      if (lastPointerType === "touch" && pixelsPerUnit() * SEAT_PITCH < TOUCH_PX * 0.6) {
        zoomAt(TOUCH_PX / SEAT_PITCH / pixelsPerUnit(), event.clientX, event.clientY);
        return;
      }
      rovingSet(seat);
      seatToggle(seat);
    } else if (area) {
      rovingSet(area);
      sectionOpen(area);
    }
  });

  // --- keyboard: one tab stop, arrows move to the nearest seat in that direction --------------

  const DIRECTIONS = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };

  function focusables() {
    if (data.mode === "overview" && state.openSection === null) return [...svg.querySelectorAll(".area")];
    return [...state.seats.values()];
  }

  function rovingSet(node) {
    if (!node) return;
    svg.querySelectorAll('[tabindex="0"]').forEach((other) => other.setAttribute("tabindex", "-1"));
    node.setAttribute("tabindex", "0");
  }

  function rovingStart() {
    const nodes = focusables();
    const first = nodes.find((node) => node.dataset.status === "mine")
      || nodes.find((node) => !node.dataset.status || node.dataset.status === "available") || nodes[0];
    rovingSet(first);
    return first;
  }

  function nearest(from, [dx, dy]) {
    const { x: x0, y: y0 } = position(from);
    let best = null;
    let bestScore = Infinity;
    for (const node of focusables()) {
      if (node === from) continue;
      const { x, y } = position(node);
      const vx = x - x0;
      const vy = y - y0;
      const along = vx * dx + vy * dy;
      if (along <= 0.5) continue;
      const across = Math.abs(vx * dy - vy * dx);
      if (across > along * 2) continue; // outside a wide cone in that direction
      const score = Math.hypot(vx, vy) + 1.5 * across;
      if (score < bestScore) { bestScore = score; best = node; }
    }
    return best;
  }

  function ensureVisible(node) {
    const { x, y } = position(node);
    const margin = Math.min(view.w, view.h) * 0.1;
    if (x < view.x + margin || x > view.x + view.w - margin || y < view.y + margin || y > view.y + view.h - margin) {
      viewSet({ ...view, x: x - view.w / 2, y: y - view.h / 2 });
    }
  }

  svg.addEventListener("keydown", (event) => {
    const node = event.target.closest(".seat, .area");
    if (!node) return;
    if (DIRECTIONS[event.key]) {
      event.preventDefault();
      const next = nearest(node, DIRECTIONS[event.key]);
      if (next) {
        rovingSet(next);
        next.focus({ preventScroll: true });
        ensureVisible(next);
      }
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      if (node.classList.contains("area")) sectionOpen(node, { focus: true });
      else seatToggle(node);
    } else if (event.key === "Escape" && state.openSection !== null) {
      event.preventDefault();
      sectionClose();
    }
  });

  // Hover/tap details for overview sections.
  svg.addEventListener("pointerover", (event) => {
    const seatNode = event.target.closest(".seat");
    if (seatNode && event.pointerType === "mouse") { seatTooltip(seatNode); return; }
    const area = event.target.closest(".area");
    if (!area || state.openSection !== null) { ui.tooltip.hidden = true; return; }
    ui.tooltip.textContent = area.querySelector("title").textContent;
    ui.tooltip.hidden = false;
  });
  svg.addEventListener("pointerleave", () => { ui.tooltip.hidden = true; });

  // Desktop hover on a seat: section, row, seat, price, category and status (mice only; touch has its tap).
  function seatTooltip(node) {
    const category = data.categories[node.dataset.cat] || {};
    const info = seatInfo.get(node) || { label: node.dataset.name };
    ui.tooltip.textContent = `${info.label} · ${category.name || ""} · ${STATUS_WORDS[node.dataset.status]}`;
    ui.tooltip.hidden = false;
  }

  // --- start -----------------------------------------------------------------------------------

  svg.querySelectorAll(".seat").forEach(registerSeat);
  labelsIndex();
  new ResizeObserver(labelsLater).observe(svg);
  for (const item of data.cart) {
    state.cart.set(item.id, { id: item.id, name: item.label, categoryName: item.category_name, price: item.price });
  }
  renderCart();
  pricesScheduleWindowEnd();
  rovingStart();
  tick();
  setInterval(tick, 250);
  connect();
  // Tests and the performance page read this to know the map is interactive.
  svg.dataset.ready = "true";
  performance.mark("seatmap-ready");
  window.evently = { state, catchUp, socket: () => socket };
})();
