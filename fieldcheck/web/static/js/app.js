// fieldcheck web app: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // <form data-confirm="..."> asks before it is sent (publish a run, reject an inspection...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm") ||
      (event.submitter && event.submitter.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // <select data-autosubmit> sends its form when changed (filters).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });

  // Keyboard shortcuts: an element with data-key="a" is clicked when "a" is pressed outside a
  // text field (the review queue: a = approve, r = return, x = reject, j/k = next/previous).
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) {
      return;
    }
    if (event.key.length !== 1 || !/^[a-z]$/.test(event.key)) { return; }
    var target = document.querySelector('[data-key="' + event.key + '"]');
    if (target) {
      event.preventDefault();
      if (target.tagName.toLowerCase() === "a" || target.tagName.toLowerCase() === "button") {
        target.click();
      } else {
        target.focus();
      }
    }
  });

  // Rows in a [data-rows] table can be walked with j/k; Enter opens the row's first link.
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-rows] tbody tr"));
  if (rows.length) {
    var current = -1;
    var select = function (i) {
      if (current >= 0) { rows[current].classList.remove("selected"); }
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows[current].classList.add("selected");
      rows[current].scrollIntoView({ block: "nearest" });
    };
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select") { return; }
      if (event.key === "j") { select(current + 1); }
      else if (event.key === "k") { select(current - 1); }
      else if (event.key === "Enter" && current >= 0) {
        var link = rows[current].querySelector("a");
        if (link) { link.click(); }
      }
    });
  }
}());
