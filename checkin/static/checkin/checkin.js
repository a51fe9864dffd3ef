// Evently door check-in: camera scanning, online scans, and automatic offline mode.
//
// Online, every scan goes to POST /api/checkin/scan (the server decides, exactly once). When a
// request fails or times out, or the browser reports no network, the page switches to offline by
// itself: it verifies the ticket's Ed25519 signature locally against the event's manifest, decides,
// and queues the scan in IndexedDB. A probe notices when the network is back; the queue is then
// synced to POST /api/checkin/sync, idempotent by each scan's nonce, and conflicts are shown.
(() => {
  "use strict";

  const REASONS = JSON.parse(document.getElementById("reasons").textContent);
  const TITLES = { admit: "ADMIT", already_admitted: "ALREADY ADMITTED", invalid: "INVALID" };
  const SCAN_TIMEOUT_MS = 3000;
  const PROBE_MS = 4000;
  const STATS_MS = 5000;
  const MANIFEST_REFRESH_MS = 3 * 60 * 1000;
  // The verdict fills the screen for a moment, then shrinks to a strip under the counter that stays
  // until the next scan: a glance away never loses it. A typed code (or a name found by search) keeps
  // the full screen longer: whoever typed it was looking at the keyboard, not the screen.
  const VERDICT_MS = 900;          // camera: ready for the next scan within a second
  const VERDICT_TYPED_MS = 2500;   // typed code or search: at least 2.5 s on the full screen
  const SAME_CODE_GAP_MS = 1000;    // a QR must leave the view this long to be scanned again

  const $ = (id) => document.getElementById(id);
  const state = {
    online: navigator.onLine,
    eventId: null,
    manifest: null,           // {event, publicKeys ([CryptoKey]|null), tickets: Map, admitted: Map}
    stats: { admitted: 0, expected: 0 },
    offlineAdmits: 0,
    queued: 0,
    busy: false,
    verdictHoldUntil: 0,      // until then no camera scan replaces the full-screen verdict
    manifestError: "",        // why there is no offline list ("" while loading or when there is one)
    lastCode: "", lastSeenAt: 0,
    conflicts: new Map(),
    syncing: false,
  };

  // ---- small helpers -------------------------------------------------------------------------
  function uuid() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  }
  function cookie(name) {
    const match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  const device = localStorage.getItem("evently-device") || ("device-" + uuid().slice(0, 10));
  localStorage.setItem("evently-device", device);
  $("device").textContent = device;

  function fetchJSON(url, { method = "GET", body, timeout = SCAN_TIMEOUT_MS } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    const options = { method, signal: controller.signal, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = cookie("csrftoken");
    }
    return fetch(url, options).then(async (response) => {
      clearTimeout(timer);
      if (response.status >= 500) throw new NetworkDown("server " + response.status);
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new ApiError(response.status, data);
      return data;
    }, (error) => { clearTimeout(timer); throw new NetworkDown(String(error)); });
  }
  class NetworkDown extends Error {}
  class ApiError extends Error {
    constructor(status, data) { super(data.message || "HTTP " + status); this.status = status; this.data = data; }
  }

  function b64urlDecode(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const binary = atob(base64);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  // ---- IndexedDB: manifests, the scan queue, this device's admissions -----------------------
  const dbReady = new Promise((resolve, reject) => {
    const request = indexedDB.open("evently-checkin", 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("manifests", { keyPath: "eventId" });
      db.createObjectStore("queue", { keyPath: "nonce" });
      db.createObjectStore("admitted", { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  async function store(name, mode, work) {
    const db = await dbReady;
    return new Promise((resolve, reject) => {
      const tx = db.transaction(name, mode);
      const result = work(tx.objectStore(name));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }
  const idbPut = (name, value) => store(name, "readwrite", (s) => s.put(value));
  const idbGet = (name, key) => store(name, "readonly", (s) => s.get(key));
  const idbAll = (name) => store(name, "readonly", (s) => s.getAll());
  const idbDelete = (name, key) => store(name, "readwrite", (s) => s.delete(key));

  // ---- network state ---------------------------------------------------------------------------
  function renderNetwork() {
    const badge = $("network");
    badge.textContent = state.online ? "ONLINE" : "OFFLINE";
    badge.className = "badge " + (state.online ? "online" : "offline");
    $("queue").textContent = String(state.queued);
    $("queue").title = state.queued + " scan(s) waiting to sync";
  }
  function goOffline() {
    if (!state.online) return;
    state.online = false;
    renderNetwork();
    renderCounter();
  }
  async function goOnline() {
    if (state.online) return;
    state.online = true;
    renderNetwork();
    await sync();
    refreshStats();
    loadManifest();
  }
  window.addEventListener("offline", goOffline);
  window.addEventListener("online", () => probe());
  async function probe() {
    if (state.online || !state.eventId) return;
    try {
      await fetchJSON(`/api/checkin/events/${state.eventId}/stats`, { timeout: 2500 });
      await goOnline();
    } catch (error) { /* still offline */ }
  }
  setInterval(probe, PROBE_MS);

  // ---- manifest and counter --------------------------------------------------------------------
  async function importKey(publicKey) {
    try {
      return await crypto.subtle.importKey("raw", b64urlDecode(publicKey), { name: "Ed25519" }, false, ["verify"]);
    } catch (error) {
      console.warn("Ed25519 is not available here: offline checks use the manifest's nonces only", error);
      return null;
    }
  }
  // The current key and any rotated out (their tickets stay valid); null where Ed25519 is missing.
  async function importKeys(raw) {
    const keys = await Promise.all((raw.public_keys || [raw.public_key]).map(importKey));
    return keys.every((key) => key) ? keys : null;
  }
  async function verifyAny(keys, signature, payload) {
    for (const key of keys) {
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, payload)) return true;
    }
    return false;
  }
  // The list is only for the door window: once doors close it is deleted from the device.
  function manifestExpired(raw) { return new Date() > new Date(raw.event.closes_at); }
  async function forgetManifest(eventId) {
    await idbDelete("manifests", eventId);
    if (state.eventId === eventId) state.manifest = null;
  }
  async function useManifest(raw) {
    if (manifestExpired(raw)) { await forgetManifest(raw.event.id); return; }
    const tickets = new Map(raw.tickets.map(([id, nonce, refusal, seat]) =>
      [id, { nonce, refusal, seat_label: seat }]));
    const admitted = new Map(raw.admitted.map(([id, at, gate]) => [id, { at, gate }]));
    for (const local of await idbAll("admitted")) {
      if (local.eventId === raw.event.id && !admitted.has(local.ticketId)) {
        admitted.set(local.ticketId, { at: local.at, gate: local.gate });
      }
    }
    state.manifest = { event: raw.event, publicKeys: await importKeys(raw), tickets, admitted,
                       generatedAt: raw.generated_at };
    state.manifestError = "";
    renderManifestStatus();
  }
  // "Offline list ready: 948 tickets, updated 2 min ago" — what a scan can rely on if the network goes.
  function ago(at) {
    const minutes = Math.floor((Date.now() - new Date(at).getTime()) / 60000);
    if (minutes < 1) return "just now";
    if (minutes < 60) return minutes + " min ago";
    const hours = Math.floor(minutes / 60);
    return hours + (hours === 1 ? " hour" : " hours") + " ago";
  }
  function renderManifestStatus() {
    const status = $("manifest-age");
    const manifest = state.manifest;
    if (manifest) {
      const count = manifest.tickets.size;
      status.textContent = `Offline list ready: ${count.toLocaleString()} ticket${count === 1 ? "" : "s"}, ` +
        `updated ${ago(manifest.generatedAt)}`;
      status.dataset.state = "ready";
    } else {
      status.textContent = state.manifestError || "Offline list loading…";
      status.dataset.state = state.manifestError ? "missing" : "loading";
    }
  }
  setInterval(renderManifestStatus, 30 * 1000);
  async function loadManifest() {
    const eventId = state.eventId;
    try {
      const raw = await fetchJSON(`/api/checkin/events/${eventId}/manifest`, { timeout: 20000 });
      await idbPut("manifests", { eventId, raw });
      if (eventId === state.eventId) await useManifest(raw);
    } catch (error) {
      if (error instanceof ApiError && error.data.error === "outside_door_window") {
        await forgetManifest(eventId);
        if (eventId === state.eventId) {
          state.manifestError = "No offline list: doors are not open for this event (scans need the network).";
          renderManifestStatus();
        }
        return;
      }
      if (error instanceof NetworkDown) goOffline();
      const saved = await idbGet("manifests", eventId);
      if (saved && eventId === state.eventId && !state.manifest) await useManifest(saved.raw);
      if (eventId === state.eventId && !state.manifest) {
        state.manifestError = "No offline list yet: it loads when the network is back.";
        renderManifestStatus();
      }
    }
  }
  setInterval(() => { if (state.online && state.eventId) loadManifest(); }, MANIFEST_REFRESH_MS);

  async function refreshStats() {
    if (!state.online || !state.eventId) return;
    try {
      const stats = await fetchJSON(`/api/checkin/events/${state.eventId}/stats`);
      state.stats = stats;
      state.offlineAdmits = 0;
      for (const conflict of stats.conflicts) state.conflicts.set(conflict.nonce, conflict);
      renderCounter();
      renderConflicts();
    } catch (error) {
      if (error instanceof NetworkDown) goOffline();
    }
  }
  setInterval(refreshStats, STATS_MS);
  function renderCounter() {
    $("admitted").textContent = String(state.stats.admitted + state.offlineAdmits);
    $("expected").textContent = String(state.stats.expected);
  }
  function renderConflicts() {
    const list = $("conflict-list");
    list.replaceChildren();
    for (const conflict of state.conflicts.values()) {
      const item = document.createElement("li");
      item.textContent = `Ticket ${conflict.ticket_id ?? "?"}: ${conflict.device || "device"} at ` +
        `${conflict.gate || "?"}, ${new Date(conflict.scanned_at).toLocaleTimeString()} — server: ` +
        `${conflict.result.replace("_", " ")}${conflict.reason ? " (" + conflict.reason + ")" : ""}`;
      list.append(item);
    }
    $("conflict-count").textContent = String(state.conflicts.size);
    $("conflicts").hidden = state.conflicts.size === 0;
  }

  // ---- deciding a scan ---------------------------------------------------------------------------
  async function check(code, { typed = false } = {}) {
    code = code.trim();
    if (!code || !state.eventId) return;
    const scan = { token: code, nonce: uuid(), gate: $("gate").value.trim(), device,
                   event_id: state.eventId, scanned_at: new Date().toISOString() };
    let outcome = null;
    if (state.online) {
      try {
        outcome = await fetchJSON("/api/checkin/scan", { method: "POST", body: scan });
      } catch (error) {
        if (error instanceof ApiError) {
          outcome = { result: "invalid", reason: error.data.error, message: error.message };
        } else {
          goOffline();
        }
      }
    }
    if (outcome === null) {
      outcome = await decideOffline(scan);
      await idbPut("queue", { ...scan, offline: true, local_result: outcome.result });
      state.queued += 1;
      renderNetwork();
    }
    if (outcome.result === "admit" && outcome.ticket && outcome.ticket.id) {
      await rememberAdmission(outcome.ticket.id, scan.scanned_at, scan.gate);
    }
    if (outcome.result === "admit") {
      if (state.online) state.stats.admitted += 1; else state.offlineAdmits += 1;
      renderCounter();
    }
    show(outcome, { typed });
    return outcome;
  }

  async function rememberAdmission(ticketId, at, gate) {
    await idbPut("admitted", { key: `${state.eventId}:${ticketId}`, eventId: state.eventId, ticketId, at, gate });
    if (state.manifest && !state.manifest.admitted.has(ticketId)) state.manifest.admitted.set(ticketId, { at, gate });
  }

  function invalid(reason) { return { result: "invalid", reason, message: REASONS[reason] || reason, offline: true }; }

  async function decideOffline(scan) {
    const manifest = state.manifest;
    if (!manifest) return invalid("no_manifest");
    let raw;
    try { raw = b64urlDecode(scan.token); } catch (error) { return invalid("malformed"); }
    if (raw.length !== 85 || raw[0] !== 1) return invalid("malformed");
    const view = new DataView(raw.buffer);
    const claims = { eventId: view.getUint32(1), ticketId: view.getUint32(5), nonce: view.getUint32(17) };
    if (claims.eventId !== manifest.event.id) return invalid("wrong_event");
    const known = manifest.tickets.get(claims.ticketId);
    if (manifest.publicKeys) {
      if (!(await verifyAny(manifest.publicKeys, raw.slice(21), raw.slice(0, 21)))) return invalid("forged");
    } else if (!known || known.nonce !== claims.nonce) {
      return invalid("forged");  // no Ed25519 here: only codes the manifest knows are accepted
    }
    if (known && known.refusal) return { ...invalid(known.refusal), ticket: ticketView(claims, known) };
    if (known && known.nonce !== claims.nonce) return { ...invalid("transferred"), ticket: ticketView(claims, known) };
    const now = new Date(scan.scanned_at);
    if (now < new Date(manifest.event.doors_open_at)) return invalid("not_yet_valid");
    if (now > new Date(manifest.event.closes_at)) return invalid("event_over");
    const first = manifest.admitted.get(claims.ticketId);
    if (first) {
      return { result: "already_admitted", ticket: ticketView(claims, known), first_scan: first, offline: true };
    }
    return { result: "admit", ticket: ticketView(claims, known), offline: true };
  }

  function ticketView(claims, known) {
    // The offline list carries no names (a lost phone must not carry the guest list): the seat only.
    return { id: claims.ticketId, holder_name: "",
             seat_label: known ? known.seat_label : "Ticket " + claims.ticketId + " (issued after the list)" };
  }

  // ---- showing the result ----------------------------------------------------------------------
  let audio = null;
  function beep(result) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = { admit: [880], already_admitted: [520, 520], invalid: [220, 180] }[result];
      tones.forEach((frequency, index) => {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.frequency.value = frequency;
        oscillator.connect(gain).connect(audio.destination);
        const start = audio.currentTime + index * 0.18;
        gain.gain.setValueAtTime(0.25, start);
        oscillator.start(start);
        oscillator.stop(start + 0.14);
      });
    } catch (error) { /* no audio: the colour is enough */ }
    if (navigator.vibrate) navigator.vibrate({ admit: 80, already_admitted: [80, 60, 80], invalid: 400 }[result]);
  }

  let hideTimer = null;
  function show(outcome, { typed = false } = {}) {
    const verdict = $("verdict");
    verdict.className = "verdict " + outcome.result;
    verdict.dataset.result = outcome.result;
    $("verdict-title").textContent = TITLES[outcome.result] + (outcome.offline ? " (offline)" : "");
    const ticket = outcome.ticket || {};
    $("verdict-seat").textContent = ticket.seat_label ||
      (ticket.section ? `${ticket.section} · Row ${ticket.row} · Seat ${ticket.seat}` : "");
    $("verdict-holder").textContent = ticket.holder_name || "";
    let detail = "";
    if (outcome.result === "already_admitted" && outcome.first_scan) {
      const at = outcome.first_scan.at ? new Date(outcome.first_scan.at).toLocaleTimeString() : "earlier";
      detail = `First scanned at ${at}` + (outcome.first_scan.gate ? `, gate ${outcome.first_scan.gate}` : "");
    } else if (outcome.result === "invalid") {
      detail = outcome.message || REASONS[outcome.reason] || outcome.reason;
    }
    $("verdict-detail").textContent = detail;
    verdict.hidden = false;
    beep(outcome.result);
    const fullFor = typed ? VERDICT_TYPED_MS : VERDICT_MS;
    state.verdictHoldUntil = Date.now() + fullFor;
    clearTimeout(hideTimer);
    hideTimer = setTimeout(compactVerdict, fullFor);
  }
  // Off the full screen, into the strip under the counter, where it stays until the next scan.
  function compactVerdict() { $("verdict").classList.add("compact"); }
  $("verdict").addEventListener("click", () => {
    if (Date.now() >= state.verdictHoldUntil) { clearTimeout(hideTimer); compactVerdict(); }
  });

  // ---- sync --------------------------------------------------------------------------------------
  async function sync() {
    if (state.syncing) return;
    state.syncing = true;
    try {
      let queue = (await idbAll("queue")).sort((a, b) => a.scanned_at.localeCompare(b.scanned_at));
      state.queued = queue.length;
      renderNetwork();
      while (queue.length && state.online) {
        const batch = queue.slice(0, 200);
        const response = await fetchJSON("/api/checkin/sync", { method: "POST", body: { scans: batch },
                                                                 timeout: 15000 });
        for (const result of response.results) {
          if (result.conflict) {
            const scan = batch.find((s) => s.nonce === result.nonce);
            state.conflicts.set(result.nonce, { ...result, device, gate: scan.gate, scanned_at: scan.scanned_at,
                                                ticket_id: result.ticket ? result.ticket.id : null });
          }
          await idbDelete("queue", result.nonce);
        }
        queue = queue.slice(batch.length);
        state.queued = queue.length;
        renderNetwork();
        renderConflicts();
      }
    } catch (error) {
      if (error instanceof NetworkDown) goOffline();
    } finally {
      state.syncing = false;
    }
  }

  // ---- camera --------------------------------------------------------------------------------------
  let stream = null;
  let detector = null;
  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("camera-status").textContent = "No camera access here (it needs HTTPS): type the code instead.";
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (error) {
      $("camera-status").textContent = "Camera unavailable: " + error.message;
      return;
    }
    const video = $("video");
    video.srcObject = stream;
    await video.play().catch(() => {});
    if ("BarcodeDetector" in window) {
      try {
        const formats = await BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) detector = new BarcodeDetector({ formats: ["qr_code"] });
      } catch (error) { detector = null; }
    }
    $("camera-status").textContent = detector ? "Scanning (BarcodeDetector)" : "Scanning (jsQR)";
    $("camera-toggle").textContent = "Stop camera";
    scanLoop();
  }
  function stopCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("camera-toggle").textContent = "Start camera";
    $("camera-status").textContent = "";
  }
  $("camera-toggle").addEventListener("click", () => (stream ? stopCamera() : startCamera()));

  async function readFrame() {
    const video = $("video");
    if (video.readyState < 2 || !video.videoWidth) return null;
    if (detector) {
      const codes = await detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    }
    const canvas = $("frame");
    const scale = Math.min(1, 640 / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    return code ? code.data : null;
  }
  async function scanLoop() {
    while (stream) {
      try {
        const code = state.busy ? null : await readFrame();
        const now = Date.now();
        if (code) {
          // One QR held in view is one scan: it counts again only after it left the view for a moment.
          const isRepeat = code === state.lastCode && now - state.lastSeenAt < SAME_CODE_GAP_MS;
          state.lastCode = code;
          state.lastSeenAt = now;
          if (!isRepeat && now >= state.verdictHoldUntil) {
            state.busy = true;
            try { await check(code); } finally { state.busy = false; state.lastSeenAt = Date.now(); }
          }
        }
      } catch (error) { console.warn(error); }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // ---- manual entry and search ---------------------------------------------------------------------
  $("manual").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("code").value;
    $("code").value = "";
    await check(code, { typed: true });
  });
  $("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const list = $("results");
    list.replaceChildren();
    const query = $("query").value.trim();
    const eventId = state.eventId;
    let found = [];
    if (state.online) {
      try {
        found = (await fetchJSON(`/api/checkin/events/${state.eventId}/search?q=${encodeURIComponent(query)}`)).results;
      } catch (error) {
        if (error instanceof NetworkDown) goOffline();
      }
    }
    if (!state.online) {
      const item = document.createElement("li");
      item.textContent = "Search needs the network; scan or type the code.";
      list.append(item);
      return;
    }
    if (eventId !== state.eventId) return;  // the event changed while searching: these are not its tickets
    for (const ticket of found) {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = `${ticket.holder_name} · ${ticket.booking_reference} · ${ticket.seat}`;
      item.append(label);
      if (ticket.admitted_at) {
        // Admitted already: no button that would only answer "already admitted".
        const done = document.createElement("span");
        done.className = "already-in";
        done.textContent = "Already in · " + new Date(ticket.admitted_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        item.append(done);
      } else if (ticket.status !== "valid") {
        const refused = document.createElement("span");
        refused.className = "refused";
        refused.textContent = ticket.status === "transferred" ? "Transferred" : "Not valid: " + ticket.status;
        item.append(refused);
      } else {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = "Check in";
        button.addEventListener("click", () => admitById(ticket.id));
        item.append(button);
      }
      list.append(item);
    }
    if (!found.length) {
      const item = document.createElement("li");
      item.textContent = "No tickets found.";
      list.append(item);
    }
  });

  // Search hands out no tokens: a guest found by name is admitted by ticket id, logged as manual.
  async function admitById(ticketId) {
    let outcome;
    try {
      outcome = await fetchJSON("/api/checkin/admit", { method: "POST", body: {
        ticket_id: ticketId, event_id: state.eventId, nonce: uuid(), gate: $("gate").value.trim(), device } });
    } catch (error) {
      outcome = error instanceof ApiError ? { result: "invalid", reason: error.data.error, message: error.message }
                                          : { result: "invalid", reason: "offline", message: "Admitting by name needs the network." };
    }
    if (outcome.result === "admit") { state.stats.admitted += 1; renderCounter(); }
    show(outcome, { typed: true });
    return outcome;
  }

  // ---- logging out wipes the device --------------------------------------------------------------
  // Queued scans are synced first; then the ticket lists, the queue and this device's admissions are
  // deleted (the server's answer to the logout also asks the browser to clear the site's storage).
  async function wipeAndLogOut(event) {
    event.preventDefault();
    const form = event.target;
    if (state.online) await sync();
    const left = (await idbAll("queue")).length;
    if (left && !confirm(left + " scan(s) could not be synced yet and will be lost. Log out anyway?")) return;
    (await dbReady).close();
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase("evently-checkin");
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
    localStorage.removeItem("evently-event");
    if (self.caches) for (const key of await caches.keys()) await caches.delete(key);
    state.manifest = null;
    form.submit();
  }
  if ($("logout")) $("logout").addEventListener("submit", wipeAndLogOut);

  // ---- start -------------------------------------------------------------------------------------
  async function selectEvent(eventId) {
    state.eventId = eventId;
    state.manifest = null;
    state.conflicts.clear();
    state.stats = { admitted: 0, expected: 0 };
    state.manifestError = "";
    localStorage.setItem("evently-event", String(eventId));
    // Another event's search results and verdict must not linger: a name found for the matinee is
    // not a guest of the evening show.
    $("results").replaceChildren();
    $("query").value = "";
    $("verdict").hidden = true;
    clearTimeout(hideTimer);
    state.verdictHoldUntil = 0;
    renderConflicts();
    renderManifestStatus();
    await loadManifest();
    await refreshStats();
  }
  const select = $("event");
  const savedEvent = localStorage.getItem("evently-event");
  if (savedEvent && [...select.options].some((o) => o.value === savedEvent)) select.value = savedEvent;
  select.addEventListener("change", () => selectEvent(Number(select.value)));
  const gate = $("gate");
  gate.value = localStorage.getItem("evently-gate") || gate.value;
  gate.addEventListener("change", () => localStorage.setItem("evently-gate", gate.value.trim()));

  idbAll("queue").then((queue) => { state.queued = queue.length; renderNetwork(); });
  renderNetwork();
  selectEvent(Number(select.value)).then(() => {
    document.body.dataset.ready = "1";
    if (state.online) sync();
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/checkin/sw.js", { scope: "/checkin/" }).catch((error) => console.warn(error));
  }
  if (new URLSearchParams(location.search).has("camera")) startCamera();
  window.eventlyCheckin = { state, check, sync, admitById };  // for tests and the curious
})();
