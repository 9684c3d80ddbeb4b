// The style picker: one card per style, the upscalers gathered into one "Enlarge" card whose
// choices (2×/3×/4×, photo/drawing, noise removal) pick the matching style, and on each card
// the size of the picture it will return for the chosen photo.

import { h } from "./dom.js";
import { formatSize, t } from "./i18n.js";

const CHECK_SVG =
  '<svg viewBox="0 0 24 24"><path d="m5 12.5 4.5 4.5L19 7.5" fill="none" stroke="currentColor" ' +
  'stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>';

export const isSketchStyle = (style) => Boolean(style) && style.input === "sketch";
const isEnlarge = (style) => Boolean(style.group) && style.group.name === "enlarge";

/** The width/height the style wants, or null for any shape. */
export const cropAspect = (style) =>
  style && typeof style.crop_aspect === "number" && style.crop_aspect > 0 ? style.crop_aspect : null;

/** The most pixels on a side the style uses (its limits.max_side), or null. */
export const maxSide = (style) => (style && style.limits && style.limits.max_side) || null;

function thumbnail(style) {
  const thumb = h("span", { className: "style-thumb", "aria-hidden": "true" });
  const initial = (style.title || style.name || "?").trim().charAt(0).toUpperCase();
  if (style.thumbnail_url) {
    const img = h("img", { alt: "", loading: "lazy", decoding: "async", src: style.thumbnail_url });
    img.addEventListener("error", () => {
      thumb.textContent = initial;
    });
    thumb.append(img);
  } else {
    thumb.textContent = initial;
  }
  return thumb;
}

function checkMark() {
  const check = h("span", { className: "check", "aria-hidden": "true" });
  check.innerHTML = CHECK_SVG;
  return check;
}

function denoiseLabel(level) {
  if (level === null || level === undefined) return t("Off");
  const names = [t("Very light"), t("Light"), t("Medium"), t("Strong")];
  return names[level] || t("Level {n}", { n: level });
}

const contentLabel = (content) => (content === "drawing" ? t("Drawing") : t("Photo"));

/** The style gallery inside `container` (a radio group named "style"). */
export class StylePicker {
  constructor(container, { onChange }) {
    this.container = container;
    this.onChange = onChange;
    this.styles = [];
    this.byName = new Map();
    this.enlarge = []; // the upscaler styles, in catalogue order
    this.enlargeCard = null;
    this.sizeLabels = new Map(); // style name → its size label element
  }

  /** Draw the cards for `styles`; keeps the previous choice when it still exists. */
  setStyles(styles) {
    const previous = this.selectedName();
    this.styles = styles;
    this.byName = new Map(styles.map((s) => [s.name, s]));
    this.enlarge = styles.filter(isEnlarge);
    this.sizeLabels.clear();
    this.container.textContent = "";
    if (!styles.length) {
      this.container.append(h("p", { className: "muted" }, t("No styles are installed on this server yet.")));
      return;
    }
    const firstPlain = styles.find((s) => !isEnlarge(s) && !isSketchStyle(s)) || styles[0];
    const chosen = previous && this.byName.has(previous) ? previous : firstPlain.name;
    styles.forEach((style, i) => {
      if (!isEnlarge(style)) this.container.append(this.card(style, i, style.name === chosen));
    });
    // The upscalers enlarge rather than restyle: one card, after the styles.
    if (this.enlarge.length) this.container.append(this.enlargeCardFor(chosen));
  }

  card(style, index, checked) {
    const descId = `style-desc-${index}`;
    const input = h("input", {
      type: "radio",
      name: "style",
      value: style.name,
      "aria-describedby": style.description ? descId : null,
      onchange: () => this.changed(),
    });
    input.checked = checked;
    const title = h("span", { className: "style-title" }, style.title || style.name);
    if (style.fast) title.append(" ", h("span", { className: "badge" }, t("Fast")));
    if (isSketchStyle(style)) title.append(" ", h("span", { className: "badge" }, t("Draw")));
    const size = h("span", { className: "style-size", dataset: { testid: "style-size" } });
    this.sizeLabels.set(style.name, size);
    const body = h(
      "span",
      { className: "style-body" },
      title,
      style.description ? h("span", { className: "style-desc", id: descId }, style.description) : null,
      size,
    );
    return h(
      "label",
      { className: "style-card", dataset: { style: style.name, testid: `style-${style.name}` } },
      input,
      thumbnail(style),
      checkMark(),
      body,
    );
  }

  /** The one card for every upscaler: a radio plus the choices that name one of them. */
  enlargeCardFor(chosen) {
    const current = this.byName.get(chosen);
    const start = current && isEnlarge(current) ? current : this.plainEnlarge();
    const input = h("input", {
      type: "radio",
      name: "style",
      value: start.name,
      "aria-describedby": "enlarge-desc",
      onchange: () => this.changed(),
    });
    input.checked = start.name === chosen;
    const size = h("span", { className: "style-size", dataset: { testid: "style-size" } });
    const uses = h("span", { className: "style-desc enlarge-uses", dataset: { testid: "enlarge-uses" } });
    const label = h(
      "label",
      { className: "enlarge-head" },
      input,
      thumbnail(start),
      checkMark(),
      h(
        "span",
        { className: "style-body" },
        h("span", { className: "style-title" }, t("Enlarge")),
        h("span", { className: "style-desc", id: "enlarge-desc" }, t("Makes the picture bigger and sharper, without changing its look.")),
        size,
        uses,
      ),
    );
    const values = (key) => [...new Set(this.enlarge.map((s) => s.group[key] ?? null))];
    const scales = values("scale").sort((a, b) => a - b);
    const contents = values("content");
    const denoises = values("denoise").sort((a, b) => (a ?? -1) - (b ?? -1));
    const choices = h("div", { className: "enlarge-choices" });
    const groups = {
      scale: this.choiceGroup("scale", t("Size"), scales, (v) => `${v}×`),
      content: this.choiceGroup("content", t("Picture"), contents, contentLabel),
    };
    choices.append(groups.scale, groups.content);
    const denoise = h("select", { className: "text-input select", id: "enlarge-denoise", dataset: { testid: "enlarge-denoise" } });
    denoises.forEach((v) => denoise.append(h("option", { value: v === null ? "" : String(v) }, denoiseLabel(v))));
    denoise.addEventListener("change", () => this.pickEnlarge("denoise"));
    choices.append(
      h("label", { className: "enlarge-field", for: "enlarge-denoise" }, h("span", { className: "enlarge-legend" }, t("Noise removal")), denoise),
    );
    this.enlargeCard = { input, size, uses, denoise, choices, current: start };
    this.reflectEnlarge(start);
    return h(
      "div",
      { className: "style-card enlarge-card", dataset: { style: "enlarge", testid: "enlarge-card" } },
      label,
      choices,
    );
  }

