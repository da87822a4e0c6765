/* Palier agent workspace: small progressive enhancements (the pages work without them). */
(function () {
  "use strict";

  function selectedTickets() {
    return document.querySelectorAll('#queue-table input[name="tickets"]:checked');
  }

  // The queue's 15-second refresh waits while the agent is selecting rows or using the table. The
  // table listens for "queue-poll" (a trigger filter would be code in an attribute: CSP forbids it).
  window.palierQueueIdle = function () {
    return selectedTickets().length === 0 && !document.querySelector("#queue-table :focus");
  };
  window.setInterval(function () {
    var table = document.querySelector("#queue-table[data-poll-seconds]");
    if (table && window.htmx && window.palierQueueIdle()) window.htmx.trigger(table, "queue-poll");
  }, 15000);

  // The dashboards' Print button (no inline handler: CSP).
  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
  });

  // A form marked data-swap-400 shows the server's 400 answer (the form with its errors) in place.
  // The event fires on the swap target (#report-body, around the form), not on the form that asked.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var asker = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status === 400 && asker instanceof Element && asker.closest("[data-swap-400]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function updateCount() {
    var out = document.getElementById("bulk-count");
    if (!out) return;
    var n = selectedTickets().length;
    out.textContent = "(" + (n ? out.dataset.some.replace("%(n)s", n) : out.dataset.none) + ")";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      document.querySelectorAll('#queue-table input[name="tickets"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches && target.matches('input[name="tickets"], [data-select-all]')) updateCount();
    var form = target.form;
    var source = document.getElementById("priority-matrix");
    if (form && source && form.hasAttribute("data-matrix") && (target.name === "impact" || target.name === "urgency")) {
      var matrix = JSON.parse(source.textContent);
      var cell = matrix.find(function (c) {
        return c.impact === form.elements.impact.value && c.urgency === form.elements.urgency.value;
      });
      var output = form.querySelector("[data-priority-output]");
      if (cell && output) output.textContent = "P" + cell.priority;
    }
  });

  // After an htmx swap, move the keyboard focus to what the swap asks for (a message, a field in error).
  document.addEventListener("htmx:afterSettle", function (event) {
    updateCount();
    var config = event.detail && event.detail.requestConfig;
    if (!config || !config.elt || config.elt.tagName !== "FORM") return; // polls never move the focus
    var focus = document.querySelector("#panel [data-autofocus], #workspace [data-autofocus]");
    if (focus) focus.focus();
  });
})();
