// Draws a BPMN diagram with bpmn-js into every element with a data-diagram-url attribute.
// Markers: data-current / data-completed (JSON lists of element ids) get the `current` and
// `completed` classes. With data-details, clicking an element shows the matching
// <section data-element="ID"> of the page and hides the others.
(function () {
  "use strict";

  function ids(container, name) {
    try { return JSON.parse(container.getAttribute(name) || "[]"); } catch (e) { return []; }
  }

  function showDetails(container, elementId) {
    var panel = document.getElementById(container.getAttribute("data-details"));
    if (!panel) { return; }
    var sections = panel.querySelectorAll("[data-element]");
    var shown = false;
    sections.forEach(function (section) {
      var match = section.getAttribute("data-element") === elementId;
      section.hidden = !match;
      shown = shown || match;
    });
    var empty = panel.querySelector("[data-empty]");
    if (empty) { empty.hidden = shown; }
  }

  function draw(container) {
    var status = container.parentNode.querySelector("[data-diagram-status]");
    if (typeof BpmnJS === "undefined") {
      if (status) { status.textContent = container.getAttribute("data-missing-viewer"); }
      return;
    }
    var viewer = new BpmnJS({ container: container });
    fetch(container.getAttribute("data-diagram-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status + " " + response.statusText); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        ids(container, "data-completed").forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, "completed"); }
        });
        ids(container, "data-current").forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, "current"); }
        });
        if (container.hasAttribute("data-details")) {
          viewer.get("eventBus").on("element.click", function (event) { showDetails(container, event.element.id); });
        }
        container.setAttribute("data-ready", "true");
        if (status) { status.textContent = ""; }
      })
      .catch(function (error) {
        if (status) { status.textContent = container.getAttribute("data-failed") + " " + error.message; }
      });
  }

  document.querySelectorAll("[data-diagram-url]").forEach(draw);

  // Buttons that show an element's details without the diagram (keyboard users, screen readers).
  document.querySelectorAll("[data-show-element]").forEach(function (button) {
    button.addEventListener("click", function () {
      var container = document.querySelector("[data-details]");
      if (container) { showDetails(container, button.getAttribute("data-show-element")); }
    });
  });
}());
