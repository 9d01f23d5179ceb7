/* cci_geo WebGL point layer (MIT licence, part of the cci_geo package).
 *
 * Draws 10^5-10^7 points on the GPU with one WebGL draw call, coloured by a category, with a
 * popup per point (click -> the nearest point's attributes). With more than maxPoints in view the
 * points are aggregated into square cells (colour = the most common category, opacity = how
 * many; click for the counts); zoom in for the single points. Without WebGL the same data is drawn by
 * cciGeo.CanvasPoints (cci_geo_maps.js). The payload is written by cci_geo/maps/_pointdata.py:
 * typed arrays, byte-shuffled, zlib-compressed, base64-encoded. Strings from data reach the
 * page only through cciGeo.popupContent, which inserts them as text.
 */
(function (root) {
  "use strict";
  var L = root.L;
  var cciGeo = root.cciGeo = root.cciGeo || {};
  var TYPES = {uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, int32: Int32Array,
               float64: Float64Array};

  function bytesOf(b64) {
    var bin = atob(b64), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  /* One column: inflate, undo the byte shuffle, view as the typed array (little-endian). */
  function column(b64, dtype, n) {
    var raw = root.pako.inflate(bytesOf(b64)), Type = TYPES[dtype], k = Type.BYTES_PER_ELEMENT;
    if (k === 1) { return raw; }
    var buf = new Uint8Array(n * k);
    for (var b = 0; b < k; b++) {
      for (var i = 0, off = b * n; i < n; i++) { buf[i * k + b] = raw[off + i]; }
    }
    return new Type(buf.buffer);
  }

  /* Decode coordinates (to Web Mercator pixels at zoom 0) and categories; popup columns wait
   * for the first click. */
  function decode(p) {
    var n = p.n, dx = column(p.dx, "int32", n), dy = column(p.dy, "int32", n);
    var wx = new Float64Array(n), wy = new Float64Array(n), q = p.quantum;
    var ax = 0, ay = 0, d2r = Math.PI / 180, k4 = 4 * Math.PI;
    for (var i = 0; i < n; i++) {
      ax += dx[i]; ay += dy[i];
      var s = Math.sin((p.south + ay * q) * d2r);
      wx[i] = (p.west + ax * q + 180) / 360 * 256;
      wy[i] = (0.5 - Math.log((1 + s) / (1 - s)) / k4) * 256;
    }
    return {n: n, wx: wx, wy: wy, cat: column(p.cat, "uint8", n), colors: p.colors,
            fields: p.fields, title: p.title, columns: {}, lines: null};
  }
  cciGeo.decodePoints = decode;

  function fieldValue(d, j, i) {
    var f = d.fields[j], v;
    if (f.same_as_category) {
      v = d.cat[i];
    } else {
      if (!d.columns[j]) { d.columns[j] = column(f.data, f.dtype, d.n); }
      v = d.columns[j][i];
    }
    return f.codes ? f.codes[v] : v;
  }

  function titleAt(d, i) {
    if (!d.title) { return null; }
    if (!d.lines) {
      var len = column(d.title.lengths, d.title.dtype, d.n), starts = new Float64Array(d.n + 1);
      for (var b = 0; b < d.n; b++) { starts[b + 1] = starts[b] + len[b]; }
      d.lines = {text: root.pako.inflate(bytesOf(d.title.text)), starts: starts};
    }
    var s = d.lines.starts;
    return new TextDecoder().decode(d.lines.text.subarray(s[i], s[i + 1]));
  }

  function pointPopup(d, i) {
    var rows = [];
    for (var j = 0; j < d.fields.length; j++) { rows.push([d.fields[j].label, fieldValue(d, j, i)]); }
    return cciGeo.popupContent(titleAt(d, i), rows);
  }
  cciGeo.pointPopup = pointPopup;

  function latLngOf(wx, wy) {
    return L.latLng(Math.atan(Math.sinh(Math.PI * (1 - 2 * wy / 256))) * 180 / Math.PI,
                    wx / 256 * 360 - 180);
  }

  function nearestPoint(d, map, containerPoint, tolerancePx) {
    var k = Math.pow(2, map.getZoom()), origin = map.getPixelBounds().min;
    var px = (containerPoint.x + origin.x) / k, py = (containerPoint.y + origin.y) / k;
    var best = -1, bestD = tolerancePx * tolerancePx / (k * k), wx = d.wx, wy = d.wy;
    for (var i = 0, n = d.n; i < n; i++) {
      var ex = wx[i] - px, ey = wy[i] - py, dd = ex * ex + ey * ey;
      if (dd <= bestD) { bestD = dd; best = i; }
    }
    return best;
  }

  function parseColor(hex, alpha) {
    var h = hex.replace("#", "");
    if (h.length === 3) { h = h[0] + h[0] + h[1] + h[1] + h[2] + h[2]; }
    return [parseInt(h.slice(0, 2), 16) / 255, parseInt(h.slice(2, 4), 16) / 255,
            parseInt(h.slice(4, 6), 16) / 255, alpha];
  }

  var MAX_COLORS = 32;
  var VERTEX = [
    "attribute vec2 a_pos;", "attribute float a_cat;", "attribute float a_alpha;",
    "uniform vec2 u_shift;", "uniform float u_k;", "uniform vec2 u_half;", "uniform float u_size;",
    "uniform vec4 u_palette[" + MAX_COLORS + "];", "varying vec4 v_color;",
    "void main() {",
    "  vec2 px = a_pos * u_k + u_shift;",
    "  gl_Position = vec4(px.x / u_half.x - 1.0, 1.0 - px.y / u_half.y, 0.0, 1.0);",
    "  gl_PointSize = u_size;",
    "  vec4 c = u_palette[int(a_cat + 0.5)];",
    "  float a = c.a * a_alpha;",
    "  v_color = vec4(c.rgb * a, a);",
    "}"].join("\n");
  var FRAGMENT = [
    "precision mediump float;", "varying vec4 v_color;", "uniform float u_round;",
    "void main() {",
    "  if (u_round > 0.5) { vec2 d = gl_PointCoord - vec2(0.5); if (dot(d, d) > 0.25) { discard; } }",
    "  gl_FragColor = v_color;",
    "}"].join("\n");

  function compile(gl) {
    function shader(type, src) {
      var s = gl.createShader(type);
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) { throw new Error(gl.getShaderInfoLog(s)); }
      return s;
    }
    var prog = gl.createProgram();
    gl.attachShader(prog, shader(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) { throw new Error(gl.getProgramInfoLog(prog)); }
    var loc = {};
    ["a_pos", "a_cat", "a_alpha"].forEach(function (a) { loc[a] = gl.getAttribLocation(prog, a); });
    ["u_shift", "u_k", "u_half", "u_size", "u_palette", "u_round"].forEach(function (u) {
      loc[u] = gl.getUniformLocation(prog, u);
    });
    return {prog: prog, loc: loc};
  }

  var support = null;
  cciGeo.webglAvailable = function () {
    if (support === null) {
      try {
        var c = document.createElement("canvas");
        support = !!(root.WebGLRenderingContext && c.getContext("webgl"));
      } catch (e) { support = false; }
    }
    return support;
  };

  var GLPoints = L.Layer.extend({
    options: {pane: "overlayPane", radius: 2.5, opacity: 0.85, maxPoints: 50000, cellPx: 8,
              grid: 128},
    isCciPoints: true,

    initialize: function (data, options) {
      L.setOptions(this, options);
      var d = this._d = data, n = d.n, minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
      for (var i = 0; i < n; i++) {
        var x = d.wx[i], y = d.wy[i];
        if (x < minX) { minX = x; } if (x > maxX) { maxX = x; }
        if (y < minY) { minY = y; } if (y > maxY) { maxY = y; }
      }
      this._box = [minX, minY, maxX, maxY];
      // Positions relative to the centre keep Float32 exact to a fraction of a pixel at zoom 18+.
      var cx = this._cx = n ? (minX + maxX) / 2 : 0, cy = this._cy = n ? (minY + maxY) / 2 : 0;
      // GPU order: by cell of a coarse grid over the data, so the points in view are a few
      // contiguous runs (one per grid row) and only those are sent through the pipeline.
      var G = this._G = this.options.grid, gsx = G / Math.max(maxX - minX, 1e-12);
      var gsy = G / Math.max(maxY - minY, 1e-12), key = new Int32Array(n);
      var start = this._cellStart = new Int32Array(G * G + 1);
      for (var a = 0; a < n; a++) {
        var gx = Math.min(G - 1, Math.floor((d.wx[a] - minX) * gsx));
        var gy = Math.min(G - 1, Math.floor((d.wy[a] - minY) * gsy));
        key[a] = gy * G + gx;
        start[key[a] + 1]++;
      }
      for (var g = 0; g < G * G; g++) { start[g + 1] += start[g]; }
      var fill = start.slice(0, G * G), pos = this._pos = new Float32Array(2 * n);
      var cat = this._cat = new Uint8Array(n);
      for (var j = 0; j < n; j++) {
        var at = fill[key[j]]++;
        pos[2 * at] = d.wx[j] - cx; pos[2 * at + 1] = d.wy[j] - cy; cat[at] = d.cat[j];
      }
      this._gs = [gsx, gsy];
      var palette = new Float32Array(4 * MAX_COLORS);
      for (var c = 0; c < Math.min(d.colors.length, MAX_COLORS); c++) {
        palette.set(parseColor(d.colors[c], this.options.opacity), 4 * c);
      }
      this._palette = palette;
      this._aggs = {};
    },

    onAdd: function (map) {
      this._map = map;
      var canvas = this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide cci-gl-points");
      canvas.style.pointerEvents = "none";
      this.getPane().appendChild(canvas);
      var gl = this._gl = canvas.getContext("webgl", {antialias: false, alpha: true,
                                                       premultipliedAlpha: true, depth: false});
      this._prog = compile(gl);
      this._posBuf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, this._posBuf);
      gl.bufferData(gl.ARRAY_BUFFER, this._pos, gl.STATIC_DRAW);
      this._catBuf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, this._catBuf);
      gl.bufferData(gl.ARRAY_BUFFER, this._cat, gl.STATIC_DRAW);
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      map.on("click", this._onClick, this);
      this._redraw();
    },

    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      map.off("click", this._onClick, this);
      var lose = this._gl && this._gl.getExtension("WEBGL_lose_context");
      if (lose) { lose.loseContext(); }
      L.DomUtil.remove(this._canvas);
      this._gl = null;
      this._aggs = {};
    },

    getBounds: function () {
      var b = this._box;
      return L.latLngBounds(latLngOf(b[0], b[3]), latLngOf(b[2], b[1]));
    },

    /* The world-pixel box (zoom 0) in view, widened by a margin in screen pixels. */
    _view: function (marginPx) {
      var map = this._map, k = Math.pow(2, map.getZoom()), b = map.getPixelBounds();
      return [(b.min.x - marginPx) / k, (b.min.y - marginPx) / k,
              (b.max.x + marginPx) / k, (b.max.y + marginPx) / k];
    },

    /* Runs [start, count] of the GPU-ordered points inside the view box, and their total. */
    _runs: function (v) {
      var G = this._G, box = this._box, gs = this._gs, st = this._cellStart;
      var c0 = Math.max(0, Math.floor((v[0] - box[0]) * gs[0]));
      var c1 = Math.min(G - 1, Math.floor((v[2] - box[0]) * gs[0]));
      var r0 = Math.max(0, Math.floor((v[1] - box[1]) * gs[1]));
      var r1 = Math.min(G - 1, Math.floor((v[3] - box[1]) * gs[1]));
      var runs = [], total = 0;
      for (var r = r0; r <= r1 && c0 <= c1; r++) {
        var s0 = st[r * G + c0], s1 = st[r * G + c1 + 1];
        if (s1 > s0) { runs.push(s0, s1 - s0); total += s1 - s0; }
      }
      return {runs: runs, total: total};
    },

    /* Zoomed out (more than maxPoints in view) the layer draws counts per square cell. */
    _aggregated: function () {
      return this._runs(this._view(0)).total > this.options.maxPoints;
    },

    /* Count points per square cell of cellPx screen pixels at the current zoom (cached per
     * zoom): colour = the most common category, opacity grows with the log of the count. */
    _cells: function () {
      var z = this._map.getZoom();
      if (this._aggs[z]) { return this._aggs[z]; }
      var d = this._d, k = Math.pow(2, z) / this.options.cellPx, b = this._box, n = d.n;
      var gx0 = Math.floor(b[0] * k), gy0 = Math.floor(b[1] * k);
      var gw = Math.floor(b[2] * k) - gx0 + 1, gh = Math.floor(b[3] * k) - gy0 + 1;
      var ncat = d.colors.length, id = new Int32Array(gw * gh), key = new Int32Array(n);
      for (var i = 0; i < n; i++) {
        key[i] = (Math.floor(d.wy[i] * k) - gy0) * gw + (Math.floor(d.wx[i] * k) - gx0);
        id[key[i]] = 1;
      }
      var m = 0;
      for (var g = 0; g < gw * gh; g++) { id[g] = id[g] ? ++m : 0; }  // 1-based compact ids
      var counts = new Int32Array(m * ncat), cellOf = new Int32Array(m);
      for (var g2 = 0; g2 < gw * gh; g2++) { if (id[g2]) { cellOf[id[g2] - 1] = g2; } }
      for (var j = 0; j < n; j++) { counts[(id[key[j]] - 1) * ncat + d.cat[j]]++; }
      var pos = new Float32Array(2 * m), cat = new Uint8Array(m), total = new Int32Array(m);
      var most = 1, rowStart = new Int32Array(gh + 1), col = new Int32Array(m);
      for (var c = 0; c < m; c++) {
        var sum = 0, top = 0, cell = cellOf[c];
        for (var q = 0; q < ncat; q++) {
          var v = counts[c * ncat + q];
          sum += v;
          if (v > counts[c * ncat + top]) { top = q; }
        }
        var cx = cell % gw, cy = (cell - cx) / gw;
        pos[2 * c] = (cx + gx0 + 0.5) / k - this._cx; pos[2 * c + 1] = (cy + gy0 + 0.5) / k - this._cy;
        cat[c] = top; total[c] = sum; col[c] = cx; rowStart[cy + 1] = c + 1;
        if (sum > most) { most = sum; }
      }
      for (var r = 1; r <= gh; r++) { if (rowStart[r] < rowStart[r - 1]) { rowStart[r] = rowStart[r - 1]; } }
      var alpha = new Float32Array(m), lm = Math.log(most + 1);
      for (var t = 0; t < m; t++) { alpha[t] = 0.25 + 0.75 * Math.log(total[t] + 1) / lm; }
      var gl = this._gl, bufs = {pos: gl.createBuffer(), cat: gl.createBuffer(), alpha: gl.createBuffer()};
      gl.bindBuffer(gl.ARRAY_BUFFER, bufs.pos);
      gl.bufferData(gl.ARRAY_BUFFER, pos, gl.STATIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, bufs.cat);
      gl.bufferData(gl.ARRAY_BUFFER, cat, gl.STATIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, bufs.alpha);
      gl.bufferData(gl.ARRAY_BUFFER, alpha, gl.STATIC_DRAW);
      this._aggs[z] = {k: k, gx0: gx0, gy0: gy0, gw: gw, gh: gh, ncat: ncat, id: id,
                       counts: counts, rowStart: rowStart, col: col, bufs: bufs};
      return this._aggs[z];
    },

    /* Runs of the cells inside the view box (cells are stored row by row, by column). */
    _cellRuns: function (agg, v) {
      var c0 = Math.floor(v[0] * agg.k) - agg.gx0, c1 = Math.floor(v[2] * agg.k) - agg.gx0;
      var r0 = Math.max(0, Math.floor(v[1] * agg.k) - agg.gy0);
      var r1 = Math.min(agg.gh - 1, Math.floor(v[3] * agg.k) - agg.gy0), runs = [];
      function first(lo, hi, x) {  // first index in [lo, hi) with col >= x
        while (lo < hi) { var mid = (lo + hi) >> 1; if (agg.col[mid] < x) { lo = mid + 1; } else { hi = mid; } }
        return lo;
      }
      for (var r = r0; r <= r1; r++) {
        var a = agg.rowStart[r], b = agg.rowStart[r + 1];
        if (b <= a) { continue; }
        var s0 = first(a, b, c0), s1 = first(s0, b, c1 + 1);
        if (s1 > s0) { runs.push(s0, s1 - s0); }
      }
      return runs;
    },

    _redraw: function () {
      var map = this._map, gl = this._gl;
      if (!map || !gl) { return; }
      var size = map.getSize(), ratio = root.devicePixelRatio || 1, canvas = this._canvas;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      var w = Math.round(size.x * ratio), h = Math.round(size.y * ratio);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w; canvas.height = h;
        canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      }
      var z = map.getZoom(), k = Math.pow(2, z), origin = map.getPixelBounds().min, loc = this._prog.loc;
      gl.viewport(0, 0, w, h);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.useProgram(this._prog.prog);
      gl.uniform2f(loc.u_shift, this._cx * k - origin.x, this._cy * k - origin.y);
      gl.uniform1f(loc.u_k, k);
      gl.uniform2f(loc.u_half, size.x / 2, size.y / 2);
      gl.uniform4fv(loc.u_palette, this._palette);
      var r = this.options.radius * Math.min(2.2, Math.max(0.7, (z - 8) / 4 + 0.8));
      var view = this._runs(this._view(r + 1)), runs, posBuf, catBuf;
      this._mode = view.total > this.options.maxPoints ? "cells" : "points";
      if (this._mode === "cells") {
        var agg = this._cells();
        runs = this._cellRuns(agg, this._view(this.options.cellPx));
        posBuf = agg.bufs.pos; catBuf = agg.bufs.cat;
        gl.uniform1f(loc.u_size, this.options.cellPx * ratio);
        gl.uniform1f(loc.u_round, 0);
        gl.bindBuffer(gl.ARRAY_BUFFER, agg.bufs.alpha);
        gl.enableVertexAttribArray(loc.a_alpha);
        gl.vertexAttribPointer(loc.a_alpha, 1, gl.FLOAT, false, 0, 0);
      } else {
        runs = view.runs; posBuf = this._posBuf; catBuf = this._catBuf;
        gl.uniform1f(loc.u_size, Math.max(1, 2 * r * ratio));
        gl.uniform1f(loc.u_round, 1);
        gl.disableVertexAttribArray(loc.a_alpha);
        gl.vertexAttrib1f(loc.a_alpha, 1.0);
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuf);
      gl.enableVertexAttribArray(loc.a_pos);
      gl.vertexAttribPointer(loc.a_pos, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, catBuf);
      gl.enableVertexAttribArray(loc.a_cat);
      gl.vertexAttribPointer(loc.a_cat, 1, gl.UNSIGNED_BYTE, false, 0, 0);
      for (var q = 0; q < runs.length; q += 2) { gl.drawArrays(gl.POINTS, runs[q], runs[q + 1]); }
    },

    /* Wait until the GPU has drawn (reads one pixel back); used to time a redraw honestly. */
    _sync: function () {
      var px = new Uint8Array(4);
      this._gl.readPixels(0, 0, 1, 1, this._gl.RGBA, this._gl.UNSIGNED_BYTE, px);
    },

    nearest: function (containerPoint, tolerancePx) {
      return nearestPoint(this._d, this._map, containerPoint, tolerancePx);
    },

    latLngAt: function (i) { return latLngOf(this._d.wx[i], this._d.wy[i]); },

    _onClick: function (e) {
      var map = this._map;
      if (this._mode === "cells") {
        var agg = this._cells(), k = Math.pow(2, map.getZoom()), origin = map.getPixelBounds().min;
        var scale = agg.k / k;
        var gx = Math.floor((e.containerPoint.x + origin.x) * scale) - agg.gx0;
        var gy = Math.floor((e.containerPoint.y + origin.y) * scale) - agg.gy0;
        if (gx < 0 || gy < 0 || gx >= agg.gw || gy >= agg.gh || !agg.id[gy * agg.gw + gx]) { return; }
        var base = (agg.id[gy * agg.gw + gx] - 1) * agg.ncat, rows = [], sum = 0;
        var names = this._categoryNames();
        for (var c = 0; c < agg.ncat; c++) {
          var v = agg.counts[base + c];
          if (v) { rows.push([names[c], v]); sum += v; }
        }
        if (!sum) { return; }
        rows.sort(function (a, b) { return b[1] - a[1]; });
        var centre = latLngOf((gx + agg.gx0 + 0.5) / agg.k, (gy + agg.gy0 + 0.5) / agg.k);
        L.popup({maxWidth: 360}).setLatLng(centre)
          .setContent(cciGeo.popupContent("n = " + sum.toLocaleString("en-US"), rows)).openOn(map);
        return;
      }
      var i = this.nearest(e.containerPoint, Math.max(5, this.options.radius * 2));
      if (i < 0) { return; }
      L.popup({maxWidth: 360}).setLatLng(this.latLngAt(i)).setContent(pointPopup(this._d, i)).openOn(map);
    },

    _categoryNames: function () {
      var f = this._d.fields;
      for (var j = 0; j < f.length; j++) { if (f[j].same_as_category) { return f[j].codes; } }
      return this._d.colors.map(function (_, c) { return String(c); });
    }
  });
  cciGeo.GLPoints = GLPoints;

  /* The canvas layer on decoded data: used when the browser has no WebGL. */
  var DecodedCanvasPoints = cciGeo.CanvasPoints.extend({
    isCciPoints: true,
    initialize: function (d, options) {
      L.setOptions(this, options);
      this._d = d; this._data = {colors: d.colors};
      this._wx = d.wx; this._wy = d.wy; this._n = d.n;
      var ncat = d.colors.length, counts = new Int32Array(ncat);
      for (var i = 0; i < d.n; i++) { counts[d.cat[i]]++; }
      this._byCat = [];
      for (var c = 0; c < ncat; c++) { this._byCat.push(new Int32Array(counts[c])); counts[c] = 0; }
      for (var j = 0; j < d.n; j++) { var cj = d.cat[j]; this._byCat[cj][counts[cj]++] = j; }
    },
    _sync: function () {},
    _onClick: function (e) {
      var i = this.nearest(e.containerPoint, Math.max(5, this.options.radius * 2));
      if (i < 0) { return; }
      L.popup({maxWidth: 360}).setLatLng(this.latLngAt(i)).setContent(pointPopup(this._d, i)).openOn(this._map);
    }
  });
  cciGeo.DecodedCanvasPoints = DecodedCanvasPoints;

  /* A point layer from a payload: WebGL when the browser has it (and options.webgl is not
   * false), else the canvas layer. */
  cciGeo.glPoints = function (payload, options) {
    options = options || {};
    var d = decode(payload);
    var layer = options.webgl !== false && cciGeo.webglAvailable() ?
      new GLPoints(d, options) : new DecodedCanvasPoints(d, options);
    layer._payload = payload;
    return layer;
  };
}(window));
