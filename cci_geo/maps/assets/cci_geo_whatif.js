/* cci_geo what-if suitability: re-score and re-rank candidate sites in the browser.
 *
 * score = sum_i w_i * value_i with w_i = weight_i / sum(weight), summed in criterion order
 * (as cci_geo.suitability.score does); sites with a missing value or excluded by a
 * constraint get no score and no rank; ties are ranked by ascending id (string order).
 * Exposes window.cciWhatIf: setWeights({name: w}), weights(), ranking(), reset().
 */
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function cmpId(a, b) { return a < b ? -1 : (a > b ? 1 : 0); }

  function fmt(v, digits) { return v === null || v === undefined ? "–" : v.toFixed(digits); }

  function colour(t) {  // 0..1 -> red-yellow-green
    var stops = [[215, 48, 39], [254, 224, 139], [26, 152, 80]];
    var x = Math.max(0, Math.min(1, t)) * 2, i = Math.min(1, Math.floor(x)), f = x - i;
    var c = stops[i].map(function (v, k) { return Math.round(v + (stops[i + 1][k] - v) * f); });
    return "rgb(" + c.join(",") + ")";
  }

  window.cciWhatIfInit = function (map, data) {
    var T = data.text, crits = data.criteria, sites = data.sites;
    var initial = crits.map(function (c) { return c.weight; });
    var raw = initial.slice();
    var firstRank = null;
    var pane = map.getPane("cciWhatIfSites") || map.createPane("cciWhatIfSites");
    pane.style.zIndex = 650;  // above every polygon, so a click reaches the site
    var layer = L.layerGroup().addTo(map);
    var markers = sites.map(function (s) {
      var m = L.circleMarker([s.lat, s.lon], {pane: "cciWhatIfSites", radius: 7, weight: 1.5,
                                              color: "#333", fillOpacity: 0.9});
      m.addTo(layer);
      return m;
    });

    function normalised() {
      var sum = 0;
      raw.forEach(function (w) { sum += w; });
      return raw.map(function (w) { return sum > 0 ? w / sum : 0; });
    }

    function compute() {
      var w = normalised();
      var scored = [];
      sites.forEach(function (s, j) {
        s.score = null; s.rank = null;
        if (s.excluded || s.values.some(function (v) { return v === null; })) { return; }
        var t = 0;
        for (var i = 0; i < crits.length; i++) { t += w[i] * s.values[i]; }
        s.score = t;
        scored.push(j);
      });
      scored.sort(function (a, b) {
        var d = sites[b].score - sites[a].score;
        return d !== 0 ? d : cmpId(sites[a].id, sites[b].id);
      });
      scored.forEach(function (j, r) { sites[j].rank = r + 1; });
      return scored;
    }

    var box = L.control({position: "topright"});
    var inputs = [], shares = [], list, current;
    box.onAdd = function () {
      var div = L.DomUtil.create("div", "cci-whatif leaflet-bar");
      div.style.cssText = "background:#fff;padding:8px 10px;max-width:330px;font:12px/1.4 " +
        "sans-serif;max-height:90vh;overflow:auto";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.appendChild(el("div", {style: "font-weight:bold;font-size:14px"}, T.title));
      div.appendChild(el("div", {style: "color:#555;margin-bottom:4px"}, T.help));
      crits.forEach(function (c, i) {
        var row = el("div", {style: "margin:3px 0"});
        var head = el("div", {style: "display:flex;justify-content:space-between"});
        head.appendChild(el("span", {title: c.unit ? c.name + " (" + c.unit + ")" : c.name},
                            c.label));
        shares[i] = el("span", {"class": "cci-whatif-share", style: "color:#555"});
        head.appendChild(shares[i]);
        row.appendChild(head);
        var ctl = el("div", {style: "display:flex;gap:6px;align-items:center"});
        var slider = el("input", {type: "range", min: "0", max: "100", step: "1",
                                  "aria-label": c.label, style: "flex:1"});
        var num = el("input", {type: "number", min: "0", max: "100", step: "any",
                               "data-criterion": c.name, "aria-label": c.label,
                               style: "width:56px"});
        slider.value = String(raw[i] * 100);
        num.value = String(+(raw[i] * 100).toFixed(6));
        function set(v, from) {
          v = Math.max(0, Math.min(100, +v || 0));
          raw[i] = v / 100;
          if (from !== slider) { slider.value = String(v); }
          if (from !== num) { num.value = String(v); }
          update();
        }
        slider.addEventListener("input", function () { set(slider.value, slider); });
        num.addEventListener("input", function () { set(num.value, num); });
        inputs[i] = {slider: slider, num: num, set: set};
        ctl.appendChild(slider);
        ctl.appendChild(num);
        row.appendChild(ctl);
        div.appendChild(row);
      });
      var reset = el("button", {type: "button", "class": "cci-whatif-reset",
                                style: "margin:4px 0"}, T.reset);
      reset.addEventListener("click", function () { api.reset(); });
      div.appendChild(reset);
      current = el("div", {"class": "cci-whatif-weights", style: "color:#333;margin:2px 0 6px"});
      div.appendChild(current);
      div.appendChild(el("div", {style: "font-weight:bold"}, T.top));
      list = el("ol", {"class": "cci-whatif-ranking", style: "margin:2px 0;padding-left:22px"});
      div.appendChild(list);
      div.appendChild(el("div", {style: "color:#777;font-size:11px"}, T.note));
      return div;
    };
    box.addTo(map);

    function popup(s) {
      var w = normalised();
      var d = el("div");
      d.appendChild(el("b", {}, s.name));
      d.appendChild(el("div", {}, s.rank ? T.rank + " " + s.rank + " · " + T.score + " " +
                       fmt(s.score, 3) : (s.excluded ? T.excluded + ": " + s.excluded :
                       T.missing)));
      var tab = el("table", {style: "margin-top:4px;border-collapse:collapse"});
      var h = el("tr");
      [T.criterion, T.value, T.contribution].forEach(function (t) {
        h.appendChild(el("th", {style: "text-align:left;padding-right:6px"}, t));
      });
      tab.appendChild(h);
      crits.forEach(function (c, i) {
        var r = el("tr");
        r.appendChild(el("td", {style: "padding-right:6px"}, c.label));
        r.appendChild(el("td", {style: "padding-right:6px"}, fmt(s.values[i], 2)));
        r.appendChild(el("td", {}, s.values[i] === null ? "–" : fmt(w[i] * s.values[i], 3)));
        tab.appendChild(r);
      });
      d.appendChild(tab);
      return d;
    }

    function update() {
      var order = compute();
      if (firstRank === null) {
        firstRank = {};
        order.forEach(function (j) { firstRank[sites[j].id] = sites[j].rank; });
      }
      var w = normalised();
      crits.forEach(function (c, i) { shares[i].textContent = (w[i] * 100).toFixed(1) + "%"; });
      current.textContent = T.current + ": " + crits.map(function (c, i) {
        return c.label + " " + (w[i] * 100).toFixed(1) + "%";
      }).join(" · ");
      var lo = Infinity, hi = -Infinity;
      order.forEach(function (j) { lo = Math.min(lo, sites[j].score); hi = Math.max(hi, sites[j].score); });
      sites.forEach(function (s, j) {
        var m = markers[j];
        var top = s.rank !== null && s.rank <= data.top_k;
        m.setStyle({fillColor: s.rank === null ? "#bbbbbb" :
                    colour(hi > lo ? (s.score - lo) / (hi - lo) : 1),
                    color: top ? "#111" : "#555", weight: top ? 3 : 1});
        m.setRadius(top ? 9 : 6);
        m.unbindTooltip();
        m.bindTooltip(s.rank !== null ? "#" + s.rank + " " + s.name + " · " + fmt(s.score, 3) :
                      s.name + " · " + (s.excluded ? T.excluded : T.missing));
        m.unbindPopup();
        m.bindPopup(popup(s));
        if (top) { m.bringToFront(); }
      });
      while (list.firstChild) { list.removeChild(list.firstChild); }
      order.slice(0, data.top_k).forEach(function (j) {
        var s = sites[j], li = el("li", {"data-id": s.id});
        var was = firstRank[s.id], move = "";
        if (was !== undefined && was !== s.rank) {
          move = was > s.rank ? " ▲" + (was - s.rank) : " ▼" + (s.rank - was);
        }
        li.textContent = s.name + " · " + fmt(s.score, 3) + move;
        li.style.cursor = "pointer";
        li.addEventListener("click", function () {
          map.panTo(markers[j].getLatLng());
          markers[j].openPopup();
        });
        list.appendChild(li);
      });
    }

    var api = {
      setWeights: function (w) {
        crits.forEach(function (c, i) {
          if (Object.prototype.hasOwnProperty.call(w, c.name)) {
            raw[i] = +w[c.name];
            inputs[i].slider.value = String(raw[i] * 100);
            inputs[i].num.value = String(raw[i] * 100);
          }
        });
        update();
      },
      weights: function () {
        var w = normalised(), out = {};
        crits.forEach(function (c, i) { out[c.name] = w[i]; });
        return out;
      },
      ranking: function () {
        return compute().map(function (j) { return sites[j].id; });
      },
      reset: function () {
        raw = initial.slice();
        crits.forEach(function (c, i) {
          inputs[i].slider.value = String(raw[i] * 100);
          inputs[i].num.value = String(+(raw[i] * 100).toFixed(6));
        });
        update();
      }
    };
    window.cciWhatIf = api;
    update();
  };
})();
