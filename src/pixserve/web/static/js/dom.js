// Tiny DOM helpers shared by the page's modules.

/** The element with this id. */
export const byId = (id) => document.getElementById(id);

/**
 * A new element: h("span", {className: "x", dataset: {a: "1"}}, "text", child).
 * Attributes other than className/dataset/hidden/on* go through setAttribute.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "hidden") node.hidden = Boolean(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** Replace the text only when it changed (keeps screen readers from repeating it). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** "smooth", unless the visitor asked for less motion. */
export function scrollBehavior() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
}
