// Choosing another year shows it (the page's <noscript> button does the same without script).
// A file rather than an onchange attribute: the admin's Content-Security-Policy has no
// 'unsafe-inline'.
document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
