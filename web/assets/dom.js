// Building the DOM without HTML strings: every text goes in as textContent,
// so a note holding <script> shows as text.

// el('a', {href: '/x', class: 'link', dataset: {kpi: 'g06'}}, 'text', child, ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) node.dataset[k] = v;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces a node's children.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// A table: caption, header cells and rows of cells (text or nodes).
export function table(attrs, caption, headers, rows) {
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    el('table', attrs,
      el('caption', {}, caption),
      el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c, i) =>
        i === 0 ? el('th', { scope: 'row' }, c) : el('td', {}, c)))))));
}

// 重大 / 警告 / 情報 with a shape per severity, so colour is never the only signal.
export function severityBadge(severity, text) {
  const shape = { critical: '◆', warning: '▲', info: '●' }[severity] || '●';
  return el('span', { class: `badge severity-${severity}`, dataset: { severity } },
    el('span', { class: 'badge-shape', 'aria-hidden': 'true' }, shape), text);
}

export function stateBadge(state, text) {
  return el('span', { class: `badge state state-${state}`, dataset: { state } }, text);
}

// A status line that screen readers announce.
export function notice(kind, text) {
  return el('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
