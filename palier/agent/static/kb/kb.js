// Knowledge base, agent ticket page: "Insert link" puts the article's title and address into the
// reply box (#id_body) at the cursor, then focuses it. htmx runs this file again when it swaps the
// area that loads it (after a reply): the guard keeps one listener, so a link is inserted once.
if (!window.palierKbInsert) {
window.palierKbInsert = true;
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-kb-insert]");
  if (!button) return;
  const box = document.getElementById("id_body");
  if (!box) return;
  const text = `${button.dataset.title}: ${button.dataset.url}`;
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  const before = box.value.slice(0, start);
  const glue = before && !/\s$/.test(before) ? "\n" : "";
  box.value = before + glue + text + box.value.slice(end);
  const caret = (before + glue + text).length;
  box.focus();
  box.setSelectionRange(caret, caret);
  box.dispatchEvent(new Event("input", { bubbles: true }));
});
}
