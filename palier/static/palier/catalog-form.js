/* Catalog request form: show, require and filter fields from the answers given above them,
   following the rules the server applies (palier/catalog/conditions.py), read from the JSON in
   #catalog-rules. Without this script every field shows and the server still decides. */
(function () {
  "use strict";
  var form = document.getElementById("catalog-form");
  var data = document.getElementById("catalog-rules");
  if (!form || !data) { return; }
  var rules = JSON.parse(data.textContent);
  if (!rules.length) { return; }
  var byKey = {};
  rules.forEach(function (rule) { byKey[rule.key] = rule; });
  var boxes = Array.prototype.slice.call(form.querySelectorAll("[data-catalog-field]"));
  var hidden = {};
  var originals = {};

  function isEmpty(value) {
    return value === null || value === "" || value === false || (Array.isArray(value) && !value.length);
  }

  function answer(key) {
    if (hidden[key]) { return null; }
    var inputs = form.querySelectorAll("[name='f_" + key + "']");
    if (!inputs.length) { return null; }
    var first = inputs[0];
    if (first.type === "checkbox" && first.closest("fieldset")) {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    if (first.type === "checkbox") { return first.checked; }
    if (first.type === "file") { return first.files && first.files.length ? first.files[0].name : ""; }
    return first.value;
  }

  function matches(rule, value) {
    if (rule.op === "true") { return value === true; }
    if (rule.op === "false") { return value !== true; }
    if (rule.op === "not_empty") { return !isEmpty(value); }
    var wanted = Array.isArray(rule.value) ? rule.value : [rule.value];
    var given = Array.isArray(value) ? value : (isEmpty(value) ? [] : [value]);
    return given.some(function (v) { return wanted.indexOf(String(v)) !== -1; });
  }

  function mark(box, required) {
    var label = box.querySelector("label.form-label, legend");
    if (!label) { return; }
    var star = label.querySelector(".catalog-required");
    var existing = label.querySelector("span[aria-hidden='true']:not(.catalog-required)");
    if (existing) { existing.hidden = !required; return; }
    if (required && !star) {
      star = document.createElement("span");
      star.className = "catalog-required";
      star.setAttribute("aria-hidden", "true");
      star.textContent = " *";
      label.appendChild(star);
    } else if (star) {
      star.hidden = !required;
    }
  }

  function filter(box, key, offered) {
    var select = box.querySelector("select");
    if (select) {
      if (!originals[key]) { originals[key] = Array.prototype.slice.call(select.options); }
      var current = select.value;
      select.textContent = "";
      originals[key].forEach(function (option) {
        if (option.value === "" || offered.indexOf(option.value) !== -1) { select.appendChild(option); }
      });
      select.value = offered.indexOf(current) !== -1 ? current : "";
      return;
    }
    Array.prototype.forEach.call(box.querySelectorAll("input[type='checkbox']"), function (input) {
      var wrap = input.closest(".form-check") || input;
      var ok = offered.indexOf(input.value) !== -1;
      wrap.hidden = !ok;
      if (!ok) { input.checked = false; }
    });
  }

  function update() {
    hidden = {};
    boxes.forEach(function (box) {
      var key = box.getAttribute("data-catalog-field").replace(/^f_/, "");
      var rule = byKey[key];
      if (!rule) { return; }
      var show = !rule.show || matches(rule.show, answer(rule.show.field));
      box.hidden = !show;
      if (!show) { hidden[key] = true; return; }
      if (rule.show || rule.require) {
        mark(box, rule.required || (rule.require ? matches(rule.require, answer(rule.require.field)) : false));
      }
      if (rule.filter) {
        var source = answer(rule.filter.field);
        filter(box, key, isEmpty(source) ? [] : (rule.filter.map[String(source)] || []));
      }
    });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
