// Draws BPMN diagrams with bpmn-js's Viewer at a size people can read, in a box that scrolls the
// browser's own way (touch, wheel, scroll bars, arrow keys once the box has focus) and by dragging
// with the mouse. The buttons of the enclosing .diagram-frame (and the + - 0 keys) zoom; ctrl + wheel
// (a touchpad pinch) zooms at the pointer. The box's height follows the drawing's at the chosen scale.
// Every element with data-diagram-url is drawn here, except the heatmap (data-heatmap), which
// dashboard.js draws through window.BankflowDiagram. Markers: data-current / data-completed (JSON
// lists of element ids) get the `current` and `completed` classes, and the box scrolls to the first
// current one. With data-details, clicking an element shows the matching <section data-element="ID">
// of the page and hides the others.
(function () {
  "use strict";

  // bpmn-js writes labels at 12 px (11 px beside events and gateways: raised to 12 here); below a scale
  // of 0.92 they render under 11 px, too small to read. The first view never goes below it: a diagram
  // too wide for the box at 0.92 is shown from its top-left and scrolls. Zooming out by hand may go
  // lower, to see the whole at once.
  var LABEL_PX = 12;
  var MIN_READABLE = 0.92;
  var LOWEST = 0.2;
  var HIGHEST = 3;
  var STEP = 1.25;        // one press of a zoom button
  var PAD = 16;           // px of white around the drawing
  var MIN_HEIGHT = 200;   // px
  var MAX_HEIGHT = 0.7;   // of the window's height
  var DRAG = 4;           // px a mouse moves before a press becomes a drag rather than a click
  var KEYS = { "+": "in", "=": "in", "-": "out", "0": "fit" };

  function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }

  function tallest() { return Math.max(MIN_HEIGHT, window.innerHeight * MAX_HEIGHT); }

  function Diagram(box) {
    this.box = box;
    this.frame = box.closest(".diagram-frame") || box.parentNode;
    this.status = this.frame.querySelector("[data-diagram-status]");
    this.level = this.frame.querySelector("[data-zoom-level]");
    this.scale = 1;
    this.fitted = true;
  }

  Diagram.prototype.say = function (text) {
    if (this.status) { this.status.textContent = text; }
  };

  // Fetches and draws the diagram at a readable fit, then calls ready(viewer); says why if it cannot.
  Diagram.prototype.draw = function (ready) {
    var self = this;
    if (typeof BpmnJS === "undefined") {
      self.say(self.box.getAttribute("data-missing-viewer"));
      return;
    }
    self.sheet = document.createElement("div");
    self.sheet.className = "diagram-sheet";
    self.box.appendChild(self.sheet);
    self.viewer = new BpmnJS({ container: self.sheet, textRenderer: { externalStyle: { fontSize: LABEL_PX } } });
    fetch(self.box.getAttribute("data-diagram-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status + " " + response.statusText); }
        return response.text();
      })
      .then(function (xml) { return self.viewer.importXML(xml); })
      .then(function () {
        self.canvas = self.viewer.get("canvas");
        // the box is the one stop for the keyboard; bpmn-js makes its svg a second one
        self.sheet.querySelector("svg").removeAttribute("tabindex");
        self.bounds = self.canvas.viewbox().inner;
        self.width = self.box.clientWidth;
        self.fit();
        self.listen();
        if (ready) { ready(self.viewer); }
        self.box.setAttribute("data-ready", "true");
        self.say("");
      })
      .catch(function (error) { self.say(self.box.getAttribute("data-failed") + " " + error.message); });
  };

  // The largest scale up to 1 at which the whole drawing fits the box's width and the tallest box
  // allowed, but not below MIN_READABLE.
  Diagram.prototype.readableScale = function () {
    var b = this.bounds;
    return Math.max(MIN_READABLE, Math.min(1, (this.box.clientWidth - 2 * PAD) / b.width,
                                           (tallest() - 2 * PAD) / b.height));
  };

  Diagram.prototype.fit = function () {
    this.fitted = true;
    this.layout(this.readableScale());
    this.box.scrollLeft = 0;
    this.box.scrollTop = 0;
  };

  // Draws the diagram at `scale` on a sheet as large as the drawing (CSS centres a smaller one in the
  // box) and makes the box as tall as the sheet, within MIN_HEIGHT and tallest().
  Diagram.prototype.layout = function (scale) {
    var b = this.bounds, box = this.box;
    var width = Math.ceil(b.width * scale + 2 * PAD), height = Math.ceil(b.height * scale + 2 * PAD);
    this.scale = scale;
    this.sheet.style.width = width + "px";
    this.sheet.style.height = height + "px";
    box.style.height = "";
    var chrome = box.offsetHeight - box.clientHeight;  // borders and a horizontal scroll bar
    box.style.height = (clamp(height, MIN_HEIGHT, tallest()) + chrome) + "px";
    this.canvas.resized();
    this.canvas.viewbox({ x: b.x - PAD / scale, y: b.y - PAD / scale, width: width / scale, height: height / scale });
    box.setAttribute("data-scale", scale.toFixed(3));
    if (this.level) { this.level.textContent = Math.round(scale * 100) + " %"; }
  };

  // Where a point of the box (px from its top-left corner) lies on the drawing (diagram units).
  Diagram.prototype.pointAt = function (anchor) {
    var view = this.canvas.viewbox();
    return { x: view.x + (this.box.scrollLeft + anchor.x - this.sheet.offsetLeft) / this.scale,
             y: view.y + (this.box.scrollTop + anchor.y - this.sheet.offsetTop) / this.scale };
  };

  // Zooms to `scale`, keeping the drawing's point under `anchor` (px in the box) where it was;
  // without an anchor, around the middle of the box.
  Diagram.prototype.zoomTo = function (scale, anchor) {
    var box = this.box;
    var at = anchor || { x: box.clientWidth / 2, y: box.clientHeight / 2 };
    var point = this.pointAt(at), share = at.y / box.clientHeight;
    this.fitted = false;
    this.layout(clamp(scale, LOWEST, HIGHEST));
    var view = this.canvas.viewbox();
    box.scrollLeft = (point.x - view.x) * this.scale + this.sheet.offsetLeft - at.x;
    box.scrollTop = (point.y - view.y) * this.scale + this.sheet.offsetTop - share * box.clientHeight;
  };

  // Scrolls the box so that the element is in the middle of it, unless it is in view already.
  Diagram.prototype.reveal = function (element) {
    var box = this.box, view = this.canvas.viewbox();
    var left = (element.x - view.x) * this.scale + this.sheet.offsetLeft - box.scrollLeft;
    var top = (element.y - view.y) * this.scale + this.sheet.offsetTop - box.scrollTop;
    var width = element.width * this.scale, height = element.height * this.scale;
    if (left >= 0 && top >= 0 && left + width <= box.clientWidth && top + height <= box.clientHeight) { return; }
    box.scrollLeft += left + width / 2 - box.clientWidth / 2;
    box.scrollTop += top + height / 2 - box.clientHeight / 2;
  };

  Diagram.prototype.zoom = function (action) {
    if (action === "fit") {
      this.fit();
    } else {
      this.zoomTo(this.scale * (action === "in" ? STEP : 1 / STEP), null);
    }
  };

  Diagram.prototype.listen = function () {
    var self = this, box = self.box;
    self.frame.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () { self.zoom(button.getAttribute("data-zoom")); });
    });
    box.addEventListener("keydown", function (event) {
      var action = KEYS[event.key];
      if (!action || event.ctrlKey || event.metaKey || event.altKey) { return; }
      event.preventDefault();
      self.zoom(action);
    });
    box.addEventListener("wheel", function (event) {
      if (!event.ctrlKey) { return; }
      event.preventDefault();
      var rect = box.getBoundingClientRect();
      self.zoomTo(self.scale * Math.exp(-event.deltaY / 200),
                  { x: event.clientX - rect.left - box.clientLeft, y: event.clientY - rect.top - box.clientTop });
    }, { passive: false });
    self.dragToScroll();
    window.addEventListener("resize", function () {
      if (!box.clientWidth || box.clientWidth === self.width) { return; }  // hidden, or only taller
      self.width = box.clientWidth;
      if (self.fitted) { self.fit(); } else { self.layout(self.scale); }
    });
  };

  // A mouse (or pen) dragged over the drawing scrolls the box; touch scrolls it natively. The click
  // that ends a drag does not reach the drawing (no drill-down or details by accident).
  Diagram.prototype.dragToScroll = function () {
    var box = this.box, drag = null, dragged = false;
    box.addEventListener("pointerdown", function (event) {
      dragged = false;
      if (event.pointerType === "touch" || event.button !== 0 || event.target === box) { return; }
      drag = { x: event.clientX, y: event.clientY, left: box.scrollLeft, top: box.scrollTop, id: event.pointerId };
    });
    box.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!dragged && Math.abs(dx) + Math.abs(dy) < DRAG) { return; }
      if (!dragged) {
        dragged = true;
        box.setPointerCapture(drag.id);
        box.classList.add("dragging");
      }
      box.scrollLeft = drag.left - dx;
      box.scrollTop = drag.top - dy;
    });
    function end() {
      drag = null;
      box.classList.remove("dragging");
    }
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
    box.addEventListener("click", function (event) {
      if (dragged) {
        event.stopPropagation();
        event.preventDefault();
        dragged = false;
      }
    }, true);
  };

  window.BankflowDiagram = Diagram;

  // --- plain diagrams (case and designer pages) ---------------------------------------------------
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

  // Marks the completed and current activities and brings the first current one into view.
  function mark(diagram, viewer) {
    var container = diagram.box;
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    ids(container, "data-completed").forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "completed"); }
    });
    var current = ids(container, "data-current").filter(function (id) { return registry.get(id); });
    current.forEach(function (id) { canvas.addMarker(id, "current"); });
    if (current.length) { diagram.reveal(registry.get(current[0])); }
    if (container.hasAttribute("data-details")) {
      viewer.get("eventBus").on("element.click", function (event) { showDetails(container, event.element.id); });
    }
  }

  document.querySelectorAll("[data-diagram-url]:not([data-heatmap])").forEach(function (container) {
    var diagram = new Diagram(container);
    diagram.draw(function (viewer) { mark(diagram, viewer); });
  });

  // Buttons that show an element's details without the diagram (keyboard users, screen readers).
  document.querySelectorAll("[data-show-element]").forEach(function (button) {
    button.addEventListener("click", function () {
      var container = document.querySelector("[data-details]");
      if (container) { showDetails(container, button.getAttribute("data-show-element")); }
    });
  });
}());