  /** The upscaler to offer first: the smallest enlargement of photos, without noise removal. */
  plainEnlarge() {
    const rank = (s) => s.group.scale * 10 + (s.group.content === "photo" ? 0 : 5) + (s.group.denoise ?? -1) + 1;
    return this.enlarge.reduce((best, s) => (rank(s) < rank(best) ? s : best));
  }

  choiceGroup(key, legend, values, labelOf) {
    const fieldset = h("fieldset", { className: "enlarge-field segmented", dataset: { choice: key } }, h("legend", { className: "enlarge-legend" }, legend));
    values.forEach((v) => {
      const radio = h("input", {
        type: "radio",
        name: `enlarge-${key}`,
        value: String(v),
        onchange: () => this.pickEnlarge(key),
      });
      fieldset.append(h("label", { className: "segment" }, radio, h("span", {}, labelOf(v))));
    });
    return fieldset;
  }

  /** The upscaler that matches the choices best, the one just changed counting most. */
  pickEnlarge(changed) {
    const card = this.enlargeCard;
    const want = {
      scale: Number(card.choices.querySelector('input[name="enlarge-scale"]:checked')?.value),
      content: card.choices.querySelector('input[name="enlarge-content"]:checked')?.value,
      denoise: card.denoise.value === "" ? null : Number(card.denoise.value),
    };
    const weight = { scale: 4, content: 2, denoise: 1 };
    weight[changed] = 8;
    let best = card.current;
    let bestScore = -1;
    for (const style of this.enlarge) {
      const g = style.group;
      const score =
        (g.scale === want.scale ? weight.scale : 0) +
        (g.content === want.content ? weight.content : 0) +
        ((g.denoise ?? null) === want.denoise ? weight.denoise : 0);
      if (score > bestScore) {
        best = style;
        bestScore = score;
      }
    }
    this.reflectEnlarge(best);
    card.input.checked = true;
    this.changed();
  }

  /** Set the Enlarge card's controls to `style`'s values and make it the card's style. */
  reflectEnlarge(style) {
    const card = this.enlargeCard;
    card.current = style;
    card.input.value = style.name;
    const g = style.group;
    card.choices.querySelectorAll('input[name="enlarge-scale"]').forEach((r) => {
      r.checked = Number(r.value) === g.scale;
      r.disabled = !this.enlarge.some((s) => s.group.scale === Number(r.value));
    });
    card.choices.querySelectorAll('input[name="enlarge-content"]').forEach((r) => {
      r.checked = r.value === g.content;
    });
    card.denoise.value = g.denoise === null || g.denoise === undefined ? "" : String(g.denoise);
    // Only the levels an upscaler of this size and kind offers.
    for (const option of card.denoise.options) {
      const level = option.value === "" ? null : Number(option.value);
      option.disabled = !this.enlarge.some(
        (s) => s.group.scale === g.scale && s.group.content === g.content && (s.group.denoise ?? null) === level,
      );
    }
    card.uses.textContent = t("Uses {name}", { name: style.title || style.name });
    this.sizeLabels.set("enlarge", card.size);
    if (this.sizes) this.showSizes(this.sizes);
  }

  changed() {
    if (this.onChange) this.onChange(this.selected());
  }

  selectedName() {
    const checked = this.container.querySelector('input[name="style"]:checked');
    return checked ? checked.value : null;
  }

  /** The chosen style's catalogue entry, or null. */
  selected() {
    return this.byName.get(this.selectedName()) || null;
  }

  /** Choose `name` (an upscaler sets the Enlarge card's choices). */
  select(name) {
    const style = this.byName.get(name);
    if (!style) return;
    if (isEnlarge(style) && this.enlargeCard) {
      this.reflectEnlarge(style);
      this.enlargeCard.input.checked = true;
    } else {
      const input = this.container.querySelector(`input[name="style"][value="${CSS.escape(name)}"]`);
      if (input) input.checked = true;
    }
    this.changed();
  }

  /** The first radio of the gallery, to focus when nothing is chosen. */
  focusTarget() {
    return this.container.querySelector('input[name="style"]:checked') || this.container.querySelector('input[name="style"]');
  }

  /** Show on each card the size it will return: `sizes` maps style name → {width, height}. */
  showSizes(sizes) {
    this.sizes = sizes;
    for (const [name, label] of this.sizeLabels) {
      const styleName = name === "enlarge" ? this.enlargeCard.current.name : name;
      const size = sizes && sizes[styleName];
      label.textContent = size ? t("Gives {size} pixels", { size: formatSize(size.width, size.height) }) : "";
    }
  }
}
