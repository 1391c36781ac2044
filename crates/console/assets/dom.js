// Element builders. Every string becomes a text node, never markup: what a registry
// published (project names, notes, beneficiaries) is shown exactly as text.

const SVG_NS = 'http://www.w3.org/2000/svg';

// An HTML element: h('a', { href, class, onclick }, 'text', child, [more]).
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'href') el.setAttribute('href', safeHref(value));
    else if (typeof value === 'boolean') el[key] = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

// An SVG element, attributes set as given.
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value != null) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

// Appends children: nodes as they are, anything else as text.
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replaces an element's content.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// The console's own routes and http(s) pages only, so a registry URL cannot run a script.
export function safeHref(url) {
  const text = String(url);
  if (text.startsWith('#')) return text;
  try {
    const parsed = new URL(text, location.href);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : '#';
  } catch {
    return '#';
  }
}

// A link to a registry's public page, opened apart from the console.
export function external(url, text) {
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'external' }, text);
}
