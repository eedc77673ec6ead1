// dom.js - build the page from elements and text only.
//
// Nothing here ever parses markup: every string from the server becomes a
// text node (textContent), so data cannot turn into script.  h() is the one
// way views make elements.

// h - an element with attributes (on* as listeners) and children
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "disabled" || k === "hidden" || k === "selected") el[k] = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  add(el, kids);
  return el;
}

// add - append children: nodes, strings (as text), arrays of either;
// null, undefined and false are skipped (Element.append would print them)
export function add(el, ...kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) add(el, ...k);
    else if (k instanceof Node) el.appendChild(k);
    else el.appendChild(document.createTextNode(String(k)));
  }
  return el;
}

// clear - remove every child
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// svg - an SVG element (for charts)
export function svg(tag, attrs, ...kids) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") el.textContent = String(v);
    else if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const k of kids) if (k) el.appendChild(k);
  return el;
}

// announce - tell screen readers (the page's polite live region)
export function announce(text) {
  const r = document.getElementById("announce");
  if (!r) return;
  r.textContent = "";
  setTimeout(() => { r.textContent = text; }, 30);
}

// when - a timestamp as local date and time, or "" for none
export function when(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toLocaleString();
}

// table - a table of rows; cols are [header, row => cell content]
export function table(caption, cols, rows, onRow) {
  const t = h("table", {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, cols.map(([name]) => h("th", { scope: "col", text: name })))));
  const body = h("tbody");
  for (const r of rows) {
    const tr = h("tr", {}, cols.map(([name, f]) => h("td", { "data-label": name }, f(r))));
    if (onRow) {
      tr.tabIndex = 0;
      tr.classList.add("clickable");
      tr.addEventListener("click", () => onRow(r));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") onRow(r); });
    }
    body.appendChild(tr);
  }
  t.appendChild(body);
  return h("div", { class: "table-wrap" }, t);
}

// field - a labelled control
export function field(label, control) {
  return h("label", { class: "field" }, h("span", { text: label }), control);
}

// select - a <select> of values (or [value, label] pairs)
export function select(name, options, current) {
  return h("select", { name },
    options.map((o) => {
      const [v, l] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: v, selected: v === current, text: l });
    }));
}

// errorBox - an error message area that screen readers hear
export function errorBox() {
  return h("p", { class: "error", role: "alert" });
}
