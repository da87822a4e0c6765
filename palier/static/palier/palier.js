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
    document.querySelectorAll("details.user-menu[open], .nav-menu details[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    });
  });

  // A form marked data-submit-on-change (the language switcher) applies the choice at once; its
  // submit button is in a <noscript> for browsers without JavaScript.
  document.addEventListener("change", function (event) {
    var form = event.target instanceof Element && event.target.closest("form[data-submit-on-change]");
    if (!form) {
      return;
    }
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  });

  // The top bar's menus (<details>): one open at a time, closed by a click elsewhere.
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!(opened instanceof HTMLDetailsElement) || !opened.open || !opened.closest(".nav-menu, .user-menu")) {
      return;
    }
    document.querySelectorAll(".nav-menu details[open], details.user-menu[open]").forEach(function (other) {
      if (other !== opened) {
        other.removeAttribute("open");
      }
    });
  }, true);
  document.addEventListener("click", function (event) {
    document.querySelectorAll(".nav-menu details[open], details.user-menu[open]").forEach(function (menu) {
      if (!(event.target instanceof Node) || !menu.contains(event.target)) {
        menu.removeAttribute("open");
      }
    });
  });
})();
