// The page's GraphQL. The core query uses only fields every server has; the
// over-time and rights parts are separate queries, so a server without them
// still shows the core view (those panels then say they are unavailable).

export const TREE_TOP = 8; // variants under the selected video
export const TREE_SUB = 3; // variants under each of those

const DIFF = "promptDiff { summary variantKey ops { op before after } }";

export const ORIGINALS = `query Originals {
  originals(first: 10, orderBy: DERIVATIVES) {
    totalCount
    edges { node { id title prompt derivativeCount } }
  }
}`;

export const TRENDING_ORIGINALS = `query TrendingOriginals($asOf: DateTime) {
  trendingOriginals(window: DAY, asOf: $asOf, first: 10) {
    remixesIn
    video { id title prompt derivativeCount }
  }
}`;

const CORE_FIELDS = `fragment Core on Video {
    id title prompt creator createdAt likes views
    generation isOriginal derivativeCount directRemixCount treeDepth
    generationCounts { generation count }
    remixOf { ${DIFF} }
    ancestors {
      id title prompt generation derivativeCount
      remixOf { ${DIFF} }
    }
    topVariants(limit: ${TREE_TOP}) {
      promptDiff { variantKey summary }
      child {
        id title derivativeCount directRemixCount
        topVariants(limit: ${TREE_SUB}) {
          promptDiff { variantKey summary }
          child { id title derivativeCount directRemixCount }
        }
      }
    }
    variantGroups(limit: 10) { key remixCount reach top { child { id } } }
    newest: remixes(first: 1, orderBy: NEWEST) { edges { node { child { createdAt } } } }
}`;

export const CORE = `query Explorer($id: ID!) {
  video(id: $id) { ...Core }
}
${CORE_FIELDS}`;

// The first view without a video in the address: the leading originals and
// the whole core view of the first one, in one round trip.
export const HOME = `query Home {
  originals(first: 10, orderBy: DERIVATIVES) {
    edges { node { id title derivativeCount } }
  }
  lead: originals(first: 1, orderBy: DERIVATIVES) { edges { node { ...Core } } }
}
${CORE_FIELDS}`;

// Over time (the contract's "Over time" section).
export const TIME = `query ExplorerTime($id: ID!, $asOf: DateTime) {
  video(id: $id) {
    id subtreeViews subtreeLikes
    today: remixesIn(window: DAY, asOf: $asOf)
    week: remixesIn(window: WEEK, asOf: $asOf)
    trendingVariants(window: DAY, asOf: $asOf, limit: 10) {
      remixesIn
      remix { child { id derivativeCount } promptDiff { variantKey } }
    }
  }
}`;

/** One query for `count` windows of one size: h0 is the earliest (aliases are capped at 30). */
export function bucketsQuery(window: "HOUR" | "DAY" | "WEEK", count: number): string {
  const vars = Array.from({ length: count }, (_, i) => `$t${i}: DateTime!`).join(", ");
  const fields = Array.from(
    { length: count },
    (_, i) => `h${i}: remixesIn(window: ${window}, asOf: $t${i})`,
  ).join("\n    ");
  return `query ExplorerWindows($id: ID!, ${vars}) {\n  video(id: $id) {\n    ${fields}\n  }\n}`;
}

// Rights (the contract's "Rights" section): the status of every video in view.
export const RIGHTS = `query ExplorerRights($id: ID!) {
  video(id: $id) {
    id status removedReason removedAt removedDerivativeCount derivedFromRemoved
    ancestors { id status derivedFromRemoved }
    topVariants(limit: ${TREE_TOP}) {
      child {
        id status derivedFromRemoved
        topVariants(limit: ${TREE_SUB}) { child { id status derivedFromRemoved } }
      }
    }
  }
}`;

export const LIVE = `subscription Live($id: ID!) {
  videoUpdated(id: $id) {
    id derivativeCount directRemixCount treeDepth
    generationCounts { generation count }
  }
}`;

export const REMIX_PAGE = `query RemixPage($id: ID!, $after: String, $orderBy: VideoOrder) {
  video(id: $id) {
    id directRemixCount
    remixes(first: 50, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { promptDiff { variantKey } child { id title derivativeCount directRemixCount } } }
    }
  }
}`;

export const PARENT_OF = `query ParentOf($id: ID!) {
  video(id: $id) { id parent { id } }
}`;

// -- result shapes -----------------------------------------------------------

export interface DiffOp {
  op: string;
  before: string;
  after: string;
}
export interface PromptDiff {
  summary: string;
  variantKey: string;
  ops: DiffOp[];
}
export interface TreeChild {
  id: string;
  title: string | null;
  derivativeCount: number;
  directRemixCount: number;
  topVariants?: { promptDiff: { variantKey: string; summary: string }; child: TreeChild }[];
}
export interface Ancestor {
  id: string;
  title: string | null;
  prompt: string;
  generation: number;
  derivativeCount: number;
  remixOf: { promptDiff: PromptDiff } | null;
}
export interface CoreVideo {
  id: string;
  title: string | null;
  prompt: string;
  creator: string | null;
  createdAt: string | null;
  likes: number;
  views: number;
  generation: number;
  isOriginal: boolean;
  derivativeCount: number;
  directRemixCount: number;
  treeDepth: number;
  generationCounts: { generation: number; count: number }[];
  remixOf: { promptDiff: PromptDiff } | null;
  ancestors: Ancestor[];
  topVariants: { promptDiff: { variantKey: string; summary: string }; child: TreeChild }[];
  variantGroups: { key: string; remixCount: number; reach: number; top: { child: { id: string } } }[];
  newest: { edges: { node: { child: { createdAt: string | null } } }[] };
}
export interface TimeVideo {
  subtreeViews: number;
  subtreeLikes: number;
  today: number;
  week: number;
  trendingVariants: {
    remixesIn: number;
    remix: { child: { id: string; derivativeCount: number }; promptDiff: { variantKey: string } };
  }[];
}
export interface StatusMark {
  id: string;
  status: string;
  derivedFromRemoved: boolean;
}
export interface RightsVideo extends StatusMark {
  removedReason: string | null;
  removedAt: string | null;
  removedDerivativeCount: number;
  ancestors: StatusMark[];
  topVariants: { child: StatusMark & { topVariants: { child: StatusMark }[] } }[];
}

// Search (the contract's "Search"): a page of matches, and the video a
// search is kept within.
export const SEARCH = `query Search($text: String!, $within: ID, $first: Int, $after: String, $orderBy: VideoOrder, $scopeId: ID!, $scoped: Boolean!) {
  search(text: $text, within: $within, first: $first, after: $after, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id title prompt creator generation isOriginal derivativeCount directRemixCount
      original { id title }
      remixOf { promptDiff { variantKey } }
    } }
  }
  scope: video(id: $scopeId) @include(if: $scoped) { id title derivativeCount }
}`;

export const VIDEO_EXISTS = `query VideoExists($id: ID!) { video(id: $id) { id } }`;

export interface SearchHit {
  id: string;
  title: string | null;
  prompt: string;
  creator: string | null;
  generation: number;
  isOriginal: boolean;
  derivativeCount: number;
  directRemixCount: number;
  original: { id: string; title: string | null };
  remixOf: { promptDiff: { variantKey: string } } | null;
}
export interface SearchReply {
  search: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: SearchHit }[];
  };
  scope?: { id: string; title: string | null; derivativeCount: number } | null;
}
