// The console's only way to the server: the public GraphQL API (queries, mutations and
// subscriptions) and the export downloads, with the signed-in key in request headers.

const TOKEN = 'carbonmesh.token';

// The API key of this tab: kept in session storage, never in a URL.
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN);
  },
};

// An error the API answered, with its code (`UNAUTHENTICATED`, `FORBIDDEN`, `CONFLICT`, …).
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function headers() {
  const out = { 'content-type': 'application/json' };
  if (session.token) out.authorization = `Bearer ${session.token}`;
  return out;
}

// Runs one GraphQL operation; throws an ApiError on any error.
export async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the server answered ${response.status}`, 'HTTP');
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? 'ERROR');
  }
  return body.data;
}

// Follows a subscription over the graphql-transport-ws protocol, the key in
// `connection_init`; reconnects with a growing delay. Returns a function that ends it.
export function subscribe(query, variables, onData, onState = () => {}) {
  let socket;
  let ended = false;
  let delay = 500;
  let timer;
  const open = () => {
    const url = new URL('/graphql/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(url, 'graphql-transport-ws');
    socket.onopen = () => {
      const payload = session.token ? { Authorization: `Bearer ${session.token}` } : {};
      socket.send(JSON.stringify({ type: 'connection_init', payload }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'connection_ack') {
        delay = 500;
        onState('live');
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      } else if (message.type === 'next' && message.payload?.data) {
        onData(message.payload.data);
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      }
    };
    socket.onclose = () => {
      if (ended) return;
      onState('reconnecting');
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    };
  };
  open();
  return () => {
    ended = true;
    clearTimeout(timer);
    socket?.close();
  };
}

// Downloads an export (`/exports/alerts.csv`) with the key in a header, saved under the
// server's file name. Returns that name.
export async function download(path) {
  const auth = session.token ? { authorization: `Bearer ${session.token}` } : {};
  const response = await fetch(path, { headers: auth });
  if (!response.ok) throw new ApiError((await response.text()).trim(), 'HTTP');
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? path.split('/').pop();
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}
