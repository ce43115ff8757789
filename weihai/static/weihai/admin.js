// Behaviour of the project's admin pages, loaded on every one of them (admin/base_site.html).
// In a file rather than in onchange="…" attributes or inline <script> elements: the admin runs
// under a Content-Security-Policy whose script-src is 'self' only (weihai/settings.py).
(function () {
  // <select data-submit-on-change>: choosing submits its form (language switch, calendar year).
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // <select data-navigate>: choosing opens the option's URL (list filters as a dropdown).
  document.querySelectorAll("select[data-navigate]").forEach(function (select) {
    select.addEventListener("change", function () { window.location.href = select.value; });
  });

  // The ticket list: the action bar's department (for 分派所选诉求) shows only for that action.
  (function () {
    var select = document.querySelector("#changelist-form select[name=action]");
    var field = document.querySelector("#changelist-form [name=department]");
    if (!select || !field) { return; }
    var holder = field.closest("label") || field.parentNode;
    function toggle() { holder.style.display = select.value === "dispatch_selected" ? "" : "none"; }
    select.addEventListener("change", toggle);
    toggle();
  })();

  // A ticket's page: show the fields the chosen action asks for, with that action's label
  // ("退单理由" …), from the registry's field list (json_script "ticket-action-fields").
  (function () {
    var data = document.getElementById("ticket-action-fields");
    var form = document.getElementById("ticket-action-form");
    if (!data || !form) { return; }
    var specs = JSON.parse(data.textContent);
    var choice = form.querySelector("select[name=action]");
    if (!choice) { return; }
    var rows = form.querySelectorAll(".form-row[data-field]");
    var original = {};
    rows.forEach(function (row) {
      var label = row.querySelector("label");
      if (label) { original[row.dataset.field] = label.textContent; }
    });
    var submit = form.querySelector(".submit-row");
    function show() {
      var wanted = {};
      (specs[choice.value] || []).forEach(function (f) {
        wanted[f.name] = f;
        // In the registry's order (办结: outcome, reply, then note), above the button.
        var row = form.querySelector('.form-row[data-field="' + f.name + '"]');
        if (row && submit) { submit.parentNode.insertBefore(row, submit); }
      });
      rows.forEach(function (row) {
        var name = row.dataset.field;
        if (name === "action") { return; }
        var spec = wanted[name];
        row.style.display = spec ? "" : "none";
        var label = row.querySelector("label");
        if (spec && label) {
          // Keep the language's label suffix (":" or "：") that Django put on the label.
          var text = original[name] || "";
          var suffix = /[:：]\s*$/.test(text) ? text.trim().slice(-1) : "";
          label.textContent = spec.label + suffix;
          label.classList.toggle("required", spec.required);
        }
      });
    }
    choice.addEventListener("change", show);
    show();
  })();
})();
