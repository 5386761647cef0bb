// Enhancement only: every page works without this script.
// A changed filter applies at once, instead of waiting for the Apply button.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
});
