// The remix-tree explorer: one selected video at a time, named in the
// address (/?video=ID), or the results of a search (/?q=TEXT[&within=ID]),
// so a view can be shared and the back and forward buttons return.
import "./style.css";
import { gql, GraphQLError, subscribe, type Subscription } from "./api";
import { barChart } from "./charts";
import { renderDiff } from "./diff";
import { $, count, distinct, el, fmt, guessLang, onNavigate, setStat, unavailable, utc, videoLink } from "./dom";
import { openMore } from "./more";
import { HISTORY_TITLE, loadTime, TRENDING_TITLE } from "./overtime";
import { loadRights } from "./rights";
import {
  CORE,
  HOME,
  LIVE,
  ORIGINALS,
  TRENDING_ORIGINALS,
  VIDEO_EXISTS,
  type CoreVideo,
} from "./queries";
import { hideResults, showResults, type SearchRequest } from "./search";
import { buildTree, renderTree, type TreeNode } from "./tree";

// -- state -------------------------------------------------------------------

let current: CoreVideo | null = null;
let live: Subscription | null = null;
let generation = 0; // ignores answers for a video no longer selected
// One time window for the page: "the last 24 hours" everywhere is the 24
// hours up to the moment the page opened.
const now = new Date();

function videoFromAddress(): string | null {
  return new URLSearchParams(location.search).get("video");
}

function searchFromAddress(): SearchRequest | null {
  const params = new URLSearchParams(location.search);
  const text = params.get("q")?.trim();
  return text ? { text, within: params.get("within")?.trim() || null } : null;
}

function searchAddress(request: SearchRequest): string {
  const params = new URLSearchParams({ q: request.text });
  if (request.within) params.set("within", request.within);
  return `/?${params.toString()}`;
}

/** Show the matches of a search; `push`: a new entry in the history. */
function search(request: SearchRequest, push: boolean, focus: boolean): void {
  if (push && location.pathname + location.search !== searchAddress(request))
    history.pushState({ q: request.text }, "", searchAddress(request));
  ++generation;
  live?.close();
  live = null;
  current = null;
  $("video").hidden = true;
  $("message").textContent = "";
  $("notice").hidden = true;
  (($("search-text") as HTMLInputElement).value = request.text);
  void showResults(request, focus);
}

function notice(...parts: (Node | string)[]): void {
  const note = $("notice");
  note.replaceChildren(...parts);
  note.hidden = false;
}

async function select(id: string, push: boolean, preloaded?: CoreVideo): Promise<void> {
  id = id.trim();
  if (!id) return;
  if (push && (videoFromAddress() !== id || searchFromAddress()))
    history.pushState({ video: id }, "", `/?video=${encodeURIComponent(id)}`);
  const mine = ++generation;
  hideResults();
  $("notice").hidden = true;
  const message = $("message");
  message.textContent = `Loading ${id}…`;
  live?.close();
  live = null;
  let video: CoreVideo | null;
  try {
    video = preloaded ?? (await gql<{ video: CoreVideo | null }>(CORE, { id })).video;
  } catch (error) {
    if (mine !== generation) return;
    message.textContent = `Could not load ${id}: ${error instanceof Error ? error.message : error}`;
    return;
  }
  if (mine !== generation) return;
  if (!video) {
    message.textContent = `There is no video with the id “${id}”.`;
    $("video").hidden = true;
    return;
  }
  message.textContent = "";
  current = video;
  document.title = `${video.title ?? video.id} · Remix-tree explorer`;
  renderVideo(video);
  const isCurrent = () => mine === generation;
  void loadTime(video, now, isCurrent);
  void loadRights(video, isCurrent);
  startLive(video, mine);
}

// -- the selected video ---------------------------------------------------------

function stat(label: string, value: string, key: string, what: string): HTMLElement {
  const dd = el("dd", { text: value });
  dd.dataset.stat = key;
  return el("div", { class: "stat" }, el("dt", { text: label }), dd, el("dd", { class: "what", text: what }));
}

