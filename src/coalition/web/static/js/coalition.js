/* Coalition dashboard helpers. Plain ES2017, no build step, no inline handlers (CSP-friendly).
 *
 * What it does, each only where the page asks for it:
 *   - CSRF: every htmx request carries X-CSRF-Token from <meta name="csrf-token">.
 *   - Sorting: <table data-sortable> gets keyboard-usable header buttons.
 *   - Charts: <script type="application/json" data-chart> blocks become Chart.js charts;
 *     Chart.js is loaded on first use from the URL in this script's data-chartjs-src.
 *   - Maps: <script type="application/json" data-map> blocks become SVG maps of hubs and routes
 *     over the vendored country outlines (data-geo-src); nothing is fetched from the internet.
 *   - Progress: a bar along the top while htmx requests are in flight, and failed requests are
 *     reported in words in the #status-region live region.
 * Everything runs again on content htmx swaps in (htmx:load).
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var self = document.currentScript;
  var config = {
    chartSrc: self ? self.getAttribute("data-chartjs-src") : null,
    geoSrc: self ? self.getAttribute("data-geo-src") : null,
    locale: document.documentElement.lang || "en-GB",
  };

  function each(root, selector, fn) {
    var list = [];
    if (root.matches && root.matches(selector)) list.push(root);
    if (root.querySelectorAll) list = list.concat(Array.prototype.slice.call(root.querySelectorAll(selector)));
    list.forEach(fn);
  }

  function once(el, key) {
    if (el.hasAttribute("data-js-" + key)) return false;
    el.setAttribute("data-js-" + key, "");
    return true;
  }

  function parseJson(block) {
    try {
      return JSON.parse(block.textContent || "null");
    } catch (err) {
      return null;
    }
  }

  /* ------------------------------------------------------------------ CSRF */

  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) evt.detail.headers["X-CSRF-Token"] = meta.content;
  });

  /* ------------------------------------------------------------ progress */

  var inFlight = 0;
  function setLoading(delta) {
    inFlight = Math.max(0, inFlight + delta);
    document.documentElement.classList.toggle("is-loading", inFlight > 0);
    document.documentElement.setAttribute("aria-busy", inFlight > 0 ? "true" : "false");
  }
  document.addEventListener("htmx:beforeRequest", function () { setLoading(1); });
  document.addEventListener("htmx:afterRequest", function () { setLoading(-1); });

  function showStatus(tone, title, message) {
    var region = document.getElementById("status-region");
    if (!region) return;
    region.textContent = "";
    var box = document.createElement("div");
    box.className = "alert alert--" + tone;
    var head = document.createElement("p");
    head.className = "alert__title";
    head.textContent = title;
    box.appendChild(head);
    if (message) {
      var body = document.createElement("p");
      body.textContent = message;
      box.appendChild(body);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn--small";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () { region.textContent = ""; });
    box.appendChild(close);
    region.appendChild(box);
  }

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var message = "";
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("json") !== -1) {
      try {
        var problem = JSON.parse(xhr.responseText);
        message = problem.detail || problem.title || "";
        if (problem.errors && problem.errors.length) {
          message += " " + problem.errors.map(function (e) {
            return (e.field ? e.field + ": " : "") + e.message;
          }).join("; ");
        }
      } catch (err) { /* not JSON after all: fall back to the status text */ }
    }
    showStatus("error", "The request failed (" + xhr.status + " " + (xhr.statusText || "error") + ").",
      message || "Nothing was changed. Reload the page and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    showStatus("error", "The server could not be reached.",
      "Check the connection and try again; nothing was changed.");
  });

  /* ------------------------------------------------------------- sorting */

  function cellValue(cell, kind) {
    if (!cell) return null;
    var raw = cell.hasAttribute("data-sort-value") ? cell.getAttribute("data-sort-value") : cell.textContent.trim();
    if (kind === "number") {
      // Accepts "1,234.5", "€ 12", "-3 %"; formatted values should carry data-sort-value anyway.
      var cleaned = String(raw).replace(/[^0-9.eE+-]/g, "");
      var n = parseFloat(cleaned);
      return isNaN(n) ? null : n;
    }
    return raw === "" ? null : raw;
  }

  function sortTable(table, th, direction) {
    var body = table.tBodies[0];
    if (!body) return;
    var index = th.cellIndex;
    var kind = th.getAttribute("data-sort") || (th.classList.contains("num") ? "number" : "text");
    var collator = new Intl.Collator(config.locale, { numeric: true, sensitivity: "base" });
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return !r.hasAttribute("data-sort-fixed"); });
    var fixed = Array.prototype.slice.call(body.rows).filter(function (r) { return r.hasAttribute("data-sort-fixed"); });
    var sign = direction === "descending" ? -1 : 1;
    var keyed = rows.map(function (row, i) { return { row: row, i: i, v: cellValue(row.cells[index], kind) }; });
    keyed.sort(function (a, b) {
      // Missing values go last whichever way the column is sorted.
      if (a.v === null && b.v === null) return a.i - b.i;
      if (a.v === null) return 1;
      if (b.v === null) return -1;
      var c = kind === "number" ? a.v - b.v : collator.compare(a.v, b.v);
      return c === 0 ? a.i - b.i : c * sign;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    fixed.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.cells, function (other) {
      if (other !== th) other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", direction);
    var live = table.querySelector("caption .sort-status");
    if (live) live.textContent = "Sorted by " + th.textContent.trim() + ", " + direction + ".";
  }

  function initSortable(table) {
    if (!once(table, "sortable") || !table.tHead) return;
    var headRow = table.tHead.rows[table.tHead.rows.length - 1];
    Array.prototype.forEach.call(headRow.cells, function (th) {
      if (th.getAttribute("data-sort") === "none" || th.querySelector("a[href]")) return;
      var button = th.querySelector("button.sort");
      if (!button) {
        button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        while (th.firstChild) button.appendChild(th.firstChild);
        th.appendChild(button);
      }
      button.addEventListener("click", function () {
        var current = th.getAttribute("aria-sort");
        var first = th.getAttribute("data-sort-first") || (th.classList.contains("num") ? "descending" : "ascending");
        var next = current === "ascending" ? "descending" : current === "descending" ? "ascending" : first;
        sortTable(table, th, next);
      });
    });
  }

  /* -------------------------------------------------------------- charts */

  var PALETTE = ["#1d4f91", "#e69f00", "#009e73", "#56b4e9", "#cc79a7", "#d55e00", "#0072b2", "#6b7785", "#9467bd", "#8c564b"];
  var chartJsPromise = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    });
  }

  function loadChartJs() {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!chartJsPromise) {
      chartJsPromise = config.chartSrc
        ? loadScript(config.chartSrc).then(function () { return window.Chart; })
        : Promise.reject(new Error("no data-chartjs-src on coalition.js"));
    }
    return chartJsPromise;
  }

  function formatter(kind, spec, compact) {
    var divisor = Number(spec.divisor) || 1;
    var nf;
    if (kind === "money") {
      nf = new Intl.NumberFormat(config.locale, {
        style: "currency", currency: spec.currency || "EUR",
        notation: compact ? "compact" : "standard", maximumFractionDigits: compact ? 1 : 0,
      });
    } else if (kind === "percent") {
      // Significant digits, so small shares (0.05 %, 0.15 %) do not round to equal ticks.
      nf = new Intl.NumberFormat(config.locale, compact ? { maximumSignificantDigits: 3 } : { maximumFractionDigits: 3 });
      return function (v) { return v === null || v === undefined ? "" : nf.format(v) + "%"; };
    } else {
      nf = new Intl.NumberFormat(config.locale, { notation: compact ? "compact" : "standard", maximumFractionDigits: 2 });
    }
    return function (v) { return v === null || v === undefined ? "" : nf.format(v / divisor); };
  }

  function chartTarget(block) {
    var id = block.getAttribute("data-chart");
    var canvas = id ? document.getElementById(id) : null;
    if (!canvas) {
      var figure = block.closest(".chart");
      canvas = figure ? figure.querySelector("canvas") : null;
    }
    if (!canvas) {
      var wrap = document.createElement("div");
      wrap.className = "chart__canvas";
      canvas = document.createElement("canvas");
      wrap.appendChild(canvas);
      block.parentNode.insertBefore(wrap, block);
    }
    return canvas;
  }

  function chartConfig(spec) {
    var type = spec.type || "bar";
    var horizontal = type === "hbar";
    var stacked = !!spec.stacked;
    var valueAxis = horizontal ? "x" : "y";
    var indexAxis = horizontal ? "y" : "x";
    var fmt = formatter(spec.format || "number", spec, false);
    var fmtCompact = formatter(spec.format || "number", spec, true);
    var secondarySpec = { divisor: spec.secondaryDivisor, currency: spec.currency };
    var fmt2 = formatter(spec.secondaryFormat || "number", secondarySpec, false);
    var fmt2Compact = formatter(spec.secondaryFormat || "number", secondarySpec, true);
    var hasSecondary = false;

    var datasets = (spec.datasets || []).map(function (ds, i) {
      var color = ds.color || PALETTE[i % PALETTE.length];
      var dsType = ds.type === "hbar" ? "bar" : ds.type || (type === "hbar" ? "bar" : type === "area" ? "line" : type);
      var out = {
        label: ds.label,
        data: ds.data,
        type: dsType,
        backgroundColor: dsType === "line" && /^#[0-9a-f]{6}$/i.test(color) ? color + "33" : color,
        borderColor: color,
        borderWidth: dsType === "line" ? 2 : 0,
        fill: type === "area" || !!ds.fill,
        tension: 0.2,
        pointRadius: dsType === "line" ? 2.5 : 0,
        maxBarThickness: 48,
      };
      if (ds.stack) out.stack = ds.stack;
      if (ds.axis === "secondary") {
        hasSecondary = true;
        out[valueAxis + "AxisID"] = valueAxis + "2";
      }
      return out;
    });

    var scales = {};
    scales[indexAxis] = { stacked: stacked, grid: { display: false }, title: { display: !!spec.indexTitle, text: spec.indexTitle || "" } };
    scales[valueAxis] = {
      stacked: stacked, beginAtZero: true,
      ticks: { callback: function (v) { return fmtCompact(v); } },
      title: { display: !!spec.valueTitle, text: spec.valueTitle || "" },
    };
    if (hasSecondary) {
      scales[valueAxis + "2"] = {
        position: horizontal ? "top" : "right", beginAtZero: true, grid: { drawOnChartArea: false },
        ticks: { callback: function (v) { return fmt2Compact(v); } },
        title: { display: !!spec.secondaryTitle, text: spec.secondaryTitle || "" },
      };
    }

    var baseType = type === "hbar" ? "bar" : type === "area" ? "line" : type;
    return {
      type: baseType,
      data: { labels: spec.labels || [], datasets: datasets },
      options: {
        indexAxis: indexAxis,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false, axis: indexAxis },
        scales: scales,
        plugins: {
          legend: { display: spec.legend !== undefined ? !!spec.legend : datasets.length > 1, position: "bottom" },
          title: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var secondary = (spec.datasets[ctx.datasetIndex] || {}).axis === "secondary";
                var v = ctx.parsed[valueAxis];
                return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + (secondary ? fmt2(v) : fmt(v));
              },
            },
          },
        },
      },
    };
  }

  function renderChart(block, Chart) {
    var spec = parseJson(block);
    var canvas = chartTarget(block);
    if (!spec) {
      chartFailed(canvas, "The chart data could not be read.");
      return;
    }
    var box = canvas.parentNode;
    if (spec.type === "hbar" && box && box.classList.contains("chart__canvas") && !spec.height) {
      // One row per label: let long rankings grow instead of squashing their bars.
      var rows = (spec.labels || []).length;
      box.style.height = Math.max(box.clientHeight || 0, rows * 26 + 70) + "px";
    } else if (spec.height && box) {
      box.style.height = Number(spec.height) + "px";
    }
    if (!spec.labels || !spec.labels.length) {
      chartFailed(canvas, spec.empty || "No data to chart.");
      return;
    }
    var existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    new Chart(canvas, chartConfig(spec));
  }

  function chartFailed(canvas, message) {
    var box = canvas.parentNode;
    var note = document.createElement("p");
    note.className = "chart__error";
    note.textContent = message;
    canvas.hidden = true;
    box.appendChild(note);
  }

  function initCharts(root) {
    var blocks = [];
    each(root, 'script[type="application/json"][data-chart]', function (b) { if (once(b, "chart")) blocks.push(b); });
    if (!blocks.length) return;
    loadChartJs().then(function (Chart) {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.color = "#3b4652";
      blocks.forEach(function (b) { renderChart(b, Chart); });
    }, function () {
      blocks.forEach(function (b) { chartFailed(chartTarget(b), "Charts are unavailable: the chart library did not load. The data is in the table below."); });
    });
  }

  /* ----------------------------------------------------------------- map */

  // Europe from Portugal to the Donbas, for maps with nothing on them or fit: "europe".
  var DEFAULT_VIEW = [-11, 35, 42, 65];
  var geoPromise = null;
  var mapCount = 0;

  function loadGeo() {
    if (!geoPromise) {
      geoPromise = config.geoSrc
        ? fetch(config.geoSrc, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        : Promise.reject(new Error("no data-geo-src on coalition.js"));
    }
    return geoPromise;
  }

  function mercatorY(lat) {
    var clamped = Math.max(-85, Math.min(85, lat));
    return Math.log(Math.tan(Math.PI / 4 + (clamped * Math.PI) / 360)) * (180 / Math.PI);
  }

  function svg(tag, attrs, parent) {
    var el = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(el);
    return el;
  }

  function toPoint(p, hubsById) {
    if (typeof p === "string" || typeof p === "number") {
      var hub = hubsById[String(p)];
      return hub ? [Number(hub.lon), Number(hub.lat)] : null;
    }
    if (Array.isArray(p)) return [Number(p[0]), Number(p[1])];
    if (p && p.lon !== undefined) return [Number(p.lon), Number(p.lat)];
    return null;
  }

  function mercatorLat(y) {
    return (2 * Math.atan(Math.exp((y * Math.PI) / 180)) - Math.PI / 2) * (180 / Math.PI);
  }

  // The part of the world to draw: spec.bbox as given; otherwise the hubs and routes with a
  // margin (or Europe when there are none, or with fit: "europe"), widened to a landscape
  // aspect so a north-south corridor does not become a tall sliver.
  function viewFor(spec, points, geoBox) {
    var limit = geoBox || [-180, -85, 180, 85];
    if (Array.isArray(spec.bbox) && spec.bbox.length === 4) return spec.bbox.map(Number);
    var view;
    if (points.length && spec.fit !== "europe") {
      view = [Infinity, Infinity, -Infinity, -Infinity];
      points.forEach(function (p) {
        view[0] = Math.min(view[0], p[0] - 2);
        view[1] = Math.min(view[1], p[1] - 1.2);
        view[2] = Math.max(view[2], p[0] + 2);
        view[3] = Math.max(view[3], p[1] + 1.2);
      });
    } else {
      view = DEFAULT_VIEW.slice();
      points.forEach(function (p) {
        view[0] = Math.min(view[0], p[0] - 2);
        view[1] = Math.min(view[1], p[1] - 1.2);
        view[2] = Math.max(view[2], p[0] + 2);
        view[3] = Math.max(view[3], p[1] + 1.2);
      });
    }
    var aspect = Number(spec.aspect) || 1.6;
    var w = Math.max(view[2] - view[0], 10);
    var yS = mercatorY(view[1]), yN = mercatorY(view[3]);
    var h = Math.max(yN - yS, 6);
    if (w / h < aspect) w = h * aspect; else h = w / aspect;
    var cx = (view[0] + view[2]) / 2, cy = (yS + yN) / 2;
    view = [cx - w / 2, mercatorLat(cy - h / 2), cx + w / 2, mercatorLat(cy + h / 2)];
    return [
      Math.max(view[0], limit[0]), Math.max(view[1], limit[1]),
      Math.min(view[2], limit[2]), Math.min(view[3], limit[3]),
    ];
  }

  function ringPath(ring, project) {
    var d = "";
    for (var i = 0; i < ring.length; i++) {
      var xy = project(ring[i][0], ring[i][1]);
      d += (i === 0 ? "M" : "L") + xy[0].toFixed(1) + " " + xy[1].toFixed(1);
    }
    return d + "Z";
  }

  function polygonInView(polygon, view) {
    var outer = polygon[0];
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (var i = 0; i < outer.length; i++) {
      var p = outer[i];
      if (p[0] < minX) minX = p[0];
      if (p[0] > maxX) maxX = p[0];
      if (p[1] < minY) minY = p[1];
      if (p[1] > maxY) maxY = p[1];
    }
    return maxX >= view[0] && minX <= view[2] && maxY >= view[1] && minY <= view[3];
  }

  function tone(value) {
    return /^(success|warning|danger|muted|progress|info)$/.test(value || "") ? value : "info";
  }

  function drawMap(block, geo) {
    var spec = parseJson(block);
    var container = block.closest(".map");
    var canvas = container ? container.querySelector(".map__canvas") : null;
    if (!canvas) {
      canvas = document.createElement("div");
      canvas.className = "map__canvas";
      block.parentNode.insertBefore(canvas, block);
    }
    canvas.textContent = "";
    if (!spec) {
      canvas.textContent = "The map data could not be read.";
      return;
    }
    var hubs = spec.hubs || [];
    var routes = spec.routes || [];
    var hubsById = {};
    hubs.forEach(function (h) { if (h.id !== undefined) hubsById[String(h.id)] = h; });

    var allPoints = [];
    hubs.forEach(function (h) { allPoints.push([Number(h.lon), Number(h.lat)]); });
    var resolvedRoutes = routes.map(function (r) {
      var pts = (r.points || []).map(function (p) { return toPoint(p, hubsById); }).filter(Boolean);
      pts.forEach(function (p) { allPoints.push(p); });
      return { route: r, points: pts };
    });

    var view = viewFor(spec, allPoints, geo ? geo.bbox : null);
    var width = 1000;
    var x0 = view[0], kx = width / (view[2] - view[0]);
    var yTop = mercatorY(view[3]);
    var height = Math.round((yTop - mercatorY(view[1])) * kx);
    function project(lon, lat) { return [(lon - x0) * kx, (yTop - mercatorY(lat)) * kx]; }

    // Sizes below are in screen pixels, converted to viewBox units so labels stay legible
    // on a tablet as on a wide screen.
    var px = width / Math.max(canvas.clientWidth || width, 1);
    var id = "map" + (++mapCount);
    var root = svg("svg", {
      viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-labelledby": id + "-title", preserveAspectRatio: "xMidYMid meet",
    });
    var title = svg("title", { id: id + "-title" }, root);
    title.textContent = spec.title || ("Map of " + hubs.length + " hubs and " + routes.length + " routes");

    var defs = svg("defs", {}, root);
    ["info", "success", "warning", "danger", "muted", "progress"].forEach(function (t) {
      var m = svg("marker", {
        id: id + "-arrow-" + t, viewBox: "0 0 10 10", refX: "8", refY: "5",
        markerWidth: "5", markerHeight: "5", orient: "auto-start-reverse", class: "map__arrow map__arrow--" + t,
      }, defs);
      svg("path", { d: "M0 0L10 5L0 10z" }, m);
    });

    svg("rect", { x: 0, y: 0, width: width, height: height, class: "map__sea" }, root);

    var highlight = {};
    (spec.highlight || ["Ukraine"]).forEach(function (h) { highlight[String(h)] = true; });
    var countries = svg("g", { "aria-hidden": "true" }, root);
    if (geo && geo.features) {
      geo.features.forEach(function (f) {
        var polys = f.geometry && f.geometry.coordinates ? f.geometry.coordinates : [];
        var d = "";
        polys.forEach(function (poly) {
          if (!polygonInView(poly, view)) return;
          poly.forEach(function (ring) { d += ringPath(ring, project); });
        });
        if (!d) return;
        var name = f.properties && f.properties.name;
        var hl = highlight[name] || highlight[String(f.id)];
        svg("path", { d: d, "fill-rule": "evenodd", class: "map__country" + (hl ? " map__country--highlight" : ""), "data-name": name || "" }, countries);
      });
    }

    var routeLayer = svg("g", { class: "map__routes" }, root);
    resolvedRoutes.forEach(function (rr) {
      if (rr.points.length < 2) return;
      var t = tone(rr.route.tone);
      var parent = routeLayer;
      if (rr.route.href) parent = svg("a", { href: rr.route.href }, routeLayer);
      var line = svg("polyline", {
        points: rr.points.map(function (p) { var xy = project(p[0], p[1]); return xy[0].toFixed(1) + "," + xy[1].toFixed(1); }).join(" "),
        class: "map__route map__route--" + t,
        "marker-end": "url(#" + id + "-arrow-" + t + ")",
      }, parent);
      if (rr.route.width) line.setAttribute("stroke-width", String(Math.max(1, Math.min(10, Number(rr.route.width)))));
      if (rr.route.name) svg("title", {}, line).textContent = rr.route.name;
    });

    var hubLayer = svg("g", { class: "map__hubs" }, root);
    var showLabels = spec.labels !== undefined ? !!spec.labels : hubs.length <= 30;
    hubs.forEach(function (h) {
      var xy = project(Number(h.lon), Number(h.lat));
      if (xy[0] < 0 || xy[0] > width || xy[1] < 0 || xy[1] > height) return;
      var kind = String(h.kind || "hub").replace(/[^a-z_-]/gi, "");
      var cls = "map__hub map__hub--" + kind + (h.tone ? " map__hub--" + tone(h.tone) : "");
      var g = h.href ? svg("a", { href: h.href, class: cls }, hubLayer) : svg("g", { class: cls }, hubLayer);
      var r = (h.size ? Math.max(3, Math.min(14, Number(h.size))) : 5.5) * px;
      svg("circle", { cx: xy[0].toFixed(1), cy: xy[1].toFixed(1), r: r.toFixed(1) }, g);
      svg("title", {}, g).textContent = h.name + (h.note ? " — " + h.note : "");
      if (showLabels && h.name) {
        var label = svg("text", {
          x: (xy[0] + r + 3 * px).toFixed(1), y: (xy[1] + 4 * px).toFixed(1),
          "font-size": (12 * px).toFixed(1), "stroke-width": (3 * px).toFixed(1), class: "map__hub-label",
        }, g);
        label.textContent = h.name;
      }
    });

    canvas.appendChild(root);
    if (!geo) {
      var note = document.createElement("p");
      note.className = "map__note";
      note.textContent = "Country outlines unavailable; hubs and routes are shown on a blank background.";
      canvas.appendChild(note);
    }
  }

  var drawnMaps = [];
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      drawnMaps = drawnMaps.filter(function (m) { return document.contains(m.block); });
      drawnMaps.forEach(function (m) { drawMap(m.block, m.geo); });
    }, 200);
  });

  function initMaps(root) {
    var blocks = [];
    each(root, 'script[type="application/json"][data-map]', function (b) { if (once(b, "map")) blocks.push(b); });
    if (!blocks.length) return;
    function draw(geo) {
      blocks.forEach(function (b) {
        drawMap(b, geo);
        drawnMaps.push({ block: b, geo: geo });
      });
    }
    loadGeo().then(draw, function () { draw(null); });
  }

  /* ----------------------------------------------------------------- init */

  function init(root) {
    each(root, "table[data-sortable]", initSortable);
    initCharts(root);
    initMaps(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document.body); });
  } else {
    init(document.body);
  }
  document.addEventListener("htmx:load", function (evt) { init(evt.detail.elt); });
})();
