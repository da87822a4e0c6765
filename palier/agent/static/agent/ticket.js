/* Palier agent ticket page: the reply box's small helpers (the page works without them). */
(function () {
  "use strict";

  function replyBody() {
    return document.querySelector("#reply-form textarea[name=body]");
  }

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    // "Write an internal note": switch the reply box to an internal note and put the cursor in it.
    if (event.target.closest("[data-reply-note]")) {
      var note = document.querySelector('#reply-form input[name=visibility][value=internal]');
      if (note) {
        note.checked = true;
        note.dispatchEvent(new Event("input", { bubbles: true }));
      }
      var body = replyBody();
      if (body) body.focus();
    }
    // "Discard the draft": empty the box; the autosave of an empty text forgets the draft.
    if (event.target.closest("[data-draft-discard]")) {
      var box = replyBody();
      if (box) {
        box.value = "";
        box.focus();
      }
      document.body.dispatchEvent(new CustomEvent("draft-save"));
    }
  });
})();
