// audit.js draws the auditor's statistics with ECharts from the JSON the
// page embeds (no inline script: the CSP forbids it) and binds the dossier's
// print button.
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    var el = document.getElementById("stats-data");
    if (!el || typeof echarts === "undefined") return;
    var data = JSON.parse(el.textContent);
    var palette = ["#1f4e79", "#c55a11", "#2e7d32", "#8e24aa", "#00838f", "#f9a825", "#6d4c41", "#d81b60", "#546e7a"];
    var base = { color: palette, animation: false, textStyle: { fontFamily: "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif" },
      tooltip: { trigger: "axis", renderMode: "richText" }, grid: { left: 48, right: 24, top: 40, bottom: 60, containLabel: true } };
    function draw(name, option) {
      var node = document.querySelector('[data-chart="' + name + '"]');
      if (!node) return;
      var chart = echarts.init(node, null, { renderer: "svg" });
      chart.setOption(Object.assign({}, base, option));
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var r = data.reviewers || {};
    if (r.labels && r.labels.length) {
      draw("reviewers", { legend: { top: 0, type: "scroll" },
        xAxis: { type: "category", data: r.labels, axisLabel: { interval: 0, rotate: r.labels.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", minInterval: 1 },
        series: (r.series || []).map(function (s) { return { name: s.name, type: "bar", stack: "n", data: s.data, barMaxWidth: 42 }; }) });
    }
    var p = data.parks || {};
    if (p.labels && p.labels.length) {
      draw("parks", { legend: { top: 0 },
        xAxis: { type: "category", data: p.labels },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", max: 100, axisLabel: { formatter: "{value} %" } }],
        series: [{ name: p.passed_name, type: "bar", data: p.passed, barMaxWidth: 42 },
                 { name: p.overrides_name, type: "bar", data: p.overrides, barMaxWidth: 42 },
                 { name: p.share_name, type: "line", yAxisIndex: 1, data: p.share, label: { show: true, formatter: "{c} %" } }] });
    }
    var s = data.states || {};
    if (s.labels && s.labels.length) {
      draw("states", { legend: { top: 0 },
        xAxis: { type: "category", data: s.labels, axisLabel: { interval: 0, rotate: 30 } },
        yAxis: [{ type: "value", name: "" }, { type: "value", minInterval: 1 }],
        series: [{ name: s.median_name, type: "bar", data: s.median, barMaxWidth: 36 },
                 { name: s.p90_name, type: "bar", data: s.p90, barMaxWidth: 36 },
                 { name: s.overdue_name, type: "line", yAxisIndex: 1, data: s.overdue }] });
    }
  });
})();
