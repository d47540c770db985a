// zonevet progressive enhancement: every form works without this file.
(function () {
  "use strict";
  // GB 32100 unified social credit code check, mirroring engine.CheckUSCC:
  // authority and category, province of the division, the embedded GB 11714
  // organisation code's check digit, then the check character.
  var ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  var OW = [3, 7, 9, 10, 5, 8, 4, 2];
  var CATEGORIES = { "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "129", "7": "129",
    "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1" };
  var PROVINCES = " 10 11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 ";
  function validUSCC(code) {
    if (code.length !== 18) return false;
    var cats = CATEGORIES[code.charAt(0)];
    if (!cats || cats.indexOf(code.charAt(1)) < 0) return false;
    if (!/^[0-9]{6}$/.test(code.substr(2, 6)) || PROVINCES.indexOf(" " + code.substr(2, 2) + " ") < 0) return false;
    var osum = 0;
    for (var j = 0; j < 8; j++) {
      var c = code.charAt(8 + j);
      var ov = c >= "0" && c <= "9" ? c.charCodeAt(0) - 48 : c.charCodeAt(0) - 55;
      osum += ov * OW[j];
    }
    if (code.charAt(16) !== "0123456789X0".charAt(11 - (osum % 11))) return false;
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

  // A posted form is sent once: its buttons disable and show progress after
  // the click (the server's form_key answers a repeat all the same). The
  // button is disabled after the submit has read its name and value. A
  // button with data-confirm asks first. Buttons come back after a while or
  // when the page is shown again from the back-forward cache.
  function busy(form, on) {
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
      b.disabled = on;
      if (on) b.setAttribute("aria-busy", "true"); else b.removeAttribute("aria-busy");
      if (!on) progress(b, false);
    });
  }
  // A long operation (an import, a rating run, a what-if report, an
  // export) says what it is doing while the server works: the button's
  // words become its data-working words ("正在导入…") beside the spinner.
  function progress(el, on) {
    if (!el || !el.dataset.working) return;
    if (on && el.dataset.label === undefined) {
      el.dataset.label = el.textContent;
      el.textContent = el.dataset.working;
    } else if (!on && el.dataset.label !== undefined) {
      el.textContent = el.dataset.label;
      delete el.dataset.label;
    }
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
    var b = ev.submitter;
    if (b && b.dataset.confirm && !window.confirm(b.dataset.confirm)) { ev.preventDefault(); return; }
    if (form.dataset.sent === "1") { ev.preventDefault(); return; }
    form.dataset.sent = "1";
    var long = b && b.dataset.working;
    if (long) progress(b, true);
    setTimeout(function () { busy(form, true); if (long) progress(b, true); }, 0);
    // A long operation ends with its answer's page; others come back in case
    // the answer never came.
    if (!long) setTimeout(function () { form.dataset.sent = ""; busy(form, false); }, 20000);
  });
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(function (f) { f.dataset.sent = ""; busy(f, false); });
  });

  // An export stays busy until its file arrives. Downloads fire no event a
  // page can wait on, so the link carries a one-time token (dl) and the
  // server's answer sets the cookie zonevet_dl to it as its headers go out
  // (web/server.go downloadToken); the page polls for that cookie, then
  // gives the button back (after two minutes at the latest).
  var DL = "zonevet_dl";
  function exportDone(a, href) {
    a.removeAttribute("aria-busy");
    a.removeAttribute("aria-disabled");
    progress(a, false);
    a.setAttribute("href", href);
    document.cookie = DL + "=; Max-Age=0; Path=/; SameSite=Strict";
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a[data-export]") : null;
    if (!a || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    if (a.getAttribute("aria-busy") === "true") { ev.preventDefault(); return; }
    var href = a.getAttribute("href");
    var token = (Math.random().toString(36).slice(2) + Date.now().toString(36)).replace(/[^a-z0-9]/g, "").slice(0, 40);
    var url = new URL(href, window.location.href);
    url.searchParams.set("dl", token);
    a.setAttribute("href", url.pathname + url.search);
    a.setAttribute("aria-busy", "true");
    a.setAttribute("aria-disabled", "true");
    progress(a, true);
    var started = Date.now();
    var timer = setInterval(function () {
      var got = document.cookie.split("; ").indexOf(DL + "=" + token) >= 0;
      if (got || Date.now() - started > 120000) {
        clearInterval(timer);
        exportDone(a, href);
      }
    }, 200);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-uscc]").forEach(wireUSCC);
    document.querySelectorAll("form[data-scoresheet]").forEach(wireScoresheet);
  });
})();
