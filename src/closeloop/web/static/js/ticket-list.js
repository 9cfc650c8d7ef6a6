/* The ticket list (agent/tickets/list.html): selection and bulk actions, keyboard "a" on the
 * current row, the SLA countdowns, and live refresh.
 *
 * Live: when a ticket opens or changes (topic "tickets"), the view counts in the side nav are
 * refreshed at once; the rows are refreshed only when that cannot move a row from under the
 * agent (first page, nothing selected, not typing in the list) — otherwise a banner offers
 * the refresh. Refreshes are debounced: a burst of changes costs one request.
 */
(function () {
  "use strict";

  var list = document.getElementById("ticket-list");
  if (!list) return;
  var table = list.querySelector("[data-ticket-table]");
  var body = document.getElementById("ticket-rows");
  var banner = document.getElementById("list-banner");
  var bulkForm = document.getElementById("bulk-form");
  var countLabel = list.querySelector("[data-selection-count]");
  var noneSelected = countLabel ? countLabel.textContent : "";
  var changes = 0;

  /* --- selection ---------------------------------------------------------------------- */

  function rowBoxes() {
    return Array.prototype.slice.call(body.querySelectorAll("[data-select-row]"));
  }

  function selected() {
    return rowBoxes().filter(function (box) { return box.checked; });
  }

  function updateSelection() {
    var chosen = selected();
    var all = table.querySelector("[data-select-all]");
    var boxes = rowBoxes();
    if (all) {
      all.checked = boxes.length > 0 && chosen.length === boxes.length;
      all.indeterminate = chosen.length > 0 && chosen.length < boxes.length;
    }
    if (countLabel) {
      var pattern = countLabel.getAttribute("data-t-selected") || "{count}";
      countLabel.textContent = chosen.length
        ? pattern.replace("{count}", String(chosen.length))
        : noneSelected;
    }
    var numbers = document.getElementById("selected-numbers");
    if (numbers) {
      numbers.innerHTML = "";
      chosen.forEach(function (box) {
        var option = document.createElement("option");
        option.value = box.closest("[data-row]").getAttribute("data-ticket-number");
        numbers.appendChild(option);
      });
    }
  }

  list.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      rowBoxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], [data-select-row]")) updateSelection();
    if (target.matches("[data-bulk-action]")) showOptions();
  });

  function showOptions() {
    var action = bulkForm.querySelector("[data-bulk-action]").value;
    Array.prototype.forEach.call(bulkForm.querySelectorAll("[data-for-action]"), function (item) {
      var active = item.getAttribute("data-for-action") === action;
      item.hidden = !active;
      Array.prototype.forEach.call(item.querySelectorAll("input, select"), function (field) {
        field.disabled = !active;
      });
    });
  }

  if (bulkForm) showOptions();

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  /* --- keyboard: "a" assigns the current row to me -------------------------------------- */

  if (window.closeloop && window.closeloop.shortcuts) {
    window.closeloop.shortcuts.register("a", function () {
      var row = document.querySelector("[data-row].is-current");
      var button = row && row.querySelector('[data-shortcut="assign-me"]');
      if (!button) return false;
      button.click();
      return true;
    });
  }

  /* --- SLA countdowns tick every 30 s ---------------------------------------------------- */

  // The page's translated patterns, the same the server renders with.
  function pattern(name, values) {
    var text = table.getAttribute("data-t-" + name) || "";
    return text.replace(/\{(\w+)\}/g, function (_match, key) { return values[key]; });
  }

  function remaining(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var rest = minutes % 60;
    if (days) return pattern("days", { days: days, hours: hours });
    if (hours) return pattern("hours", { hours: hours, minutes: (rest < 10 ? "0" : "") + rest });
    return pattern("minutes", { minutes: rest });
  }

  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(body.querySelectorAll("[data-due]"), function (cell) {
      var due = Date.parse(cell.getAttribute("data-due"));
      var time = cell.querySelector("time.sla");
      if (isNaN(due) || !time) return;
      var seconds = (due - now) / 1000;
      var overdue = seconds < 0;
      time.textContent = pattern(overdue ? "overdue" : "left", { span: remaining(seconds) });
      if (overdue) {
        time.classList.remove("sla-running", "sla-warning");
        time.classList.add("sla-breached");
      }
    });
  }

  window.setInterval(tick, 30000);

  /* --- live refresh ------------------------------------------------------------------------ */

  var countsTimer = null;
  var rowsTimer = null;

  function refreshCounts() {
    window.clearTimeout(countsTimer);
    countsTimer = window.setTimeout(function () {
      fetch("/agent/nav/counts", { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : {}; })
        .then(function (counts) {
          Object.keys(counts).forEach(function (key) {
            var cell = document.querySelector('[data-count-for="' + CSS.escape(key) + '"]');
            if (cell) cell.textContent = counts[key];
          });
        })
        .catch(function () {});
    }, 300);
  }

  function busy() {
    var active = document.activeElement;
    var typing = active && list.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)
      && !active.matches("[data-select-row], [data-select-all]");
    return list.getAttribute("data-first-page") !== "true" || selected().length > 0 || typing;
  }

  function refreshRows() {
    if (!window.htmx) return;
    changes = 0;
    if (banner) banner.hidden = true;
    var url = list.getAttribute("data-list-url");
    url += (url.indexOf("?") < 0 ? "?" : "&") + "fragment=body";
    window.htmx.ajax("GET", url, { target: body, swap: "innerHTML" }).then(function () {
      list.setAttribute("data-first-page", "true");
      updateSelection();
      tick();
    });
  }

  function showBanner() {
    changes += 1;
    if (!banner) return;
    var counter = banner.querySelector("[data-change-count]");
    if (counter) counter.textContent = String(changes);
    banner.hidden = false;
  }

  function ticketsChanged() {
    refreshCounts();
    if (busy()) {
      showBanner();
      return;
    }
    window.clearTimeout(rowsTimer);
    rowsTimer = window.setTimeout(function () {
      if (busy()) {
        showBanner();
      } else {
        refreshRows();
      }
    }, 1000);
  }

  document.body.addEventListener("closeloop:live", function (event) {
    var topic = event.detail && event.detail.topic;
    if (topic === "tickets" || topic === "*") ticketsChanged();
  });

  // A bulk action answered: the changed rows and counts are shown now, the selection is done.
  document.body.addEventListener("ticket-list-changed", function () {
    rowBoxes().forEach(function (box) { box.checked = false; });
    refreshCounts();
    refreshRows();
  });

  list.addEventListener("click", function (event) {
    if (event.target.closest("[data-list-refresh]")) refreshRows();
  });

  // Pages loaded with "Next page" are not the first page any more: live changes then wait.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var more = event.detail && event.detail.requestConfig && event.detail.requestConfig.path;
    if (more && more.indexOf("fragment=rows") >= 0) list.setAttribute("data-first-page", "false");
    updateSelection();
  });
})();
