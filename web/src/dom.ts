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
