/* The ticket page's work timer: start, stop, and the minutes filled in.
 *
 * The start time is kept in localStorage per ticket, so the timer keeps running across a reload
 * or a htmx swap of the page. Stopping rounds the elapsed time to whole minutes (at least one),
 * writes them into every minutes field marked data-timer-minutes (the reply box and "log work")
 * and marks those forms' source as "timer"; typing minutes by hand marks them as typed again.
 * No dependency. */
(function () {
  "use strict";
  if (window.palierTimer) return; // the page's partials may load this file again
  window.palierTimer = true;
  var tick = null;

  function key(section) {
    return "palier.timer." + section.getAttribute("data-ticket");
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function show(section) {
    var display = section.querySelector("[data-timer-display]");
    var button = section.querySelector("[data-timer-toggle]");
    if (!display || !button) return;
    var start = Number(window.localStorage.getItem(key(section)) || 0);
    var seconds = start ? Math.max(0, Math.floor((Date.now() - start) / 1000)) : 0;
    display.textContent = Math.floor(seconds / 3600) + ":" + pad(Math.floor(seconds / 60) % 60) + ":" + pad(seconds % 60);
    button.textContent = button.getAttribute(start ? "data-label-stop" : "data-label-start");
    button.setAttribute("aria-pressed", start ? "true" : "false");
  }

  function fill(minutes) {
    document.querySelectorAll("[data-timer-minutes]").forEach(function (input) {
      input.value = String(minutes);
      var source = input.form && input.form.querySelector("[data-timer-source]");
      if (source) source.value = "timer";
    });
  }

  function toggle(section) {
    var storage = window.localStorage;
    var start = Number(storage.getItem(key(section)) || 0);
    if (start) {
      storage.removeItem(key(section));
      fill(Math.max(1, Math.round((Date.now() - start) / 60000)));
    } else {
      storage.setItem(key(section), String(Date.now()));
    }
    show(section);
  }

  function init() {
    var section = document.querySelector("#time[data-ticket]");
    if (tick) window.clearInterval(tick);
    tick = null;
    if (!section) return;
    show(section);
    tick = window.setInterval(function () {
      var current = document.querySelector("#time[data-ticket]");
      if (current) show(current);
    }, 1000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-timer-toggle]");
    var section = button && button.closest("#time[data-ticket]");
    if (section) toggle(section);
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-timer-minutes]") && input.form) {
      var source = input.form.querySelector("[data-timer-source]");
      if (source) source.value = "";
    }
  });
  document.addEventListener("htmx:afterSettle", init);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
