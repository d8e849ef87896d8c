// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("js-autosubmit") && target.form) {
      target.form.submit();
    }
  });
  // "Select all" checkboxes for bulk actions: <input type="checkbox" data-select-all="name">
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.selectAll) {
      document.querySelectorAll('input[type="checkbox"][name="' + target.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
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
