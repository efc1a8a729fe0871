// The district board: choosing another district shows it at once (the form's button is for
// browsers without JavaScript). A file, not an inline onchange: the CSP allows no inline script.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
