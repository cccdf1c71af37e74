// modelmeter HTML report: collapsible layer tree and sortable tables. No network, no libraries.
(function () {
  "use strict";

  function value(row, col) {
    var cell = row.cells[col];
    var v = cell && cell.getAttribute("data-v");
    if (v === null || v === undefined) return cell ? cell.textContent : "";
    var n = Number(v);
    return isNaN(n) ? v : n;
  }

  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b));
  }

  // Rows of a tree table carry data-name and data-parent; a flat table has neither.
  function setup(table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var byName = {}, kids = {}, tops = [];
    rows.forEach(function (r) { if (r.hasAttribute("data-name")) byName[r.getAttribute("data-name")] = r; });
    rows.forEach(function (r) {
      var p = r.getAttribute("data-parent");
      if (p !== null && byName[p]) (kids[p] = kids[p] || []).push(r); else tops.push(r);
    });

    function refresh() {
      rows.forEach(function (r) {
        var p = r.getAttribute("data-parent"), hidden = false;
        while (p !== null && byName[p]) {
          if (byName[p].classList.contains("closed")) { hidden = true; break; }
          p = byName[p].getAttribute("data-parent");
        }
        r.hidden = hidden;
      });
    }

    rows.forEach(function (r) {
      var b = r.querySelector("button.tog");
      if (!b) return;
      b.addEventListener("click", function () {
        r.classList.toggle("closed");
        b.setAttribute("aria-expanded", r.classList.contains("closed") ? "false" : "true");
        refresh();
      });
    });

    var controls = table.parentNode.parentNode.querySelector(".controls");
    if (controls) {
      controls.querySelectorAll("button[data-open]").forEach(function (btn) {
        btn.addEventListener("click", function () {
          var depth = Number(btn.getAttribute("data-open"));
          rows.forEach(function (r) {
            if (!r.querySelector("button.tog")) return;
            r.classList.toggle("closed", Number(r.getAttribute("data-depth")) >= depth);
          });
          refresh();
        });
      });
    }

    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      if (!th.classList.contains("sortable")) return;
      th.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        var sign = dir === "ascending" ? 1 : -1;
        function order(list) {  // siblings sort among themselves; children stay under their parent
          return list.slice().sort(function (a, b) { return sign * compare(value(a, col), value(b, col)); });
        }
        var out = [];
        (function walk(list) {
          order(list).forEach(function (r) { out.push(r); walk(kids[r.getAttribute("data-name")] || []); });
        })(tops);
        out.forEach(function (r) { body.appendChild(r); });
      });
    });

    // big models open two levels deep; the buttons open more
    if (table.hasAttribute("data-open-depth")) {
      var depth = Number(table.getAttribute("data-open-depth"));
      rows.forEach(function (r) {
        if (r.querySelector("button.tog") && Number(r.getAttribute("data-depth")) >= depth) r.classList.add("closed");
      });
    }
    refresh();
  }

  document.querySelectorAll("table.data").forEach(setup);
  document.documentElement.setAttribute("data-ready", "1");
})();