function renderVideo(video: CoreVideo): void {
  const root = $("video");
  root.hidden = false;
  root.replaceChildren();

  const heading = el("h2", { id: "video-title", text: video.title ?? video.id });
  const status = el("span", { id: "status-mark", class: "status", "aria-live": "polite", text: "…" });
  const meta = el(
    "p",
    { class: "meta" },
    el("code", { "data-testid": "video-id", text: video.id }),
    video.isOriginal ? " · original" : ` · generation ${video.generation}`,
    video.creator ? ` · by ${video.creator}` : "",
    video.createdAt ? ` · ${new Date(video.createdAt).toUTCString().replace(" GMT", " UTC")}` : "",
    ` · ${fmt.format(video.views)} views · ${fmt.format(video.likes)} likes`,
  );
  const prompt = el("blockquote", { class: "prompt", lang: guessLang(video.prompt), text: video.prompt });
  root.append(el("div", { class: "title-row" }, heading, status), meta, prompt);

  const liveState = el("span", { id: "live-state", class: "live", "aria-live": "polite", text: "live: connecting…" });
  const stats = el(
    "dl",
    { class: "stats", "aria-label": "Counts" },
    stat("Derivatives", fmt.format(video.derivativeCount), "derivativeCount", "every remix below it, all generations"),
    stat("Tree depth", fmt.format(video.treeDepth), "treeDepth", "generations below it"),
    stat("Direct remixes", fmt.format(video.directRemixCount), "directRemixCount", "remixes of this video itself"),
    stat("Subtree views", "…", "subtreeViews", "its own and its derivatives'"),
    stat("Subtree likes", "…", "subtreeLikes", "its own and its derivatives'"),
    stat("Remixes, last 24 hours", "…", "remixesToday", `derivatives made since ${utc(new Date(now.getTime() - 24 * 3600 * 1000))}`),
  );
  root.append(el("section", { class: "panel counts" }, el("div", { class: "panel-head" }, el("h3", { text: "Counts" }), liveState), stats));

  // Tree.
  const treeBox = el("div", { id: "tree", class: "tree-box" });
  root.append(
    el(
      "section",
      { class: "panel", id: "tree-panel" },
      el("div", { class: "panel-head" }, el("h3", { text: "Remix tree" }), treeSearch(video)),
      el("p", {
        class: "hint",
        hidden: video.directRemixCount ? undefined : "",
        text:
          "Each remix is labelled by what it changed (its variant key) and “· N”, its derivatives (every remix below it); " +
          "node size follows that count. “+N more remixes”: direct remixes not drawn, listed when opened. " +
          "Click a node, or use the arrow keys and Enter.",
      }),
      treeBox,
    ),
  );
  renderTree(treeBox, buildTree(video), { open: openNode });

  // Path to the original.
  root.append(renderPath(video));

  // Generations, variant groups.
  const charts = el("div", { class: "grid" });
  charts.append(
    el(
      "section",
      { class: "panel", id: "generations" },
      el("h3", { text: "Derivatives per generation" }),
      el("p", { class: "hint", text: "How many of its derivatives sit in each generation, counted from the original (generation 1: the original's direct remixes)." }),
      video.generationCounts.length
        ? barChart(
            "Derivatives per generation",
            video.generationCounts.map((g) => ({ label: `gen ${g.generation}`, value: g.count })),
            ["Generation", "Derivatives"],
            { testid: "generation-chart" },
          )
        : el("p", { class: "muted empty", text: "No remixes of this video yet." }),
    ),
  );
  charts.append(renderGroups(video));
  root.append(charts);

  const timeGrid = el("div", { class: "grid" });
  timeGrid.append(
    el("section", { class: "panel", id: "hours" }, el("h3", { text: HISTORY_TITLE }), el("p", { class: "muted", text: "Loading…" })),
    el("section", { class: "panel", id: "trending" }, el("h3", { text: TRENDING_TITLE }), el("p", { class: "muted", text: "Loading…" })),
  );
  root.append(timeGrid);
}

/** "Search in this tree": the search kept within this video and its derivatives. */
function treeSearch(video: CoreVideo): HTMLElement {
  const form = el("form", { class: "tree-search", role: "search", "aria-label": "Search in this tree" });
  if (video.derivativeCount === 0) {
    form.hidden = true;
    return form;
  }
  const input = el("input", {
    id: "tree-search-text",
    type: "search",
    autocomplete: "off",
    placeholder: "e.g. hippo night",
    title: `${video.id} and its ${count(video.derivativeCount, "derivative")}`,
  });
  form.append(
    el("label", { for: "tree-search-text", text: "Search in this tree" }),
    input,
    el("button", { type: "submit", text: "Search" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      input.setAttribute("aria-invalid", "true");
      notice("Type some words to search for in this tree.");
      input.focus();
      return;
    }
    search({ text, within: video.id }, true, true);
  });
  return form;
}

