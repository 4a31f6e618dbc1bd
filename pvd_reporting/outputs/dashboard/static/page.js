(function () {
  "use strict";
  var FIGS = {{ figures }};
  var PERIOD = {{ period_json }};
  var CONFIG = {displaylogo: false, responsive: true, displayModeBar: false};
  // plotly writes every relayout into the layout it was given: the screen's own values are kept
  // apart, so that printing twice prints the same.
  var SCREEN = {};
  document.querySelectorAll("[data-chart]").forEach(function (div) {
    var fig = FIGS[div.getAttribute("data-chart")];
    if (!fig) { return; }
    SCREEN[div.id] = {height: fig.layout.height || 420, legend: Object.assign({}, fig.layout.legend || {})};
    Plotly.newPlot(div, fig.data, fig.layout, CONFIG);
  });

  // Take a chart to a slide: its image (PNG, SVG) and its data (CSV for Excel: « ; », BOM).
  var decoder = document.createElement("textarea");
  function plain(v) {
    if (v === null || v === undefined) { return ""; }
    if (typeof v === "number") { return String(v).replace(".", ","); }
    decoder.innerHTML = String(v).replace(/<br>/g, " ");
    return decoder.value;
  }
  function cell(v) {
    var t = plain(v);
    return /[;"\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  }
  function axisTitle(axis, fallback) {
    var t = axis && axis.title && (axis.title.text || axis.title);
    return typeof t === "string" && t ? plain(t) : fallback;
  }
  window.pvdChartCsv = function (id) {
    if (id.indexOf("carte") === 0 && window.pvdMapCsv) {
      return "\ufeff" + window.pvdMapCsv.map(function (r) { return r.map(cell).join(";"); }).join("\r\n") + "\r\n";
    }
    var div = document.getElementById("c-" + id);
    var layout = div.layout || {};
    var lines = [];
    (div.data || []).forEach(function (tr) {
      if (!tr.x || !tr.y) { return; }
      var flip = tr.orientation === "h";
      var cats = flip ? tr.y : tr.x, vals = flip ? tr.x : tr.y;
      if (tr.marker && Array.isArray(tr.marker.color) && tr.mode && tr.mode.indexOf("markers") !== -1) {
        cats = tr.x.map(function (x, i) { return plain(tr.y[i]) + " — " + plain(x); });
        vals = tr.marker.color;
      }
      for (var i = 0; i < cats.length; i++) { lines.push([tr.name || "", cats[i], vals[i]].map(cell).join(";")); }
    });
    var head = ["Série", axisTitle(layout.xaxis, "Catégorie"), axisTitle(layout.yaxis, "Valeur")];
    if (div.data && div.data[0] && div.data[0].orientation === "h") { head = ["Série", axisTitle(layout.yaxis, "Catégorie"), axisTitle(layout.xaxis, "Valeur")]; }
    return "\ufeff" + [head.map(cell).join(";")].concat(lines).join("\r\n") + "\r\n";
  };
  function download(name, blob) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  document.querySelectorAll("[data-export]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var id = btn.getAttribute("data-for"), kind = btn.getAttribute("data-export");
      var name = id + "-" + PERIOD;
      if (kind === "csv") {
        download(name + ".csv", new Blob([window.pvdChartCsv(id)], {type: "text/csv;charset=utf-8"}));
      } else {
        var div = document.getElementById(id === "carte" ? "carte-plot" : id === "carte-montants" ? "carte-montants" : "c-" + id);
        Plotly.downloadImage(div, {format: kind, filename: name, width: 1600, height: Math.max(div.offsetHeight, 500) * 2, scale: 1});
      }
    });
  });
  // Printing: each chart redrawn at the printed page's width and its own height, so that its
  // type prints at the size it has on screen (12 px = 9 pt) and every bar keeps its name.
  var PRINT_WIDTH = 712, HALF_WIDTH = 350;
  function chartsTo(width) {
    document.querySelectorAll("[data-chart]").forEach(function (div) {
      if (!div.data) { return; }
      var screen = SCREEN[div.id];
      var height = screen.height, legend = screen.legend;
      var stacked = legend.orientation === "v";
      // The charts over quarters are wide and low on paper: the briefing keeps to eight pages.
      var quarterly = div.closest("#evolution") !== null;
      var low = quarterly ? 0.62 : 0.62;
      var w = quarterly && width !== null ? HALF_WIDTH : width;
      // A stacked chart's legend moves under its title on paper: it keeps its height for the plot.
      var printed = stacked && !quarterly ? Math.round(height * 0.82) : Math.max(Math.round(height * low), 260);
      var update = width === null ? {width: null, height: height, autosize: true}
                                  : {width: w, height: printed, autosize: false};
      if (width !== null) { update["uniformtext.minsize"] = 10; update["uniformtext.mode"] = "show"; }
      if (stacked) {
        // On paper the legend of a stacked chart goes under its title: beside it, it would
        // take the plot's width and run off the page.
        update["legend.orientation"] = width === null ? "v" : "h";
        update["legend.x"] = width === null ? legend.x : 0;
        update["legend.y"] = width === null ? legend.y : 1.02;
        update["legend.xanchor"] = width === null ? legend.xanchor : "left";
        update["legend.yanchor"] = width === null ? legend.yanchor : "bottom";
      }
      Plotly.relayout(div, update);
    });
  }
  window.addEventListener("beforeprint", function () { chartsTo(PRINT_WIDTH); });
  window.addEventListener("afterprint", function () { chartsTo(null); });
  if (window.matchMedia) {
    window.matchMedia("print").addEventListener("change", function (e) { chartsTo(e.matches ? PRINT_WIDTH : null); });
  }

  function norm(s) {
    return (s || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[’‘`]/g, "'")
      .replace(/\s+/g, " ").trim().toLowerCase();
  }
  var changes = document.getElementById("t-changes");
  if (changes) {
    var crows = Array.prototype.slice.call(changes.tBodies[0].rows);
    var ckind = document.getElementById("f-change-kind"), csearch = document.getElementById("f-change-search");
    var ccount = document.getElementById("change-count");
    var filterChanges = function () {
      var k = ckind.value, q = norm(csearch.value), n = 0;
      crows.forEach(function (tr) {
        var ok = (!k || tr.getAttribute("data-kind") === k) && (!q || tr.getAttribute("data-search").indexOf(q) !== -1);
        tr.hidden = !ok;
        if (ok) { n += 1; }
      });
      ccount.textContent = n + (n > 1 ? " changements" : " changement");
    };
    ckind.addEventListener("change", filterChanges);
    csearch.addEventListener("input", filterChanges);
  }
  var table = document.getElementById("t-list");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var dept = document.getElementById("f-dept");
  var status = document.getElementById("f-status");
  var search = document.getElementById("f-search");
  var count = document.getElementById("count");
  function applyFilters() {
    var d = dept.value, s = status.value, q = norm(search.value), n = 0;
    rows.forEach(function (tr) {
      var ok = (!d || tr.getAttribute("data-dept") === d) && (!s || tr.getAttribute("data-status") === s) &&
        (!q || tr.getAttribute("data-search").indexOf(q) !== -1);
      tr.hidden = !ok;
      if (ok) { n += 1; }
    });
    count.textContent = n + (n > 1 ? " territoires" : " territoire");
  }
  [dept, status].forEach(function (el) { el.addEventListener("change", applyFilters); });
  search.addEventListener("input", applyFilters);

  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, col) {
    th.setAttribute("tabindex", "0");
    function sortBy() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var kind = th.getAttribute("data-type");
      function key(tr) {
        var td = tr.cells[col];
        var v = td.hasAttribute("data-v") ? td.getAttribute("data-v") : td.textContent;
        if (kind === "text") { return norm(v); }
        if (v === "" || v === "—") { return null; }
        if (kind === "date") { return v; }
        var f = parseFloat(v);
        return isNaN(f) ? v : f;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null && y === null) { return 0; }
        if (x === null) { return 1; }  // blanks last, whatever the direction
        if (y === null) { return -1; }
        var c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y), "fr");
        return asc ? c : -c;
      });
      rows.forEach(function (tr) { body.appendChild(tr); });
    }
    th.addEventListener("click", sortBy);
    th.setAttribute("role", "columnheader");
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(); } });
  });

  var opener = null;  // what had the focus when a panel opened: it gets it back on close
  function openPanel(tr, from) {
    var panel = document.getElementById("p-" + tr.getAttribute("data-i"));
    document.querySelectorAll(".panel.open").forEach(function (p) { p.classList.remove("open"); });
    rows.forEach(function (r) { r.classList.remove("sel"); });
    tr.classList.add("sel");
    panel.classList.add("open");
    document.body.classList.add("panel-alone");  // printed now, the panel comes out alone
    opener = from || tr;
    panel.scrollIntoView({block: "start"});
    panel.focus({preventScroll: true});
  }
  window.pvdOpenPanel = openPanel;
  function closePanel(panel) {
    panel.classList.remove("open");
    document.body.classList.remove("panel-alone");
    var tr = body.querySelector('tr[data-i="' + panel.id.slice(2) + '"]');
    if (tr) { tr.classList.remove("sel"); }
    var back = opener && document.contains(opener) ? opener : tr;
    opener = null;
    if (back) { back.focus(); }
  }
  rows.forEach(function (tr) {
    tr.addEventListener("click", function () { openPanel(tr); });
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openPanel(tr); } });
  });
  document.querySelectorAll("[data-close]").forEach(function (btn) {
    btn.addEventListener("click", function () { closePanel(btn.closest(".panel")); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var panel = document.querySelector(".panel.open");
    if (panel) { e.preventDefault(); closePanel(panel); }
  });
})();
