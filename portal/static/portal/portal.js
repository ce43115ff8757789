/* 提交诉求: fill the chosen category's description template (defined once in Python,
   tickets/categories.py, rendered into the page as JSON) into the textarea, unless the
   enterprise has already written something of its own. No library, no network. */
(function () {
  "use strict";
  var data = document.getElementById("description-templates");
  var category = document.getElementById("id_category");
  var description = document.getElementById("id_description");
  if (!data || !category || !description) return;
  var templates = JSON.parse(data.textContent);
  var known = Object.keys(templates).map(function (k) { return templates[k].trim(); });

  function untouched() {
    var text = description.value.trim();
    return text === "" || known.indexOf(text) !== -1;
  }

  category.addEventListener("change", function () {
    if (!untouched()) return;
    var text = templates[category.value] || templates[""] || "";
    description.value = text;
  });
})();
