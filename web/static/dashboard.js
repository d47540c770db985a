// zonevet dashboard: draws the charts from the page's JSON data block with
// ECharts (vendored, see web/scripts/vendor.sh). Every chart has ECharts'
// "save as image" button; the same figures are in the Excel download.
(function () {
  "use strict";
  document.querySelectorAll("[data-progress]").forEach(function (el) {
    var p = parseFloat(el.dataset.progress);
    el.style.width = (isNaN(p) ? 0 : Math.max(0, Math.min(1, p)) * 100) + "%";
  });
  var block = document.getElementById("chart-data");
  if (!block || !window.echarts) return;
  var data = JSON.parse(block.textContent);
  var t = data.Text;
  var bandColours = { A: "#2e7d32", B: "#1565c0", C: "#f9a825", D: "#c62828" };
  // A title wraps within the chart's width, clear of the save button, and
  // the plot starts below its last line; the value axis is named along its
  // side (rotated, mid-height), so no title in either language can run into
  // an axis name (TestBrowserDashboardChartTitlesClear).
  var TITLE_FONT = "600 14px sans-serif", LINE = 20;
  function titleLines(title, width) {
    var c = document.createElement("canvas").getContext("2d");
    c.font = TITLE_FONT;
    return Math.max(1, Math.ceil(c.measureText(title).width / width));
  }
  function base(title, el) {
    var width = Math.max(120, el.clientWidth - 40);
    var top = titleLines(title, width) * LINE + 24;
    return {
      title: { text: title, left: 0, top: 0, textStyle: { fontSize: 14, fontWeight: 600, lineHeight: LINE, width: width, overflow: "break" } },
      toolbox: { right: 0, top: 0, feature: { saveAsImage: { title: t.save, pixelRatio: 2, backgroundColor: "#fff" } } },
      grid: { left: 56, right: 16, top: top, bottom: 40 },
      tooltip: { trigger: "item" },
      animation: false
    };
  }
  function bars(title, axisName, items, colour, el) {
    var o = base(title, el);
    // Twelve lifecycle states do not fit side by side on a half-width card:
    // slant the labels rather than let them overprint each other.
    var slant = items.length > 7 || (items.length > 3 && el.clientWidth < 480);
    o.xAxis = { type: "category", data: items.map(function (i) { return i.label; }), axisLabel: { interval: 0, rotate: slant ? 40 : 0 } };
    if (slant) o.grid.bottom = 72;
    o.yAxis = { type: "value", minInterval: 1, name: axisName, nameLocation: "middle", nameRotate: 90, nameGap: 36 };
    o.series = [{ type: "bar", barMaxWidth: 36, label: { show: true, position: "top" },
      data: items.map(function (i) { return { value: i.value, itemStyle: { color: colour(i) } }; }) }];
    return o;
  }
  var charts = {
    states: function (el) { return bars(t.states, t.projects, data.states || [], function () { return "#4f6d8f"; }, el); },
    bands: function (el) {
      var o = base(t.bands, el);
      o.legend = { bottom: 0 };
      if (!(data.bands || []).some(function (b) { return b.value > 0; })) {
        o.graphic = { type: "text", left: "center", top: "middle", style: { text: t.no_ratings, fill: "#6b7280", fontSize: 13 } };
      }
      // stillShowZeroSum off: a year with no ratings draws no ring rather
      // than four equal quarters.
      o.series = [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "55%"], stillShowZeroSum: false, label: { formatter: "{b}: {c}" },
        data: (data.bands || []).map(function (b) {
          // An empty band stays in the legend but draws no label: zero-size
          // slices' labels would pile up on one spot.
          var shown = b.value > 0;
          return { name: b.label, value: b.value, label: { show: shown }, labelLine: { show: shown },
            itemStyle: { color: bandColours[b.label] || "#9e9e9e" } };
        }) }];
      return o;
    },
    tax: function (el) { return bars(t.tax, t.firms, data.tax_per_mu || [], function (i) { return i.label.indexOf("<5") === 0 ? "#c62828" : "#2f7d6d"; }, el); },
    output: function (el) { return bars(t.output, t.firms, data.output_per_mu || [], function () { return "#6a5acd"; }, el); }
  };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var make = charts[el.dataset.chart];
    if (!make) return;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(make(el));
    window.addEventListener("resize", function () { chart.resize(); chart.setOption(make(el)); });
  });
  document.documentElement.dataset.chartsReady = "1";
})();
