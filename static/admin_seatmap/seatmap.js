/* Admin seat map: select seats by click, rectangle drag, whole row (double-click) or whole section.
 * Reads the seats from <script id="seatmap-data" type="application/json"> and keeps the selected
 * ids in the form's hidden input "seat_ids". Plain JavaScript, no dependencies. */
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var STATUS_FILL = {held: "#f59e0b", sold: "#9ca3af", blocked: "#111827"};
  var dataNode = document.getElementById("seatmap-data");
  var host = document.getElementById("seatmap");
  if (!dataNode || !host) return;
  var data = JSON.parse(dataNode.textContent);
  var input = document.getElementById("seatmap-selected");
  var counter = document.getElementById("seatmap-count");
  var selected = new Set();
  var byId = new Map();

  var svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", data.viewbox.join(" "));
  svg.setAttribute("class", "seatmap-svg");
  svg.setAttribute("role", "application");
  svg.setAttribute("aria-label", "Seat map: click seats to select them, drag to select an area");
  host.appendChild(svg);

  if (data.stage) {
    var stage = document.createElementNS(SVG_NS, "rect");
    ["x", "y", "width", "height"].forEach(function (k) { stage.setAttribute(k, data.stage[k]); });
    stage.setAttribute("fill", data.stage.shape === "field" ? "#bbf7d0" : "#e5e7eb");
    svg.appendChild(stage);
    var label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("x", data.stage.x + data.stage.width / 2);
    label.setAttribute("y", data.stage.y + data.stage.height / 2);
    label.setAttribute("text-anchor", "middle");
    label.setAttribute("dominant-baseline", "middle");
    label.setAttribute("font-size", Math.max(10, Math.min(data.stage.height / 3, 60)));
    label.textContent = data.stage.label || "";
    svg.appendChild(label);
  }

  var layer = document.createElementNS(SVG_NS, "g");
  svg.appendChild(layer);
  data.seats.forEach(function (s) {
    // [id, x, y, status, section_id, row, number, colour, flags]
    var seat = {id: s[0], x: s[1], y: s[2], status: s[3], section: s[4], row: s[5], number: s[6],
                colour: s[7], flags: s[8] || ""};
    var c = document.createElementNS(SVG_NS, "circle");
    c.setAttribute("cx", seat.x);
    c.setAttribute("cy", seat.y);
    c.setAttribute("r", 4.2);
    c.setAttribute("fill", STATUS_FILL[seat.status] || seat.colour || "#60a5fa");
    c.setAttribute("class", "seat status-" + seat.status + (seat.flags ? " flag-" + seat.flags.split(" ").join(" flag-") : ""));
    c.dataset.id = seat.id;
    var title = document.createElementNS(SVG_NS, "title");
    title.textContent = (data.sectionNames[seat.section] || "") + " row " + seat.row + " seat " + seat.number +
      " — " + seat.status + (seat.flags ? " (" + seat.flags + ")" : "");
    c.appendChild(title);
    layer.appendChild(c);
    seat.node = c;
    byId.set(seat.id, seat);
  });

  function refresh() {
    input.value = Array.from(selected).join(",");
    if (counter) counter.textContent = selected.size + " selected";
  }
  function setSelected(seat, on) {
    if (on) selected.add(seat.id); else selected.delete(seat.id);
    seat.node.classList.toggle("selected", on);
  }
  function selectWhere(predicate) {
    byId.forEach(function (seat) { if (predicate(seat)) setSelected(seat, true); });
    refresh();
  }

  layer.addEventListener("click", function (e) {
    var id = e.target.dataset && e.target.dataset.id;
    if (!id) return;
    var seat = byId.get(Number(id));
    setSelected(seat, !selected.has(seat.id));
    refresh();
  });
  layer.addEventListener("dblclick", function (e) {
    var id = e.target.dataset && e.target.dataset.id;
    if (!id) return;
    var seat = byId.get(Number(id));
    selectWhere(function (other) { return other.section === seat.section && other.row === seat.row; });
  });

  // Rectangle selection: drag anywhere; seats inside are added to the selection.
  var band = null, origin = null;
  function toSvg(e) {
    var pt = svg.createSVGPoint();
    pt.x = e.clientX; pt.y = e.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }
  svg.addEventListener("mousedown", function (e) {
    if (e.button !== 0) return;
    origin = toSvg(e);
    band = document.createElementNS(SVG_NS, "rect");
    band.setAttribute("class", "seatmap-band");
    band.setAttribute("x", origin.x); band.setAttribute("y", origin.y);
    band.setAttribute("width", 0); band.setAttribute("height", 0);
    svg.appendChild(band);
  });
  svg.addEventListener("mousemove", function (e) {
    if (!band) return;
    var p = toSvg(e);
    band.setAttribute("x", Math.min(p.x, origin.x)); band.setAttribute("y", Math.min(p.y, origin.y));
    band.setAttribute("width", Math.abs(p.x - origin.x)); band.setAttribute("height", Math.abs(p.y - origin.y));
  });
  window.addEventListener("mouseup", function (e) {
    if (!band) return;
    var x = +band.getAttribute("x"), y = +band.getAttribute("y");
    var w = +band.getAttribute("width"), h = +band.getAttribute("height");
    band.remove(); band = null;
    if (w < 3 && h < 3) return;  // a click, handled above
    selectWhere(function (s) { return s.x >= x && s.x <= x + w && s.y >= y && s.y <= y + h; });
  });

  var sectionPicker = document.getElementById("seatmap-section");
  var sectionButton = document.getElementById("seatmap-select-section");
  if (sectionButton) sectionButton.addEventListener("click", function () {
    var id = Number(sectionPicker.value);
    selectWhere(function (s) { return s.section === id; });
  });
  var clear = document.getElementById("seatmap-clear");
  if (clear) clear.addEventListener("click", function () {
    byId.forEach(function (seat) { setSelected(seat, false); });
    refresh();
  });
  var all = document.getElementById("seatmap-select-all");
  if (all) all.addEventListener("click", function () { selectWhere(function () { return true; }); });
  refresh();
})();
