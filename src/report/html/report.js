// The bentov HTML report's script (src/report/html_report.cpp embeds it). Written for this
// project: no library, no network. It reads the page's data (the command's JSON plus the
// pattern index) from #bentov-data and each head's pattern from its own base64 blob, decoded
// only when drawn (thumbnails: uint8 log scale; full patterns: uint16 log scale, lower
// triangle row by row; pattern_encoding.h documents both).
(function () {
  'use strict';

  const D = JSON.parse(document.getElementById('bentov-data').textContent);
  const R = D.results;
  const LIM = D.limits;
  const KIND = D.kind;
  const MODELS = KIND === 'compare' ? [R.a, R.b] : R.models;
  const PATTERNS = D.patterns || [];
  const THUMB_LN0 = Math.log(LIM.thumb_floor), THUMB_STEP = -Math.log(LIM.thumb_floor) / 254;
  const FULL_LN0 = Math.log(LIM.full_floor), FULL_STEP = -Math.log(LIM.full_floor) / 65534;
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  const MASKED = 0xfff3f0ee;  // RGBA little-endian: #eef0f3, entries above the diagonal
  // The SVG namespace's name (an identifier, never fetched), spelled in two parts so that the
  // page holds no URL at all.
  const SVGNS = ['http:', '', 'www.w3.org', '2000', 'svg'].join('/');
  const errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });

  // ---- DOM helpers ----
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const k in (attrs || {})) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (const c of (children || [])) if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    return e;
  }
  function svg(tag, attrs, parent) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in (attrs || {})) {
      if (k === 'text') e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return 'n/a';
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential((digits || 4) - 1);
    return v.toPrecision(digits || 4).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  }
  function showLabel(s) {
    return s.replace(/ /g, '\u00b7').replace(/\n/g, '\u21b5').replace(/\t/g, '\u2192');
  }

  // ---- colours: a perceptually ordered ramp of our own anchors, dark to light ----
  const RAMP = [[16, 12, 52], [59, 31, 120], [36, 96, 160], [28, 150, 150], [92, 196, 105], [214, 224, 72], [252, 246, 190]];
  function ramp(t) {
    t = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(t)), f = t - i, a = RAMP[i], b = RAMP[i + 1];
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  }
  function rgba32(c) { return (0xff000000 | (Math.round(c[2]) << 16) | (Math.round(c[1]) << 8) | Math.round(c[0])) >>> 0; }
  function css(c) { return 'rgb(' + c.map(Math.round).join(',') + ')'; }
  function diverging(t) {  // t in [-1, 1]: blue, white, red
    t = Math.max(-1, Math.min(1, t));
    const w = [247, 247, 247], e = t < 0 ? [33, 102, 172] : [178, 24, 43], f = Math.abs(t);
    return [w[0] + (e[0] - w[0]) * f, w[1] + (e[1] - w[1]) * f, w[2] + (e[2] - w[2]) * f];
  }

  // ---- pattern blobs ----
  function blobBytes(id) {
    const node = document.getElementById(id);
    if (!node) return null;
    const s = atob(node.textContent.trim());
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function decodeThumb(q) { return q === 0 ? 0 : Math.exp(THUMB_LN0 + (q - 1) * THUMB_STEP); }
  function decodeFull(q) { return q === 0 ? 0 : Math.exp(FULL_LN0 + (q - 1) * FULL_STEP); }
  function tri(i) { return i * (i + 1) / 2; }
  const thumbCache = new Map();
  function thumbData(m, i) {
    const key = m + '-' + i;
    if (!thumbCache.has(key)) thumbCache.set(key, blobBytes('t-' + key));
    return thumbCache.get(key);
  }
  let fullCache = { key: null, data: null };  // one full pattern decoded at a time
  function fullData(m, i) {
    const key = m + '-' + i;
    if (fullCache.key !== key) {
      const bytes = blobBytes('f-' + key);
      fullCache = { key: key, data: bytes ? new Uint16Array(bytes.buffer, 0, bytes.length >> 1) : null };
    }
    return fullCache.data;
  }
  function hasFull(m, i) { const p = PATTERNS[m]; return !!p && p.full.indexOf(i) >= 0; }

  // Colour lookup for codes 0 .. size-1 given the scale, the decoder and the largest code shown.
  // Log: from the smallest non-zero entry shown (at most 6 decades below the largest) to the largest.
  function makeLut(size, decode, minCode, maxCode, log) {
    const lut = new Uint32Array(size), pmax = Math.max(decode(maxCode), 1e-300);
    const span = Math.max(Math.min(Math.log(pmax / Math.max(decode(minCode), 1e-300)), 6 * Math.LN10), 1e-9);
    for (let c = 0; c < size; c++) {
      const p = decode(c);
      const t = log ? (p > 0 ? 1 + Math.log(p / pmax) / span : 0) : p / pmax;
      lut[c] = rgba32(ramp(t));
    }
    return lut;
  }
  // A lower-triangular pattern (side x side, codes row by row) into a canvas of side x (side - k0).
  function paintTriangle(canvas, data, side, k0, size, decode, log) {
    const w = side - k0;
    canvas.width = Math.max(w, 1);
    canvas.height = side;
    let maxCode = 0, minCode = size - 1;
    for (let q = 0; q < side; q++) {
      const base = tri(q);
      for (let k = k0; k <= q; k++) {
        const c = data[base + k];
        if (c > maxCode) maxCode = c;
        if (c > 0 && c < minCode) minCode = c;
      }
    }
    const lut = makeLut(size, decode, Math.min(minCode, maxCode), maxCode, log);
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(canvas.width, side);
    const px = new Uint32Array(img.data.buffer);
    px.fill(MASKED);
    for (let q = 0; q < side; q++) {
      const base = tri(q), row = q * w - k0;
      for (let k = k0; k <= q; k++) px[row + k] = lut[data[base + k]];
    }
    ctx.putImageData(img, 0, 0);
    return maxCode;
  }

  // ---- line charts (SVG) ----
  // opts: {title, n (points), series: [{name, values, lo, hi, color, dash}], marks: [{x, label, color, dash, band}],
  //        xlabels (optional names of the x positions), log (y on a log axis), width, height, zero}
  function lineChart(opts) {
    const W = opts.width || 320, H = opts.height || 210, ml = opts.xlabels ? 72 : 52, mr = 10, mt = 22, mb = opts.xlabels ? 58 : 30;
    const box = el('div', { cls: 'chart' });
    const s = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
    box.appendChild(s);
    const n = opts.n;
    let lo = Infinity, hi = -Infinity;
    const tr = opts.log ? function (v) { return v > 0 ? Math.log10(v) : NaN; } : function (v) { return v; };
    for (const se of opts.series) {
      for (const arr of [se.values, se.lo, se.hi]) {
        if (!arr) continue;
        for (const v of arr) { const t = tr(v); if (v !== null && isFinite(t)) { lo = Math.min(lo, t); hi = Math.max(hi, t); } }
      }
    }
    if (opts.zero) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-12) { hi += 0.5; lo -= 0.5; }
    const pad = (hi - lo) * 0.06; lo -= pad; hi += pad;
    // Enough significant digits that neighbouring ticks differ.
    const mag = Math.max(Math.abs(lo), Math.abs(hi), 1e-300), rel = (hi - lo) / 4 / mag;
    const tickDigits = opts.log ? 3 : Math.min(8, Math.max(3, Math.ceil(-Math.log10(rel)) + 1));
    const X = function (i) { return ml + (n <= 1 ? 0.5 : i / (n - 1)) * (W - ml - mr); };
    const Y = function (v) { return mt + (1 - (tr(v) - lo) / (hi - lo)) * (H - mt - mb); };
    svg('text', { x: ml, y: 14, text: opts.title, 'font-weight': 600 }, s);
    for (let k = 0; k <= 4; k++) {
      const t = lo + (hi - lo) * k / 4, y = mt + (1 - k / 4) * (H - mt - mb);
      svg('line', { x1: ml, x2: W - mr, y1: y, y2: y, class: 'gridline' }, s);
      svg('text', { x: ml - 4, y: y + 4, 'text-anchor': 'end', text: opts.log ? fmt(Math.pow(10, t), tickDigits) : fmt(t, tickDigits) }, s);
    }
    const step = Math.max(1, Math.ceil(n / 12));
    for (let i = 0; i < n; i += step) {
      const x = X(i), y = H - mb + 13;
      if (opts.xlabels) {
        svg('text', { x: x, y: y, 'text-anchor': 'end', transform: 'rotate(-35 ' + x + ' ' + y + ')', text: opts.xlabels[i] }, s);
      } else {
        svg('text', { x: x, y: y, 'text-anchor': 'middle', text: String(i) }, s);
      }
    }
    svg('line', { x1: ml, x2: W - mr, y1: H - mb, y2: H - mb, class: 'axis' }, s);
    svg('line', { x1: ml, x2: ml, y1: mt, y2: H - mb, class: 'axis' }, s);
    if (opts.zero && !opts.log) svg('line', { x1: ml, x2: W - mr, y1: Y(0), y2: Y(0), stroke: '#888', 'stroke-width': 1 }, s);
    for (const mk of (opts.marks || [])) {
      if (mk.band) {
        const x0 = X(mk.band[0]) - 3, x1 = X(mk.band[1]) + 3;
        svg('rect', { x: x0, y: mt, width: Math.max(2, x1 - x0), height: H - mt - mb, fill: mk.color, opacity: 0.12 }, s);
        continue;
      }
      if (mk.x === null || mk.x === undefined) continue;
      const x = X(mk.x) + (mk.offset || 0);
      const ln = svg('line', { x1: x, x2: x, y1: mt, y2: H - mb, stroke: mk.color, 'stroke-width': mk.width || 1.5 }, s);
      if (mk.dash) ln.setAttribute('stroke-dasharray', mk.dash);
      svg('title', { text: mk.label + ' = layer ' + mk.x }, ln);
    }
    for (const se of opts.series) {
      if (se.lo && se.hi) {
        let d = '';
        for (let i = 0; i < n; i++) d += (i ? 'L' : 'M') + X(i) + ',' + Y(se.hi[i]);
        for (let i = n - 1; i >= 0; i--) d += 'L' + X(i) + ',' + Y(se.lo[i]);
        svg('path', { d: d + 'Z', fill: se.color, opacity: 0.18, stroke: 'none' }, s);
      }
      let d = '';
      let pen = false;
      for (let i = 0; i < n; i++) {
        const v = se.values[i];
        if (v === null || !isFinite(tr(v))) { pen = false; continue; }
        d += (pen ? 'L' : 'M') + X(i) + ',' + Y(v);
        pen = true;
      }
      const path = svg('path', { d: d, fill: 'none', stroke: se.color, 'stroke-width': 2 }, s);
      if (se.dash) path.setAttribute('stroke-dasharray', se.dash);
      for (let i = 0; i < n; i++) {
        const v = se.values[i];
        if (v === null || !isFinite(tr(v))) continue;
        const c = svg('circle', { cx: X(i), cy: Y(v), r: 2.8, fill: se.color }, s);
        let tip = (se.name ? se.name + ', ' : '') + (opts.xlabels ? opts.xlabels[i] : 'layer ' + i) + ': ' + fmt(v, 6);
        if (se.lo && se.hi) tip += ' [' + fmt(se.lo[i], 4) + ', ' + fmt(se.hi[i], 4) + ']';
        svg('title', { text: tip }, c);
      }
    }
    return box;
  }

  function legend(items) {
    const d = el('div', { cls: 'legend' });
    for (const it of items) {
      const s = el('span', { cls: it.style || '', text: it.label });
      s.style.setProperty('--c', it.color);
      d.appendChild(s);
    }
    return d;
  }

  // A heatmap of rows x cols values as SVG rects with tooltips. get(r, c) -> number|null.
  function heatmap(opts) {
    const rows = opts.rows, cols = opts.cols;
    const cw = Math.max(6, Math.min(28, Math.floor(560 / cols))), ch = Math.max(6, Math.min(20, Math.floor(300 / rows)));
    const ml = 44, mt = 22, mb = opts.collabels ? 60 : 22;
    const W = Math.max(ml + cols * cw + 10, 40 + opts.title.length * 7), H = mt + rows * ch + mb;
    const box = el('div', { cls: 'chart heat' });
    const s = svg('svg', { width: W, height: H }, null);
    box.appendChild(s);
    svg('text', { x: ml, y: 14, text: opts.title, 'font-weight': 600 }, s);
    let lo = Infinity, hi = -Infinity;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      const v = opts.get(r, c);
      if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    const m = Math.max(Math.abs(lo), Math.abs(hi), 1e-12);
    for (let r = 0; r < rows; r++) {
      if (rows <= 40 || r % Math.ceil(rows / 40) === 0) {
        svg('text', { x: ml - 4, y: mt + r * ch + ch / 2 + 4, 'text-anchor': 'end', text: opts.rowname(r) }, s);
      }
      for (let c = 0; c < cols; c++) {
        const v = opts.get(r, c);
        const t = opts.diverging ? v / m : (v - lo) / Math.max(hi - lo, 1e-12);
        const fill = v === null || !isFinite(v) ? '#ddd' : css(opts.diverging ? diverging(t) : ramp(t));
        const rc = svg('rect', { x: ml + c * cw, y: mt + r * ch, width: cw - 1, height: ch - 1, fill: fill }, s);
        svg('title', { text: opts.tip(r, c, v) }, rc);
      }
    }
    for (let c = 0; c < cols; c++) {
      const x = ml + c * cw + cw / 2, y = mt + rows * ch + 12;
      if (opts.collabels) {
        svg('text', { x: x, y: y, 'text-anchor': 'end', transform: 'rotate(-35 ' + x + ' ' + y + ')', text: opts.collabels[c] }, s);
      } else if (cols <= 32 || c % Math.ceil(cols / 32) === 0) {
        svg('text', { x: x, y: y, 'text-anchor': 'middle', text: String(c) }, s);
      }
    }
    const range = opts.diverging ? '[' + fmt(-m, 3) + ', ' + fmt(m, 3) + '], blue < 0 < red' : '[' + fmt(lo, 4) + ', ' + fmt(hi, 4) + ']';
    box.appendChild(el('div', { cls: 'small muted', text: (opts.axes || '') + ' colour range ' + range }));
    return box;
  }

  // ---- per-model curves ----
  const METRICS = [
    ['locality', 'Locality (1 = local, 0 = global)'],
    ['locality_no_sink', 'Locality without the sink'],
    ['entropy', 'Entropy (nats)'],
    ['sink_mass', 'Sink mass (attention on token 0)'],
    ['sheaf_trace_per_token', 'Sheaf trace per token'],
  ];
  function modelMarks(m) {
    const marks = [];
    const c = m.corpus;
    if (c && c.L_star_empirical && c.L_star_empirical.ci95) {
      marks.push({ band: c.L_star_empirical.ci95, color: '#c0392b', label: 'L* 95% CI' });
    }
    marks.push({ x: m.L_star_theoretical, label: 'L/2', color: '#4a5563', dash: '6 4' });
    marks.push({ x: m.L_star_empirical, label: 'L* (argmax |gradient| of locality)', color: '#c0392b', width: 2.5 });
    const e = m.estimators;
    if (e) {
      if (e.two_segment) {
        marks.push({ x: e.two_segment.break, label: 'two-segment break' + (e.two_segment.supported ? ' (BIC supports it)' : ' (BIC prefers a line)'),
          color: '#2a9d8f', dash: e.two_segment.supported ? '2 3' : '1 5', offset: 2 });
      }
      if (e.trace_sign_change !== null && e.trace_sign_change !== undefined) {
        marks.push({ x: e.trace_sign_change, label: 'trace sign change', color: '#8e44ad', dash: '2 3', offset: -2 });
      }
      if (e.consensus) {
        marks.push({ x: e.consensus.entropy, label: 'argmax |gradient| of entropy', color: '#e67e22', dash: '2 3', offset: 4 });
        marks.push({ x: e.consensus.layer, label: 'consensus (' + (e.consensus.agree ? 'agree' : 'spread ' + e.consensus.spread) + ')',
          color: '#1f77b4', dash: '8 3', offset: -4 });
      }
    }
    return marks;
  }
  function markLegend(marks) {
    return legend(marks.filter(function (mk) { return !mk.band; }).map(function (mk) {
      return { label: mk.label + ': ' + mk.x, color: mk.color, style: mk.dash ? (mk.dash.startsWith('6') || mk.dash.startsWith('8') ? 'dashed' : 'dotted') : '' };
    }).concat(marks.filter(function (mk) { return mk.band; }).map(function (mk) {
      return { label: mk.label + ': [' + mk.band[0] + ', ' + mk.band[1] + ']', color: mk.color };
    })));
  }
  function curves(m, color) {
    const L = m.layers.length;
    const marks = modelMarks(m);
    const box = el('div', {});
    const charts = el('div', { cls: 'charts' });
    const profile = m.corpus ? m.corpus.profile : null;
    for (const [key, title] of METRICS) {
      const values = m.layers.map(function (l) { return l[key]; });
      const se = { name: m.name, values: values, color: color };
      if (profile) {
        se.values = profile.map(function (p) { return p[key + '_mean']; });
        se.lo = profile.map(function (p) { return p[key + '_ci95'] ? p[key + '_ci95'][0] : null; });
        se.hi = profile.map(function (p) { return p[key + '_ci95'] ? p[key + '_ci95'][1] : null; });
      }
      const positive = se.values.every(function (v) { return v === null || v > 0; });
      charts.appendChild(lineChart({ title: title + (profile ? ' (mean, 95% CI)' : ''), n: L, series: [se], marks: marks,
        log: key === 'sheaf_trace_per_token' && positive }));
    }
    box.appendChild(charts);
    box.appendChild(markLegend(marks));
    return box;
  }

  // ---- the layers x heads grid ----
  const state = { log: true, hideSink: false };
  const grids = [];  // {m, cells: [{el, canvas, i}]}
  function drawThumb(m, i, canvas) {
    const p = PATTERNS[m], data = thumbData(m, i);
    if (!data) return false;
    const k0 = state.hideSink && p.thumb_side > 1 ? 1 : 0;
    paintTriangle(canvas, data, p.thumb_side, k0, 256, decodeThumb, state.log);
    return true;
  }
  function headStats(m, l, h) {
    const hd = MODELS[m].layers[l].heads[h] || {};
    return { locality: hd.locality, entropy: hd.entropy };
  }
  function grid(mi) {
    const m = MODELS[mi], p = PATTERNS[mi];
    const L = m.n_layers, H = m.n_heads;
    const size = Math.max(44, Math.min(96, Math.floor(1180 / H)));
    const wrap = el('div', { cls: 'gridwrap' });
    const g = el('div', { cls: 'hgrid', id: 'grid-' + mi });
    g.style.gridTemplateColumns = '36px repeat(' + H + ', ' + size + 'px)';
    g.appendChild(el('div', { cls: 'hdr', text: 'layer' }));
    for (let h = 0; h < H; h++) g.appendChild(el('div', { cls: 'hdr', text: 'head ' + h }));
    const entry = { m: mi, cells: [] };
    for (let l = 0; l < L; l++) {
      g.appendChild(el('div', { cls: 'rowhdr', text: String(l) + (l === m.L_star_empirical ? ' L*' : '') }));
      for (let h = 0; h < H; h++) {
        const i = l * H + h, st = headStats(mi, l, h), full = hasFull(mi, i);
        const canvas = el('canvas', {});
        const cap = el('div', { cls: 'cap' }, [
          el('div', { text: (size >= 60 ? 'loc ' : '') + fmt(st.locality, 3) }),
          el('div', { text: (size >= 60 ? 'ent ' : '') + fmt(st.entropy, 3) })]);
        const cell = el('div', {
          cls: 'cell' + (full ? ' full' : '') + (l === m.L_star_empirical ? ' lstar' : ''), tabindex: 0,
          'data-model': mi, 'data-layer': l, 'data-head': h, 'data-locality': st.locality, 'data-entropy': st.entropy,
          title: 'layer ' + l + ', head ' + h + '\nlocality ' + st.locality + '\nentropy ' + st.entropy +
            (full ? '\nfull pattern stored' : '\nthumbnail only (full pattern beyond the size budget)'),
          onclick: function () { openViewer(mi, l, h); },
          onkeydown: function (e) { if (e.key === 'Enter') openViewer(mi, l, h); },
        }, [canvas, cap]);
        drawThumb(mi, i, canvas);
        g.appendChild(cell);
        entry.cells.push({ el: cell, canvas: canvas, i: i });
      }
    }
    grids.push(entry);
    wrap.appendChild(g);
    const box = el('div', {});
    const full = p.full.length, total = p.full_total;
    box.appendChild(el('p', { cls: 'small muted', text:
      L + ' layers x ' + H + ' heads, ' + p.n + ' tokens. Each cell: the head\'s attention (queries down, keys across), ' +
      (p.thumb_side < p.n ? 'pooled to ' + p.thumb_side + ' x ' + p.thumb_side + ' block means' : 'at full resolution') +
      '; first line locality, second entropy (the JSON\'s values). Click a cell to open its full pattern. ' +
      'Full patterns stored for ' + full + ' of ' + total + ' heads' +
      (full < total ? ' (the page stays under ' + (LIM.max_bytes / 1e6) + ' MB; shaded cells have theirs, the others open their thumbnail)' : '') + '.' }));
    box.appendChild(wrap);
    return box;
  }
  function redrawGrids() {
    for (const g of grids) for (const c of g.cells) drawThumb(g.m, c.i, c.canvas);
  }
  function controls() {
    const log = el('input', { type: 'checkbox', id: 'opt-log' });
    log.checked = state.log;
    const sink = el('input', { type: 'checkbox', id: 'opt-sink' });
    sink.checked = state.hideSink;
    log.addEventListener('change', function () { setOption('log', log.checked); });
    sink.addEventListener('change', function () { setOption('hideSink', sink.checked); });
    return el('div', { cls: 'controls' }, [
      el('label', {}, [log, ' log colour scale (at most 6 decades, per pattern)']),
      el('label', {}, [sink, ' hide the sink column (key 0)']), scaleBar()]);
  }
  function scaleBar() {
    const c = el('canvas', { width: 140, height: 1 });
    const ctx = c.getContext('2d'), img = ctx.createImageData(140, 1), px = new Uint32Array(img.data.buffer);
    for (let i = 0; i < 140; i++) px[i] = rgba32(ramp(i / 139));
    ctx.putImageData(img, 0, 0);
    return el('span', { cls: 'scale' }, ['low', c, 'high']);
  }
  function setOption(key, value) {
    state[key] = value;
    for (const id of ['opt-log', 'opt-sink', 'v-log', 'v-sink']) {
      const box = document.getElementById(id);
      if (box) box.checked = id.endsWith('log') ? state.log : state.hideSink;
    }
    redrawGrids();
    if (viewer.open) drawViewer();
  }

  // ---- the full-pattern viewer ----
  const viewer = { open: false };
  function buildViewer() {
    const log = el('input', { type: 'checkbox', id: 'v-log' });
    const sink = el('input', { type: 'checkbox', id: 'v-sink' });
    log.addEventListener('change', function () { setOption('log', log.checked); });
    sink.addEventListener('change', function () { setOption('hideSink', sink.checked); });
    const zoom = el('select', { id: 'v-zoom' });
    zoom.addEventListener('change', function () { viewer.scale = Number(zoom.value); layoutViewer(); });
    const title = el('span', { cls: 'title', id: 'v-title' });
    const readout = el('div', { id: 'readout', text: 'Hover over the pattern.' });
    const note = el('div', { cls: 'note', id: 'v-note' });
    const matrix = el('canvas', { cls: 'matrix', id: 'v-matrix' });
    const left = el('canvas', { cls: 'labels', id: 'v-left' }), top = el('canvas', { cls: 'labels', id: 'v-top' });
    const mat = el('div', { cls: 'mat' }, [el('div', {}), top, left, matrix]);
    const root = el('div', { id: 'viewer', hidden: '' }, [el('div', { cls: 'panel' }, [
      el('div', { cls: 'bar' }, [title,
        el('label', {}, [log, ' log scale']), el('label', {}, [sink, ' hide sink (key 0)']),
        el('label', {}, ['zoom ', zoom]),
        el('button', { text: '\u2190 head', onclick: function () { step(0, -1); } }),
        el('button', { text: 'head \u2192', onclick: function () { step(0, 1); } }),
        el('button', { text: '\u2191 layer', onclick: function () { step(-1, 0); } }),
        el('button', { text: 'layer \u2193', onclick: function () { step(1, 0); } }),
        el('button', { text: 'close', id: 'v-close', onclick: closeViewer })]),
      readout, note, el('div', { cls: 'scroller' }, [mat])])]);
    root.addEventListener('click', function (e) { if (e.target === root) closeViewer(); });
    matrix.addEventListener('mousemove', hover);
    document.addEventListener('keydown', function (e) {
      if (!viewer.open) return;
      if (e.key === 'Escape') closeViewer();
      else if (e.key === 'ArrowLeft') step(0, -1);
      else if (e.key === 'ArrowRight') step(0, 1);
      else if (e.key === 'ArrowUp') step(-1, 0);
      else if (e.key === 'ArrowDown') step(1, 0);
      else return;
      e.preventDefault();
    });
    document.body.appendChild(root);
    Object.assign(viewer, { root: root, matrix: matrix, left: left, top: top, readout: readout, note: note, title: title, zoom: zoom });
  }
  function step(dl, dh) {
    const m = MODELS[viewer.m];
    const l = Math.min(m.n_layers - 1, Math.max(0, viewer.l + dl)), h = Math.min(m.n_heads - 1, Math.max(0, viewer.h + dh));
    if (l !== viewer.l || h !== viewer.h) openViewer(viewer.m, l, h);
  }
  function openViewer(mi, l, h) {
    const m = MODELS[mi], p = PATTERNS[mi], i = l * m.n_heads + h;
    Object.assign(viewer, { m: mi, l: l, h: h, i: i, n: p.n, full: hasFull(mi, i) });
    const st = headStats(mi, l, h);
    viewer.title.textContent = m.name + ': layer ' + l + ', head ' + h + ' \u00b7 locality ' + fmt(st.locality, 5) +
      ' \u00b7 entropy ' + fmt(st.entropy, 5);
    viewer.note.textContent = viewer.full
      ? 'Full pattern, ' + p.n + ' x ' + p.n + ' at native resolution (stored on a 16-bit log scale: the readout is within ' +
        (LIM.full_relative_error * 100).toFixed(3) + '% of the float32 probability; below ' + LIM.full_floor + ' it reads 0).'
      : 'Thumbnail only: this head\'s full pattern is beyond the page\'s size budget (' + (LIM.max_bytes / 1e6) +
        ' MB), so each square is the mean of a block of entries (8-bit log scale, within about 3%). ' +
        'bentov attention dumps every entry.';
    viewer.root.hidden = false;
    viewer.open = true;
    document.getElementById('v-log').checked = state.log;
    document.getElementById('v-sink').checked = state.hideSink;
    const zoom = viewer.zoom;
    zoom.textContent = '';
    let best = null;
    for (const s of [0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32]) {
      if (p.n * s > 16384) break;
      zoom.appendChild(el('option', { value: s, text: (s < 1 ? '1/' + (1 / s) : String(s)) + ' px per token' }));
      if (p.n * s <= 760 || best === null) best = s;
    }
    if (viewer.scale === undefined || viewer.nScaled !== p.n) { viewer.scale = best; viewer.nScaled = p.n; }
    zoom.value = String(viewer.scale);
    drawViewer();
  }
  function closeViewer() { viewer.root.hidden = true; viewer.open = false; }
  function drawViewer() {
    const p = PATTERNS[viewer.m];
    const k0 = state.hideSink ? 1 : 0;
    if (viewer.full) {
      viewer.data = fullData(viewer.m, viewer.i);
      viewer.side = p.n;
      paintTriangle(viewer.matrix, viewer.data, p.n, k0, 65536, decodeFull, state.log);
    } else {
      viewer.data = thumbData(viewer.m, viewer.i);
      viewer.side = p.thumb_side;
      paintTriangle(viewer.matrix, viewer.data, p.thumb_side, p.thumb_side > 1 ? k0 : 0, 256, decodeThumb, state.log);
    }
    viewer.k0 = k0;
    layoutViewer();
  }
  // Token geometry: the canvas is shown at `scale` CSS pixels per token, whatever its resolution.
  function layoutViewer() {
    const p = PATTERNS[viewer.m], n = p.n, s = viewer.scale;
    const firstKey = viewer.full ? viewer.k0 : (viewer.k0 && p.thumb_side > 1 ? cellStart(1) : 0);
    const w = (n - firstKey) * s, h = n * s;
    viewer.firstKey = firstKey;
    viewer.matrix.style.width = w + 'px';
    viewer.matrix.style.height = h + 'px';
    const labels = PATTERNS[viewer.m].labels;
    const show = s >= 8;
    const font = Math.min(12, s - 1);
    const lw = show ? 120 : 0, th = show ? 90 : 0;
    const dpr = window.devicePixelRatio || 1;
    for (const [c, cw, ch] of [[viewer.left, lw, h], [viewer.top, w, th]]) {
      c.width = Math.max(1, Math.round(cw * dpr));
      c.height = Math.max(1, Math.round(ch * dpr));
      c.style.width = cw + 'px';
      c.style.height = ch + 'px';
    }
    if (!show) return;
    let ctx = viewer.left.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.font = font + 'px DejaVu Sans Mono, monospace';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#1d232b';
    for (let q = 0; q < n; q++) ctx.fillText(showLabel(labels[q]).slice(0, 16) + ' ' + q, lw - 4, q * s + s / 2);
    ctx = viewer.top.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.font = font + 'px DejaVu Sans Mono, monospace';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#1d232b';
    for (let k = firstKey; k < n; k++) {
      ctx.save();
      ctx.translate((k - firstKey) * s + s / 2, th - 4);
      ctx.rotate(-Math.PI / 3);
      ctx.fillText(k + ' ' + showLabel(labels[k]).slice(0, 12), 0, 0);
      ctx.restore();
    }
  }
  function cellStart(c) { const p = PATTERNS[viewer.m]; return Math.ceil(c * p.n / p.thumb_side); }
  function cellOf(pos) { const p = PATTERNS[viewer.m]; return Math.floor(pos * p.thumb_side / p.n); }
  function hover(e) {
    const rect = viewer.matrix.getBoundingClientRect();
    const p = PATTERNS[viewer.m], n = p.n;
    const k = viewer.firstKey + Math.floor((e.clientX - rect.left) / rect.width * (n - viewer.firstKey));
    const q = Math.floor((e.clientY - rect.top) / rect.height * n);
    if (q < 0 || q >= n || k < 0 || k >= n) return;
    const lab = p.labels;
    let text = 'query ' + q + ' ' + JSON.stringify(lab[q]) + '  \u00b7  key ' + k + ' ' + JSON.stringify(lab[k]) + '  \u00b7  ';
    let prob = null;
    if (k > q) {
      text += 'masked (key after query)';
    } else if (viewer.full) {
      prob = decodeFull(viewer.data[tri(q) + k]);
      text += 'p = ' + fmt(prob, 5);
    } else {
      const a = cellOf(q), b = cellOf(k);
      prob = decodeThumb(viewer.data[tri(a) + b]);
      text += 'block mean of queries ' + cellStart(a) + '-' + (cellStart(a + 1) - 1) + ' x keys ' + cellStart(b) + '-' +
        (cellStart(b + 1) - 1) + ' = ' + fmt(prob, 3);
    }
    viewer.readout.textContent = text;
    viewer.readout.dataset.q = q;
    viewer.readout.dataset.k = k;
    viewer.readout.dataset.p = prob === null ? '' : String(prob);
    viewer.readout.dataset.exact = viewer.full ? '1' : '0';
  }

  // ---- sections ----
  function header() {
    const title = KIND === 'compare' ? 'bentov compare: ' + R.a.name + ' vs ' + R.b.name
      : KIND === 'sweep' ? 'bentov sweep over ' + MODELS.length + ' checkpoints' : 'bentov analyze';
    app.appendChild(el('h1', { text: title }));
    let sub = 'bentov ' + R.bentov_version + ' \u00b7 ';
    if (R.corpus_file) sub += 'corpus ' + R.corpus_file;
    else if (R.text !== undefined && R.text !== null) sub += 'one text';
    else if (KIND !== 'compare') sub += 'token ids given with --ids';
    else sub += 'one text';
    app.appendChild(el('div', { cls: 'muted', text: sub + ' \u00b7 this page is offline: everything it shows is inside the file.' }));
    if (R.text) app.appendChild(el('details', {}, [el('summary', { text: 'Text' }), el('pre', { cls: 'tokens', text: R.text })]));
    if (R.failures && R.failures.length) {
      const ul = el('ul', { cls: 'failures' });
      for (const f of R.failures) ul.appendChild(el('li', { text: f.source + ': ' + f.error }));
      app.appendChild(el('div', {}, [el('h3', { text: 'Failed' }), ul]));
    }
  }
  function summary() {
    const t = el('table', { cls: 'summary' });
    const corpus = MODELS.some(function (m) { return m.corpus; });
    const head = ['Model', 'Layers', 'Heads', 'Tokens', 'L* (L/2)', 'L* (empirical)', 'Deviation', 'Consensus'];
    if (corpus) head.push('Texts', 'L* 95% CI');
    t.appendChild(el('tr', {}, head.map(function (h) { return el('th', { text: h }); })));
    for (const m of MODELS) {
      const c = m.estimators && m.estimators.consensus;
      const row = [m.name, m.n_layers, m.n_heads, m.corpus ? m.corpus.n_tokens : m.token_ids.length, m.L_star_theoretical,
        m.L_star_empirical, m.deviation, c ? c.layer + (c.agree ? ' (agree)' : ' (spread ' + c.spread + ')') : '-'];
      if (corpus) row.push(m.corpus ? m.corpus.n_texts : '-', m.corpus ? '[' + m.corpus.L_star_empirical.ci95.join(', ') + ']' : '-');
      t.appendChild(el('tr', {}, row.map(function (v) { return el('td', { text: String(v) }); })));
    }
    app.appendChild(t);
    if (KIND === 'analyze' && R.mean_deviation !== null && R.mean_deviation !== undefined) {
      app.appendChild(el('div', { text: 'Mean deviation: ' + R.mean_deviation.toFixed(1) + ' layers' }));
    }
    if (MODELS.length > 1 && KIND === 'analyze') {
      const n = Math.max.apply(null, MODELS.map(function (m) { return m.layers.length; }));
      app.appendChild(el('h3', { text: 'Locality of every model' }));
      app.appendChild(lineChart({ title: 'Locality per layer', n: n, width: 560, height: 260,
        series: MODELS.map(function (m, i) { return { name: m.name, values: m.layers.map(function (l) { return l.locality; }), color: PALETTE[i % PALETTE.length] }; }) }));
      app.appendChild(legend(MODELS.map(function (m, i) { return { label: m.name, color: PALETTE[i % PALETTE.length] }; })));
    }
  }
  function headMaps(m) {
    const box = el('div', { cls: 'charts' });
    for (const key of ['locality', 'entropy']) {
      box.appendChild(heatmap({ title: 'Per-head ' + key + (m.corpus ? ' (mean over texts)' : ''), rows: m.n_layers, cols: m.n_heads,
        get: function (l, h) { const hd = m.layers[l].heads[h]; return hd ? hd[key] : null; },
        rowname: function (l) { return 'L' + l; }, axes: 'layers down, heads across;',
        tip: function (l, h, v) { return 'layer ' + l + ', head ' + h + ': ' + key + ' ' + v; } }));
    }
    return box;
  }
  function lstarHistogram(m) {
    const c = m.corpus.L_star_empirical;
    return lineChart({ title: 'Per-text L* (texts per layer)', n: c.counts.length, series: [{ name: 'texts', values: c.counts, color: '#555' }],
      marks: [{ band: c.ci95, color: '#c0392b', label: 'L* 95% CI' }, { x: c.mean_profile, label: 'L*', color: '#c0392b', width: 2.5 },
        { x: m.L_star_theoretical, label: 'L/2', color: '#4a5563', dash: '6 4' }], zero: true });
  }
  function modelSection(mi) {
    const m = MODELS[mi], color = PALETTE[mi % PALETTE.length];
    const sec = el('section', { id: 'model-' + mi });
    sec.appendChild(el('h2', { text: (KIND === 'compare' ? (mi === 0 ? 'A: ' : 'B: ') : '') + m.name }));
    sec.appendChild(el('div', { cls: 'muted small', text: m.architecture + ' \u00b7 ' + m.n_layers + ' layers x ' + m.n_heads +
      ' heads \u00b7 L/2 = ' + m.L_star_theoretical + ', L* = ' + m.L_star_empirical + ', deviation ' + m.deviation + ' \u00b7 ' + m.source }));
    sec.appendChild(el('h3', { text: 'Per-layer signatures' }));
    sec.appendChild(curves(m, color));
    if (m.corpus) sec.appendChild(el('div', { cls: 'charts' }, [lstarHistogram(m)]));
    const p = PATTERNS[mi];
    if (p) {
      sec.appendChild(el('h3', { text: 'Attention of every head' }));
      const toks = el('div', { cls: 'tokens' });
      p.labels.slice(0, 2048).forEach(function (t, i) { toks.appendChild(el('span', { title: 'position ' + i + ', id ' + m.token_ids[i], text: showLabel(t) })); });
      sec.appendChild(el('details', {}, [el('summary', { text: p.n + ' tokens (' + (p.labels_from_tokenizer ? 'labels from the tokenizer\'s decoder' : 'no tokenizer: labels are the ids') + ')' + (p.n > 2048 ? ', the first 2048 listed' : '') }), toks]));
      sec.appendChild(grid(mi));
    } else {
      sec.appendChild(el('h3', { text: 'Per-head signatures' }));
      if (!m.corpus && KIND !== 'sweep') sec.appendChild(el('p', { cls: 'small muted', text: 'No attention patterns in this page for this model (captured only on a single-process run of one text).' }));
      sec.appendChild(headMaps(m));
    }
    return sec;
  }
  function sweepSection() {
    const sec = el('section', { id: 'sweep' });
    sec.appendChild(el('h2', { text: 'Over the checkpoints' }));
    const names = MODELS.map(function (m) { return m.name; });
    const charts = el('div', { cls: 'charts' });
    charts.appendChild(lineChart({ title: 'L* per checkpoint', n: MODELS.length, xlabels: names, width: 420, height: 260,
      series: [{ name: 'L* (empirical)', values: MODELS.map(function (m) { return m.L_star_empirical; }), color: '#c0392b' },
        { name: 'L/2', values: MODELS.map(function (m) { return m.L_star_theoretical; }), color: '#4a5563', dash: '6 4' }] }));
    const L = Math.min.apply(null, MODELS.map(function (m) { return m.layers.length; }));
    for (const [key, title] of [['locality', 'Locality'], ['entropy', 'Entropy (nats)'], ['sink_mass', 'Sink mass']]) {
      charts.appendChild(heatmap({ title: title + ': layer x checkpoint', rows: L, cols: MODELS.length, collabels: names,
        get: function (l, c) { return MODELS[c].layers[l][key]; }, rowname: function (l) { return 'L' + l; },
        axes: 'layers down, checkpoints across;', tip: function (l, c, v) { return names[c] + ', layer ' + l + ': ' + key + ' ' + v; } }));
    }
    sec.appendChild(charts);
    sec.appendChild(legend([{ label: 'L* (empirical)', color: '#c0392b' }, { label: 'L/2', color: '#4a5563', style: 'dashed' }]));
    app.appendChild(sec);
  }
  function compareSection() {
    const sec = el('section', { id: 'compare' });
    const layers = R.delta.layers, L = layers.length;
    sec.appendChild(el('h2', { text: 'Differences (B - A)' }));
    sec.appendChild(el('div', { text: 'L* ' + R.a.L_star_empirical + ' \u2192 ' + R.b.L_star_empirical + ' (shift ' +
      (R.L_star_shift >= 0 ? '+' : '') + R.L_star_shift + ')' }));
    const charts = el('div', { cls: 'charts' });
    charts.appendChild(lineChart({ title: 'Locality: A and B', n: L, series: [
      { name: 'A ' + R.a.name, values: R.a.layers.map(function (l) { return l.locality; }), color: PALETTE[0] },
      { name: 'B ' + R.b.name, values: R.b.layers.map(function (l) { return l.locality; }), color: PALETTE[1] }] }));
    for (const [key, title] of [['locality', '\u0394 locality'], ['entropy', '\u0394 entropy'], ['sheaf_trace', '\u0394 sheaf trace'], ['sink_mass', '\u0394 sink mass']]) {
      charts.appendChild(lineChart({ title: title + ' per layer', n: L, zero: true,
        series: [{ name: title, values: layers.map(function (l) { return l[key]; }), color: '#444' }] }));
    }
    sec.appendChild(charts);
    sec.appendChild(legend([{ label: 'A ' + R.a.name, color: PALETTE[0] }, { label: 'B ' + R.b.name, color: PALETTE[1] }]));
    const H = layers.length ? layers[0].heads.length : 0;
    const maps = el('div', { cls: 'charts' });
    for (const key of ['locality', 'entropy']) {
      maps.appendChild(heatmap({ title: 'Per-head \u0394 ' + key, rows: L, cols: H, diverging: true,
        get: function (l, h) { return layers[l].heads[h][key]; }, rowname: function (l) { return 'L' + l; },
        axes: 'layers down, heads across;', tip: function (l, h, v) { return 'layer ' + l + ', head ' + h + ': \u0394 ' + key + ' ' + v; } }));
    }
    sec.appendChild(maps);
    app.appendChild(sec);
  }

  // ---- self-check (#selftest or #selftest=MODEL,LAYER,HEAD): what the tests read with --dump-dom ----
  function selftest(arg) {
    const out = { ok: true, errors: errors, kind: KIND, models: [], resources: 0 };
    try {
      out.resources = performance.getEntriesByType('resource').length;
      MODELS.forEach(function (m, mi) {
        const g = document.getElementById('grid-' + mi);
        out.models.push({ index: mi, name: m.name, n_layers: m.n_layers, n_heads: m.n_heads, has_patterns: !!PATTERNS[mi],
          cells: g ? g.querySelectorAll('.cell').length : 0, full_patterns: PATTERNS[mi] ? PATTERNS[mi].full.length : 0,
          thumbs_drawn: g ? Array.prototype.filter.call(g.querySelectorAll('.cell canvas'), function (c) { return c.width > 0 && c.height > 0; }).length : 0 });
      });
      let want = arg ? arg.split(',').map(Number) : null;
      if (!want) {
        const mi = PATTERNS.findIndex(function (p) { return !!p; });
        if (mi < 0) return out;
        const p = PATTERNS[mi], H = MODELS[mi].n_heads, i = p.full.length ? p.full[p.full.length - 1] : 0;
        want = [mi, Math.floor(i / H), i % H];
      }
      const cell = document.querySelector('#grid-' + want[0] + ' .cell[data-layer="' + want[1] + '"][data-head="' + want[2] + '"]');
      if (!cell) throw new Error('no cell for ' + want.join(','));
      cell.click();
      const n = viewer.n;
      const opened = { model: want[0], layer: want[1], head: want[2], visible: !viewer.root.hidden, full: viewer.full, n: n,
        canvas: [viewer.matrix.width, viewer.matrix.height], locality: Number(cell.dataset.locality), entropy: Number(cell.dataset.entropy),
        title: viewer.title.textContent };
      const ctx = viewer.matrix.getContext('2d');
      const px = new Uint32Array(ctx.getImageData(0, 0, viewer.matrix.width, viewer.matrix.height).data.buffer);
      opened.painted = px.reduce(function (a, v) { return a + (v !== MASKED ? 1 : 0); }, 0);
      out.opened = opened;
      // Mouse coordinates are whole pixels: probe at 4 or more pixels per token.
      if (viewer.scale < 4 && n * 4 <= 16384) {
        viewer.scale = 4;
        viewer.zoom.value = '4';
        layoutViewer();
      }
      const probe = function (q, k) {
        const rect = viewer.matrix.getBoundingClientRect(), span = n - viewer.firstKey;
        viewer.matrix.dispatchEvent(new MouseEvent('mousemove', { bubbles: true,
          clientX: rect.left + (k - viewer.firstKey + 0.5) * rect.width / span, clientY: rect.top + (q + 0.5) * rect.height / n }));
        const d = viewer.readout.dataset;
        return { q: Number(d.q), k: Number(d.k), p: d.p === '' ? null : Number(d.p), exact: d.exact === '1', text: viewer.readout.textContent };
      };
      const points = [[n - 1, 0], [n - 1, n - 1], [n >> 1, n >> 2], [1, 0], [1, 1], [n - 1, (n - 1) >> 1]];
      out.probes = points.map(function (pt) { return probe(pt[0], pt[1]); });
      setOption('hideSink', true);
      out.sink_hidden = { canvas: [viewer.matrix.width, viewer.matrix.height], first_key: viewer.firstKey,
        probe: probe(n - 1, Math.min(viewer.firstKey, n - 1)) };
      setOption('hideSink', false);
      setOption('log', false);
      out.linear_painted = true;
      setOption('log', true);
    } catch (e) {
      out.ok = false;
      out.errors.push(String(e && e.stack || e));
    }
    out.ok = out.ok && errors.length === 0;
    return out;
  }

  function main() {
    header();
    summary();
    if (KIND === 'sweep') sweepSection();
    if (KIND === 'compare') compareSection();
    if (PATTERNS.some(function (p) { return !!p; })) app.appendChild(el('div', {}, [el('h2', { text: 'Display' }), controls()]));
    MODELS.forEach(function (m, mi) { app.appendChild(modelSection(mi)); });
    buildViewer();
    const hash = decodeURIComponent(location.hash.slice(1));
    const open = /^open=(\d+),(\d+),(\d+)$/.exec(hash);
    if (open && PATTERNS[+open[1]]) openViewer(+open[1], +open[2], +open[3]);
    if (hash === 'selftest' || hash.startsWith('selftest=')) {
      const result = selftest(hash.startsWith('selftest=') ? hash.slice(9) : null);
      const pre = el('pre', { id: 'bentov-selftest', text: JSON.stringify(result) });
      pre.style.display = 'none';
      document.body.appendChild(pre);
      document.body.setAttribute('data-selftest', result.ok ? 'pass' : 'fail');
    }
  }

  try {
    main();
  } catch (e) {
    errors.push(String(e && e.stack || e));
    const pre = el('pre', { id: 'bentov-selftest', text: JSON.stringify({ ok: false, errors: errors }) });
    document.body.appendChild(pre);
    app.appendChild(el('pre', { cls: 'failures', text: 'The report could not be drawn: ' + errors.join('\n') }));
  }
})();
