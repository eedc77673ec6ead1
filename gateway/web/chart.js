// chart.js - small SVG bar charts, no library.
//
// bars([{label, value}], {unit, max}) draws horizontal bars with their
// values as text, so the figure is readable without the picture too.

import { h, svg } from "./dom.js";

// bars - a labelled horizontal bar chart
export function bars(title, items, opts = {}) {
  const unit = opts.unit || "";
  const fmt = opts.format || ((v) => (v === null || v === undefined ? "n/a" : (+v).toFixed(opts.digits ?? 1) + unit));
  const max = opts.max || Math.max(1e-9, ...items.map((i) => +i.value || 0));
  const rowH = 22, labelW = 150, width = 360;
  const g = svg("svg", {
    viewBox: `0 0 ${width + labelW} ${Math.max(1, items.length) * rowH + 4}`,
    role: "img", "aria-label": title, class: "chart", preserveAspectRatio: "xMinYMin meet",
  });
  items.forEach((it, k) => {
    const y = k * rowH + 2, v = +it.value || 0;
    const wbar = Math.max(0, Math.min(1, v / max)) * (width - 70);
    g.appendChild(svg("text", { x: 0, y: y + 15, class: "chart-label", text: it.label }));
    g.appendChild(svg("rect", { x: labelW, y: y + 3, width: wbar.toFixed(1), height: rowH - 8, class: "chart-bar" }));
    g.appendChild(svg("text", { x: labelW + wbar + 4, y: y + 15, class: "chart-value", text: fmt(it.value) }));
  });
  return h("figure", { class: "chart-fig" }, h("figcaption", { text: title }), g);
}

// series - a line chart of [{t, v}], a dot per point (times as labels under
// the first and last point)
export function series(title, points, opts = {}) {
  const width = 480, height = 140, pad = 24;
  const g = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  if (points.length) {
    const max = Math.max(1e-9, ...points.map((p) => +p.v || 0));
    const x = (k) => pad + (points.length === 1 ? 0 : (k * (width - 2 * pad)) / (points.length - 1));
    const y = (v) => height - pad - ((+v || 0) / max) * (height - 2 * pad);
    const d = points.map((p, k) => (k ? "L" : "M") + x(k).toFixed(1) + " " + y(p.v).toFixed(1)).join(" ");
    g.appendChild(svg("path", { d, class: "chart-line" }));
    /* a dot per point: one hour alone is still seen */
    points.forEach((p, k) => g.appendChild(svg("circle", { cx: x(k).toFixed(1), cy: y(p.v).toFixed(1), r: 3, class: "chart-dot" })));
    g.appendChild(svg("text", { x: pad, y: height - 4, class: "chart-label", text: points[0].t }));
    if (points.length > 1)
      g.appendChild(svg("text", { x: width - pad, y: height - 4, class: "chart-label", "text-anchor": "end", text: points[points.length - 1].t }));
    g.appendChild(svg("text", { x: pad, y: 12, class: "chart-value", text: "max " + max.toFixed(opts.digits ?? 2) + (opts.unit || "") }));
  }
  return h("figure", { class: "chart-fig" }, h("figcaption", { text: title }), g);
}
