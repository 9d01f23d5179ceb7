/* cci_geo WebGL point layer (MIT licence, part of the cci_geo package).
 *
 * Draws 10^5-10^7 points on the GPU, coloured by a category, with a popup per point (click ->
 * the nearest point's attributes). With more than maxPoints in view the points are aggregated
 * into square cells of about cellPx screen pixels (colour = the most common category, opacity =
 * how many; click for the counts per category); zoom in for the single points. Without WebGL
 * the same data is drawn by cciGeo.CanvasPoints (cci_geo_maps.js).
 *
 * The payload is written by cci_geo/maps/_pointdata.py: a small description (meta) and a list
 * of base64 byte planes (blobs), zlib-compressed where that pays. Coordinates are whole Web
 * Mercator pixels at zoom meta.unitsZoom ("units"), sorted along a Z-order curve, so every
 * aligned square block of units (a cell of the culling grid, an aggregation cell) is one
 * contiguous run of points. Decoding is asynchronous (the browser's base64 and
 * DecompressionStream; pako where those are missing) and starts when the layer is first added;
 * popup columns are decoded at the first click. The GPU gets one static buffer of positions
 * relative to the data's centre; a pan or zoom only changes the transform (uniforms) and the
 * runs that are drawn. Strings from data reach the page only through cciGeo.popupContent, which
 * inserts them as text.
 */
