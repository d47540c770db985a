// zonevet progressive enhancement: every form works without this file.
(function () {
  "use strict";
  // GB 32100 unified social credit code check, mirroring engine.ValidUSCC.
  var ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  function validUSCC(code) {
    if (code.length !== 18) return false;
    var sum = 0;
    for (var i = 0; i < 17; i++) {
      var v = ALPHA.indexOf(code.charAt(i));
      if (v < 0) return false;
      sum += v * W[i];
    }
    return code.charAt(17) === ALPHA.charAt((31 - (sum % 31)) % 31);
  }
  window.zonevetValidUSCC = validUSCC;

  function wireUSCC(input) {
    var msg = input.parentNode.querySelector("[data-uscc-msg]");
    if (!msg) return;
    var initial = msg.textContent;
    function check() {
      var v = input.value.trim().toUpperCase();
      if (input.value !== v) input.value = v;
      msg.classList.remove("ok", "bad");
      if (v === "") { msg.textContent = initial; return; }
      if (v.length < 18 && /^[0-9A-HJ-NPQRTUWXY]*$/.test(v)) {
        msg.textContent = msg.dataset.short.replace("{n}", String(18 - v.length));
        return;
      }
      var ok = validUSCC(v);
      msg.textContent = ok ? msg.dataset.ok : msg.dataset.bad;
      msg.classList.add(ok ? "ok" : "bad");
      input.setCustomValidity(ok ? "" : msg.dataset.bad);
    }
    input.addEventListener("input", check);
    check();
  }

  function wireScoresheet(form) {
    var inputs = form.querySelectorAll("input[data-max]");
    var out = form.querySelector("[data-total]");
    function sum() {
      var t = 0;
      inputs.forEach(function (i) { var v = parseFloat(i.value); if (!isNaN(v)) t += v; });
      out.textContent = (Math.round(t * 100) / 100).toString();
    }
    inputs.forEach(function (i) { i.addEventListener("input", sum); });
    sum();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-uscc]").forEach(wireUSCC);
    document.querySelectorAll("form[data-scoresheet]").forEach(wireScoresheet);
  });
})();
