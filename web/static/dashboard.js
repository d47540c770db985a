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
  function base(title) {
    return {
      title: { text: title, left: 0, textStyle: { fontSize: 14, fontWeight: 600 } },
      toolbox: { right: 0, feature: { saveAsImage: { title: t.save, pixelRatio: 2, backgroundColor: "#fff" } } },
      grid: { left: 48, right: 16, top: 48, bottom: 40 },
      tooltip: { trigger: "item" },
      animation: false
    };
  }
  function bars(title, items, colour) {
    var o = base(title);
    // Twelve lifecycle states do not fit side by side on a half-width card:
    // slant the labels rather than let them overprint each other.
    var slant = items.length > 7;
    o.xAxis = { type: "category", data: items.map(function (i) { return i.label; }), axisLabel: { interval: 0, rotate: slant ? 40 : 0 } };
    if (slant) o.grid.bottom = 72;
    o.yAxis = { type: "value", minInterval: 1, name: t.firms };
    o.series = [{ type: "bar", barMaxWidth: 36, label: { show: true, position: "top" },
      data: items.map(function (i) { return { value: i.value, itemStyle: { color: colour(i) } }; }) }];
    return o;
  }
  var charts = {
    states: function () { return bars(t.states, data.states || [], function () { return "#4f6d8f"; }); },
    bands: function () {
      var o = base(t.bands);
      o.legend = { bottom: 0 };
      o.series = [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "52%"], label: { formatter: "{b}: {c}" },
        data: (data.bands || []).map(function (b) {
          // An empty band stays in the legend but draws no label: zero-size
          // slices' labels would pile up on one spot.
          var shown = b.value > 0;
          return { name: b.label, value: b.value, label: { show: shown }, labelLine: { show: shown },
            itemStyle: { color: bandColours[b.label] || "#9e9e9e" } };
        }) }];
      return o;
    },
    tax: function () { return bars(t.tax, data.tax_per_mu || [], function (i) { return i.label.indexOf("<5") === 0 ? "#c62828" : "#2f7d6d"; }); },
    output: function () { return bars(t.output, data.output_per_mu || [], function () { return "#6a5acd"; }); }
  };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var make = charts[el.dataset.chart];
    if (!make) return;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(make());
    window.addEventListener("resize", function () { chart.resize(); });
  });
  document.documentElement.dataset.chartsReady = "1";
})();