function renderGroups(video: CoreVideo): HTMLElement {
  const section = el(
    "section",
    { class: "panel", id: "variant-groups" },
    el("h3", { text: "Variant groups" }),
    el("p", {
      class: "hint",
      text: "Its direct remixes grouped by the change they made; reach: those remixes and all their derivatives. The link opens the group's leading remix.",
    }),
  );
  if (!video.variantGroups.length) {
    section.append(el("p", { class: "muted empty", text: "No remixes of this video yet." }));
    return section;
  }
  const list = el("ol", { class: "groups" });
  for (const g of video.variantGroups) {
    const li = el(
      "li",
      {},
      videoLink(g.top.child.id, g.key),
      `: ${count(g.remixCount, "remix", "remixes")}, reach ${fmt.format(g.reach)}`,
    );
    li.dataset.variantKey = g.key;
    list.append(li);
  }
  section.append(list);
  return section;
}

function renderPath(video: CoreVideo): HTMLElement {
  const section = el("section", { class: "panel", id: "path" }, el("h3", { text: "Path to the original" }));
  if (video.isOriginal) {
    section.append(el("p", { class: "muted", text: "This video is an original: it remixes nothing." }));
    return section;
  }
  // Original first, selected video last.
  const chain = [...video.ancestors].reverse();
  const steps = [
    ...chain.map((a) => ({ id: a.id, title: a.title, prompt: a.prompt, generation: a.generation, remixOf: a.remixOf })),
    { id: video.id, title: video.title, prompt: video.prompt, generation: video.generation, remixOf: video.remixOf },
  ];
  const list = el("ol", { class: "path" });
  steps.forEach((step, i) => {
    const li = el("li", {});
    li.dataset.pathId = step.id;
    const head = el("div", { class: "step-head" });
    head.append(
      step.id === video.id ? el("strong", { text: step.id }) : videoLink(step.id),
      el("span", { class: "muted", text: i === 0 ? " · original" : ` · generation ${step.generation}` }),
    );
    li.append(head);
    if (i === 0 || !step.remixOf) {
      li.append(el("p", { class: "diff", lang: guessLang(step.prompt), text: step.prompt }));
    } else {
      const diff = step.remixOf.promptDiff;
      li.append(el("p", { class: "summary", text: `change: ${diff.variantKey}` }));
      const drawn = renderDiff(steps[i - 1].prompt, step.prompt, diff.ops);
      drawn.lang = guessLang(step.prompt);
      li.append(drawn);
    }
    list.append(li);
  });
  section.append(list);
  return section;
}

function openNode(node: TreeNode): void {
  if (node.kind === "more") void openMore(node.id, (id) => void select(id, true));
  else if (node.id !== current?.id) void select(node.id, true);
}

// -- live ---------------------------------------------------------------------------

function startLive(video: CoreVideo, mine: number): void {
  const state = $("live-state");
  live = subscribe<{ videoUpdated: Partial<CoreVideo> }>(
    LIVE,
    { id: video.id },
    ({ videoUpdated }) => {
      if (mine !== generation || !current) return;
      Object.assign(current, videoUpdated);
      setStat("derivativeCount", current.derivativeCount);
      setStat("treeDepth", current.treeDepth);
      setStat("directRemixCount", current.directRemixCount);
      state.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    },
    (message) => {
      if (mine !== generation) return;
      state.textContent = "live updates unavailable";
      state.title = message;
      state.className = "live off";
    },
    () => {
      if (mine !== generation || state.classList.contains("off")) return;
      if (state.textContent === "live: connecting…") state.textContent = "live";
      state.className = "live on";
    },
  );
}

// -- originals ---------------------------------------------------------------------

type OriginalsReply = {
  originals: { edges: { node: { id: string; title: string | null; derivativeCount: number } }[] };
};

