// The supervisor's planner: approved cases of the office on a map with no tile server
// (state, county and world outlines shipped with the package), clustered with
// supercluster; select by filter or by drawing an area, assign to a team, plan its route.
// Every write goes to the same API the CLI and other clients use; the server checks the
// gate again and answers each refusal with its reasons.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const root = $("planner");
  if (!root) return;
  // the map's cases, as the server sends them: columns, one entry per case
  const state = { pts: null, index: new Map(), selected: new Set(), drawing: null, routeLayer: null };
  const map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: false,
    minZoom: 3, maxZoom: 18, worldCopyJump: true }).setView([39.5, -96], 4);
  window.habeasMap = map;
  const outlines = L.layerGroup().addTo(map);
  const points = L.layerGroup().addTo(map);
  const renderer = L.canvas({ padding: 0.3 });
  let counties = null;
  let index = null;

  function text(tag, content, cls) {
    const el = document.createElement(tag);
    el.textContent = content;
    if (cls) el.className = cls;
    return el;
  }

  async function loadOutlines() {
    const world = await (await fetch("/static/vendor/countries-110m.json")).json();
    L.geoJSON(topojson.feature(world, world.objects.countries), {
      style: { color: "#8a96a3", weight: 0.6, fill: true, fillColor: "#f3f1ea", fillOpacity: 1 },
      interactive: false,
    }).addTo(outlines);
    const us = await (await fetch("/static/vendor/states-10m.json")).json();
    L.geoJSON(topojson.feature(us, us.objects.states), {
      style: { color: "#5b6875", weight: 1, fill: false }, interactive: false,
    }).addTo(outlines);
  }

  async function loadCounties() {
    if (counties) return;
    counties = L.layerGroup();
    const us = await (await fetch("/static/vendor/counties-10m.json")).json();
    L.geoJSON(topojson.feature(us, us.objects.counties), {
      style: { color: "#aab3bc", weight: 0.4, fill: false }, interactive: false,
    }).addTo(counties);
  }

  function colour(i) {
    const p = state.pts;
    if (p.blocked[i]) return "#8b8b8b";
    if (state.selected.has(p.case_id[i])) return "#c2410c";
    const k = p.confidence[i];
    return k >= 70 ? "#1d4ed8" : k >= 40 ? "#7c3aed" : "#be185d";
  }

  function render() {
    if (!index) return;
    const b = map.getBounds();
    const z = Math.round(map.getZoom());
    const found = index.getClusters([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], z);
    points.clearLayers();
    for (const f of found) {
      const [lon, lat] = f.geometry.coordinates;
      if (f.properties.cluster) {
        const n = f.properties.point_count;
        const m = L.marker([lat, lon], { icon: L.divIcon({ className: "cluster",
          html: "<span>" + (n >= 1000 ? Math.round(n / 100) / 10 + "k" : n) + "</span>",
          iconSize: [34, 34] }), title: n + " approved cases", keyboard: false });
        m.on("click", () => map.setView([lat, lon], Math.min(index.getClusterExpansionZoom(f.properties.cluster_id), 18)));
        points.addLayer(m);
      } else {
        const i = f.properties.i;
        const m = L.circleMarker([lat, lon], { renderer, radius: 7, weight: 1, color: "#111",
          fillColor: colour(i), fillOpacity: 0.9 });
        m.on("click", () => show(state.pts.case_id[i]));
        points.addLayer(m);
      }
    }
  }

  async function show(caseId) {
    const box = $("detail");
    box.replaceChildren(text("p", "Loading case " + caseId + "…"));
    const r = await window.habeasFetch("/field/planner/cases/" + caseId);
    if (!r.ok) { box.replaceChildren(text("p", "Refused: " + await window.habeasProblem(r), "refusal")); return; }
    const c = await r.json();
    box.replaceChildren();
    const a = c.address;
    box.append(text("h2", "Case " + c.case_id));
    const link = document.createElement("a");
    link.href = "/case/" + c.case_id;
    link.textContent = "open the case (gates, timeline)";
    box.append(link);
    box.append(text("p", [a.street, a.city, a.state, a.zip].filter(Boolean).join(", ")));
    box.append(text("p", "Geocode: " + a.geocode + (a.seen ? "; last seen " + a.seen : "; undated")));
    box.append(text("p", "Sources: " + a.sources.join(", ")));
    box.append(text("p", "Address confidence " + a.confidence + " / 100", "confidence"));
    const ul = document.createElement("ul");
    for (const p of a.parts) ul.append(text("li", p.name + ": " + p.points + " of " + p.out_of + " — " + p.why));
    box.append(ul);
    if (a.others.length) {
      box.append(text("p", "Other addresses the sources hold:"));
      const ol = document.createElement("ul");
      for (const o of a.others) ol.append(text("li", (o.street || "(no street)") + " " + o.zip + " — " + o.sources.join(", ") + (o.seen ? ", seen " + o.seen : "") + ", " + o.km + " km away"));
      box.append(ol);
    }
    if (c.attempts) box.append(text("p", c.attempts + " earlier attempt(s): not located"));
    if (c.blocked.length) {
      box.append(text("p", "Not assignable: " + c.blocked.join("; "), "refusal"));
      return;
    }
    const b = text("button", state.selected.has(c.case_id) ? "Unselect" : "Select");
    b.type = "button";
    b.addEventListener("click", () => { toggle(c.case_id); show(c.case_id); });
    box.append(b);
  }

  function toggle(id) {
    if (state.selected.has(id)) state.selected.delete(id); else state.selected.add(id);
    counts();
    render();
  }

  function counts() {
    $("selected-count").textContent = state.selected.size;
  }

  async function load() {
    const q = new URLSearchParams();
    if ($("f-tier").value) q.set("tier", $("f-tier").value);
    q.set("min_confidence", $("f-conf").value || "0");
    const t0 = performance.now();
    const r = await window.habeasFetch("/field/planner?" + q.toString());
    if (!r.ok) { $("counts").textContent = "Refused: " + await window.habeasProblem(r); return; }
    const view = await r.json();
    const t1 = performance.now();
    const p = view.points;
    state.pts = p;
    state.index = new Map(p.case_id.map((id, i) => [id, i]));
    for (const id of [...state.selected]) if (!state.index.has(id)) state.selected.delete(id);
    index = new Supercluster({ radius: 60, maxZoom: 16 });
    const features = new Array(p.case_id.length);
    for (let i = 0; i < p.case_id.length; i++) {
      features[i] = { type: "Feature", properties: { i }, geometry: { type: "Point", coordinates: [p.lon[i], p.lat[i]] } };
    }
    index.load(features);
    const t2 = performance.now();
    $("counts").textContent = p.case_id.length + " approved case(s) on the map; " + view.no_address +
      " without an address this purpose may read" + (view.withheld_sources ? "; addresses of " +
      view.withheld_sources + " source(s) withheld for this purpose" : "") + ".";
    counts();
    render();
    const t3 = performance.now();
    root.dataset.loaded = String(p.case_id.length);
    root.dataset.fetchMs = String(Math.round(t1 - t0));  // request, server, transfer, JSON
    root.dataset.indexMs = String(Math.round(t2 - t1));  // supercluster's index
    root.dataset.renderMs = String(Math.round(t3 - t2));  // the first frame of markers
  }

  // drawing an area: click to add corners, "Close the area" (or a double click) to select
  function startDraw() {
    state.drawing = { corners: [], line: L.polyline([], { color: "#c2410c", weight: 2 }).addTo(map) };
    map.doubleClickZoom.disable();
    $("finish").disabled = false;
    $("draw").disabled = true;
    root.classList.add("drawing");
  }

  function inside(pt, poly) {
    let hit = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [yi, xi] = poly[i], [yj, xj] = poly[j];
      if ((yi > pt[0]) !== (yj > pt[0]) && pt[1] < ((xj - xi) * (pt[0] - yi)) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }

  function finishDraw() {
    const d = state.drawing;
    if (!d) return;
    state.drawing = null;
    map.doubleClickZoom.enable();
    $("finish").disabled = true;
    $("draw").disabled = false;
    root.classList.remove("drawing");
    if (d.corners.length < 3) { map.removeLayer(d.line); return; }
    map.removeLayer(d.line);
    L.polygon(d.corners, { color: "#c2410c", weight: 2, fillOpacity: 0.05, interactive: false }).addTo(points);
    let n = 0;
    const p = state.pts;
    for (let i = 0; p && i < p.case_id.length; i++) {
      if (!p.blocked[i] && inside([p.lat[i], p.lon[i]], d.corners)) { state.selected.add(p.case_id[i]); n++; }
    }
    $("result").textContent = n + " case(s) inside the area selected.";
    counts();
    render();
  }

  map.on("click", (e) => {
    if (!state.drawing) return;
    state.drawing.corners.push([e.latlng.lat, e.latlng.lng]);
    state.drawing.line.setLatLngs(state.drawing.corners);
  });
  map.on("dblclick", () => { if (state.drawing) finishDraw(); });
  map.on("moveend", render);
  map.on("zoomend", async () => {
    if (map.getZoom() >= 7) { await loadCounties(); counties.addTo(map); }
    else if (counties) map.removeLayer(counties);
  });

  function minutes(v) { const [h, m] = v.split(":").map(Number); return h * 60 + m; }

  async function assign() {
    const ids = [...state.selected];
    if (!ids.length) { $("result").textContent = "Select cases first."; return; }
    const body = { case_ids: ids, team: $("team").value, day: $("day").value,
      window_start: minutes($("win-start").value), window_end: minutes($("win-end").value),
      stop_minutes: Number($("stop").value) };
    const r = await window.habeasFetch("/field/assignments", { method: "POST", json: body });
    const box = $("result");
    box.replaceChildren();
    if (!r.ok) { box.append(text("p", "Refused: " + await window.habeasProblem(r), "refusal")); return; }
    const rep = await r.json();
    box.append(text("p", rep.assigned.length + " assigned to " + body.team + " for " + body.day + ".", "notice"));
    if (rep.refused.length) {
      const ul = document.createElement("ul");
      ul.className = "refusals";
      for (const x of rep.refused) ul.append(text("li", "Case " + x.case_id + " refused: " + x.reasons.join("; ")));
      box.append(ul);
    }
    state.selected.clear();
    await load();
  }

  async function route() {
    const body = { team: $("team").value, day: $("day").value };
    const r = await window.habeasFetch("/field/routes", { method: "POST", json: body });
    const box = $("result");
    box.replaceChildren();
    if (!r.ok) { box.append(text("p", "Refused: " + await window.habeasProblem(r), "refusal")); return; }
    const plan = await r.json();
    if (state.routeLayer) map.removeLayer(state.routeLayer);
    state.routeLayer = L.layerGroup().addTo(map);
    const line = [[plan.start.lat, plan.start.lon]].concat(plan.stops.map((s) => [s.lat, s.lon]));
    if (plan.stops.length) line.push([plan.start.lat, plan.start.lon]);
    L.polyline(line, { color: "#15803d", weight: 3 }).addTo(state.routeLayer);
    L.circleMarker([plan.start.lat, plan.start.lon], { radius: 8, color: "#15803d", fillOpacity: 1 }).addTo(state.routeLayer);
    for (const s of plan.stops) {
      L.marker([s.lat, s.lon], { icon: L.divIcon({ className: "stop", html: "<span>" + s.seq + "</span>", iconSize: [24, 24] }) }).addTo(state.routeLayer);
    }
    box.append(text("p", "Route for " + plan.team + " on " + plan.day + ": " + plan.stops.length + " stop(s), " +
      plan.km + " km (nearest-neighbour tour " + plan.nearest_neighbour_km + " km), planned in " + plan.seconds + " s.", "notice"));
    box.append(text("p", plan.assumptions, "hint"));
    const ol = document.createElement("ol");
    ol.id = "route-stops";
    for (const s of plan.stops) ol.append(text("li", s.arrive + " — case " + s.case_id + ", " + s.street));
    box.append(ol);
    for (const x of plan.left_out) box.append(text("p", "Left out: case " + x.case_id + " — " + x.reasons.join("; "), "refusal"));
    if (line.length > 1) map.fitBounds(L.latLngBounds(line).pad(0.2));
    $("print").href = "/planner/route?team=" + encodeURIComponent(plan.team) + "&day=" + plan.day;
  }

  $("apply").addEventListener("click", load);
  $("draw").addEventListener("click", startDraw);
  $("finish").addEventListener("click", finishDraw);
  $("select-all").addEventListener("click", () => {
    const p = state.pts;
    for (let i = 0; p && i < p.case_id.length; i++) if (!p.blocked[i]) state.selected.add(p.case_id[i]);
    counts(); render();
  });
  $("clear").addEventListener("click", () => { state.selected.clear(); counts(); render(); });
  $("assign").addEventListener("click", assign);
  $("route").addEventListener("click", route);
  $("print").addEventListener("click", (e) => { if ($("print").getAttribute("href") === "#") e.preventDefault(); });
  loadOutlines().then(load).then(() => { root.dataset.ready = "1"; });
})();
