// Small bar charts drawn with SVG, each with the table it is drawn from
// (the text alternative: screen readers and copy-paste get the numbers).

export interface Bar {
  label: string;
  value: number;
}

const fmt = new Intl.NumberFormat("en-US");

export function barChart(
  title: string,
  bars: Bar[],
  headers: [string, string],
  options: { width?: number; height?: number; tickEvery?: number; tick?: (label: string) => string; testid?: string } = {},
): HTMLElement {
  const width = options.width ?? 420;
  const height = options.height ?? 140;
  const figure = document.createElement("figure");
  figure.className = "chart";
  if (options.testid) figure.dataset.testid = options.testid;
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  figure.append(caption);

  const max = Math.max(1, ...bars.map((b) => b.value));
  const total = bars.reduce((sum, b) => sum + b.value, 0);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 20}`);
  svg.setAttribute("role", "img");
  svg.setAttribute(
    "aria-label",
    `${title}: ${bars.length} bars, total ${fmt.format(total)}, highest ${fmt.format(max)}. The table below lists every value.`,
  );
  const gap = bars.length > 40 ? 0 : 2;
  const bw = Math.min(64, Math.max(1, (width - 40) / Math.max(1, bars.length)));
  const sparse = bars.filter((b) => b.value > 0).length <= 12; // few bars carry a value: label them
  // Sparse values are labelled, the larger first, none within 34 units of another.
  const labelled = new Set<number>();
  if (bars.length <= 24) bars.forEach((_, i) => labelled.add(i));
  else if (sparse) {
    const at = (i: number) => 40 + i * bw;
    for (const i of bars.map((_, i) => i).sort((a, b) => bars[b].value - bars[a].value || a - b)) {
      if (bars[i].value === 0) break;
      if ([...labelled].every((j) => Math.abs(at(i) - at(j)) >= 34)) labelled.add(i);
    }
  }
  const axis = document.createElementNS(ns, "text");
  axis.setAttribute("x", "0");
  axis.setAttribute("y", "12");
  axis.setAttribute("class", "axis");
  axis.textContent = fmt.format(max);
  svg.append(axis);
  bars.forEach((bar, i) => {
    const h = (bar.value / max) * (height - 20);
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", String(40 + i * bw));
    rect.setAttribute("y", String(height - Math.max(bar.value > 0 ? 2 : 0, h)));
    rect.setAttribute("width", String(Math.max(1, bw - gap)));
    // A small count beside a large one still shows.
    rect.setAttribute("height", String(Math.max(bar.value > 0 ? 2 : 0, h)));
    const tip = document.createElementNS(ns, "title");
    tip.textContent = `${bar.label}: ${fmt.format(bar.value)}`;
    rect.append(tip);
    svg.append(rect);
    if (labelled.has(i) && bar.value > 0) {
      const value = document.createElementNS(ns, "text");
      value.setAttribute("x", String(40 + i * bw + (bw - gap) / 2));
      value.setAttribute("y", String(Math.max(10, height - h - 3)));
      value.setAttribute("text-anchor", "middle");
      value.setAttribute("class", "value");
      value.textContent = fmt.format(bar.value);
      svg.append(value);
    }
    const every = options.tickEvery ?? 1;
    // Every `every`-th bar is labelled, none too near the right edge.
    if (i % every === 0 && (every === 1 || 40 + i * bw < width - 60)) {
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", String(40 + i * bw + (bw - gap) / 2));
      label.setAttribute("y", String(height + 14));
      label.setAttribute("text-anchor", every === 1 ? "middle" : "start");
      label.setAttribute("class", "axis");
      label.textContent = options.tick ? options.tick(bar.label) : bar.label;
      svg.append(label);
    }
  });
  figure.append(svg);

  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Table";
  const table = document.createElement("table");
  const thead = table.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    thead.append(th);
  }
  const tbody = table.createTBody();
  for (const bar of bars) {
    const row = tbody.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = bar.label;
    row.append(th);
    row.insertCell().textContent = fmt.format(bar.value);
  }
  details.append(summary, table);
  figure.append(details);
  return figure;
}
