// QRStudio Box admin UI: a little progressive enhancement. Every page works without it.
// Loaded as an external file (the CSP allows no inline script).
(function () {
  "use strict";

  // Copy buttons: <button data-copy="text">
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    var text = btn.getAttribute("data-copy");
    var done = function () {
      var label = btn.querySelector("span");
      var old = label ? label.textContent : "";
      btn.classList.add("copied");
      if (label) label.textContent = "Copied";
      setTimeout(function () { btn.classList.remove("copied"); if (label) label.textContent = old; }, 1600);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(btn, text); done(); });
    } else {
      fallbackCopy(btn, text); done();
    }
  });

  // Error pages' "Go back": <a href="/" data-history-back> returns to the previous page when
  // there is one; without JavaScript (or history) the link goes to its href.
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest("[data-history-back]");
    if (!link || window.history.length < 2) return;
    ev.preventDefault();
    window.history.back();
  });

  function fallbackCopy(btn, text) {
    var row = btn.closest(".copy-row");
    var input = row && row.querySelector("input");
    if (input) { input.focus(); input.select(); }
    try { document.execCommand("copy"); } catch (e) { /* the text stays selected for the user */ }
  }

  // Confirm before destructive actions: <form data-confirm="Delete this webhook?">
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) ev.preventDefault();
  });

  // Filters that apply as soon as they change: <select data-autosubmit>
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
  });

  // A field marked wrong by the server stops looking wrong once the user edits it.
  document.addEventListener("input", function (ev) {
    var field = ev.target.closest && ev.target.closest(".field.has-error");
    if (!field) return;
    field.classList.remove("has-error");
    var msg = field.querySelector(".field-error");
    if (msg) msg.hidden = true;
    ev.target.removeAttribute("aria-invalid");
  });

  // Variant rows on the dynamic QR form: add / remove rows.
  document.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-add-variant]");
    if (add) {
      var list = document.getElementById("variants");
      var tpl = document.getElementById("variant-template");
      if (list && tpl) {
        list.appendChild(tpl.content.cloneNode(true));
        var rows = list.querySelectorAll(".variant-row");
        var last = rows[rows.length - 1];
        if (last) { var first = last.querySelector("input"); if (first) first.focus(); }
      }
      return;
    }
    var remove = ev.target.closest("[data-remove-variant]");
    if (remove) {
      var row = remove.closest(".variant-row");
      if (row) row.remove();
    }
  });

})();
