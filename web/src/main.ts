// The remix-tree explorer: one selected video at a time, named in the
// address (/?video=ID), so a view can be shared and the back button returns.
import "./style.css";
import { gql, GraphQLError, subscribe, type Subscription } from "./api";
import { barChart } from "./charts";
import { renderDiff } from "./diff";
import {
  CORE,
  HOME,
  hoursQuery,
  LIVE,
  ORIGINALS,
  PARENT_OF,
  REMIX_PAGE,
  RIGHTS,
  TIME,
  TRENDING_ORIGINALS,
  type CoreVideo,
  type RightsVideo,
  type StatusMark,
  type TimeVideo,
} from "./queries";
import { buildTree, renderTree, type TreeNode } from "./tree";

const fmt = new Intl.NumberFormat("en-US");
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(
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

function videoLink(id: string, text?: string): HTMLAnchorElement {
  const a = el("a", { href: `/?video=${encodeURIComponent(id)}`, text: text ?? id });
  a.dataset.videoLink = id;
  a.addEventListener("click", (event) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    void select(id, true);
  });
  return a;
}

function unavailable(what: string, error: unknown): HTMLElement {
  const reason = error instanceof Error ? error.message : String(error);
  const note = el("p", { class: "muted unavailable", text: `${what}: not available from this server.` });
  note.title = reason;
  return note;
}

// -- state -------------------------------------------------------------------

let current: CoreVideo | null = null;
let live: Subscription | null = null;
let generation = 0; // ignores answers for a video no longer selected

function videoFromAddress(): string | null {
  return new URLSearchParams(location.search).get("video");
}

async function select(id: string, push: boolean, preloaded?: CoreVideo): Promise<void> {
  id = id.trim();
  if (!id) return;
  if (push && videoFromAddress() !== id) history.pushState({ video: id }, "", `/?video=${encodeURIComponent(id)}`);
  const mine = ++generation;
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
  void loadTime(video, mine);
  void loadRights(video, mine);
  startLive(video, mine);
}

// -- the selected video ---------------------------------------------------------

