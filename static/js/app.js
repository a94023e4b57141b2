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

  // The routing page's rule editor: add, reorder and remove rule rows; chips of the values
  // seen in the QR's scans add themselves to their condition. Without JS the page still
  // works: a spare row, an order number and a remove box per rule.
  document.documentElement.classList.add("js");

  function renumberRules(list) {
    var rows = list.querySelectorAll("[data-rule-row]");
    for (var i = 0; i < rows.length; i++) {
      var number = rows[i].querySelector("[data-rule-number]");
      var position = rows[i].querySelector("[data-rule-position]");
      if (number) number.textContent = String(i + 1);
      if (position) position.value = String(i + 1);
    }
  }

  var ruleKeys = 0;
  document.addEventListener("click", function (ev) {
    var list = document.getElementById("rules");
    if (!list) return;
    if (ev.target.closest("[data-add-rule]")) {
      var tpl = document.getElementById("rule-template");
      if (!tpl) return;
      var fragment = tpl.content.cloneNode(true);
      var key = "n" + Date.now().toString(36) + (ruleKeys++);
      var named = fragment.querySelectorAll("[name]");
      for (var i = 0; i < named.length; i++) {
        var el = named[i];
        if (el.name === "rule_key") el.value = key;
        else el.name = el.name.replace(/_new$/, "_" + key);
      }
      list.appendChild(fragment);
      renumberRules(list);
      var rows = list.querySelectorAll("[data-rule-row]");
      var label = rows[rows.length - 1].querySelector("input[name=rule_label]");
      if (label) label.focus();
      return;
    }
    var row = ev.target.closest("[data-rule-row]");
    if (!row) {
      return;
    }
    if (ev.target.closest("[data-rule-remove]")) {
      row.remove();
      renumberRules(list);
    } else if (ev.target.closest("[data-rule-up]")) {
      var before = row.previousElementSibling;
      if (before) list.insertBefore(row, before);
      renumberRules(list);
    } else if (ev.target.closest("[data-rule-down]")) {
      var after = row.nextElementSibling;
      if (after) list.insertBefore(after, row);
      renumberRules(list);
    } else {
      var chip = ev.target.closest("[data-pick]");
      var target = chip && chip.closest("[data-pick-target]");
      var input = target && target.querySelector("input");
      if (!input) return;
      var value = chip.getAttribute("data-pick");
      var values = input.value.split(",").map(function (v) { return v.trim(); }).filter(Boolean);
      if (values.indexOf(value) < 0) values.push(value);
      input.value = values.join(", ");
    }
  });

})();
