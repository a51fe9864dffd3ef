// Progressive enhancement for the pages in templates/events/home.html and search.html.
// Without this script both work as plain forms; with it the home page's search box shows results
// while typing (ARIA combobox: arrows move, Enter opens, Escape closes), and "Use my location" fills "near".
(function () {
  "use strict";

  function instantSearch(form) {
    var input = form.querySelector("input[name=q]");
    var listbox = document.createElement("ul");
    var status = document.createElement("p");
    var timer = null, controller = null, options = [], active = -1;
    listbox.id = input.id + "-results";
    listbox.className = "instant-results";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", "Matching events");
    listbox.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    form.appendChild(listbox);
    form.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function option(id, href, title, detail, extraClass) {
      var item = document.createElement("li");
      item.id = id;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.dataset.href = href;
      if (extraClass) item.className = extraClass;
      var strong = document.createElement("strong");
      strong.textContent = title;
      item.appendChild(strong);
      if (detail) {
        var span = document.createElement("span");
        span.textContent = detail;
        item.appendChild(span);
      }
      item.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep focus in the box
      item.addEventListener("click", function () { window.location.href = href; });
      return item;
    }

    function show(query, body) {
      listbox.textContent = "";
      options = body.results.map(function (event, i) {
        var when = new Date(event.starts_at).toLocaleDateString(undefined,
          {weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: event.venue.timezone});
        var price = event.min_price ? " · from €" + Number(event.min_price).toLocaleString() : "";
        return option(listbox.id + "-" + i, event.url, event.title,
                      when + " · " + event.venue.name + ", " + event.venue.city + price);
      });
      options.push(option(listbox.id + "-all", "/search/?q=" + encodeURIComponent(query),
                          body.total ? "All " + body.total + " results for “" + query + "”" : "No events match “" + query + "”",
                          "", "instant-all"));
      options.forEach(function (item) { listbox.appendChild(item); });
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = body.total ? body.total + " events found" : "No events found";
      active = -1;
    }

    function lookup() {
      var query = input.value.trim();
      if (query.length < 2) { close(); return; }
      if (controller) controller.abort();
      controller = new AbortController();
      fetch("/api/events?page_size=6&q=" + encodeURIComponent(query), {signal: controller.signal, headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) { if (body && input.value.trim() === query) show(query, body); })
        .catch(function () { /* aborted or offline: the form still submits */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (listbox.hidden) { if (options.length) { listbox.hidden = false; input.setAttribute("aria-expanded", "true"); } else return; }
        event.preventDefault();
        // Positions: -1 is the text box itself, then each option; the arrows wrap around.
        var next = event.key === "ArrowDown" ? active + 1 : active - 1;
        if (next >= options.length) next = -1;
        if (next < -1) next = options.length - 1;
        highlight(next);
      } else if (event.key === "Enter" && active >= 0 && !listbox.hidden) {
        event.preventDefault();
        window.location.href = options[active].dataset.href;
      } else if (event.key === "Escape" && !listbox.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function locateButton(button) {
    if (!navigator.geolocation) return;
    var field = document.getElementById("near");
    button.hidden = false;
    button.addEventListener("click", function () {
      button.textContent = "Locating…";
      navigator.geolocation.getCurrentPosition(function (position) {
        field.value = position.coords.latitude.toFixed(4) + "," + position.coords.longitude.toFixed(4);
        button.textContent = "Use my location";
      }, function () {
        button.textContent = "Location not available";
      }, {timeout: 10000});
    });
  }

  document.querySelectorAll("form[data-instant-search]").forEach(instantSearch);
  document.querySelectorAll("button[data-locate]").forEach(locateButton);
})();
