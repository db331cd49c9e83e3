// The page talks to /graphql only: queries over HTTP, videoUpdated over
// WebSocket (graphql-transport-ws, through graphql-ws).
import { createClient, type Client } from "graphql-ws";

export class GraphQLError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface Reply<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Run a query; throws GraphQLError with the first error's message and code. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  if (!response.ok && response.status !== 400) {
    throw new GraphQLError(`The service answered HTTP ${response.status}`, undefined);
  }
  const reply = (await response.json()) as Reply<T>;
  if (reply.errors?.length) {
    const first = reply.errors[0];
    throw new GraphQLError(first.message, first.extensions?.code);
  }
  if (reply.data == null) throw new GraphQLError("The service sent no data", undefined);
  return reply.data;
}

let wsClient: Client | null = null;
let wsConnected = false;

function socket(): Client {
  if (!wsClient) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    wsClient = createClient({ url: `${scheme}://${location.host}/graphql`, lazy: true, retryAttempts: 3 });
    wsClient.on("connected", () => (wsConnected = true));
    wsClient.on("closed", () => (wsConnected = false));
  }
  return wsClient;
}

export interface Subscription {
  close(): void;
}

/** Subscribe; onError gets a message when the server refuses or the socket fails. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError: (message: string) => void,
  onActive: () => void,
): Subscription {
  let closed = false;
  const dispose = socket().subscribe<T>(
    { query, variables },
    {
      next: (reply) => {
        if (closed) return;
        onActive();
        if (reply.errors?.length) onError(reply.errors[0].message);
        else if (reply.data) onData(reply.data as T);
      },
      error: (error: unknown) => {
        if (closed) return;
        if (Array.isArray(error)) onError(String(error[0]?.message ?? "subscription refused"));
        else if (error instanceof Error) onError(error.message);
        else onError("the live connection closed");
      },
      complete: () => {},
    },
  );
  // graphql-ws acknowledges the connection before the first event; mark the
  // subscription active once the socket is open.
  const off = socket().on("connected", () => {
    if (!closed) onActive();
  });
  if (wsConnected) queueMicrotask(() => !closed && onActive());
  return {
    close() {
      closed = true;
      off();
      dispose();
    },
  };
}
