/* Palier's small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // A file input with data-max-bytes warns about a file that is too large before sending it;
  // the server refuses it anyway (see palier/lib/uploads.py).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) {
      return;
    }
    var limit = parseInt(input.dataset.maxBytes, 10);
    var tooBig = Array.prototype.filter.call(input.files || [], function (file) {
      return file.size > limit;
    });
    var message = tooBig.length ? (input.dataset.tooLarge || "").replace("%s", tooBig.map(function (f) {
      return f.name;
    }).join(", ")) : "";
    input.setCustomValidity(message);
    if (message) {
      input.reportValidity();
    }
  });

  // Escape closes the account menu and gives focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    });
  });
})();