(function (root) {
  "use strict";
  var L = root.L;
  var cciGeo = root.cciGeo = root.cciGeo || {};
  var TYPES = {uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, int32: Int32Array,
               float64: Float64Array};

  function now() { return root.performance ? root.performance.now() : Date.now(); }

  /* Switch off to decode with pako and atob (what browsers without DecompressionStream or
   * Uint8Array.fromBase64 do); the tests check both paths. */
  cciGeo.nativeDecode = true;

  function bytesOf(b64) {
    if (cciGeo.nativeDecode && Uint8Array.fromBase64) { return Uint8Array.fromBase64(b64); }
    var bin = atob(b64), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function inflate(bytes) {
    if (cciGeo.nativeDecode && root.DecompressionStream && root.Response && root.Blob) {
      var stream = new Blob([bytes]).stream().pipeThrough(new root.DecompressionStream("deflate"));
      return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); });
    }
    return Promise.resolve(root.pako.inflate(bytes));
  }

  /* The byte planes of one column (ref = [blob index, compressed]). */
  function planes(blobs, col) {
    return Promise.all(col.planes.map(function (ref) {
      var bytes = bytesOf(blobs[ref[0]]);
      return ref[1] ? inflate(bytes) : bytes;
    }));
  }

  /* One column as its typed array (little-endian planes interleaved again). */
  function column(blobs, col, n) {
    return planes(blobs, col).then(function (ps) {
      var Type = TYPES[col.dtype], k = Type.BYTES_PER_ELEMENT;
      if (k === 1) { return new Type(ps[0].buffer, ps[0].byteOffset, n); }
      var buf = new Uint8Array(n * k);
      for (var b = 0; b < k; b++) {
        var p = ps[b];
        for (var i = 0; i < n; i++) { buf[i * k + b] = p[i]; }
      }
      return new Type(buf.buffer);
    });
  }

  /* Zig-zag deltas (four planes) -> absolute Int32 units. */
  function coordinates(blobs, col, n) {
    return planes(blobs, col).then(function (p) {
      var out = new Int32Array(n), a = 0, p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
      for (var i = 0; i < n; i++) {
        var u = p0[i] | (p1[i] << 8) | (p2[i] << 16) | (p3[i] << 24);
        a = (a + ((u >>> 1) ^ -(u & 1))) | 0;
        out[i] = a;
      }
      return out;
    });
  }

  /* Coordinates and categories; popup columns wait for the first click (loadPopupData). */
  function decode(meta, blobs) {
    var n = meta.n, t0 = now();
    return Promise.all([coordinates(blobs, meta.x, n), coordinates(blobs, meta.y, n),
                        column(blobs, meta.cat, n)]).then(function (r) {
      var ix = r[0], iy = r[1], x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (var i = 0; i < n; i++) {
        var x = ix[i], y = iy[i];
        if (x < x0) { x0 = x; } if (x > x1) { x1 = x; }
        if (y < y0) { y0 = y; } if (y > y1) { y1 = y; }
      }
      return {n: n, ix: ix, iy: iy, cat: r[2], box: n ? [x0, y0, x1, y1] : [0, 0, 0, 0],
              uz: meta.unitsZoom, colors: meta.colors, fields: meta.fields, title: meta.title,
              blobs: blobs, columns: {}, lines: null, popupData: null, decodeMs: now() - t0};
    });
  }
  cciGeo.decodePoints = decode;

  /* Decode every popup column and the names once: after the first draw, when the page is
   * idle (a click before then waits for it). */
  function loadPopupData(d) {
    if (!d.popupData) {
      var jobs = d.fields.map(function (f, j) {
        if (f.same_as_category || !f.planes) { return null; }
        return column(d.blobs, f, d.n).then(function (c) { d.columns[j] = c; });
      });
      if (d.title) {
        jobs.push(Promise.all([column(d.blobs, d.title.lengths, d.n),
                               planes(d.blobs, {planes: [d.title.text]})]).then(function (r) {
          var len = r[0], starts = new Float64Array(d.n + 1);
          for (var i = 0; i < d.n; i++) { starts[i + 1] = starts[i] + len[i]; }
          d.lines = {text: r[1][0], starts: starts};
        }));
      }
      d.popupData = Promise.all(jobs).then(function () { d.popupReady = true; });
    }
    return d.popupData;
  }

  function pointPopup(d, i) {
    var rows = [];
    for (var j = 0; j < d.fields.length; j++) {
      var f = d.fields[j], v = f.same_as_category ? d.cat[i] : d.columns[j][i];
      rows.push([f.label, f.codes ? f.codes[v] : v]);
    }
    var title = null;
    if (d.lines) {
      var s = d.lines.starts;
      title = new TextDecoder().decode(d.lines.text.subarray(s[i], s[i + 1]));
    }
    return cciGeo.popupContent(title, rows);
  }

  /* Open point i's popup (at once when its columns are decoded, else when they are). */
  function openPointPopup(d, map, i) {
    function open() {
      L.popup({maxWidth: 360}).setLatLng(latLngOf(d, d.ix[i], d.iy[i]))
        .setContent(pointPopup(d, i)).openOn(map);
      return true;
    }
    return d.popupReady ? Promise.resolve(open()) : loadPopupData(d).then(open);
  }

  function latLngOf(d, ux, uy) {
    var world = Math.pow(2, d.uz + 8);
    return L.latLng(Math.atan(Math.sinh(Math.PI * (1 - 2 * uy / world))) * 180 / Math.PI,
                    ux / world * 360 - 180);
  }

  /* Culling grid: square cells of 2^shift units (at most 128 a side over the data); since the
   * points follow a Z-order curve, each cell's points are one run [start, end). */
  function buildGrid(d) {
    var b = d.box, s = 0;
    while ((b[2] >> s) - (b[0] >> s) >= 128 || (b[3] >> s) - (b[1] >> s) >= 128) { s++; }
    var gx0 = b[0] >> s, gy0 = b[1] >> s, gw = (b[2] >> s) - gx0 + 1, gh = (b[3] >> s) - gy0 + 1;
    var start = new Int32Array(gw * gh).fill(-1), end = new Int32Array(gw * gh), prev = -1;
    var ix = d.ix, iy = d.iy;
    for (var i = 0, n = d.n; i < n; i++) {
      var key = ((iy[i] >> s) - gy0) * gw + ((ix[i] >> s) - gx0);
      if (key !== prev) {
        if (prev >= 0) { end[prev] = i; }
        start[key] = i; prev = key;
      }
    }
    if (prev >= 0) { end[prev] = d.n; }
    return {s: s, gx0: gx0, gy0: gy0, gw: gw, gh: gh, start: start, end: end};
  }

  /* Grid cells overlapping the unit box v = [x0, y0, x1, y1]: [c0, c1, r0, r1] or null. */
  function gridSpan(g, v) {
    var k = Math.pow(2, g.s);
    var c0 = Math.max(0, Math.floor(v[0] / k) - g.gx0), c1 = Math.min(g.gw - 1, Math.floor(v[2] / k) - g.gx0);
    var r0 = Math.max(0, Math.floor(v[1] / k) - g.gy0), r1 = Math.min(g.gh - 1, Math.floor(v[3] / k) - g.gy0);
    return c0 <= c1 && r0 <= r1 ? [c0, c1, r0, r1] : null;
  }

  /* Runs [start, count, ...] of the points in the grid cells under v, and their total. */
  function pointRuns(g, v) {
    var span = gridSpan(g, v), runs = [], total = 0;
    if (!span) { return {runs: runs, total: 0}; }
    for (var r = span[2]; r <= span[3]; r++) {
      for (var c = span[0]; c <= span[1]; c++) {
        var key = r * g.gw + c, a = g.start[key];
        if (a < 0) { continue; }
        var m = g.end[key] - a, last = runs.length - 2;
        if (last >= 0 && runs[last] + runs[last + 1] === a) { runs[last + 1] += m; } else { runs.push(a, m); }
        total += m;
      }
    }
    return {runs: compact(runs, total), total: total};
  }

  /* Fewer draw calls: runs sorted by start and joined across gaps of at most max(4096,
   * total / 8) points (the points in a gap lie outside the view and are clipped). */
  function compact(runs, total) {
    if (runs.length <= 32) { return runs; }
    var order = [];
    for (var q = 0; q < runs.length; q += 2) { order.push(q); }
    order.sort(function (a, b) { return runs[a] - runs[b]; });
    var out = [], gap = Math.max(4096, total >> 3);
    for (var j = 0; j < order.length; j++) {
      var s = runs[order[j]], m = runs[order[j] + 1], last = out.length - 2;
      if (last >= 0 && s - (out[last] + out[last + 1]) <= gap) { out[last + 1] = s + m - out[last]; } else { out.push(s, m); }
    }
    return out;
  }

  /* Nearest point to containerPoint within tolerancePx (index, or -1). */
  function nearestPoint(d, g, map, containerPoint, tolerancePx) {
    if (!d || !map) { return -1; }
    var k = Math.pow(2, map.getZoom() - d.uz), origin = map.getPixelBounds().min;
    var px = (containerPoint.x + origin.x) / k, py = (containerPoint.y + origin.y) / k;
    var tol = tolerancePx / k, span = gridSpan(g, [px - tol, py - tol, px + tol, py + tol]);
    var best = -1, bestD = tol * tol, ix = d.ix, iy = d.iy;
    if (!span) { return -1; }
    for (var r = span[2]; r <= span[3]; r++) {
      for (var c = span[0]; c <= span[1]; c++) {
        var key = r * g.gw + c, a = g.start[key];
        for (var i = a, e = a < 0 ? a : g.end[key]; i < e; i++) {
          var ex = ix[i] - px, ey = iy[i] - py, dd = ex * ex + ey * ey;
          if (dd < bestD || (dd === bestD && best < 0)) { bestD = dd; best = i; }
        }
      }
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

  /* What the WebGL and canvas layers share: lazy decoding, bounds, timing. */
  var Decoded = {
    isCciPoints: true,

    _init: function (meta, blobs, options) {
      L.setOptions(this, options);
      this._meta = meta; this._blobs = blobs;
      this._createdAt = now();
    },

    /* The decoded data (a promise; decoding starts at the first call). */
    whenDecoded: function () {
      if (!this._decoding) {
        var self = this;
        this._decoding = decode(this._meta, this._blobs).then(function (d) {
          self._d = d;
          self._decodedAt = now();
          return d;
        });
        this._decoding.catch(function (e) { root.console.error("cci_geo points: " + e); });
      }
      return this._decoding;
    },

    getBounds: function () {
      var b = this._meta.bounds;
      return b ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : L.latLngBounds([]);
    },

    latLngAt: function (i) { return latLngOf(this._d, this._d.ix[i], this._d.iy[i]); },

    nearest: function (containerPoint, tolerancePx) {
      if (!this._d) { return -1; }
      this._grid = this._grid || buildGrid(this._d);
      return nearestPoint(this._d, this._grid, this._map, containerPoint, tolerancePx);
    },

    /* Open the popup of the point nearest to containerPoint; a promise (false: none). */
    openPopupAt: function (containerPoint) {
      var i = this.nearest(containerPoint, Math.max(5, this.options.radius * 2));
      if (i < 0) { return Promise.resolve(false); }
      return openPointPopup(this._d, this._map, i);
    },

    /* The unit box in view, widened by marginPx screen pixels. */
    _view: function (marginPx) {
      var map = this._map, k = Math.pow(2, map.getZoom() - this._d.uz), b = map.getPixelBounds();
      return [(b.min.x - marginPx) / k, (b.min.y - marginPx) / k,
              (b.max.x + marginPx) / k, (b.max.y + marginPx) / k];
    },

    /* log2 of the aggregation cell's side in units at the current zoom. */
    _cellShift: function () {
      var z = this._map.getZoom();
      return Math.max(0, Math.round(Math.log2(this.options.cellPx) + this._d.uz - z));
    },

    /* Counts per square cell of 2^shift units (cached per shift). Along the Z-order curve each
     * cell's points are one run, so one pass finds the cells: start, count, the most common
     * category, the cell's column and row; the cells in a culling-grid cell are a run too. */
    _cells: function () {
      var sa = this._cellShift();
      this._aggs = this._aggs || {};
      if (this._aggs[sa]) { return this._aggs[sa]; }
      var d = this._d, n = d.n, ix = d.ix, iy = d.iy, cat = d.cat, ncat = d.colors.length;
      var start = new Int32Array(n), cxs = new Int32Array(n), cys = new Int32Array(n);
      var top = new Uint8Array(n), count = new Int32Array(n), tally = new Int32Array(ncat);
      var m = 0, pcx = -1, pcy = -1, most = 1;
      function close(c, endAt) {
        var best = 0;
        for (var q = 1; q < ncat; q++) { if (tally[q] > tally[best]) { best = q; } }
        tally.fill(0);
        top[c] = best; count[c] = endAt - start[c];
        if (count[c] > most) { most = count[c]; }
      }
      for (var i = 0; i < n; i++) {
        var cx = ix[i] >> sa, cy = iy[i] >> sa;
        if (cx !== pcx || cy !== pcy) {
          if (m) { close(m - 1, i); }
          start[m] = i; cxs[m] = cx; cys[m] = cy; m++; pcx = cx; pcy = cy;
        }
        tally[cat[i]]++;
      }
      if (m) { close(m - 1, n); }
      var g = this._grid, perGrid = null;
      if (sa <= g.s) {  // cells nest in the culling grid's cells
        perGrid = {start: new Int32Array(g.gw * g.gh).fill(-1), end: new Int32Array(g.gw * g.gh)};
        var up = g.s - sa, prev = -1;
        for (var c = 0; c < m; c++) {
          var key = ((cys[c] >> up) - g.gy0) * g.gw + ((cxs[c] >> up) - g.gx0);
          if (key !== prev) {
            if (prev >= 0) { perGrid.end[prev] = c; }
            perGrid.start[key] = c; prev = key;
          }
        }
        if (prev >= 0) { perGrid.end[prev] = m; }
      }
      var alpha = new Float32Array(m), lm = Math.log(most + 1);
      for (var t = 0; t < m; t++) { alpha[t] = 0.25 + 0.75 * Math.log(count[t] + 1) / lm; }
      this._aggs[sa] = {shift: sa, m: m, start: start.subarray(0, m), count: count.subarray(0, m),
                        cx: cxs.subarray(0, m), cy: cys.subarray(0, m), top: top.subarray(0, m),
                        alpha: alpha, perGrid: perGrid, bufs: null};
      return this._aggs[sa];
    },

    /* Runs of the cells under the unit box v. */
    _cellRuns: function (agg, v) {
      if (!agg.perGrid) { return [0, agg.m]; }
      var g = this._grid, span = gridSpan(g, v), runs = [], total = 0;
      if (!span) { return runs; }
      for (var r = span[2]; r <= span[3]; r++) {
        for (var c = span[0]; c <= span[1]; c++) {
          var key = r * g.gw + c, a = agg.perGrid.start[key];
          if (a < 0) { continue; }
          var m = agg.perGrid.end[key] - a, last = runs.length - 2;
          if (last >= 0 && runs[last] + runs[last + 1] === a) { runs[last + 1] += m; } else { runs.push(a, m); }
          total += m;
        }
      }
      return compact(runs, total);
    },

    /* The aggregation cell under containerPoint (index, or -1). */
    cellAt: function (containerPoint) {
      var agg = this._cells(), k = Math.pow(2, this._map.getZoom() - this._d.uz);
      var origin = this._map.getPixelBounds().min, side = Math.pow(2, agg.shift);
      var ux = (containerPoint.x + origin.x) / k, uy = (containerPoint.y + origin.y) / k;
      var cx = Math.floor(ux / side), cy = Math.floor(uy / side), a = 0, e = agg.m;
      if (agg.perGrid) {
        var span = gridSpan(this._grid, [ux, uy, ux, uy]);
        if (!span) { return -1; }
        var key = span[2] * this._grid.gw + span[0];
        a = agg.perGrid.start[key]; e = a < 0 ? a : agg.perGrid.end[key];
      }
      for (var c = a; c < e; c++) { if (agg.cx[c] === cx && agg.cy[c] === cy) { return c; } }
      return -1;
    },

    /* The container point at the centre of aggregation cell c. */
    cellCentre: function (c) {
      var agg = this._cells(), side = Math.pow(2, agg.shift), d = this._d;
      var ll = latLngOf(d, (agg.cx[c] + 0.5) * side, (agg.cy[c] + 0.5) * side);
      return this._map.latLngToContainerPoint(ll);
    },

    /* [category name, count] of cell c, largest first. */
    cellCounts: function (c) {
      var agg = this._cells(), d = this._d, names = this._categoryNames(), ncat = d.colors.length;
      var tally = new Int32Array(ncat), rows = [];
      for (var i = agg.start[c], e = agg.start[c] + agg.count[c]; i < e; i++) { tally[d.cat[i]]++; }
      for (var q = 0; q < ncat; q++) { if (tally[q]) { rows.push([names[q], tally[q]]); } }
      rows.sort(function (a, b) { return b[1] - a[1]; });
      return rows;
    },

    /* The popup of the count cell under containerPoint: n and the counts per category. */
    _openCellPopup: function (containerPoint) {
      var c = this.cellAt(containerPoint);
      if (c < 0) { return; }
      var rows = this.cellCounts(c), agg = this._cells(), side = Math.pow(2, agg.shift);
      var centre = latLngOf(this._d, (agg.cx[c] + 0.5) * side, (agg.cy[c] + 0.5) * side);
      L.popup({maxWidth: 360}).setLatLng(centre)
        .setContent(cciGeo.popupContent("n = " + agg.count[c].toLocaleString("en-US"), rows))
        .openOn(this._map);
    },

    _categoryNames: function () {
      var f = this._d.fields;
      for (var j = 0; j < f.length; j++) { if (f[j].same_as_category) { return f[j].codes; } }
      return this._d.colors.map(function (_, c) { return String(c); });
    },

    _drawn: function () {
      if (!this._firstDrawAt) {
        this._sync();
        this._firstDrawAt = now();
        this.fire("cci:drawn");
        var d = this._d, decodeRest = function () { loadPopupData(d); };
        if (root.requestIdleCallback) { root.requestIdleCallback(decodeRest, {timeout: 1000}); } else { setTimeout(decodeRest, 50); }
      }
    }
  };

  var GLPoints = L.Layer.extend(L.extend({}, Decoded, {
    options: {pane: "overlayPane", radius: 2.5, opacity: 0.85, maxPoints: 50000, cellPx: 8},

    initialize: function (meta, blobs, options) { this._init(meta, blobs, options); },

    onAdd: function (map) {
      this._map = map;
      var canvas = this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide cci-gl-points");
      canvas.style.pointerEvents = "none";
      this.getPane().appendChild(canvas);
      var gl = this._gl = canvas.getContext("webgl", {antialias: false, alpha: true,
                                                       premultipliedAlpha: true, depth: false});
      this._prog = compile(gl);
      this._aggs = {};
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      map.on("click", this._onClick, this);
      var self = this;
      this.whenDecoded().then(function () { if (self._gl === gl) { self._upload(); self._redraw(); } });
    },

    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      map.off("click", this._onClick, this);
      var lose = this._gl && this._gl.getExtension("WEBGL_lose_context");
      if (lose) { lose.loseContext(); }
      L.DomUtil.remove(this._canvas);
      this._gl = null; this._posBuf = null;
      this._aggs = {};
    },

    /* One static GPU buffer: positions relative to the data's centre (exact in Float32). */
    _upload: function () {
      var d = this._d, gl = this._gl, n = d.n, b = d.box;
      this._grid = this._grid || buildGrid(d);
      var cx = this._cx = Math.floor((b[0] + b[2]) / 2), cy = this._cy = Math.floor((b[1] + b[3]) / 2);
      var pos = new Float32Array(2 * n), ix = d.ix, iy = d.iy;
      for (var i = 0; i < n; i++) { pos[2 * i] = ix[i] - cx; pos[2 * i + 1] = iy[i] - cy; }
      this._posBuf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, this._posBuf);
      gl.bufferData(gl.ARRAY_BUFFER, pos, gl.STATIC_DRAW);
      this._catBuf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, this._catBuf);
      gl.bufferData(gl.ARRAY_BUFFER, d.cat, gl.STATIC_DRAW);
      var palette = new Float32Array(4 * MAX_COLORS);
      for (var c = 0; c < Math.min(d.colors.length, MAX_COLORS); c++) {
        palette.set(parseColor(d.colors[c], this.options.opacity), 4 * c);
      }
      this._palette = palette;
    },

    /* The GPU buffers of a set of count cells (once per zoom and context). */
    _cellBuffers: function (agg) {
      if (agg.bufs) { return agg; }
      var gl = this._gl, m = agg.m, side = Math.pow(2, agg.shift), pos = new Float32Array(2 * m);
      for (var t = 0; t < m; t++) {
        pos[2 * t] = (agg.cx[t] + 0.5) * side - this._cx; pos[2 * t + 1] = (agg.cy[t] + 0.5) * side - this._cy;
      }
      var bufs = {pos: gl.createBuffer(), cat: gl.createBuffer(), alpha: gl.createBuffer()};
      gl.bindBuffer(gl.ARRAY_BUFFER, bufs.pos);
      gl.bufferData(gl.ARRAY_BUFFER, pos, gl.STATIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, bufs.cat);
      gl.bufferData(gl.ARRAY_BUFFER, agg.top, gl.STATIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, bufs.alpha);
      gl.bufferData(gl.ARRAY_BUFFER, agg.alpha, gl.STATIC_DRAW);
      agg.bufs = bufs;
      return agg;
    },

    _redraw: function () {
      var map = this._map, gl = this._gl;
      if (!map || !gl || !this._posBuf) { return; }
      var size = map.getSize(), ratio = root.devicePixelRatio || 1, canvas = this._canvas;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      var w = Math.round(size.x * ratio), h = Math.round(size.y * ratio);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w; canvas.height = h;
        canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      }
      var z = map.getZoom(), k = Math.pow(2, z - this._d.uz), origin = map.getPixelBounds().min;
      var loc = this._prog.loc;
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
      var view = pointRuns(this._grid, this._view(r + 1)), runs, posBuf, catBuf;
      this._mode = view.total > this.options.maxPoints ? "cells" : "points";
      if (this._mode === "cells") {
        var agg = this._cellBuffers(this._cells());
        runs = this._cellRuns(agg, this._view(this.options.cellPx * 2));
        posBuf = agg.bufs.pos; catBuf = agg.bufs.cat;
        gl.uniform1f(loc.u_size, Math.pow(2, agg.shift) * k * ratio);
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
      this._drawCalls = runs.length / 2;
      for (var q = 0; q < runs.length; q += 2) { gl.drawArrays(gl.POINTS, runs[q], runs[q + 1]); }
      this._drawn();
    },

    /* Wait until the GPU has drawn (reads one pixel back); used to time a redraw honestly. */
    _sync: function () {
      if (!this._gl) { return; }
      var px = new Uint8Array(4);
      this._gl.readPixels(0, 0, 1, 1, this._gl.RGBA, this._gl.UNSIGNED_BYTE, px);
    },

    _onClick: function (e) {
      if (!this._d || !this._posBuf) { return; }
      if (this._mode === "cells") { this._openCellPopup(e.containerPoint); } else { this.openPopupAt(e.containerPoint); }
    }
  }));
  cciGeo.GLPoints = GLPoints;

  /* The canvas layer on the same payload: used when the browser has no WebGL. The same
   * culling grid and count cells as the WebGL layer, drawn with the 2D canvas API. */
  var DecodedCanvasPoints = cciGeo.CanvasPoints.extend(L.extend({}, Decoded, {
    options: {pane: "cciCanvas", radius: 2.5, opacity: 0.85, maxPoints: 50000, cellPx: 8},

    initialize: function (meta, blobs, options) { this._init(meta, blobs, options); },

    onAdd: function (map) {
      cciGeo.CanvasPoints.prototype.onAdd.call(this, map);
      var self = this;
      this.whenDecoded().then(function (d) {
        self._grid = self._grid || buildGrid(d);
        if (self._map) { self._redraw(); }
      });
    },

    _redraw: function () {
      var map = this._map;
      if (!map) { return; }
      var size = map.getSize(), ratio = root.devicePixelRatio || 1, canvas = this._canvas;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      canvas.width = size.x * ratio; canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      var d = this._d;
      if (!d || !this._grid) { return; }
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var z = map.getZoom(), k = Math.pow(2, z - d.uz), origin = map.getPixelBounds().min;
      var r = this.options.radius * Math.min(2.2, Math.max(0.7, (z - 8) / 4 + 0.8));
      var view = pointRuns(this._grid, this._view(r + 1)), colors = d.colors, q, i, e;
      this._mode = view.total > this.options.maxPoints ? "cells" : "points";
      if (this._mode === "cells") {
        var agg = this._cells(), runs = this._cellRuns(agg, this._view(this.options.cellPx * 2));
        var side = Math.pow(2, agg.shift), px = side * k;
        for (q = 0; q < runs.length; q += 2) {
          for (i = runs[q], e = runs[q] + runs[q + 1]; i < e; i++) {
            ctx.globalAlpha = this.options.opacity * agg.alpha[i];
            ctx.fillStyle = colors[agg.top[i]];
            ctx.fillRect(agg.cx[i] * px - origin.x, agg.cy[i] * px - origin.y, px, px);
          }
        }
      } else {
        var paths = colors.map(function () { return new Path2D(); }), ix = d.ix, iy = d.iy;
        var w = size.x + r, h = size.y + r;
        for (q = 0; q < view.runs.length; q += 2) {
          for (i = view.runs[q], e = view.runs[q] + view.runs[q + 1]; i < e; i++) {
            var sx = ix[i] * k - origin.x, sy = iy[i] * k - origin.y;
            if (sx < -r || sy < -r || sx > w || sy > h) { continue; }
            var path = paths[d.cat[i]];
            path.moveTo(sx + r, sy);
            path.arc(sx, sy, r, 0, 6.283185307179586);
          }
        }
        ctx.globalAlpha = this.options.opacity;
        for (var c = 0; c < colors.length; c++) { ctx.fillStyle = colors[c]; ctx.fill(paths[c]); }
      }
      this._drawn();
    },

    _sync: function () {},

    _onClick: function (e) {
      if (!this._d) { return; }
      if (this._mode === "cells") { this._openCellPopup(e.containerPoint); } else { this.openPopupAt(e.containerPoint); }
    }
  }));
  cciGeo.DecodedCanvasPoints = DecodedCanvasPoints;

  /* A point layer from a payload: WebGL when the browser has it (and options.webgl is not
   * false), else the canvas layer. */
  cciGeo.glPoints = function (meta, blobs, options) {
    options = options || {};
    return options.webgl !== false && cciGeo.webglAvailable() ?
      new GLPoints(meta, blobs, options) : new DecodedCanvasPoints(meta, blobs, options);
  };
}(window));
