(function () {
  "use strict";
  var div = document.getElementById("carte-plot");
  var MAP = {{ m.figure }};
  var PANELS = {{ m.panels }};
  var MONEY = {{ m.money.json }};
  var HEIGHT = MAP.layout.height;
  window.pvdMapCsv = MONEY.csv;  // the maps' data as CSV: one row per territory
  var steps = MAP.layout.sliders ? MAP.layout.sliders[0].steps : [];
  // The period buttons above the map replace plotly's slider: they are reachable from the keyboard.
  delete MAP.layout.sliders;
  MAP.layout.margin.b = 40;
  var MAP_CONFIG = {displaylogo: false, responsive: true, displayModeBar: false, scrollZoom: true};
  var started = performance.now();
  Plotly.newPlot(div, MAP.data, MAP.layout, MAP_CONFIG).then(function () {
    window.pvdMapDrawnAt = performance.now();
    window.pvdMapDrawnIn = window.pvdMapDrawnAt - started;
  });
  // An EPCI may carry several territories: each click on it opens the next one's panel.
  var turn = {};
  function onClick(ev) {
    var pt = ev && ev.points && ev.points[0];
    var keys = pt && pt.data && pt.data.meta;
    if (!keys || !keys.length) { return; }
    var n = (turn[pt.curveNumber] || 0) % keys.length;
    turn[pt.curveNumber] = n + 1;
    var row = document.querySelector('#t-list tbody tr[data-i="' + PANELS[keys[n]] + '"]');
    if (row) { row.click(); }
  }
  div.on("plotly_click", onClick);
  // The money map: the same shapes, each territory's EPCI coloured by what remains to finance.
  var money = document.getElementById("carte-montants");
  var moneyData = [];
  MAP.data.forEach(function (tr) {
    if (tr.visible === false) { return; }
    var copy = Object.assign({}, tr);
    if (tr.meta && tr.meta.length) {
      var band = MONEY.bands[tr.meta[0]];
      copy.fillcolor = band === undefined ? MONEY.none : MONEY.colors[band];
      copy.text = MONEY.hover[tr.meta[0]] || tr.text;
      copy.showlegend = false;
      copy.legendgroup = undefined;
    }
    if (tr.name && tr.fill === "toself" && !tr.meta) { copy.showlegend = false; }
    moneyData.push(copy);
  });
  MONEY.legend.forEach(function (item) {
    moneyData.push({type: "scatter", mode: "lines", x: [null], y: [null], fill: "toself", fillcolor: item[1],
                    line: {color: "#333", width: 0.6}, name: item[0], showlegend: true, hoverinfo: "skip"});
  });
  var moneyLayout = JSON.parse(JSON.stringify(MAP.layout));
  moneyLayout.title = {text: MONEY.title};
  Plotly.newPlot(money, moneyData, moneyLayout, MAP_CONFIG);
  money.on("plotly_click", onClick);
  // Zoom from the keyboard: + and − around the centre, and back to the whole région.
  var home = {};
  function zoom(factor) {
    [div, money].forEach(function (plot) {
      var xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
      if (!home[plot.id]) { home[plot.id] = {x: xa.range.slice(), y: ya.range.slice()}; }
      if (!factor) {
        Plotly.relayout(plot, {"xaxis.range": home[plot.id].x, "yaxis.range": home[plot.id].y});
        return;
      }
      function around(r) { var c = (r[0] + r[1]) / 2, h = (r[1] - r[0]) / 2 / factor; return [c - h, c + h]; }
      Plotly.relayout(plot, {"xaxis.range": around(xa.range), "yaxis.range": around(ya.range)});
    });
  }
  document.querySelectorAll("[data-zoom]").forEach(function (btn) {
    btn.addEventListener("click", function () { zoom(parseFloat(btn.getAttribute("data-zoom"))); });
  });
  var choose = document.getElementById("carte-territoire");
  // Keyboard equivalent of a click on the map: the territory chosen, its panel opened.
  function openChosen() {
    var row = document.querySelector('#t-list tbody tr[data-i="' + choose.value + '"]');
    if (row && window.pvdOpenPanel) { window.pvdOpenPanel(row, choose); }
  }
  choose.addEventListener("change", openChosen);
  choose.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); openChosen(); } });
  document.querySelectorAll("[data-period]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var step = steps[parseInt(btn.getAttribute("data-period"), 10)];
      if (!step) { return; }
      Plotly.update(div, step.args[0], step.args[1]);
      document.querySelectorAll("[data-period]").forEach(function (b) { b.setAttribute("aria-pressed", b === btn ? "true" : "false"); });
    });
  });
  // On paper the plot takes the page's width, not the screen's: A4 portrait holds it whole.
  function toPaper() { Plotly.relayout(div, {width: {{ m.print_width }}, height: {{ m.print_height }}}); }
  function toScreen() { Plotly.relayout(div, {width: null, height: HEIGHT, autosize: true}); }
  window.addEventListener("beforeprint", toPaper);
  window.addEventListener("afterprint", toScreen);
})();