function renderOriginals(reply: OriginalsReply): void {
  const byDerivatives = $("originals-derivatives");
  const names = distinct(reply.originals.edges.map(({ node }) => ({ label: node.title ?? node.id, id: node.id })));
  byDerivatives.replaceChildren(
    ...reply.originals.edges.map(({ node }, i) =>
      el(
        "li",
        {},
        videoLink(node.id, names[i]),
        el("span", { class: "count", title: count(node.derivativeCount, "derivative"), text: fmt.format(node.derivativeCount) }),
      ),
    ),
  );
  if (!reply.originals.edges.length) byDerivatives.replaceChildren(el("li", { class: "muted", text: "No videos yet." }));
}

async function loadOriginals(): Promise<void> {
  try {
    renderOriginals(await gql<OriginalsReply>(ORIGINALS));
  } catch (error) {
    $("originals-derivatives").replaceChildren(el("li", {}, unavailable("Originals", error)));
  }
}

async function loadTrendingOriginals(trending: HTMLElement): Promise<void> {
  try {
    type Reply = { trendingOriginals: { remixesIn: number; video: { id: string; title: string | null } }[] };
    const reply = await gql<Reply>(TRENDING_ORIGINALS, { asOf: now.toISOString() });
    const names = distinct(reply.trendingOriginals.map((t) => ({ label: t.video.title ?? t.video.id, id: t.video.id })));
    trending.replaceChildren(
      ...reply.trendingOriginals.map((t, i) =>
        el(
          "li",
          {},
          videoLink(t.video.id, names[i]),
          el("span", { class: "count", title: count(t.remixesIn, "remix", "remixes") + " in the last 24 hours", text: `+${fmt.format(t.remixesIn)}` }),
        ),
      ),
    );
    $("trending-hint").title = `the 24 hours up to ${utc(now)}`;
    if (!reply.trendingOriginals.length)
      trending.replaceChildren(el("li", { class: "muted empty", text: `No remixes in the last 24 hours (up to ${utc(now)}).` }));
  } catch (error) {
    trending.replaceChildren(el("li", {}, unavailable("Trending originals", error)));
  }
}

// -- start ---------------------------------------------------------------------------

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

$("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("search-text") as HTMLInputElement;
  const text = input.value.trim();
  if (!text) {
    notice("Type a video id, or some words of a prompt, title or creator, to search for.");
    input.focus();
    return;
  }
  // An exact id opens that video; anything else lists the matches.
  if (ID.test(text)) {
    let exists = false;
    try {
      exists = (await gql<{ video: { id: string } | null }>(VIDEO_EXISTS, { id: text })).video !== null;
    } catch {
      exists = false; // the search says what went wrong
    }
    if (exists) {
      await select(text, true);
      const other = el("a", { href: searchAddress({ text, within: null }), text: `search for “${text}” instead` });
      other.addEventListener("click", (e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        search({ text, within: null }, true, true);
      });
      notice(`Opened the video with the id “${text}”; `, other, ".");
      $("main").focus();
      return;
    }
  }
  search({ text, within: null }, true, true);
});

function route(): void {
  const request = searchFromAddress();
  if (request) {
    search(request, false, false);
    return;
  }
  const id = videoFromAddress();
  if (id) void select(id, false);
}

window.addEventListener("popstate", route);

// A video opened from the results: the focus goes to it, not to the page's top.
onNavigate((id) => {
  const fromResults = !$("results").hidden;
  void select(id, true).then(() => fromResults && $("main").focus());
});
const initialSearch = searchFromAddress();
const initial = videoFromAddress();
if (initialSearch || initial) {
  void loadOriginals();
  route();
} else {
  // No video in the address: open the leading original (one round trip).
  gql<OriginalsReply & { lead: { edges: { node: CoreVideo }[] } }>(HOME)
    .then((reply) => {
      renderOriginals(reply);
      const lead = reply.lead.edges[0]?.node;
      if (lead) {
        history.replaceState({ video: lead.id }, "", `/?video=${encodeURIComponent(lead.id)}`);
        void select(lead.id, false, lead);
      } else $("message").textContent = "The store is empty: import some videos (lineage import FILE).";
    })
    .catch((error: unknown) => {
      $("message").textContent = `The service did not answer: ${error instanceof GraphQLError ? error.message : error}`;
    });
}
void loadTrendingOriginals($("originals-trending"));
