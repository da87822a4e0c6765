/* Palier agent workspace: small progressive enhancements (the pages work without them). */
(function () {
  "use strict";

  function selectedTickets() {
    return document.querySelectorAll('#queue-table input[name="tickets"]:checked');
  }

  // The queue's 15-second refresh waits while the agent is selecting rows or using the table.
  window.palierQueueIdle = function () {
    return selectedTickets().length === 0 && !document.querySelector("#queue-table :focus");
  };

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
