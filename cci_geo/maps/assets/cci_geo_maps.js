/* cci_geo map helpers (MIT licence, part of the cci_geo package).
 *
 * Every string that comes from data is inserted with textContent / createTextNode, never as
 * HTML, so a feature whose name is markup (an img tag with an onerror handler, say) is shown
 * as those characters.
 */
(function (root) {
  "use strict";
  var L = root.L;
  var cciGeo = root.cciGeo = root.cciGeo || {};

  function el(tag, cls, parent, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  cciGeo.el = el;

  /* Panes: areas in the overlay pane (400), lines above (420), the many-points canvas (430),
   * point features on top (450), so a click on a point never lands on the polygon under it. */
  L.Map.addInitHook(function () {
    var panes = {cciLines: 420, cciCanvas: 430, cciPoints: 450};
    for (var name in panes) {
      if (!this.getPane(name)) { this.createPane(name).style.zIndex = String(panes[name]); }
    }
    this.getPane("cciCanvas").style.pointerEvents = "none";
  });

  /* True when a many-points layer (canvas or WebGL) on ``map`` has a point under
   * ``containerPoint``:
   * an area's popup then yields to the point's. */
  cciGeo.pointUnder = function (map, containerPoint) {
    var hit = false;
    map.eachLayer(function (lyr) {
      if (hit || !lyr.nearest || !(lyr.isCciPoints || lyr instanceof cciGeo.CanvasPoints)) {
        return;
      }
      hit = lyr.nearest(containerPoint, Math.max(5, (lyr.options.radius || 2.5) * 2)) >= 0;
    });
    return hit;
  };

  /* Layers of which at most one is on: turning one on turns the others off (classed fills
   * such as location quotients and venue access would otherwise stack). */
  cciGeo.exclusive = function (map, layers) {
    var on = layers.filter(function (l) { return map.hasLayer(l); });
    on.slice(1).forEach(function (l) { map.removeLayer(l); });
    map.on("layeradd", function (e) {
      if (layers.indexOf(e.layer) < 0) { return; }
      // after the layer control has handled its click, so its check boxes follow
      setTimeout(function () {
        layers.forEach(function (l) {
          if (l !== e.layer && map.hasLayer(l)) { map.removeLayer(l); }
        });
      }, 0);
    });
  };

  /* Layer-control groups. Leaflet rebuilds its list whenever a layer is added or removed, so
   * the grouping is reapplied after each rebuild of every layers control on a grouped map. A
   * group is a <details> element: its summary says how many of its layers are on, and a
   * folded group stays folded (or open) across rebuilds. */
  function regroup(ctl) {
    var map = ctl._map, g = map && map._cciGroups, list = ctl._overlaysList;
    if (!g || !list) { return; }
    var boxes = {};
    Array.prototype.slice.call(list.querySelectorAll("label")).forEach(function (lab) {
      var input = lab.querySelector("input");
      var name = input ? g.byId[input.layerId] : undefined;
      if (name === undefined) { return; }
      if (!boxes[name]) {
        var box = document.createElement("details");
        box.className = "cci-layer-group";
        box.open = g.open[name];
        var summary = document.createElement("summary");
        summary.appendChild(document.createElement("span")).textContent = name;
        summary.appendChild(document.createElement("span")).className = "cci-layer-group-count";
        box.appendChild(summary);
        box.addEventListener("toggle", function () { g.open[name] = box.open; });
        boxes[name] = box;
      }
      boxes[name].appendChild(lab);
    });
    g.order.forEach(function (name) {
      var box = boxes[name];
      if (!box) { return; }
      var inputs = box.querySelectorAll("input"), on = 0;
      for (var i = 0; i < inputs.length; i++) { on += inputs[i].checked ? 1 : 0; }
      box.querySelector(".cci-layer-group-count").textContent = " " + on + "/" + inputs.length;
      list.appendChild(box);
    });
  }

  cciGeo.groups = function (map, entries) {
    var g = {byId: {}, order: [], open: {}};
    entries.forEach(function (e) {
      var name = e[1];
      g.byId[L.stamp(e[0])] = name;
      if (g.order.indexOf(name) < 0) { g.order.push(name); g.open[name] = false; }
      g.open[name] = g.open[name] || !!e[2];
    });
    map._cciGroups = g;
    (map._cciLayerControls || []).forEach(regroup);
  };

  if (L.Control && L.Control.Layers && !L.Control.Layers.prototype._cciGrouped) {
    var layersProto = L.Control.Layers.prototype;
    var baseUpdate = layersProto._update, baseAdd = layersProto.onAdd;
    layersProto._cciGrouped = true;
    layersProto.onAdd = function (map) {
      (map._cciLayerControls = map._cciLayerControls || []).push(this);
      return baseAdd.call(this, map);
    };
    layersProto._update = function () {
      var out = baseUpdate.apply(this, arguments);
      regroup(this);
      return out;
    };
  }

  /* Point features that would overlap on screen are hidden until the map is zoomed in far
   * enough to separate them; earlier features (the renderer's order) win. */
  function declutter(layer, minPx) {
    var map = layer._map;
    if (!map) { return; }
    var kept = [], cell = {}, size = minPx;
    layer.eachLayer(function (m) {
      if (!m.getLatLng) { return; }
      var p = map.latLngToLayerPoint(m.getLatLng());
      var gx = Math.floor(p.x / size), gy = Math.floor(p.y / size), clash = false;
      for (var dx = -1; dx <= 1 && !clash; dx++) {
        for (var dy = -1; dy <= 1 && !clash; dy++) {
          var bucket = cell[(gx + dx) + ":" + (gy + dy)] || [];
          for (var b = 0; b < bucket.length; b++) {
            if (Math.abs(bucket[b].x - p.x) < size && Math.abs(bucket[b].y - p.y) < size) {
              clash = true; break;
            }
          }
        }
      }
      var el = m.getElement && m.getElement();
      if (el) { el.style.display = clash ? "none" : ""; }
      if (!clash) {
        var key = gx + ":" + gy;
        (cell[key] = cell[key] || []).push(p);
        kept.push(m);
      }
    });
    layer._cciShown = kept.length;
  }
  cciGeo.declutter = declutter;

  cciGeo.escapeHtml = function (text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  };

  /* Layer data too large to embed as plain JSON is zlib-compressed and base64-encoded. */
  cciGeo.unpack = function (b64) {
    var bin = atob(b64), n = bin.length, bytes = new Uint8Array(n);
    for (var i = 0; i < n; i++) { bytes[i] = bin.charCodeAt(i); }
    return JSON.parse(root.pako.inflate(bytes, {to: "string"}));
  };

  function formatValue(v) {
    if (v === null || v === undefined || (typeof v === "number" && isNaN(v))) { return "–"; }
    if (typeof v === "number") {
      if (Number.isInteger(v)) { return v.toLocaleString("en-US"); }
      return Math.abs(v) >= 100 ? v.toLocaleString("en-US", {maximumFractionDigits: 1})
        : v.toLocaleString("en-US", {maximumSignificantDigits: 4});
    }
    if (typeof v === "boolean") { return v ? "✓" : "✗"; }
    return String(v);
  }
  cciGeo.formatValue = formatValue;

  /* A popup body: a title and a two-column table of (label, value) rows, all as text. */
  function popupContent(title, rows) {
    var box = el("div", "cci-popup");
    if (title !== undefined && title !== null && title !== "") { el("div", "cci-popup-title", box, title); }
    var table = el("table", "cci-popup-table", box);
    for (var i = 0; i < rows.length; i++) {
      var tr = el("tr", null, table);
      el("th", null, tr, rows[i][0]);
      el("td", null, tr, formatValue(rows[i][1]));
    }
    return box;
  }
  cciGeo.popupContent = popupContent;

  /* Vector features (GeoJSON) with per-feature style in properties._s and text-only tooltips. */
  cciGeo.features = function (data, opts) {
    opts = opts || {};
    var fields = opts.fields || [];
    var titleKey = opts.titleKey;
    var pane = opts.pane || "overlayPane";
    var layer = L.geoJSON(data, {
      pane: pane,
      style: function (f) { return f.properties._s || {}; },
      pointToLayer: function (f, latlng) {
        var s = f.properties._s || {};
        return L.circleMarker(latlng, L.extend({radius: s.radius || 5, pane: "cciPoints"}, s));
      },
      onEachFeature: function (f, lyr) {
        var p = f.properties;
        var title = titleKey ? p[titleKey] : null;
        if (title !== null && title !== undefined && title !== "") {
          lyr.bindTooltip(el("span", null, null, title), {sticky: true, direction: "top"});
        }
        if (fields.length) {
          if (!lyr.getLatLng) {
            // an area yields its click to a point drawn on the canvas above it
            var open = lyr._openPopup;
            lyr._openPopup = function (e) {
              if (e && e.containerPoint && cciGeo.pointUnder(this._map, e.containerPoint)) {
                return;
              }
              return open.call(this, e);
            };
          }
          lyr.bindPopup(function () {
            var rows = [];
            for (var i = 0; i < fields.length; i++) { rows.push([fields[i][1], p[fields[i][0]]]); }
            return popupContent(title, rows);
          }, {maxWidth: 360});
        }
      }
    });
    if (opts.declutterPx) {
      var hooked = null;
      var redo = function () { declutter(layer, opts.declutterPx); };
      layer.on("add", function () {
        hooked = layer._map;
        hooked.on("zoomend", redo);
        setTimeout(redo, 0);
      });
      layer.on("remove", function () { if (hooked) { hooked.off("zoomend", redo); } hooked = null; });
    }
    return layer;
  };

  /* Many points drawn on one canvas: columnar data, integer-encoded coordinates. */
  var CanvasPoints = L.Layer.extend({
    options: {pane: "cciCanvas", radius: 2.5, opacity: 0.85, stroke: false},

    initialize: function (data, options) {
      L.setOptions(this, options);
      this._data = data;
      var n = data.x.length, scale = data.scale, x0 = data.x0, y0 = data.y0;
      var wx = new Float64Array(n), wy = new Float64Array(n);
      var ax = 0, ay = 0;
      for (var i = 0; i < n; i++) {
        ax += data.x[i]; ay += data.y[i];  // coordinates are delta-encoded
        var lon = x0 + ax / scale, lat = y0 + ay / scale;
        wx[i] = (lon + 180) / 360 * 256;
        var s = Math.sin(lat * Math.PI / 180);
        wy[i] = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256;
      }
      this._wx = wx; this._wy = wy; this._n = n;
      var ncat = data.colors.length, counts = new Int32Array(ncat), cats = data.cat;
      for (var j = 0; j < n; j++) { counts[cats[j]]++; }
      this._byCat = [];
      for (var c = 0; c < ncat; c++) { this._byCat.push(new Int32Array(counts[c])); counts[c] = 0; }
      for (var k = 0; k < n; k++) { var ck = cats[k]; this._byCat[ck][counts[ck]++] = k; }
      this._lon0 = x0; this._lat0 = y0;
    },

    latLngAt: function (i) {
      var x = this._wx[i] / 256 * 360 - 180;
      var y = Math.atan(Math.sinh(Math.PI * (1 - 2 * this._wy[i] / 256))) * 180 / Math.PI;
      return L.latLng(y, x);
    },

    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide cci-canvas-points");
      this.getPane().appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      map.on("click", this._onClick, this);
      this._redraw();
    },

    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      map.off("click", this._onClick, this);
      L.DomUtil.remove(this._canvas);
    },

    getBounds: function () {
      var b = L.latLngBounds([]);
      for (var i = 0; i < this._n; i += Math.max(1, Math.floor(this._n / 2000))) { b.extend(this.latLngAt(i)); }
      return b;
    },

    _redraw: function () {
      if (!this._map) { return; }
      var map = this._map, size = map.getSize(), ratio = root.devicePixelRatio || 1;
      var canvas = this._canvas;
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = size.x * ratio; canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var z = map.getZoom(), k = Math.pow(2, z), origin = map.getPixelBounds().min;
      var r = this.options.radius * Math.min(2.2, Math.max(0.7, (z - 8) / 4 + 0.8));
      var colors = this._data.colors;
      var wx = this._wx, wy = this._wy, w = size.x + r, h = size.y + r;
      ctx.globalAlpha = this.options.opacity;
      for (var c = 0; c < colors.length; c++) {
        var members = this._byCat[c], m = members.length;
        if (!m) { continue; }
        ctx.fillStyle = colors[c];
        ctx.beginPath();
        for (var q = 0; q < m; q++) {
          var i = members[q];
          var sx = wx[i] * k - origin.x, sy = wy[i] * k - origin.y;
          if (sx < -r || sy < -r || sx > w || sy > h) { continue; }
          ctx.moveTo(sx + r, sy);
          ctx.arc(sx, sy, r, 0, 6.283185307179586);
        }
        ctx.fill();
      }
      this._drawnAt = z;
      if (!this._firstDrawAt && this._n) { this._firstDrawAt = root.performance.now(); }
    },

    nearest: function (containerPoint, tolerancePx) {
      var map = this._map, k = Math.pow(2, map.getZoom()), origin = map.getPixelBounds().min;
      var best = -1, bestD = tolerancePx * tolerancePx;
      var wx = this._wx, wy = this._wy;
      for (var i = 0; i < this._n; i++) {
        var dx = wx[i] * k - origin.x - containerPoint.x, dy = wy[i] * k - origin.y - containerPoint.y;
        var d = dx * dx + dy * dy;
        if (d <= bestD) { bestD = d; best = i; }
      }
      return best;
    },

    _onClick: function (e) {
      var i = this.nearest(e.containerPoint, Math.max(5, this.options.radius * 2));
      if (i < 0) { return; }
      var d = this._data, rows = [];
      for (var j = 0; j < d.fields.length; j++) {
        var f = d.fields[j], v = f.values === "cat" ? d.cat[i] : f.values[i];
        if (f.codes) { v = f.codes[v]; }
        rows.push([f.label, v]);
      }
      var title = d.title ? (d.title.codes ? d.title.codes[d.title.values[i]] : d.title.values[i]) : null;
      L.popup({maxWidth: 360}).setLatLng(this.latLngAt(i)).setContent(popupContent(title, rows)).openOn(this._map);
    }
  });
  cciGeo.CanvasPoints = CanvasPoints;
  cciGeo.points = function (data, options) { return new CanvasPoints(data, options); };

  /* Legends: one panel (bottom right) with a section per layer, shown while the layer is on. */
  function buildLegend(spec) {
    var box = el("div", "cci-legend-section");
    el("div", "cci-legend-title", box, spec.title);
    if (spec.subtitle) { el("div", "cci-legend-subtitle", box, spec.subtitle); }
    if (spec.kind === "colorbar") {
      var bar = el("div", "cci-legend-bar", box);
      bar.style.background = "linear-gradient(to right, " + spec.colors.join(", ") + ")";
      var ticks = el("div", "cci-legend-ticks", box);
      el("span", null, ticks, spec.min_label);
      el("span", null, ticks, spec.max_label);
    } else {
      for (var i = 0; i < spec.items.length; i++) {
        var item = spec.items[i], row = el("div", "cci-legend-row", box);
        var sw = el("span", "cci-legend-swatch cci-shape-" + (item.shape || spec.shape || "square"), row);
        sw.style.background = item.fill || item.color;
        sw.style.borderColor = item.color;
        if (item.dash) { sw.style.borderStyle = "dashed"; }
        el("span", "cci-legend-label", row, item.label);
      }
    }
    if (spec.note) { el("div", "cci-legend-note", box, spec.note); }
    return box;
  }
  cciGeo.buildLegend = buildLegend;

  function legendPanel(map) {
    if (map._cciLegendPanel) { return map._cciLegendPanel; }
    var Panel = L.Control.extend({
      options: {position: "bottomright"},
      onAdd: function () {
        var box = el("div", "cci-legend leaflet-control");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    var panel = new Panel().addTo(map);
    panel.sections = [];
    map._cciLegendPanel = panel;
    return panel;
  }

  cciGeo.legend = function (map, layer, spec) {
    var panel = legendPanel(map);
    var section = buildLegend(spec);
    var box = panel.getContainer();
    box.insertBefore(section, box.firstChild);  // layers drawn on top are listed first
    panel.sections.push({layer: layer, node: section});
    function sync() {
      var any = false;
      for (var i = 0; i < panel.sections.length; i++) {
        var on = map.hasLayer(panel.sections[i].layer);
        panel.sections[i].node.style.display = on ? "" : "none";
        any = any || on;
      }
      panel.getContainer().style.display = any ? "" : "none";
    }
    map.on("layeradd layerremove", sync);
    map.whenReady(sync);
    return section;
  };

  /* A metric scale bar. */
  cciGeo.scale = function (map) {
    return L.control.scale({imperial: false, position: "bottomleft", maxWidth: 160}).addTo(map);
  };

  /* Title box (top left): all text. */
  cciGeo.title = function (map, title, subtitle) {
    var Control = L.Control.extend({
      options: {position: "topleft"},
      onAdd: function () {
        var box = el("div", "cci-title leaflet-control");
        el("div", "cci-title-main", box, title);
        if (subtitle) { el("div", "cci-title-sub", box, subtitle); }
        return box;
      }
    });
    return new Control().addTo(map);
  };

  /* Attribution (data provenance) as escaped text. */
  cciGeo.attribution = function (map, texts) {
    if (!map.attributionControl) { L.control.attribution().addTo(map); }
    for (var i = 0; i < texts.length; i++) { map.attributionControl.addAttribution(cciGeo.escapeHtml(texts[i])); }
  };

  /* A "Data sources" button (bottom left) that opens the full provenance table, as text. */
  cciGeo.sources = function (map, title, heads, rows, notes) {
    var Control = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () {
        var box = el("div", "cci-sources leaflet-control leaflet-bar");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        var button = el("a", "cci-sources-button", box, "ⓘ " + title);
        button.href = "#";
        button.setAttribute("role", "button");
        var panel = el("div", "cci-sources-panel", box);
        panel.style.display = "none";
        var table = el("table", null, panel), tr = el("tr", null, table);
        for (var h = 0; h < heads.length; h++) { el("th", null, tr, heads[h]); }
        for (var i = 0; i < rows.length; i++) {
          var row = el("tr", null, table);
          for (var j = 0; j < rows[i].length; j++) {
            var td = el("td", null, row, rows[i][j]);
            if (/synthetic|模拟/.test(rows[i][j]) && j === 4) { td.className = "cci-synthetic"; }
          }
        }
        for (var n = 0; n < notes.length; n++) { el("div", "cci-sources-note", panel, notes[n]); }
        L.DomEvent.on(button, "click", function (e) {
          L.DomEvent.preventDefault(e);
          panel.style.display = panel.style.display === "none" ? "" : "none";
        });
        return box;
      }
    });
    return new Control().addTo(map);
  };

  /* Leaflet finds its default marker icons through a CSS url(); inlined, point it at data URIs. */
  cciGeo.setDefaultIcons = function (icons) {
    L.Icon.Default.imagePath = "";
    L.Icon.Default.mergeOptions({iconUrl: icons["marker-icon"], iconRetinaUrl: icons["marker-icon-2x"],
                                 shadowUrl: icons["marker-shadow"]});
  };
}(window));
