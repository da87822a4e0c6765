// Macros, agent ticket page: picking a macro in the reply box inserts its rendered text into the
// reply (#id_body) at the cursor and remembers its id (#reply-macro), posted with the reply so its
// field changes apply when the reply is sent.
// The reply box is swapped by htmx after each reply, which runs this file again: listen once.
if (!window.palierMacrosReady) {
window.palierMacrosReady = true;
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-macro-insert]");
  if (!button) return;
  const box = document.getElementById("id_body");
  const chosen = document.getElementById("reply-macro");
  if (!box || !chosen) return;
  const text = button.dataset.text;
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  const before = box.value.slice(0, start);
  const glue = before && !/\s$/.test(before) ? "\n" : "";
  box.value = before + glue + text + box.value.slice(end);
  const caret = (before + glue + text).length;
  chosen.value = button.dataset.macroInsert;
  const note = document.getElementById("macro-chosen");
  if (note) {
    const template = button.dataset.changes ? note.dataset.withChanges : note.dataset.plain;
    note.textContent = (template || "").replace("%s", button.dataset.name);
  }
  const results = document.getElementById("macro-results");
  if (results) results.innerHTML = "";
  box.focus();
  box.setSelectionRange(caret, caret);
  box.dispatchEvent(new Event("input", { bubbles: true }));
});
}
