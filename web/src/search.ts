// Search (the contract's "Search"): the results of /?q=TEXT[&within=ID],
// 20 at a time, ranked, each with its counts, its variant key and a link.
// The count of matches is announced (aria-live); the heading takes the focus
// when a search was asked for on this page, so keyboard and screen-reader
// users land on the answer.
import { gql, GraphQLError } from "./api";
import { $, count, el, fmt, guessLang, videoLink } from "./dom";
import { SEARCH, type SearchHit, type SearchReply } from "./queries";

export const PAGE = 20;

export interface SearchRequest {
  text: string;
  within: string | null;
}

const ORDERS: [string, string][] = [
  ["DERIVATIVES", "most derivatives"],
  ["DIRECT_REMIXES", "most direct remixes"],
  ["NEWEST", "newest"],
  ["LIKES", "most likes"],
  ["VIEWS", "most views"],
];

let shown = 0; // ignores answers for a search no longer shown

/** Show the results of `request` in #results; `focus`: move the focus to them. */
export async function showResults(request: SearchRequest, focus: boolean): Promise<void> {
  const mine = ++shown;
  const section = $("results");
  const cursors: (string | null)[] = [null];
  let page = 0;
  let order = "DERIVATIVES";

  const heading = el("h2", { id: "results-title", tabindex: "-1", text: `Search: “${request.text}”` });
  const status = el("p", { id: "results-status", role: "status", "aria-live": "polite", text: "Searching…" });
  const orderSelect = el("select", { id: "results-order" }, ...ORDERS.map(([value, text]) => el("option", { value, text })));
  const controls = el(
    "div",
    { class: "controls" },
    el("label", { for: "results-order", text: "Order" }),
    orderSelect,
  );
  const list = el("ol", { id: "results-list", class: "results" });
  const prev = el("button", { type: "button", text: `← Previous ${PAGE}` });
  const next = el("button", { type: "button", text: `Next ${PAGE} →` });
  const pager = el("div", { class: "pager" }, prev, next);
  section.replaceChildren(heading, status, controls, list, pager);
  section.hidden = false;
  document.title = `“${request.text}” · Search · Remix-tree explorer`;
  if (focus) heading.focus();

  const load = async () => {
    status.textContent = "Searching…";
    prev.disabled = next.disabled = true;
    let reply: SearchReply;
    try {
      reply = await gql<SearchReply>(SEARCH, {
        text: request.text,
        within: request.within,
        first: PAGE,
        after: cursors[page],
        orderBy: order,
        scopeId: request.within ?? "",
        scoped: request.within !== null,
      });
    } catch (error) {
      if (mine !== shown) return;
      list.replaceChildren();
      pager.hidden = controls.hidden = true;
      status.textContent = failure(request, error);
      return;
    }
    if (mine !== shown) return;
    const { search, scope } = reply;
    const where = scope
      ? ` in the tree of ${scope.title ?? scope.id} (${scope.id} and its ${count(scope.derivativeCount, "derivative")})`
      : "";
    cursors[page + 1] = search.pageInfo.endCursor;
    if (!search.totalCount) {
      list.replaceChildren();
      pager.hidden = controls.hidden = true;
      status.textContent = `No video${where ? "" : " in the store"} matches “${request.text}”${where}. Every word must occur in a video's prompt, title or creator.`;
      return;
    }
    pager.hidden = false;
    controls.hidden = search.totalCount < 2;
    const first = page * PAGE + 1;
    const last = first + search.edges.length - 1;
    const noun = search.totalCount === 1 ? "video matches" : "videos match";
    status.textContent =
      `${fmt.format(search.totalCount)} ${noun} “${request.text}”${where}` +
      (search.totalCount > PAGE ? `; ${fmt.format(first)}–${fmt.format(last)} shown.` : ".");
    list.start = first;
    const terms = request.text.split(/\s+/).filter(Boolean);
    list.replaceChildren(...search.edges.map(({ node }) => hit(node, terms)));
    prev.disabled = page === 0;
    next.disabled = !search.pageInfo.hasNextPage;
    pager.hidden = page === 0 && !search.pageInfo.hasNextPage;
  };
  orderSelect.addEventListener("change", () => {
    order = orderSelect.value;
    cursors.length = 1;
    page = 0;
    void load();
  });
  prev.addEventListener("click", () => {
    page = Math.max(0, page - 1);
    void load().then(() => heading.focus());
  });
  next.addEventListener("click", () => {
    page += 1;
    void load().then(() => heading.focus());
  });
  await load();
}

export function hideResults(): void {
  shown++;
  $("results").hidden = true;
}

function failure(request: SearchRequest, error: unknown): string {
  if (error instanceof GraphQLError && error.code === "NOT_FOUND" && request.within)
    return `There is no video with the id “${request.within}” to search in.`;
  if (error instanceof GraphQLError && error.code === "INVALID_INPUT")
    return `The search could not run: ${error.message}`;
  return `The search could not run: ${error instanceof Error ? error.message : String(error)}`;
}

function hit(video: SearchHit, terms: string[]): HTMLElement {
  const li = el("li", { class: "hit" });
  li.dataset.videoId = video.id;
  const title = videoLink(video.id, video.title ?? video.id);
  title.replaceChildren(...highlight(video.title ?? video.id, terms));
  title.classList.add("hit-title");
  const where = video.isOriginal
    ? "original"
    : `generation ${video.generation} · in the tree of `;
  // Without a title the link already reads the id.
  const meta = el("p", { class: "meta" }, ...(video.title ? [el("code", { text: video.id }), " · "] : []));
  if (video.isOriginal) meta.append(where);
  else meta.append(where, videoLink(video.original.id, video.original.title ?? video.original.id));
  if (video.creator) meta.append(` · by ${video.creator}`);
  const key = video.remixOf?.promptDiff.variantKey;
  const facts = el(
    "p",
    { class: "facts" },
    key ? el("span", { class: "key", "data-variant-key": key, text: `change: ${key}` }) : "",
    key ? " · " : "",
    el("span", { "data-count": "derivatives", text: count(video.derivativeCount, "derivative") }),
    " · ",
    el("span", { "data-count": "direct", text: count(video.directRemixCount, "direct remix", "direct remixes") }),
  );
  const prompt = el("p", { class: "hit-prompt", lang: guessLang(video.prompt) });
  prompt.append(...highlight(video.prompt, terms));
  li.append(el("div", { class: "hit-head" }, title), meta, facts, prompt);
  return li;
}

/** The text with each term's occurrences marked (a plain, case-insensitive match). */
export function highlight(text: string, terms: string[]): (string | HTMLElement)[] {
  const lower = text.toLowerCase();
  const marks: [number, number][] = [];
  for (const term of terms) {
    const needle = term.toLowerCase();
    for (let at = lower.indexOf(needle); needle && at >= 0; at = lower.indexOf(needle, at + needle.length))
      marks.push([at, at + needle.length]);
  }
  marks.sort((a, b) => a[0] - b[0]);
  const out: (string | HTMLElement)[] = [];
  let cursor = 0;
  for (const [start, end] of marks) {
    if (start < cursor) continue;
    if (start > cursor) out.push(text.slice(cursor, start));
    out.push(el("mark", { text: text.slice(start, end) }));
    cursor = end;
  }
  if (cursor < text.length) out.push(text.slice(cursor));
  return out;
}
