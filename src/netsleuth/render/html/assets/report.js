/* netsleuth report: filters, search, copy buttons and the service map.
 * Written for this report, no library.
 *
 * Escaping: every name, label and message comes from a cluster and is untrusted.
 * The page's generator escapes all of it with one function before it reaches the
 * page (netsleuth.model.untrusted.visible, through render/html/embed.py: HTML text
 * via the template's |v filter, this script's JSON data via script_json), so a
 * control, bidi or line-separator character arrives as the visible text \x1b,
 * \u202e, \u2028, exactly as the terminal formats show it. This script then
 * only ever inserts text as text, through three functions; nothing else in this
 * file writes text, markup or URLs (tests/render/test_report_js.py checks it):
 *   setText(node, s)       node.textContent = s   (never markup: no innerHTML)
 *   drawText(s, x, y, px)  ctx.fillText(s, ...)   (the map's canvas)
 *   setAnchor(a, id)       a.href = "#" + id, for ids of this page only */
(function () {
  "use strict";
  var t0 = performance.now();
  var DATA = JSON.parse(document.getElementById("netsleuth-data").textContent);
  function setText(node, s) { node.textContent = String(s); }
  var ANCHOR = /^[A-Za-z0-9_-]+$/;
  function setAnchor(a, id) { a.href = ANCHOR.test(String(id)) ? "#" + id : "#"; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) setText(e, text);
    return e;
  }
  function $(id) { return document.getElementById(id); }

  /* ---------------------------------------------------------------- copy buttons */
  function copyText(text, button) {
    function done(ok) {
      setText(button, ok ? "Copied" : "Select and copy");
      button.setAttribute("data-copied", ok ? "ok" : "failed");
      setTimeout(function () { setText(button, "Copy"); }, 1500);
    }
    var fallback = function () {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "copy-buffer";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      done(ok);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll(".cmd"), function (box) {
    var b = box.querySelector(".copy");
    var code = box.querySelector("code");
    if (!b || !code) return;
    b.hidden = false;
    b.addEventListener("click", function () { copyText(code.textContent, b); });
  });

  /* ---------------------------------------------------------------- filters */
  var form = $("filters");
  var fNs = $("f-ns"), fQ = $("f-q"), fCount = $("f-count");
  var sevBoxes = Array.prototype.slice.call(document.querySelectorAll("#filters input[data-sev]"));
  var findingEls = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var nsRows = Array.prototype.slice.call(
    document.querySelectorAll("article.trace, #diff tr[data-ns], #connections tr[data-ns], .ns-table tr[data-ns]"));
  var textCache = new Map();
  function textOf(e) {
    var t = textCache.get(e);
    if (t === undefined) { t = e.textContent.toLowerCase(); textCache.set(e, t); }
    return t;
  }
  var state = { ns: "", sev: { error: true, warning: true, info: true }, q: "" };
  function applyFilters() {
    var shown = 0;
    findingEls.forEach(function (e) {
      var ok = state.sev[e.getAttribute("data-sev")] !== false &&
        (!state.ns || e.getAttribute("data-ns") === state.ns) &&
        (!state.q || textOf(e).indexOf(state.q) >= 0);
      e.classList.toggle("is-hidden", !ok);
      if (ok) shown++;
    });
    nsRows.forEach(function (e) {
      var nss = (e.getAttribute("data-ns") || "").split(" ");
      var ok = (!state.ns || nss.indexOf(state.ns) >= 0) && (!state.q || textOf(e).indexOf(state.q) >= 0);
      e.classList.toggle("is-hidden", !ok);
    });
    var msg = findingEls.length ? shown + " of " + findingEls.length + " findings shown" : "";
    if (MAP) {
      var hits = MAP.search(state.q);
      if (state.q) msg += (msg ? "; " : "") + hits + " on the map";
      MAP.filter(state);
    }
    setText(fCount, msg);
    document.body.setAttribute("data-filtered", String(shown));
  }
  if (form) {
    form.hidden = false;
    form.addEventListener("submit", function (ev) { ev.preventDefault(); if (MAP) MAP.focusSearch(); });
    fNs.addEventListener("change", function () { state.ns = fNs.value; applyFilters(); if (MAP && state.ns) MAP.focusNamespace(state.ns); });
    sevBoxes.forEach(function (b) {
      b.addEventListener("change", function () { state.sev[b.getAttribute("data-sev")] = b.checked; applyFilters(); });
    });
    var timer = 0;
    fQ.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.q = fQ.value.trim().toLowerCase(); applyFilters(); }, 120);
    });
  }

  /* ---------------------------------------------------------------- the map */
  var MAP = null;
  var M = DATA.map;
  if (M && $("map-canvas")) MAP = makeMap(M);
  applyFilters();

  function each(row, f) {           // run-length row: [label, count, ...]
    var pos = 0;
    for (var i = 0; i < row.length; i += 2) {
      var lab = row[i], cnt = row[i + 1];
      if (lab) for (var j = 0; j < cnt; j++) f(pos + j, lab);
      pos += cnt;
    }
  }
  function at(row, k) {
    var pos = 0;
    for (var i = 0; i < row.length; i += 2) {
      pos += row[i + 1];
      if (k < pos) return row[i];
    }
    return 0;
  }

  function makeMap(M) {
    var root = $("map"), canvas = $("map-canvas"), panel = $("map-panel"), status = $("map-status");
    var ctx = canvas.getContext("2d");
    var G = M.groups, N = M.nodes, L = M.labels;
    var NODE_W = 168, NODE_H = 26, GAP = 8, PAD = 10, HEAD = 24, BOX_W = 176, BOX_H = 46;
    var open = new Uint8Array(G.length);
    if (!M.aggregated) for (var g = 0; g < G.length; g++) open[g] = 1;
    (M.openFirst || []).forEach(function (g) { open[g] = 1; });
    var SEVC = ["#9aa0a6", "#1565c0", "#e65100", "#c62828"];
    var STC = { broken: "#c62828", warning: "#e65100", unknown: "#6a1b9a", "not-checked": "#6a1b9a",
      ok: "#2e7d32", skipped: "#5f6368", lost: "#c62828", gained: "#2e7d32", error: "#6a1b9a" };
    var view = { x: 0, y: 0, k: 1 };
    var boxes = [];         // per group: {x, y, w, h, cols}
    var edges = [];         // [ax, ay, bx, by, label, kindFlags, srcItem, dstItem]
    var selected = null;    // {t: "g"|"n", i}
    var dimNs = -1, sevOn = { 1: true, 2: true, 3: true }, hits = null, hitList = [];
    var dpr = window.devicePixelRatio || 1;
    var onBroken = new Uint8Array(N.length);
    M.overlays.forEach(function (o) {
      if (o.kind === "trace" && o.status !== "ok") {
        o.src.forEach(function (i) { onBroken[i] = 1; });
        o.dst.forEach(function (i) { onBroken[i] = 1; });
      }
    });

    function groupOf(i) { return N[i].g; }
    function layout() {
      var total = 0, widest = 0;
      boxes = G.map(function (grp, g) {
        var k = grp.end - grp.start, b;
        if (open[g] && k > 0) {
          var cols = Math.max(1, Math.ceil(Math.sqrt(k * 1.2)));
          var rows = Math.ceil(k / cols);
          b = { w: PAD * 2 + cols * (NODE_W + GAP) - GAP, h: HEAD + PAD + rows * (NODE_H + GAP) - GAP + PAD, cols: cols };
        } else {
          b = { w: BOX_W, h: BOX_H, cols: 0 };
        }
        total += (b.w + 24) * (b.h + 24);
        widest = Math.max(widest, b.w);
        return b;
      });
      var W = Math.max(widest, Math.sqrt(total) * 1.5), x = 0, y = 0, shelf = 0;
      boxes.forEach(function (b) {
        if (x > 0 && x + b.w > W) { x = 0; y += shelf + 24; shelf = 0; }
        b.x = x; b.y = y; x += b.w + 24; shelf = Math.max(shelf, b.h);
      });
      buildEdges();
    }
    function nodePos(i) {
      var grp = G[N[i].g], b = boxes[N[i].g], k = i - grp.start;
      var c = k % b.cols, r = Math.floor(k / b.cols);
      return { x: b.x + PAD + c * (NODE_W + GAP), y: b.y + HEAD + r * (NODE_H + GAP) };
    }
    function anchor(item) {     // item: node index >= 0, or -(group + 1)
      if (item >= 0) { var p = nodePos(item); return [p.x + NODE_W / 2, p.y + NODE_H / 2]; }
      var b = boxes[-item - 1];
      return [b.x + b.w / 2, b.y + (b.cols ? HEAD / 2 : b.h / 2)];
    }
    function half(item) {       // half width and height of what an edge ends on
      if (item >= 0) return [NODE_W / 2, NODE_H / 2];
      var b = boxes[-item - 1];
      return b.cols ? [b.w / 2, HEAD / 2] : [b.w / 2, b.h / 2];
    }
    function clip(x1, y1, x2, y2, hw, hh) {   // where the segment enters the box around (x2, y2)
      var dx = x1 - x2, dy = y1 - y2;
      if (!dx && !dy) return [x2, y2];
      var t = Math.min(dx ? hw / Math.abs(dx) : Infinity, dy ? hh / Math.abs(dy) : Infinity, 1);
      return [x2 + dx * t, y2 + dy * t];
    }
    function itemOf(i) { return open[N[i].g] ? i : -(N[i].g + 1); }
    function buildEdges() {
      edges = [];
      var seen = new Set();
      function add(a, b, lab) {
        if (a === b) return;
        var key = a + ">" + b;
        if (seen.has(key)) return;
        seen.add(key);
        var p = anchor(a), q = anchor(b), hp = half(a), hq = half(b);
        var s0 = clip(q[0], q[1], p[0], p[1], hp[0], hp[1]), s1 = clip(p[0], p[1], q[0], q[1], hq[0], hq[1]);
        edges.push([s0[0], s0[1], s1[0], s1[1], lab, a, b]);
      }
      for (var g = 0; g < G.length; g++) {
        if (!open[g]) {
          (function (g) { each(M.gg[g] || [], function (h, lab) { if (!open[h] && h !== g) add(-(g + 1), -(h + 1), lab); }); })(g);
          continue;
        }
        for (var i = G[g].start; i < G[g].end; i++) {
          (function (i) {
            if (M.ww) {
              each(M.ww[i], function (j, lab) { add(i, itemOf(j), lab); });
            } else {
              each(M.intra[g][i - G[g].start] || [], function (j, lab) { add(i, G[g].start + j, lab); });
              // Cross-namespace workload pairs are not shipped above the threshold: a
              // workload links to the namespaces it reaches while they are collapsed.
              each(M.w2g[i] || [], function (h, lab) { if (h !== g && !open[h]) add(i, -(h + 1), lab); });
            }
            each(M.g2w[i] || [], function (h, lab) { if (h !== g && !open[h]) add(-(h + 1), i, lab); });
          })(i);
        }
      }
      M.extra.forEach(function (e) { add(itemOf(e[0]), itemOf(e[1]), e[2]); });
      // Above the threshold the pairs between two open namespaces are not in the file: the
      // selected workload links to the open namespaces it reaches (and is reached from) by
      // their headers, as exact as the rows are ("some workloads there, these ports").
      if (!M.ww && selected && selected.t === "n" && open[N[selected.i].g]) {
        var si = selected.i, sg = N[si].g;
        each(M.w2g[si] || [], function (h, lab) { if (h !== sg && open[h]) add(si, -(h + 1), lab); });
        each(M.g2w[si] || [], function (h, lab) { if (h !== sg && open[h]) add(-(h + 1), si, lab); });
      }
    }

    function resize() {
      var r = canvas.getBoundingClientRect();
      canvas.width = Math.max(300, Math.round(r.width * dpr));
      canvas.height = Math.round(560 * dpr);
    }
    function fit(bx) {
      var r = bx || bounds();
      var w = canvas.width / dpr, h = canvas.height / dpr;
      view.k = Math.min(2, Math.max(0.02, Math.min(w / (r.w + 40), h / (r.h + 40))));
      view.x = (w - r.w * view.k) / 2 - r.x * view.k;
      view.y = (h - r.h * view.k) / 2 - r.y * view.k;
    }
    function bounds() {
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      boxes.forEach(function (b) { x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y); x1 = Math.max(x1, b.x + b.w); y1 = Math.max(y1, b.y + b.h); });
      if (!boxes.length) return { x: 0, y: 0, w: 100, h: 100 };
      return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    }
    var pending = false;
    function draw() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; paint(); });
    }
    function sevRank(o) { var s = o.s || 0; return sevOn[s] ? s : 0; }
    function drawText(s, x, y, px) {   // the one way text reaches the canvas
      s = String(s);
      var max = Math.max(4, Math.floor(px / 6.6));
      ctx.fillText(s.length > max ? s.slice(0, max - 1) + "…" : s, x, y);
    }
    function arrow(x1, y1, x2, y2, size) {
      var a = Math.atan2(y2 - y1, x2 - x1);
      ctx.moveTo(x2, y2);
      ctx.lineTo(x2 - size * Math.cos(a - 0.4), y2 - size * Math.sin(a - 0.4));
      ctx.moveTo(x2, y2);
      ctx.lineTo(x2 - size * Math.cos(a + 0.4), y2 - size * Math.sin(a + 0.4));
    }
    function paint() {
      var w = canvas.width / dpr, h = canvas.height / dpr, k = view.k;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * view.x, dpr * view.y);
      var vx0 = -view.x / k, vy0 = -view.y / k, vx1 = vx0 + w / k, vy1 = vy0 + h / k;
      function visible(x, y, bw, bh) { return x + bw >= vx0 && x <= vx1 && y + bh >= vy0 && y <= vy1; }
      // groups
      ctx.lineWidth = 1 / Math.max(k, 0.3);
      boxes.forEach(function (b, g) {
        if (!visible(b.x, b.y, b.w, b.h)) return;
        var grp = G[g];
        ctx.globalAlpha = dimNs >= 0 && dimNs !== g ? 0.3 : 1;
        ctx.fillStyle = grp.ext ? "#eef3fb" : (b.cols ? "#f4f6f8" : "#e8eaed");
        if (hits && hits.g.has(g)) ctx.fillStyle = "#fff59d";
        ctx.fillRect(b.x, b.y, b.w, b.h);
        var s = sevRank(grp);
        ctx.strokeStyle = s ? SEVC[s] : "#9aa0a6";
        ctx.lineWidth = (s ? 2.5 : 1) / Math.max(k, 0.3);
        if (selected && selected.t === "g" && selected.i === g) { ctx.strokeStyle = "#1a73e8"; ctx.lineWidth = 3 / Math.max(k, 0.3); }
        ctx.strokeRect(b.x, b.y, b.w, b.h);
        if (k > 0.25) {
          ctx.fillStyle = "#202124";
          ctx.font = "600 12px system-ui, sans-serif";
          var n = grp.end - grp.start;
          drawText((b.cols ? "▾ " : "▸ ") + grp.name, b.x + 6, b.y + 15, b.w - 12);
          if (!b.cols) {
            ctx.font = "11px system-ui, sans-serif";
            ctx.fillStyle = "#5f6368";
            drawText(n + " workload" + (n === 1 ? "" : "s") + (grp.f ? " · " + grp.f.length + " finding" + (grp.f.length === 1 ? "" : "s") : ""), b.x + 6, b.y + 33, b.w - 12);
          }
        }
      });
      ctx.globalAlpha = 1;
      // edges
      var sel = selected ? (selected.t === "g" ? -(selected.i + 1) : selected.i) : null;
      var faint = edges.length > 3000 ? 0.08 : (edges.length > 600 ? 0.25 : 0.55);
      ctx.strokeStyle = "#5f6368";
      ctx.lineWidth = 1 / Math.max(k, 0.3);
      ctx.globalAlpha = faint;
      ctx.beginPath();
      for (var e = 0; e < edges.length; e++) {
        var E = edges[e];
        if (E[5] === sel || E[6] === sel) continue;
        ctx.moveTo(E[0], E[1]); ctx.lineTo(E[2], E[3]);
        if (edges.length <= 3000) arrow(E[0], E[1], E[2], E[3], 7 / Math.max(k, 0.5));
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
      if (sel !== null) {
        [["#1a73e8", 5], ["#8e24aa", 6]].forEach(function (spec) {
          ctx.strokeStyle = spec[0];
          ctx.lineWidth = 1.6 / Math.max(k, 0.3);
          ctx.beginPath();
          for (var e = 0; e < edges.length; e++) {
            var E = edges[e];
            if (E[spec[1]] !== sel) continue;
            ctx.moveTo(E[0], E[1]); ctx.lineTo(E[2], E[3]); arrow(E[0], E[1], E[2], E[3], 8 / Math.max(k, 0.5));
          }
          ctx.stroke();
        });
      }
      // edge labels when few are on screen
      var labelled = 0;
      if (k > 0.6) {
        ctx.font = "10px ui-monospace, monospace";
        ctx.fillStyle = "#3c4043";
        for (var e2 = 0; e2 < edges.length && labelled < 400; e2++) {
          var F = edges[e2];
          var mx = (F[0] + F[2]) / 2, my = (F[1] + F[3]) / 2;
          if (!visible(mx, my, 1, 1)) continue;
          if (sel !== null && F[5] !== sel && F[6] !== sel) continue;
          if (sel === null && edges.length > 40) continue;
          drawText(L[F[4]], mx + 3, my - 3, 140);
          labelled++;
        }
      }
      // nodes
      ctx.font = "12px system-ui, sans-serif";
      boxes.forEach(function (b, g) {
        if (!b.cols || !visible(b.x, b.y, b.w, b.h)) return;
        var grp = G[g];
        ctx.globalAlpha = dimNs >= 0 && dimNs !== g ? 0.3 : 1;
        for (var i = grp.start; i < grp.end; i++) {
          var p = nodePos(i);
          if (!visible(p.x, p.y, NODE_W, NODE_H)) continue;
          var node = N[i];
          ctx.fillStyle = hits && hits.n.has(i) ? "#fff59d" : (node.k === "ip_range" ? "#e3f2fd" : (node.k === "pseudo" ? "#f3e5f5" : "#ffffff"));
          ctx.fillRect(p.x, p.y, NODE_W, NODE_H);
          var s = sevRank(node);
          ctx.strokeStyle = onBroken[i] ? "#c62828" : (s ? SEVC[s] : "#bdc1c6");
          ctx.lineWidth = (onBroken[i] ? 3 : (s ? 2.5 : 1)) / Math.max(k, 0.3);
          if (selected && selected.t === "n" && selected.i === i) { ctx.strokeStyle = "#1a73e8"; ctx.lineWidth = 3 / Math.max(k, 0.3); }
          ctx.strokeRect(p.x, p.y, NODE_W, NODE_H);
          if (k > 0.35) {
            ctx.fillStyle = "#202124";
            drawText(node.n, p.x + 6, p.y + 17, NODE_W - 12);
          }
        }
      });
      ctx.globalAlpha = 1;
      // overlays: traces and diff edges
      M.overlays.forEach(function (o, idx) {
        var c = STC[o.status] || "#6a1b9a";
        ctx.strokeStyle = c;
        ctx.fillStyle = c;
        ctx.lineWidth = 3 / Math.max(k, 0.3);
        ctx.setLineDash(o.kind === "trace" ? [] : [8 / Math.max(k, 0.3), 5 / Math.max(k, 0.3)]);
        var a = anchor(itemOf(o.src[0])), b = anchor(itemOf(o.dst[0]));
        var bend = 40 + 12 * (idx % 4);
        var mx = (a[0] + b[0]) / 2, my = (a[1] + b[1]) / 2 - bend;
        if (itemOf(o.src[0]) === itemOf(o.dst[0])) { mx = a[0] + 60; my = a[1] - 60; }
        ctx.beginPath();
        ctx.moveTo(a[0], a[1]);
        ctx.quadraticCurveTo(mx, my, b[0], b[1]);
        arrow(mx, my, b[0], b[1], 10 / Math.max(k, 0.5));
        ctx.stroke();
        ctx.setLineDash([]);
        if (k > 0.3) {
          ctx.font = "600 11px system-ui, sans-serif";
          drawText(o.label, mx + 4, my, 260);
        }
      });
      root.setAttribute("data-state", "drawn");
      root.setAttribute("data-edges", String(edges.length));
      root.setAttribute("data-open", String(openCount()));
    }
    function openCount() { var c = 0; for (var g = 0; g < G.length; g++) c += open[g]; return c; }
    function updateStatus() {
      var shownNodes = 0;
      for (var g = 0; g < G.length; g++) if (open[g]) shownNodes += G[g].end - G[g].start;
      setText(status, G.length + " groups (" + openCount() + " open), " + N.length + " nodes (" + shownNodes +
        " shown), " + edges.length + " edges drawn; " + M.edgeCount + " workload pairs allowed");
    }

    function hit(px, py) {
      var x = (px - view.x) / view.k, y = (py - view.y) / view.k;
      for (var g = 0; g < boxes.length; g++) {
        var b = boxes[g];
        if (x < b.x || x > b.x + b.w || y < b.y || y > b.y + b.h) continue;
        if (!b.cols || y < b.y + HEAD) return { t: "g", i: g, head: true };
        var c = Math.floor((x - b.x - PAD) / (NODE_W + GAP)), r = Math.floor((y - b.y - HEAD) / (NODE_H + GAP));
        var i = G[g].start + r * b.cols + c;
        if (c >= 0 && c < b.cols && i < G[g].end) {
          var p = nodePos(i);
          if (x <= p.x + NODE_W && y <= p.y + NODE_H) return { t: "n", i: i };
        }
        return { t: "g", i: g, head: false };
      }
      return null;
    }
    function setOpen(g, v) { if (G[g].end > G[g].start) open[g] = v ? 1 : 0; }
    function relayout() { layout(); updateStatus(); draw(); }

    /* the details panel: all cluster text through textContent */
    function section(title, items, max) {
      if (!items.length) return;
      panel.appendChild(el("h4", "", title + " (" + items.length + ")"));
      var ul = el("ul");
      items.slice(0, max || 200).forEach(function (t) {
        if (typeof t === "string") ul.appendChild(el("li", "", t));
        else ul.appendChild(t);
      });
      if (items.length > (max || 200)) ul.appendChild(el("li", "", "… " + (items.length - (max || 200)) + " more"));
      panel.appendChild(ul);
    }
    function findingLinks(list) {
      return (list || []).map(function (k) {
        var f = DATA.findings[k], li = el("li"), a = el("a", "sev-" + f.sev, f.id + " " + f.subject);
        setAnchor(a, "finding-" + k);
        li.appendChild(a);
        return li;
      });
    }
    function labelsOf(l) { return l ? Object.keys(l).map(function (k) { return k + "=" + l[k]; }) : []; }
    function nodeName(i) { var n = N[i]; return n.k === "ip_range" || n.k === "pseudo" ? n.n : G[n.g].name + "/" + n.n; }
    function showPanel(sel) {
      while (panel.firstChild) panel.removeChild(panel.firstChild);
      var close = el("button", "close", "×");
      close.type = "button";
      close.addEventListener("click", function () { selected = null; panel.hidden = true; buildEdges(); draw(); });
      panel.appendChild(close);
      var out = [], inc = [];
      if (sel.t === "n") {
        var n = N[sel.i], g = n.g, grp = G[g];
        panel.appendChild(el("h3", "", nodeName(sel.i)));
        panel.appendChild(el("p", "meta", n.k + (n.p !== undefined ? " · " + n.p + " pod" + (n.p === 1 ? "" : "s") : "")));
        section("Labels", labelsOf(n.l));
        section("Findings", findingLinks(n.f));
        if (M.ww) {
          each(M.ww[sel.i], function (j, lab) { out.push(nodeName(j) + "  " + L[lab]); });
          for (var s = 0; s < N.length; s++) { var lb = at(M.ww[s], sel.i); if (lb) inc.push(nodeName(s) + "  " + L[lb]); }
        } else {
          var off = sel.i - grp.start;
          each(M.intra[g][off] || [], function (j, lab) { out.push(nodeName(grp.start + j) + "  " + L[lab]); });
          each(M.w2g[sel.i] || [], function (h, lab) { if (h !== g) out.push("namespace " + G[h].name + " (some workloads)  " + L[lab]); });
          for (var r = 0; r < grp.end - grp.start; r++) { var lb2 = at(M.intra[g][r] || [], off); if (lb2) inc.push(nodeName(grp.start + r) + "  " + L[lb2]); }
          each(M.g2w[sel.i] || [], function (h, lab) { if (h !== g) inc.push("namespace " + G[h].name + " (some workloads)  " + L[lab]); });
        }
        M.extra.forEach(function (e) {
          if (e[0] === sel.i) out.push(nodeName(e[1]) + "  " + L[e[2]]);
          if (e[1] === sel.i) inc.push(nodeName(e[0]) + "  " + L[e[2]]);
        });
      } else {
        var G0 = G[sel.i];
        panel.appendChild(el("h3", "", (G0.ext ? "" : "namespace ") + G0.name));
        panel.appendChild(el("p", "meta", (G0.end - G0.start) + " workloads · click the box to " + (open[sel.i] ? "close" : "open") + " it"));
        section("Labels", labelsOf(G0.l));
        section("Findings", findingLinks(G0.f));
        each(M.gg[sel.i] || [], function (h, lab) { out.push((h === sel.i ? "(inside) " : "") + G[h].name + "  " + L[lab]); });
        for (var h2 = 0; h2 < G.length; h2++) { var lb3 = at(M.gg[h2] || [], sel.i); if (lb3 && h2 !== sel.i) inc.push(G[h2].name + "  " + L[lb3]); }
      }
      section("May connect to", out);
      section("May be reached from", inc);
      M.overlays.forEach(function (o) {
        var mine = sel.t === "n" ? (o.src.indexOf(sel.i) >= 0 || o.dst.indexOf(sel.i) >= 0) : false;
        if (!mine) return;
        var p = el("p"), a = el("a", "st-" + o.status, o.label + " — " + o.status);
        setAnchor(a, o.anchor);
        p.appendChild(a);
        panel.appendChild(p);
      });
      panel.hidden = false;
    }

    /* interaction */
    var drag = null;
    canvas.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false }; });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) return;
      var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      view.x = drag.vx + dx; view.y = drag.vy + dy;
      draw();
    });
    window.addEventListener("mouseup", function (ev) {
      if (!drag) return;
      var moved = drag.moved;
      drag = null;
      if (moved) return;
      var r = canvas.getBoundingClientRect();
      click(ev.clientX - r.left, ev.clientY - r.top);
    });
    canvas.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      var f = Math.exp(-ev.deltaY * 0.0015), k = Math.min(4, Math.max(0.01, view.k * f));
      view.x = px - (px - view.x) * (k / view.k); view.y = py - (py - view.y) * (k / view.k); view.k = k;
      draw();
    }, { passive: false });
    function click(px, py) {
      var h = hit(px, py);
      if (!h) { selected = null; panel.hidden = true; buildEdges(); draw(); return; }
      if (h.t === "g" && (h.head || !boxes[h.i].cols)) {
        setOpen(h.i, !open[h.i]);
        selected = { t: "g", i: h.i };
        relayout();
      } else {
        selected = { t: h.t, i: h.i };
        buildEdges();
        draw();
      }
      showPanel(selected);
    }
    $("m-fit").addEventListener("click", function () { fit(); draw(); });
    $("m-expand").addEventListener("click", function () { for (var g = 0; g < G.length; g++) setOpen(g, 1); relayout(); fit(); draw(); });
    $("m-collapse").addEventListener("click", function () { open.fill(0); relayout(); fit(); draw(); });
    root.querySelector(".map-tools").hidden = false;
    window.addEventListener("resize", function () { resize(); draw(); });

    function centerOn(b) { fit({ x: b.x - 200, y: b.y - 150, w: b.w + 400, h: b.h + 300 }); }
    var api = {
      filter: function (st) {
        dimNs = -1;
        for (var g = 0; g < G.length; g++) if (!G[g].ext && G[g].name === st.ns) dimNs = g;
        sevOn = { 1: st.sev.info, 2: st.sev.warning, 3: st.sev.error };
        draw();
      },
      search: function (q) {
        hitList = [];
        if (!q) { hits = null; draw(); return 0; }
        hits = { g: new Set(), n: new Set() };
        G.forEach(function (grp, g) { if (grp.name.toLowerCase().indexOf(q) >= 0) { hits.g.add(g); hitList.push({ t: "g", i: g }); } });
        N.forEach(function (n, i) { if (n.n.toLowerCase().indexOf(q) >= 0) { hits.n.add(i); hits.g.add(n.g); hitList.push({ t: "n", i: i }); } });
        draw();
        return hitList.length;
      },
      focusSearch: function () {
        if (!hitList.length) return;
        var h = hitList[0];
        if (h.t === "n") { setOpen(N[h.i].g, 1); relayout(); var p = nodePos(h.i); centerOn({ x: p.x, y: p.y, w: NODE_W, h: NODE_H }); }
        else centerOn(boxes[h.i]);
        selected = h; buildEdges(); showPanel(h); draw();
      },
      focusNamespace: function (ns) {
        for (var g = 0; g < G.length; g++) if (!G[g].ext && G[g].name === ns) {
          setOpen(g, 1); relayout(); centerOn(boxes[g]); selected = { t: "g", i: g }; showPanel(selected); draw();
        }
      },
      open: function (name) { for (var g = 0; g < G.length; g++) if (G[g].name === name) setOpen(g, 1); relayout(); },
      screenPos: function (name) {   // CSS pixels in the canvas of a group's header (tests, links)
        for (var g = 0; g < G.length; g++) if (G[g].name === name) {
          var b = boxes[g];
          return [view.x + (b.x + Math.min(b.w / 2, 60)) * view.k, view.y + (b.y + Math.min(HEAD, b.h) / 2) * view.k];
        }
        return null;
      },
      select: function (i) { selected = { t: "n", i: i }; buildEdges(); showPanel(selected); draw(); },
      edgesOf: function (i) {   // [from, to] of the edges drawn at node i (a group: -(g + 1))
        return edges.filter(function (e) { return e[5] === i || e[6] === i; }).map(function (e) { return [e[5], e[6]]; });
      },
      state: function () { return { groups: G.length, nodes: N.length, open: openCount(), edges: edges.length, k: view.k }; }
    };
    resize();
    layout();
    fit();
    updateStatus();
    paint();
    window.netsleuthMap = api;
    window.netsleuthRenderMs = performance.now() - t0;
    return api;
  }
})();
