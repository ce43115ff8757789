// The action fields sit inside the main change form for layout; submit them with their own
// form (admin/tickets/ticket/change_form.html). A file, not an inline script: the admin's
// Content-Security-Policy has no 'unsafe-inline'.
(function () {
  document.querySelectorAll("#ticket-actions input, #ticket-actions select, #ticket-actions textarea")
    .forEach(function (el) { if (el.type !== "submit") { el.setAttribute("form", "ticket-action-form"); } });
})();
