// Small DOM helpers shared by the explorer's panels.

export const fmt = new Intl.NumberFormat("en-US");
export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let navigate: (id: string) => void = () => {};

/** Where video links go: set once by the page (selects the video in place). */
export function onNavigate(go: (id: string) => void): void {
  navigate = go;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

export function videoLink(id: string, text?: string): HTMLAnchorElement {
  const a = el("a", { href: `/?video=${encodeURIComponent(id)}`, text: text ?? id });
  a.dataset.videoLink = id;
  a.addEventListener("click", (event) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(id);
  });
  return a;
}

export function unavailable(what: string, error: unknown): HTMLElement {
  const reason = error instanceof Error ? error.message : String(error);
  const note = el("p", { class: "muted unavailable", text: `${what}: not available from this server.` });
  note.title = reason;
  return note;
}

/** Write a count into its stat box (null: not available from this server). */
export function setStat(key: string, value: number | null): void {
  const dd = document.querySelector<HTMLElement>(`[data-stat="${key}"]`);
  if (!dd) return;
  dd.textContent = value === null ? "n/a" : fmt.format(value);
  dd.title = value === null ? "not available from this server" : "";
}

export function guessLang(text: string): string {
  return /[\u3400-\u9fff]/.test(text) ? "zh" : "en";
}

/** "1 remix", "2 remixes": a count with its noun, singular or plural. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${fmt.format(n)} ${n === 1 ? one : many}`;
}

/** A time as the page writes it: "2025-10-20 02:16 UTC". */
export function utc(time: Date | string): string {
  return `${new Date(time).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * Labels that repeat among their neighbours, told apart by the video's id:
 * "crocodile→hippo" twice becomes "crocodile→hippo (grandma-r00012)" and
 * "crocodile→hippo (grandma-r35321)"; a label seen once stays as it is.
 */
export function distinct(items: { label: string; id: string }[]): string[] {
  const seen = new Map<string, number>();
  for (const item of items) seen.set(item.label, (seen.get(item.label) ?? 0) + 1);
  return items.map((item) => ((seen.get(item.label) ?? 0) > 1 ? `${item.label} (${item.id})` : item.label));
}
