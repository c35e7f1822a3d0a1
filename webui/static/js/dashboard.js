// The dashboard: the heatmap on the bpmn-js diagram (drawn, zoomed and scrolled by diagram.js), the
// measure switch, the figures of the activity under the pointer or keyboard focus in the panel beside
// it, variant highlighting, drill-down clicks, and the chart.js charts. Data come from data-*
// attributes written by the server (no inline script: the CSP forbids it).
(function () {
  "use strict";

  var STEPS = 10;
  var DRAWN = /Task$|^bpmn:(SubProcess|CallActivity|Transaction|AdHocSubProcess)$|Event$/;
  var SETTLE = 150;  // ms before the panel goes back to its help: moving between activities does not flicker

  function json(element, name, fallback) {
    try { return JSON.parse(element.getAttribute(name) || ""); } catch (e) { return fallback; }
  }

  // --- heatmap --------------------------------------------------------------------------------
  function Heatmap(container) {
    this.container = container;
    this.figures = json(container, "data-figures", {});
    this.names = json(container, "data-measure-names", {});
    this.panel = document.querySelector("[data-heat-panel]");
    this.shown = null;
    this.pending = null;
    this.touched = false;  // the last press was a touch
    this.tapped = null;    // the activity tapped last
  }

  Heatmap.prototype.draw = function () {
    var self = this;
    if (typeof BankflowDiagram === "undefined") { return; }
    self.idle();
    self.container.addEventListener("pointerdown", function (event) { self.touched = event.pointerType === "touch"; });
    new BankflowDiagram(self.container).draw(function (viewer) {
      self.canvas = viewer.get("canvas");
      self.registry = viewer.get("elementRegistry");
      self.activities = self.registry.filter(function (element) {
        return !element.labelTarget && element.type && DRAWN.test(element.type);
      });
      self.activities.forEach(function (element) { self.wire(element); });
      self.apply(self.container.getAttribute("data-measure"));
    });
  };

  Heatmap.prototype.wire = function (element) {
    var self = this;
    var gfx = self.registry.getGraphics(element);
    var figures = self.figures[element.id];
    gfx.setAttribute("data-element", element.id);
    if (!figures) { return; }
    gfx.setAttribute("tabindex", "0");
    gfx.setAttribute("role", "button");
    // The accessible name starts with the text the diagram draws (the model's own words), then says the
    // name in the reader's language when it differs, so both speech and the visible label match.
    var drawn = (element.businessObject && element.businessObject.name || "").replace(/\s+/g, " ").trim();
    gfx.setAttribute("aria-label", drawn && drawn !== figures.name ? drawn + " – " + figures.name : figures.name);
    gfx.addEventListener("pointerenter", function (event) { if (event.pointerType !== "touch") { self.show(element.id); } });
    gfx.addEventListener("pointerleave", function (event) { if (event.pointerType !== "touch") { self.hide(); } });
    gfx.addEventListener("focus", function () { self.show(element.id); });
    gfx.addEventListener("blur", function () { self.hide(); });
    gfx.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); self.drill(element.id); }
    });
    // on a touch screen the first tap shows the figures, the second drills down
    gfx.addEventListener("click", function () {
      if (self.touched && self.tapped !== element.id) {
        self.tapped = element.id;
        self.show(element.id);
      } else {
        self.drill(element.id);
      }
    });
  };

  Heatmap.prototype.drill = function (id) {
    var url = this.container.getAttribute("data-drill-url");
    var measure = this.container.getAttribute("data-measure");
    url = url.replace("__ELEMENT__", encodeURIComponent(id));
    url = url.replace(/([?&])measure=[^&#]*/, "$1measure=" + encodeURIComponent(measure));
    if (url.indexOf("measure=") < 0) { url = url.replace("#", (url.indexOf("?") < 0 ? "?" : "&") + "measure=" + measure + "#"); }
    window.location.assign(url);
  };

  function paragraph(text) {
    var p = document.createElement("p");
    p.className = "hint";
    p.textContent = text;
    return p;
  }

  // The panel shows an activity's name and figures (at the page's font size, beside the diagram).
  Heatmap.prototype.show = function (id) {
    var figures = this.figures[id];
    if (!this.panel || !figures) { return; }
    clearTimeout(this.pending);
    if (this.shown) { this.canvas.removeMarker(this.shown, "heat-shown"); }
    this.canvas.addMarker(id, "heat-shown");
    this.shown = id;
    var title = document.createElement("h3");
    title.textContent = figures.name;
    var list = document.createElement("dl");
    list.className = "facts";
    figures.figures.forEach(function (pair) {
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = pair[0];
      dd.textContent = pair[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    this.panel.replaceChildren(title, list, paragraph(this.panel.getAttribute("data-drill-hint")));
    this.panel.setAttribute("data-showing", id);
  };

  // Back to the focused activity, else to the help, once the pointer has settled elsewhere.
  Heatmap.prototype.hide = function () {
    var self = this;
    clearTimeout(self.pending);
    self.pending = setTimeout(function () {
      var focused = document.activeElement && document.activeElement.getAttribute("data-element");
      if (focused && self.figures[focused] && self.container.contains(document.activeElement)) {
        self.show(focused);
      } else {
        self.idle();
      }
    }, SETTLE);
  };

  Heatmap.prototype.idle = function () {
    if (!this.panel) { return; }
    if (this.shown) { this.canvas.removeMarker(this.shown, "heat-shown"); }
    this.shown = null;
    this.tapped = null;
    this.panel.replaceChildren(paragraph(this.panel.getAttribute("data-idle-hint")));
    this.panel.removeAttribute("data-showing");
  };

  Heatmap.prototype.apply = function (measure) {
    var self = this;
    if (!self.activities) { return; }
    var high = 0;
    self.activities.forEach(function (element) {
      var figures = self.figures[element.id];
      var heat = figures ? figures.heat[measure] : null;
      var gfx = self.registry.getGraphics(element);
      for (var i = 0; i < STEPS; i += 1) { self.canvas.removeMarker(element.id, "heat-" + i); }
      self.canvas.removeMarker(element.id, "heat-none");
      gfx.setAttribute("data-measure", measure);
      if (heat === null || heat === undefined) {
        gfx.setAttribute("data-heat", "0");
        gfx.setAttribute("data-no-history", "true");
        self.canvas.addMarker(element.id, "heat-none");
      } else {
        gfx.setAttribute("data-heat", String(heat));
        gfx.removeAttribute("data-no-history");
        self.canvas.addMarker(element.id, "heat-" + Math.min(STEPS - 1, Math.floor(heat * STEPS)));
        var value = figures.values[measure];
        if (value !== null && value > high) { high = value; }
      }
    });
    self.container.setAttribute("data-measure", measure);
    self.legend(measure, high);
  };

  Heatmap.prototype.legend = function (measure, high) {
    var legend = document.querySelector(".heat-legend");
    if (!legend) { return; }
    var text;
    if (measure === "wait_share") { text = "100 %"; } else if (measure === "share") {
      text = (high * 100).toFixed(1) + " %";
    } else if (measure === "duration") { text = hours(high); } else { text = String(high); }
    legend.querySelector("[data-legend-high]").textContent = text;
    legend.querySelector("[data-legend-name]").textContent = this.names[measure] || measure;
  };

  function hours(seconds) {
    if (seconds < 3600) { return (seconds / 60).toFixed(0) + " min"; }
    if (seconds < 86400) { return (seconds / 3600).toFixed(1) + " h"; }
    return (seconds / 86400).toFixed(1) + " d";
  }

  Heatmap.prototype.highlight = function (path) {
    var self = this;
    if (!self.activities) { return; }
    var on = {};
    (path || []).forEach(function (id) { on[id] = true; });
    self.registry.getAll().forEach(function (element) {
      if (element.labelTarget || !element.type || element.type === "bpmn:Process" ||
          element.type === "bpmn:Collaboration" || element.type === "bpmn:Participant" || element.type === "bpmn:Lane") {
        return;
      }
      self.canvas.removeMarker(element.id, "on-path");
      self.canvas.removeMarker(element.id, "off-path");
      if (path) {
        var inPath = on[element.id] || (element.source && element.target && on[element.source.id] && on[element.target.id]);
        self.canvas.addMarker(element.id, inPath ? "on-path" : "off-path");
      }
    });
    self.container.setAttribute("data-variant", path ? path.join(",") : "");
  };

  var heatmap = null;
  var container = document.getElementById("heatmap");
  if (container) {
    heatmap = new Heatmap(container);
    heatmap.draw();
  }

  document.querySelectorAll("[data-measure-switch] input[name=measure]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked || !heatmap) { return; }
      heatmap.apply(radio.value);
      var url = new URL(window.location.href);
      url.searchParams.set("measure", radio.value);
      window.history.replaceState(null, "", url.toString());
    });
  });

  document.querySelectorAll("button[data-variant]").forEach(function (button) {
    button.addEventListener("click", function () {
      var pressed = button.getAttribute("aria-pressed") === "true";
      document.querySelectorAll("button[data-variant]").forEach(function (other) {
        other.setAttribute("aria-pressed", "false");
      });
      if (!heatmap) { return; }
      if (pressed) {
        heatmap.highlight(null);
      } else {
        button.setAttribute("aria-pressed", "true");
        heatmap.highlight(json(button, "data-variant", []));
      }
    });
  });

  // --- charts ---------------------------------------------------------------------------------
  var COLOURS = ["#0b5394", "#e34a33", "#6c9a6c", "#9a6700"];

  function chart(canvas) {
    if (typeof Chart === "undefined") { return; }
    var spec = json(canvas, "data-chart", null);
    if (!spec) { return; }
    var datasets = spec.datasets.map(function (set, i) {
      return { label: set.label, data: set.data, borderColor: COLOURS[i % COLOURS.length],
               backgroundColor: COLOURS[i % COLOURS.length], borderWidth: spec.type === "line" ? 2 : 0,
               pointRadius: spec.spark ? 0 : 3, tension: 0.2, spanGaps: true };
    });
    var options = { animation: false, responsive: !spec.spark, maintainAspectRatio: !spec.spark,
                    plugins: { legend: { display: !spec.spark && datasets.length > 1 } } };
    if (spec.spark) {
      options.scales = { x: { display: false }, y: { display: false } };
      options.plugins.tooltip = { enabled: false };
    } else {
      options.scales = { y: { beginAtZero: true, title: { display: Boolean(spec.y), text: spec.y } } };
      if (spec.horizontal) {
        options.indexAxis = "y";
        options.scales = { x: { beginAtZero: true, title: { display: Boolean(spec.y), text: spec.y } } };
      }
    }
    canvas.chart = new Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets: datasets },
                                       options: options });
    canvas.setAttribute("data-drawn", "true");
  }

  document.querySelectorAll("canvas[data-chart]").forEach(chart);
}());
