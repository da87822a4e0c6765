// Automation pages: small enhancements over forms that work without this file.
//
// Rule form: each row of conditions or actions has the formset's "Delete" box (ticked rows are
// dropped on save); here a "Remove this row" button replaces it, ticks it and hides the row. Rows
// added by "Add a condition" / "Add an action" (htmx) get the same button and take the focus.
//
// Requester picker (PersonPicker widget): picking one of the people found moves them up to the
// current choice and clears the results; Enter in the search box searches instead of sending the form.
(function () {
  "use strict";
  if (window.palierAutomationReady) return;
  window.palierAutomationReady = true;

  function enhanceRows(root) {
    root.querySelectorAll("[data-row-remove][hidden]").forEach(function (button) {
      var row = button.closest("[data-row]");
      var box = row && row.querySelector("[data-row-delete]");
      if (!box) return;
      box.hidden = true;
      button.hidden = false;
      var tick = box.querySelector("input[type=checkbox]");
      if (tick && tick.checked) row.hidden = true;
    });
  }

  enhanceRows(document);
  document.addEventListener("htmx:load", function (event) {
    var element = event.target;
    if (!(element instanceof Element)) return;
    enhanceRows(element);
    if (element.matches("[data-row]")) {
      var first = element.querySelector("select, input:not([type=hidden]), textarea");
      if (first) first.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-row-remove]") : null;
    if (!button) return;
    var row = button.closest("[data-row]");
    var tick = row && row.querySelector("[data-row-delete] input[type=checkbox]");
    if (!tick) return;
    tick.checked = true;
    row.hidden = true;
    var add = row.closest("fieldset") && row.closest("fieldset").querySelector("[data-row-add]");
    if (add) add.focus();
  });

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!(radio instanceof HTMLInputElement) || radio.type !== "radio") return;
    var results = radio.closest("[data-person-results]");
    var picker = results && results.closest("[data-person-picker]");
    var chosen = picker && picker.querySelector("[data-person-chosen]");
    if (!chosen) return;
    chosen.replaceChildren(radio.closest(".form-check") || radio);
    results.replaceChildren();
    radio.checked = true;
    radio.focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target instanceof Element && event.target.matches("[data-person-search]")) {
      event.preventDefault();
      // searches now (the box's hx-trigger listens for it; no filter expression: CSP forbids eval)
      if (window.htmx) window.htmx.trigger(event.target, "person-search");
    }
  });
})();
