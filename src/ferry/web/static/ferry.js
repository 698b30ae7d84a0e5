// Ferry's small page behaviours: oneOf groups, repeatable form items, the stream table,
// schedule and namespace choices, confirmations. Everything else is htmx and plain forms.
(function () {
  "use strict";

  function showVariant(select) {
    var group = select.getAttribute("data-oneof");
    document.querySelectorAll('[data-variant-of="' + group + '"]').forEach(function (fieldset) {
      var on = fieldset.getAttribute("data-variant") === select.value;
      fieldset.hidden = !on;
      fieldset.disabled = !on;
    });
  }

  function renumber(array) {
    var label = array.getAttribute("data-label") || "Item";
    array.querySelectorAll(":scope > [data-items] > [data-item]").forEach(function (item, i) {
      var legend = item.querySelector(":scope > legend");
      if (legend) legend.textContent = label + " " + (i + 1);
    });
  }

  function addItem(button) {
    var array = button.closest("[data-array]");
    var template = array.querySelector(":scope > template");
    var index = parseInt(array.getAttribute("data-next") || "0", 10);
    var html = template.innerHTML.split(array.getAttribute("data-token")).join(String(index));
    var items = array.querySelector(":scope > [data-items]");
    items.insertAdjacentHTML("beforeend", html);
    array.setAttribute("data-next", String(index + 1));
    renumber(array);
    var added = items.lastElementChild;
    var first = added && added.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function removeItem(button) {
    var array = button.closest("[data-array]");
    var item = button.closest("[data-item]");
    var next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    renumber(array);
    var focus = next ? next.querySelector("input:not([type=hidden]), select, textarea") : array.querySelector("[data-add-item]");
    if (focus) focus.focus();
  }

  function applyMode(select) {
    var row = select.closest("[data-stream-row]");
    var option = select.options[select.selectedIndex];
    [["[data-cursor-cell]", "data-cursor"], ["[data-key-cell]", "data-key"]].forEach(function (pair) {
      var cell = row.querySelector(pair[0]);
      var needed = option && option.getAttribute(pair[1]) === "1";
      cell.classList.toggle("na", !needed);
      cell.querySelectorAll("select").forEach(function (s) { s.disabled = !needed; });
    });
  }

  function applyChoice(attribute, value, scope) {
    scope.querySelectorAll("[" + attribute + "]").forEach(function (element) {
      element.hidden = element.getAttribute(attribute) !== value;
    });
  }

  function applySchedule(scope) {
    var checked = scope.querySelector('input[name="schedule_type"]:checked');
    if (checked) applyChoice("data-when-schedule", checked.value, document);
    var namespace = scope.querySelector("select[data-namespace]");
    if (namespace) applyChoice("data-when-namespace", namespace.value, document);
  }

  function init(scope) {
    scope.querySelectorAll("select[data-oneof]").forEach(showVariant);
    scope.querySelectorAll("select[data-mode]").forEach(applyMode);
    applySchedule(scope);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-oneof]")) showVariant(target);
    else if (target.matches("select[data-mode]")) applyMode(target);
    else if (target.matches('input[name="schedule_type"], select[data-namespace]')) applySchedule(document);
    else if (target.matches("select[data-autosubmit]")) target.form.requestSubmit();
    else if (target.matches("[data-stream-row] input[type=checkbox]")) {
      target.closest("[data-stream-row]").classList.toggle("off", !target.checked);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-item], [data-remove-item]");
    if (!button) return;
    event.preventDefault();
    if (button.hasAttribute("data-add-item")) addItem(button);
    else removeItem(button);
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  document.addEventListener("htmx:load", function (event) { init(event.target); });

  function ready() {
    init(document);
    var alert = document.querySelector("[data-focus]");
    if (alert) alert.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
