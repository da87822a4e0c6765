/* Palier agent workspace: keyboard shortcuts (docs/agent-workspace.md). Progressive enhancement:
   every action is also a link, a button or a field on the page.

   The pages mark what the keys act on; a key does nothing on a page without its mark:
     queue rows       tr[data-kb-row][data-href]   j / k move, o or Enter opens, x selects
     row checkbox     input[data-kb-select]        (inside the row)
     text filter      [data-kb-search]             /  (else the header's search, [data-kb-global-search])
     ticket page      [data-kb-reply] r, [data-kb-note] n, [data-kb-assign-me] a, [data-kb-status] s
     the queue        a[data-nav="tickets"]        g then q
     the help         dialog#kb-help               ?
   No key fires while the person types in a field or holds Ctrl, Alt or Meta. */
(function () {
  "use strict";

  var CURRENT = "kb-current";
  var SEQUENCE_MS = 1500;
  var pendingG = 0; // time of a "g" waiting for its second key
  var currentHref = null; // the current row survives the queue's live refresh

  function typing(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    return !!target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])");
  }

  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll("tr[data-kb-row][data-href]"), function (row) {
      return row.offsetParent !== null; // visible rows only
    });
  }

  function currentRow() {
    return document.querySelector("tr[data-kb-row]." + CURRENT);
  }

  function setCurrent(row) {
    var before = currentRow();
    if (before) {
      before.classList.remove(CURRENT);
      before.removeAttribute("aria-current");
    }
    if (!row) return;
    row.classList.add(CURRENT);
    row.setAttribute("aria-current", "true");
    currentHref = row.getAttribute("data-href");
    // the focus follows, so screen readers announce the row and Tab goes on from it
    var target = row.querySelector("a[href]") || row;
    if (target === row && !row.hasAttribute("tabindex")) row.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return false;
    var index = list.indexOf(currentRow());
    if (index === -1) {
      index = step > 0 ? 0 : list.length - 1;
    } else {
      index = Math.min(list.length - 1, Math.max(0, index + step));
    }
    setCurrent(list[index]);
    return true;
  }

  function open() {
    var row = currentRow();
    if (!row) return false;
    window.location.assign(row.getAttribute("data-href"));
    return true;
  }

  function toggleSelection() {
    var row = currentRow();
    var box = row && row.querySelector("input[data-kb-select]");
    if (!box || box.disabled) return false;
    box.click(); // a real click: the page's change listeners (selection count, bulk bar) run
    return true;
  }

  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) return false;
    var closed = field.closest("details:not([open])");
    if (closed) closed.open = true;
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }

  function activate(selector) {
    var control = document.querySelector(selector);
    if (!control) return false;
    var tag = control.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && /^(text|search)$/.test(control.type))) {
      return focusField(selector);
    }
    control.click();
    return true;
  }

  function search() {
    var field = document.querySelector("[data-kb-search]") || document.querySelector("[data-kb-global-search]");
    if (!field) return false;
    field.focus();
    if (field.select) field.select();
    return true;
  }

  function toQueue() {
    var link = document.querySelector('a[data-nav="tickets"]');
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  function help() {
    var dialog = document.getElementById("kb-help");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    if (dialog.open) {
      dialog.close();
    } else {
      dialog.showModal();
    }
    return true;
  }

  var KEYS = {
    j: function () { return move(1); },
    k: function () { return move(-1); },
    o: open,
    x: toggleSelection,
    r: function () { return focusField("[data-kb-reply]"); },
    n: function () { return activate("[data-kb-note]"); },
    a: function () { return activate("[data-kb-assign-me]"); },
    s: function () { return focusField("[data-kb-status]"); },
    "/": search,
    "?": help,
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var key = event.key;
    var help = document.getElementById("kb-help");
    if (help && help.open && key !== "?") return; // the dialog has the keyboard (Escape closes it)
    var handled = false;
    if (pendingG && Date.now() - pendingG < SEQUENCE_MS && key === "q") {
      handled = toQueue();
    } else if (key === "g" && !event.shiftKey) {
      pendingG = Date.now();
      return;
    } else if (key === "Enter") {
      // Enter on a link or a button keeps its own meaning; elsewhere it opens the current row
      if (event.target instanceof Element && event.target.closest("a[href], button, summary, [role=button]")) {
        var row = currentRow();
        if (!row || !row.contains(event.target)) return;
      }
      handled = open();
    } else if (Object.prototype.hasOwnProperty.call(KEYS, key) && (key === "?" || !event.shiftKey)) {
      handled = KEYS[key]();
    }
    pendingG = 0;
    if (handled) event.preventDefault();
  });

  // The queue's live refresh replaces the rows: keep the same ticket current, without moving the focus.
  document.addEventListener("htmx:afterSettle", function () {
    if (!currentHref || currentRow()) return;
    var again = rows().filter(function (row) {
      return row.getAttribute("data-href") === currentHref;
    })[0];
    if (again) {
      again.classList.add(CURRENT);
      again.setAttribute("aria-current", "true");
    }
  });
})();
