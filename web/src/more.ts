// "+N more": a video's direct remixes 50 at a time, ranked, filterable, with
// a box to open an id; never the whole list.
import { gql } from "./api";
import { $, count, el, fmt, videoLink } from "./dom";
import { PARENT_OF, REMIX_PAGE } from "./queries";

export async function openMore(parentId: string, select: (id: string) => void): Promise<void> {
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
      list.append(el("li", {}, link, el("span", { class: "muted", text: ` ${row.id} · ${count(row.count, "derivative")}` })));
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
      select(id);
    }
  });
  dialog.showModal();
  filter.focus();
  await load();
}
