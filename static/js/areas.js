// Evently general admission (issue 15): a quantity stepper per standing area, places left kept live.
// The page draws the areas (templates/events/_ga_areas.html); this script holds places with
// POST /api/areas/hold (the buyer's total in that area) or /api/areas/release, and listens for
// {"area_id", "available"} changes on the event's websocket (polling changes?since= without one).
"use strict";

(() => {
  const dataNode = document.getElementById("areas-data");
  if (!dataNode) return;
  const data = JSON.parse(dataNode.textContent);
  const eventId = data.event_id;
  const el = (id) => document.getElementById(id);
  const ui = {
    countdown: el("ga-countdown"), timer: el("ga-timer"), summary: el("ga-summary"), count: el("ga-count"),
    total: el("ga-total"), checkout: el("ga-checkout"), message: el("ga-message"),
  };
  const areas = new Map(data.areas.map((area) => [area.id, { ...area, mine: area.held_by_me }]));
  const state = { version: data.version, expiresAt: data.expires_at ? Date.parse(data.expires_at) : null, busy: false };

  const money = (value) => {
    const digits = Number.isInteger(value) ? 0 : 2;
    return data.currency + value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  };
  const csrfToken = () => decodeURIComponent((document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1] || "");

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    let json = {};
    try { json = await response.json(); } catch { /* not JSON */ }
    return { ok: response.ok, status: response.status, body: json };
  }

  function say(text) { ui.message.textContent = text; }

  function showAvailable(areaId, available) {
    const area = areas.get(areaId);
    if (!area) return;
    area.available = available;
    document.querySelectorAll(`[data-area-left="${areaId}"]`).forEach((node) => { node.textContent = available.toLocaleString("en-US"); });
    render();
  }

  function render() {
    let count = 0;
    let total = 0;
    for (const area of areas.values()) {
      count += area.mine;
      total += area.mine * Number(area.price);
    }
    for (const area of areas.values()) {
      const row = document.querySelector(`.ga-area-row[data-area="${area.id}"]`);
      if (!row) continue;
      row.querySelector(".ga-quantity").textContent = area.mine;
      row.querySelector(".ga-minus").disabled = state.busy || area.mine <= 0;
      row.querySelector(".ga-plus").disabled = state.busy || !data.is_on_sale || area.available <= 0 || count >= data.max_places;
    }
    ui.summary.hidden = ui.checkout.hidden = count === 0;
    ui.count.textContent = count;
    ui.total.textContent = money(total);
    if (count === 0) state.expiresAt = null;
    tick();
  }

  async function change(areaId, quantity) {
    const area = areas.get(areaId);
    state.busy = true;
    render();
    try {
      const result = quantity > 0
        ? await post("/api/areas/hold", { event_id: eventId, area_id: areaId, quantity })
        : await post("/api/areas/release", { event_id: eventId, area_id: areaId });
      if (result.ok) {
        area.mine = result.body.quantity;
        if (result.body.expires_at) state.expiresAt = Date.parse(result.body.expires_at);
        if (typeof result.body.available === "number") showAvailable(areaId, result.body.available);
        say(quantity > 0 ? `${area.name}: ${area.mine} held for you.` : `${area.name}: released.`);
      } else if (result.body.error === "insufficient_capacity") {
        showAvailable(areaId, result.body.available);
        say(`Only ${result.body.available} places left in ${area.name}.`);
      } else {
        say(result.body.message || "That did not work; please try again.");
      }
    } catch {
      say("No connection; please try again.");
    } finally {
      state.busy = false;
      render();
    }
  }

  document.querySelectorAll(".ga-area-row").forEach((row) => {
    const areaId = Number(row.dataset.area);
    row.querySelector(".ga-plus").addEventListener("click", () => change(areaId, areas.get(areaId).mine + 1));
    row.querySelector(".ga-minus").addEventListener("click", () => change(areaId, areas.get(areaId).mine - 1));
  });

  // --- the countdown (the whole cart's expiry) ------------------------------------------------------

  function tick() {
    const left = state.expiresAt === null ? null : Math.max(0, state.expiresAt - Date.now());
    ui.countdown.hidden = left === null;
    if (left === null) return;
    const seconds = Math.ceil(left / 1000);
    ui.timer.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    if (left === 0) {
      for (const area of areas.values()) area.mine = 0;
      state.expiresAt = null;
      say("Your hold has expired: choose again.");
      render();
    }
  }
  setInterval(tick, 1000);

  // --- live: {"area_id", "available"} in the event's seat messages ------------------------------------

  function apply(changes) {
    for (const item of changes) if ("area_id" in item) showAvailable(item.area_id, item.available);
  }

  async function catchUp() {
    try {
      const first = data.areas[0].id;
      const response = await fetch(`/api/events/${eventId}/seats/changes?since=${state.version}&section=${first}`,
        { credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      apply(body.changes);
      state.version = Math.max(state.version, body.version);
    } catch { /* offline: the next poll tries again */ }
  }

  let poll = null;
  let attempts = 0;
  function connect() {
    // The topic of an area's own section carries every area's changes (and no seat's): light for a stadium.
    const base = (document.querySelector('meta[name="evently-live-ws"]') || {}).content || "";
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const origin = !base ? scheme + window.location.host : base.startsWith(":") ? scheme + window.location.hostname + base : base;
    let socket;
    try {
      socket = new WebSocket(`${origin}/ws/events/${eventId}/seats?section=${data.areas[0].id}`);
    } catch {
      poll = poll || setInterval(catchUp, 5000);
      return;
    }
    socket.addEventListener("open", () => {
      attempts = 0;
      clearInterval(poll);
      poll = null;
      el("ga-panel").dataset.live = "true";
      catchUp();
    });
    socket.addEventListener("message", (event) => {
      try {
        const message = JSON.parse(event.data);
        apply(message.changes || []);
        if (message.version) state.version = Math.max(state.version, message.version);
      } catch { /* ignore a malformed message */ }
    });
    socket.addEventListener("close", () => {
      el("ga-panel").dataset.live = "false";
      poll = poll || setInterval(catchUp, 5000);
      attempts += 1;
      setTimeout(connect, Math.min(30000, 1000 * 2 ** attempts));
    });
  }
  if ("WebSocket" in window) connect(); else poll = setInterval(catchUp, 5000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) catchUp(); });
  render();
})();
