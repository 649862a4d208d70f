// The event form's agenda: add a row and move rows up and down. Without this
// script the form still works: one blank row is always there, and order is typed.
(function () {
  "use strict";
  var list = document.getElementById("agenda-rows");
  var add = document.getElementById("add-agenda-row");
  if (!list || !add) { return; }
  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move]");
    if (!button) { return; }
    var row = button.closest("li");
    if (button.dataset.move === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (button.dataset.move === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    button.focus();
  });
  add.hidden = false;
  add.addEventListener("click", function () {
    var last = list.lastElementChild;
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input, textarea").forEach(function (field) { field.value = ""; });
    copy.querySelectorAll(".field-error").forEach(function (error) { error.remove(); });
    list.appendChild(copy);
    copy.querySelector("input, textarea").focus();
  });
})();
