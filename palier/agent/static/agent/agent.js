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

  // --- the queue's selection: the bar appears while tickets are selected ---------------------
  function setMatching(count) {
    var all = document.getElementById("bulk-all-matching");
    var expected = document.getElementById("bulk-expected");
    var table = document.getElementById("queue-table");
    if (!all || !expected) return;
    all.value = count && table ? table.dataset.countUrl.split("?")[1] || "" : "";
    expected.value = count || "";
    if (!count) all.dataset.count = "";
    else all.dataset.count = count;
  }

  function updateCount() {
    var out = document.getElementById("bulk-count");
    var bar = document.getElementById("bulk-form");
    if (!out || !bar) return;
    var n = selectedTickets().length;
    var all = document.getElementById("bulk-all-matching");
    var matching = all && all.value ? all.dataset.count : "";
    out.textContent = "(" + (matching || n ? out.dataset.some.replace("%(n)s", matching || n) : out.dataset.none) + ")";
    bar.toggleAttribute("data-empty", n === 0);
    var button = document.getElementById("select-matching");
    var table = document.getElementById("queue-table");
    var pageAll = document.querySelector("[data-select-all]");
    if (button && table) {
      var offer = table.dataset.next === "1" && pageAll && pageAll.checked;
      button.hidden = !offer;
      if (!offer) {
        setMatching(0);
        button.disabled = false;
        button.textContent = button.dataset.offer || button.textContent;
      }
    }
  }
  window.palierQueueSelectionChanged = updateCount;

  // shift-click: every box between the last one clicked and this one takes its state
  var lastBox = null;
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.matches('#queue-table input[name="tickets"]')) return;
    var boxes = Array.prototype.slice.call(document.querySelectorAll('#queue-table input[name="tickets"]'));
    if (event.shiftKey && lastBox && boxes.indexOf(lastBox) >= 0) {
      var a = boxes.indexOf(lastBox);
      var b = boxes.indexOf(box);
      boxes.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (other) {
        other.checked = box.checked;
      });
      updateCount();
    }
    lastBox = box;
  });

  // "select every ticket of this view": count them on the server first, then ask to confirm
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element && event.target.closest("#select-matching");
    var table = document.getElementById("queue-table");
    if (!button || !table) return;
    if (!button.dataset.offer) button.dataset.offer = button.textContent;
    button.disabled = true;
    fetch(table.dataset.countUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        if (data.too_many) {
          button.textContent = button.dataset.tooMany;
          return;
        }
        setMatching(data.count);
        button.textContent = button.dataset.chosen.replace("%(n)s", data.count);
        updateCount();
        button.hidden = false;
      })
      .catch(function () {
        button.disabled = false;
      });
  });

  // applying a change to every ticket of the view is confirmed once more, with the number
  document.addEventListener(
    "submit",
    function (event) {
      var all = document.getElementById("bulk-all-matching");
      var button = document.getElementById("select-matching");
      if (!(event.target instanceof HTMLFormElement) || event.target.id !== "bulk-form" || !all || !all.value) return;
      if (event.submitter && event.submitter.id !== "bulk-apply") return;
      if (!window.confirm(button.dataset.confirm.replace("%(n)s", all.dataset.count))) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      document.querySelectorAll('#queue-table input[name="tickets"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches && target.matches('input[name="tickets"], [data-select-all]')) {
      if (target.matches('input[name="tickets"]') && !target.checked) {
        var pageAll = document.querySelector("[data-select-all]");
        if (pageAll) pageAll.checked = false;
      }
      updateCount();
    }
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
