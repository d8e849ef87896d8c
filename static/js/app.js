// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // No control submits its form on "change": a select changes as arrow keys move through it, and
  // a page that navigates then is a change of context the user did not ask for (WCAG 3.2.2).
  // "Select all" checkboxes for bulk actions: <input type="checkbox" data-select-all="name">
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.selectAll) {
      document.querySelectorAll('input[type="checkbox"][name="' + target.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });
  // The number of ticked rows, kept in view beside the bulk actions:
  // <span data-selection-count="name" data-template="Selected: %(count)s">.
  function countSelection() {
    document.querySelectorAll("[data-selection-count]").forEach(function (counter) {
      var name = counter.dataset.selectionCount;
      var ticked = document.querySelectorAll('input[type="checkbox"][name="' + name + '"]:checked').length;
      counter.textContent = counter.dataset.template.replace("%(count)s", String(ticked));
    });
  }
  document.addEventListener("change", countSelection);
  document.addEventListener("click", function (event) {
    if (event.target.dataset && event.target.dataset.selectAll) {
      countSelection();
    }
  });
  document.addEventListener("htmx:afterSwap", countSelection);
  countSelection();
  // A reason that needs notes says so as it is chosen: <select data-notes-required="3 7"> lists the
  // options that need them; the form's notes field is marked required and its hint shown.
  function notesRequired(select) {
    var form = select.form;
    if (!form) {
      return;
    }
    var needed = select.value !== "" && (" " + select.dataset.notesRequired + " ").indexOf(" " + select.value + " ") !== -1;
    var notes = form.querySelector('[name="notes"]');
    var hint = form.querySelector("[data-notes-hint]");
    if (notes) {
      notes.required = needed;
      var field = notes.closest(".field");
      if (field) {
        field.classList.toggle("required", needed);
      }
    }
    if (hint) {
      hint.hidden = !needed;
    }
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.notesRequired !== undefined) {
      notesRequired(target);
    }
  });
  document.querySelectorAll("select[data-notes-required]").forEach(notesRequired);
  // A folded panel (the analytics filters on a phone): <div data-fold><button data-fold-toggle ...>.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest ? event.target.closest("[data-fold-toggle]") : null;
    var fold = toggle ? toggle.closest("[data-fold]") : null;
    if (fold) {
      toggle.setAttribute("aria-expanded", fold.classList.toggle("open") ? "true" : "false");
    }
  });
  // Confirm dialogs for links/buttons carrying data-confirm.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.dataset ? form.dataset.confirm : null;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
