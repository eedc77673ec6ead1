// diff.js - a line diff by longest common subsequence, and its views.
//
// Versions of an SOP are a few hundred lines at most, so the plain
// O(n*m) table is fine; past LIMIT cells it falls back to "all removed,
// all added" rather than freeze the page.

import { h } from "./dom.js";

const LIMIT = 4_000_000;

// lineDiff - [{op: " "|"-"|"+", text}] turning a into b
export function lineDiff(a, b) {
  const x = a.split("\n"), y = b.split("\n");
  const n = x.length, m = y.length;
  if (n * m > LIMIT)
    return x.map((t) => ({ op: "-", text: t })).concat(y.map((t) => ({ op: "+", text: t })));
  const w = m + 1, L = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i * w + j] = x[i] === y[j] ? L[(i + 1) * w + j + 1] + 1
        : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push({ op: " ", text: x[i] }); i++; j++; }
    else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) out.push({ op: "-", text: x[i++] });
    else out.push({ op: "+", text: y[j++] });
  }
  while (i < n) out.push({ op: "-", text: x[i++] });
  while (j < m) out.push({ op: "+", text: y[j++] });
  return out;
}

// parseUnified - a unified diff's text as [{op, text}] (headers dropped)
export function parseUnified(text) {
  const out = [];
  for (const line of String(text || "").split("\n")) {
    if (line.startsWith("+++") || line.startsWith("---")) continue;
    if (line.startsWith("@@")) { out.push({ op: "@", text: line }); continue; }
    const op = line[0];
    if (op === "+" || op === "-" || op === " ") out.push({ op, text: line.slice(1) });
    else if (line.length) out.push({ op: " ", text: line });
  }
  return out;
}

// unifiedView - one column, - and + marked
export function unifiedView(ops) {
  return h("pre", { class: "diff", "aria-label": "differences" },
    ops.map((o) => h("span", { class: "d" + cls(o.op), text: (o.op === "@" ? "" : o.op) + o.text + "\n" })));
}

// sideBySide - before on the left, after on the right, aligned by row
export function sideBySide(ops) {
  const rows = [];
  let dels = [], adds = [];
  const flush = () => {
    for (let k = 0; k < Math.max(dels.length, adds.length); k++)
      rows.push([dels[k], adds[k]]);
    dels = []; adds = [];
  };
  for (const o of ops) {
    if (o.op === "-") dels.push(o);
    else if (o.op === "+") adds.push(o);
    else { flush(); rows.push([o, o]); }
  }
  flush();
  const cell = (o) => h("td", { class: o ? "d" + cls(o.op) : "dnone", text: o ? o.text : "" });
  return h("div", { class: "table-wrap" },
    h("table", { class: "sbs" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Before" }), h("th", { scope: "col", text: "After" }))),
      h("tbody", {}, rows.map(([l, r]) => h("tr", {}, cell(l && l.op !== "+" ? l : null), cell(r && r.op !== "-" ? r : null))))));
}

function cls(op) {
  return op === "-" ? "del" : op === "+" ? "add" : op === "@" ? "hunk" : "same";
}