function stat(label: string, value: string, key: string): HTMLElement {
  const dd = el("dd", { text: value });
  dd.dataset.stat = key;
  return el("div", { class: "stat" }, el("dt", { text: label }), dd);
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
    stat("Derivatives", fmt.format(video.derivativeCount), "derivativeCount"),
    stat("Tree depth", fmt.format(video.treeDepth), "treeDepth"),
    stat("Direct remixes", fmt.format(video.directRemixCount), "directRemixCount"),
    stat("Subtree views", "…", "subtreeViews"),
    stat("Subtree likes", "…", "subtreeLikes"),
    stat("Remixes today", "…", "remixesToday"),
  );
  root.append(el("section", { class: "panel counts" }, el("div", { class: "panel-head" }, el("h3", { text: "Counts" }), liveState), stats));

  // Tree.
  const treeBox = el("div", { id: "tree", class: "tree-box" });
  root.append(
    el(
      "section",
      { class: "panel" },
      el("h3", { text: "Remix tree" }),
      el("p", {
        class: "hint",
        text: "Node size follows the derivative count; labels say what each remix changed. Click a node, or use the arrow keys and Enter.",
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
      video.generationCounts.length
        ? barChart(
            "Derivatives per generation",
            video.generationCounts.map((g) => ({ label: `gen ${g.generation}`, value: g.count })),
            ["Generation", "Derivatives"],
            { testid: "generation-chart" },
          )
        : el("p", { class: "muted", text: "No remixes yet." }),
    ),
  );
  charts.append(renderGroups(video));
  root.append(charts);

  const timeGrid = el("div", { class: "grid" });
  timeGrid.append(
    el("section", { class: "panel", id: "hours" }, el("h3", { text: "Remixes per hour, last week" }), el("p", { class: "muted", text: "Loading…" })),
    el("section", { class: "panel", id: "trending" }, el("h3", { text: "Trending variants today" }), el("p", { class: "muted", text: "Loading…" })),
  );
  root.append(timeGrid);
}

function guessLang(text: string): string {
  return /[\u3400-\u9fff]/.test(text) ? "zh" : "en";
}

function renderGroups(video: CoreVideo): HTMLElement {
  const section = el("section", { class: "panel", id: "variant-groups" }, el("h3", { text: "Variant groups" }));
  if (!video.variantGroups.length) {
    section.append(el("p", { class: "muted", text: "No remixes yet." }));
    return section;
  }
  const list = el("ol", { class: "groups" });
  for (const g of video.variantGroups) {
    const [before, after] = g.key.includes("→") ? g.key.split("→", 2) : [null, g.key];
    const keyText = before !== null ? `${before} → ${after}` : g.key;
    const li = el(
      "li",
      {},
      videoLink(g.top.child.id, keyText),
      `: ${fmt.format(g.remixCount)} remix${g.remixCount === 1 ? "" : "es"}, reach ${fmt.format(g.reach)}`,
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
      li.append(el("p", { class: "summary", text: diff.summary }));
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
  if (node.kind === "more") void openMore(node.id);
  else if (node.id !== current?.id) void select(node.id, true);
}

// -- over time ------------------------------------------------------------------

async function loadTime(video: CoreVideo, mine: number): Promise<void> {
  const hours = $("hours");
  const trending = $("trending");
  let asOf = new Date();
  let time: TimeVideo;
  try {
    time = (await gql<{ video: TimeVideo }>(TIME, { id: video.id, asOf: asOf.toISOString() })).video;
    // A quiet week (a demo loaded from old records): show the week up to the latest remix.
    const newest = video.newest.edges[0]?.node.child.createdAt;
    let note = "the last 7 days up to now";
    if (time.week === 0 && newest) {
      asOf = new Date(newest);
      const before = time;
      time = (await gql<{ video: TimeVideo }>(TIME, { id: video.id, asOf: asOf.toISOString() })).video;
      time.subtreeViews = before.subtreeViews;
      time.subtreeLikes = before.subtreeLikes;
      note = `no remixes in the last 7 days; shown: the 7 days up to the latest direct remix (${asOf.toISOString().slice(0, 16).replace("T", " ")} UTC)`;
    }
    if (mine !== generation) return;
    setStat("subtreeViews", time.subtreeViews);
    setStat("subtreeLikes", time.subtreeLikes);
    setStat("remixesToday", time.today);
    renderTrending(trending, time, asOf);
    await renderHours(hours, video.id, asOf, note, mine);
  } catch (error) {
    if (mine !== generation) return;
    for (const key of ["subtreeViews", "subtreeLikes", "remixesToday"]) setStat(key, null);
    hours.replaceChildren(el("h3", { text: "Remixes per hour, last week" }), unavailable("Remixes per hour", error));
    trending.replaceChildren(el("h3", { text: "Trending variants today" }), unavailable("Trending variants", error));
  }
}

function setStat(key: string, value: number | null): void {
  const dd = document.querySelector<HTMLElement>(`[data-stat="${key}"]`);
  if (!dd) return;
  dd.textContent = value === null ? "n/a" : fmt.format(value);
  dd.title = value === null ? "not available from this server" : "";
}

function renderTrending(section: HTMLElement, time: TimeVideo, asOf: Date): void {
  section.replaceChildren(el("h3", { text: "Trending variants today" }));
  const span = Date.now() - asOf.getTime() < 3600 * 1000 ? "the last 24 hours" : `the 24 hours up to ${asOf.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  section.append(el("p", { class: "hint", text: `Direct remixes ranked by the remixes they drew in ${span}.` }));
  if (!time.trendingVariants.length) {
    section.append(el("p", { class: "muted", text: "None of its remixes drew new remixes then." }));
    return;
  }
  const list = el("ol", { class: "groups" });
  for (const t of time.trendingVariants) {
    list.append(
      el("li", {}, videoLink(t.remix.child.id, t.remix.promptDiff.variantKey), `: ${fmt.format(t.remixesIn)} new remixes`),
    );
  }
  section.append(list);
}

async function renderHours(section: HTMLElement, id: string, asOf: Date, note: string, mine: number): Promise<void> {
  const hour = 3600 * 1000;
  const end = Math.floor(asOf.getTime() / hour) * hour;
  const days = await Promise.all(
    Array.from({ length: 7 }, async (_, day) => {
      const times = Array.from({ length: 24 }, (_, h) => new Date(end - (167 - (day * 24 + h)) * hour));
      const variables: Record<string, unknown> = { id };
      times.forEach((t, i) => (variables[`t${i}`] = t.toISOString()));
      const reply = await gql<{ video: Record<string, number> }>(hoursQuery(24), variables);
      return times.map((t, i) => ({ t, value: reply.video[`h${i}`] }));
    }),
  );
  if (mine !== generation) return;
  const bars = days.flat().map(({ t, value }) => ({ label: `${t.toISOString().slice(5, 13).replace("T", " ")}h`, value }));
  section.replaceChildren(
    el("h3", { text: "Remixes per hour, last week" }),
    el("p", { class: "hint", text: `Derivatives created per UTC hour: ${note}.` }),
    barChart("Remixes per hour", bars, ["Hour (UTC)", "Remixes"], { tickEvery: 24, testid: "hours-chart" }),
  );
}

// -- rights -----------------------------------------------------------------------

async function loadRights(video: CoreVideo, mine: number): Promise<void> {
  let rights: RightsVideo;
  try {
    rights = (await gql<{ video: RightsVideo }>(RIGHTS, { id: video.id })).video;
  } catch (error) {
    if (mine !== generation) return;
    // A server without the rights fields: no status to show.
    const mark = $("status-mark");
    mark.hidden = true;
    mark.title = `status is not available from this server (${error instanceof Error ? error.message : error})`;
    return;
  }
  if (mine !== generation) return;
  const mark = $("status-mark");
  if (rights.status === "REMOVED") {
    mark.className = "status removed";
    mark.textContent = `Removed${rights.removedReason ? `: ${rights.removedReason}` : ""}`;
  } else if (rights.derivedFromRemoved) {
    mark.className = "status derived";
    mark.textContent = "Derived from removed content";
  } else {
    mark.className = "status active";
    mark.textContent = "Active";
  }
  mark.dataset.status = rights.status;
  mark.dataset.derivedFromRemoved = String(rights.derivedFromRemoved);
  if (rights.removedDerivativeCount > 0) {
    mark.textContent += ` · ${fmt.format(rights.removedDerivativeCount)} removed below`;
  }
  const marks: StatusMark[] = [rights, ...rights.ancestors];
  for (const v of rights.topVariants) marks.push(v.child, ...v.child.topVariants.map((w) => w.child));
  for (const m of marks) {
    const cls = m.status === "REMOVED" ? "removed" : m.derivedFromRemoved ? "derived" : null;
    if (!cls) continue;
    const text = cls === "removed" ? "removed" : "derived from removed";
    for (const node of document.querySelectorAll<SVGGElement>(`[data-video-id="${CSS.escape(m.id)}"]`)) {
      node.classList.add(cls);
      node.setAttribute("aria-label", `${node.getAttribute("aria-label")} (${text})`);
    }
    for (const item of document.querySelectorAll<HTMLElement>(`[data-path-id="${CSS.escape(m.id)}"] .step-head`)) {
      item.append(el("span", { class: `badge ${cls}`, text }));
    }
  }
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

// -- "+N more": a paged, searchable list of a video's direct remixes -----------------------

async function openMore(parentId: string): Promise<void> {
  const dialog = $("more-dialog") as HTMLDialogElement;
  const cursors: (string | null)[] = [null];
  let page = 0;
  let order = "DERIVATIVES";
  const title = el("h2", { id: "more-title", text: `Remixes of ${parentId}` });
  const filter = el("input", { type: "search", id: "more-filter", placeholder: "Filter this page by id or change", autocomplete: "off" });
  const orderSelect = el(
    "select",
    { id: "more-order" },
    el("option", { value: "DERIVATIVES", text: "most derivatives" }),
    el("option", { value: "NEWEST", text: "newest" }),
    el("option", { value: "LIKES", text: "most likes" }),
    el("option", { value: "VIEWS", text: "most views" }),
  );
  const status = el("p", { class: "muted", id: "more-status", "aria-live": "polite" });
  const filterNote = el("p", { class: "muted filter-note", "aria-live": "polite" });
  const list = el("ol", { class: "more-list", id: "more-list" });
  const prev = el("button", { type: "button", text: "← Previous 50" });
  const next = el("button", { type: "button", text: "Next 50 →" });
  const close = el("button", { type: "button", class: "close", text: "Close" });
  const goForm = el("form", { class: "go" }, el("label", { for: "more-go", text: "Open an id" }), el("input", { id: "more-go", type: "search", autocomplete: "off" }), el("button", { type: "submit", text: "Open" }));
  dialog.replaceChildren(
    el("div", { class: "dialog-head" }, title, close),
    el("div", { class: "controls" }, el("label", { for: "more-filter", text: "Filter" }), filter, el("label", { for: "more-order", text: "Order" }), orderSelect),
    status,
    filterNote,
    list,
    el("div", { class: "pager" }, prev, next),
    goForm,
  );
  close.addEventListener("click", () => dialog.close());

  let rows: { id: string; key: string; title: string; count: number }[] = [];
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    list.replaceChildren();
    list.start = page * 50 + 1;
    for (const row of rows) {
      if (needle && ![row.id, row.key, row.title].some((t) => t.toLowerCase().includes(needle))) continue;
      const link = videoLink(row.id, row.key);
      link.addEventListener("click", () => dialog.close());
      list.append(el("li", {}, link, el("span", { class: "muted", text: ` ${row.id} · ${fmt.format(row.count)} derivatives` })));
    }
    filterNote.textContent = needle ? `${list.children.length} of ${rows.length} on this page match “${filter.value.trim()}”.` : "";
    if (!list.children.length) list.append(el("li", { class: "muted", text: "Nothing on this page matches." }));
  };
  const load = async () => {
    status.textContent = "Loading…";
    type Page = {
      video: {
        remixes: {
          totalCount: number;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
          edges: { node: { promptDiff: { variantKey: string }; child: { id: string; title: string | null; derivativeCount: number } } }[];
        };
      };
    };
    const reply = await gql<Page>(REMIX_PAGE, { id: parentId, after: cursors[page], orderBy: order });
    const remixes = reply.video.remixes;
    rows = remixes.edges.map((e) => ({ id: e.node.child.id, key: e.node.promptDiff.variantKey, title: e.node.child.title ?? "", count: e.node.child.derivativeCount }));
    cursors[page + 1] = remixes.pageInfo.endCursor;
    const first = page * 50 + 1;
    status.textContent = `${fmt.format(first)}–${fmt.format(first + rows.length - 1)} of ${fmt.format(remixes.totalCount)} direct remixes`;
    prev.disabled = page === 0;
    next.disabled = !remixes.pageInfo.hasNextPage;
    draw();
  };
  filter.addEventListener("input", draw);
  orderSelect.addEventListener("change", () => {
    order = orderSelect.value;
    cursors.length = 1;
    page = 0;
    void load();
  });
  prev.addEventListener("click", () => {
    page = Math.max(0, page - 1);
    void load();
  });
  next.addEventListener("click", () => {
    page += 1;
    void load();
  });
  goForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = (goForm.querySelector("input") as HTMLInputElement).value.trim();
    if (!id) return;
    const reply = await gql<{ video: { id: string; parent: { id: string } | null } | null }>(PARENT_OF, { id });
    if (!reply.video) status.textContent = `There is no video with the id “${id}”.`;
    else if (reply.video.parent?.id !== parentId) status.textContent = `${id} is not a remix of ${parentId}.`;
    else {
      dialog.close();
      void select(id, true);
    }
  });
  dialog.showModal();
  filter.focus();
  await load();
}

// -- originals ---------------------------------------------------------------------

type OriginalsReply = {
  originals: { edges: { node: { id: string; title: string | null; derivativeCount: number } }[] };
};

function renderOriginals(reply: OriginalsReply): void {
  const byDerivatives = $("originals-derivatives");
  byDerivatives.replaceChildren(
    ...reply.originals.edges.map(({ node }) =>
      el("li", {}, videoLink(node.id, node.title ?? node.id), el("span", { class: "count", text: fmt.format(node.derivativeCount) })),
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
    const reply = await gql<Reply>(TRENDING_ORIGINALS, { asOf: new Date().toISOString() });
    trending.replaceChildren(
      ...reply.trendingOriginals.map((t) =>
        el("li", {}, videoLink(t.video.id, t.video.title ?? t.video.id), el("span", { class: "count", text: `+${fmt.format(t.remixesIn)}` })),
      ),
    );
    if (!reply.trendingOriginals.length) trending.replaceChildren(el("li", { class: "muted", text: "No remixes in the last 24 hours." }));
  } catch (error) {
    trending.replaceChildren(el("li", {}, unavailable("Trending originals", error)));
  }
}

// -- start ---------------------------------------------------------------------------

$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("search-id") as HTMLInputElement;
  void select(input.value, true);
});

window.addEventListener("popstate", () => {
  const id = videoFromAddress();
  if (id) void select(id, false);
});

const initial = videoFromAddress();
if (initial) {
  void loadOriginals();
  void select(initial, false);
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
