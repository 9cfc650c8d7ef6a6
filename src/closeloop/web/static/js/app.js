/* closeloop pages: keyboard shortcuts, live updates, small htmx glue. No framework.
 *
 * Live updates (see docs/subsystems/web.md):
 *   <body data-live-topics="tickets ticket:12"> opens one EventSource on /live/stream.
 *   Each event is dispatched on <body> as `closeloop:live` with detail {topic, data}, so
 *   - htmx elements refresh with  hx-trigger="closeloop:live from:body"
 *     (filter: hx-trigger="closeloop:live[detail.topic=='ticket:12'] from:body");
 *   - or plain elements with data-live-refresh="<topics, empty = any>" data-live-url="/fragment"
 *     (data-live-swap, default outerHTML) are refetched by this file, at most once per 500 ms,
 *     and not while the user is typing inside them (then on leaving the field).
 *   After a reconnect a `closeloop:live` with topic "*" and data.event "reconnected" is sent,
 *   so pages refetch what they may have missed.
 *
 * Shortcuts: window.closeloop.shortcuts.register(key, handler). Keys are ignored while typing.
 */
(function () {
  "use strict";

  var closeloop = (window.closeloop = window.closeloop || {});

  /* --- keyboard shortcuts ---------------------------------------------------------------- */

  var handlers = {};

  function register(key, handler) {
    handlers[key] = handler;
  }

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    var dialog = document.querySelector("dialog.shortcut-dialog[open]");
    if (dialog && event.key !== "?" && event.key !== "Escape") return;
    var handler = handlers[event.key];
    if (!handler) return;
    if (handler(event) !== false) event.preventDefault();
  });

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-row]"));
  }

  function currentRow() {
    return document.querySelector("[data-row].is-current");
  }

  function moveCurrent(step) {
    var all = rows();
    if (!all.length) return false;
    var index = all.indexOf(currentRow());
    var next = all[Math.min(all.length - 1, Math.max(0, index < 0 ? 0 : index + step))];
    all.forEach(function (row) {
      row.classList.remove("is-current");
      row.removeAttribute("aria-current");
    });
    next.classList.add("is-current");
    next.setAttribute("aria-current", "true");
    next.scrollIntoView({ block: "nearest" });
    return true;
  }

  function openCurrent(event) {
    var active = document.activeElement;
    // Enter on a focused link or button keeps its own meaning.
    if (event.key === "Enter" && active && active !== document.body && !active.hasAttribute("data-row")) {
      return false;
    }
    var row = currentRow();
    if (!row || !row.getAttribute("data-href")) return false;
    window.location.href = row.getAttribute("data-href");
    return true;
  }

  function focusField(name) {
    return function () {
      var field = document.querySelector('[data-shortcut="' + name + '"]');
      if (!field) return false;
      var details = field.closest("details");
      if (details) details.open = true;
      field.focus();
      return true;
    };
  }

  function clickTarget(name) {
    return function () {
      var button = document.querySelector('[data-shortcut="' + name + '"]');
      if (!button) return false;
      button.click();
      return true;
    };
  }

  function toggleHelp() {
    var dialog = document.querySelector("dialog.shortcut-dialog");
    if (!dialog) {
      var template = document.getElementById("shortcut-help");
      if (!template) return false;
      dialog = document.createElement("dialog");
      dialog.className = "shortcut-dialog";
      dialog.setAttribute("aria-labelledby", "shortcut-help-title");
      dialog.appendChild(template.content.cloneNode(true));
      var heading = dialog.querySelector("h2");
      if (heading) heading.id = "shortcut-help-title";
      dialog.addEventListener("click", function (event) {
        if (event.target === dialog || event.target.hasAttribute("data-close-dialog")) dialog.close();
      });
      document.body.appendChild(dialog);
    }
    if (dialog.open) dialog.close();
    else dialog.showModal();
    return true;
  }

  register("j", function () { return moveCurrent(1); });
  register("k", function () { return moveCurrent(-1); });
  register("o", openCurrent);
  register("Enter", openCurrent);
  register("r", focusField("reply"));
  register("n", focusField("note"));
  register("a", clickTarget("assign-me"));
  register("/", function () {
    var search = document.getElementById("global-search");
    if (!search) return false;
    search.focus();
    search.select();
    return true;
  });
  register("?", toggleHelp);

  closeloop.shortcuts = { register: register, moveCurrent: moveCurrent };

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-shortcut-help]")) {
      toggleHelp();
      return;
    }
    var toggle = target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav && nav.classList.toggle("is-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    // A click on a list row (not on a link or control inside it) opens the ticket.
    var row = target.closest("[data-row][data-href]");
    if (row && !target.closest("a, button, input, label, select, textarea")) {
      window.location.href = row.getAttribute("data-href");
    }
  });

  /* --- htmx glue ------------------------------------------------------------------------- */

  // Error pages name their target (HX-Retarget: #flash); htmx does not swap 4xx by default.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Keep the keyboard cursor on the same row when a list is refreshed.
  var rememberedRow = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var row = currentRow();
    rememberedRow = row ? row.getAttribute("data-row") : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!rememberedRow || currentRow()) return;
    var again = document.querySelector('[data-row="' + CSS.escape(rememberedRow) + '"]');
    if (again) again.classList.add("is-current");
  });

  /* --- live updates ------------------------------------------------------------------------ */

  var source = null;
  var backoff = 1000;
  var reconnectTimer = null;
  var hadConnection = false;

  function liveTopics() {
    var value = document.body.getAttribute("data-live-topics") || "";
    return value.split(/\s+/).filter(Boolean);
  }

  function dispatch(topic, data) {
    document.body.dispatchEvent(
      new CustomEvent("closeloop:live", { detail: { topic: topic, data: data }, bubbles: true })
    );
    refreshListeners(topic);
  }

  var pending = new Map();

  function refreshListeners(topic) {
    var elements = document.querySelectorAll("[data-live-refresh]");
    Array.prototype.forEach.call(elements, function (element) {
      var wanted = (element.getAttribute("data-live-refresh") || "").split(/\s+/).filter(Boolean);
      if (topic !== "*" && wanted.length && wanted.indexOf(topic) < 0) return;
      scheduleRefresh(element);
    });
  }

  function scheduleRefresh(element) {
    if (pending.has(element)) return;
    pending.set(element, window.setTimeout(function () {
      pending.delete(element);
      refresh(element);
    }, 500));
  }

  function refresh(element) {
    if (!document.body.contains(element)) return;
    var active = document.activeElement;
    if (active && element.contains(active) && isTyping(active)) {
      // Do not pull the text field from under the user's fingers: refresh when they leave.
      active.addEventListener("blur", function () { scheduleRefresh(element); }, { once: true });
      return;
    }
    var url = element.getAttribute("data-live-url");
    if (!url || !window.htmx) return;
    window.htmx.ajax("GET", url, {
      source: element,
      target: element,
      swap: element.getAttribute("data-live-swap") || "outerHTML",
    });
  }

  function connect() {
    var topics = liveTopics();
    if (!topics.length || !window.EventSource) return;
    var query = topics.map(function (t) { return "topic=" + encodeURIComponent(t); }).join("&");
    source = new EventSource("/live/stream?" + query);
    source.onopen = function () {
      backoff = 1000;
      if (hadConnection) dispatch("*", { event: "reconnected" });
      hadConnection = true;
    };
    source.onmessage = function (message) {
      var parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      dispatch(parsed.topic, parsed.data || {});
    };
    source.onerror = function () {
      // The browser retries dropped connections itself; a refused one (signed out, server
      // down at connect time) is closed for good: retry with backoff, up to a minute apart.
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        var delay = backoff + Math.floor(Math.random() * 500);
        backoff = Math.min(backoff * 2, 60000);
        window.clearTimeout(reconnectTimer);
        reconnectTimer = window.setTimeout(connect, delay);
      }
    };
  }

  closeloop.live = {
    dispatch: dispatch,
    reconnect: function () {
      if (source) source.close();
      source = null;
      connect();
    },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
  window.addEventListener("pagehide", function () {
    if (source) source.close();
    source = null;
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !source) {
      connect();
      dispatch("*", { event: "reconnected" });
    }
  });
})();
