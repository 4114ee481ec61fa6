/**
 * Where webhooks, their secrets, their deliveries and the queue of due deliveries live: one
 * process (`createMemoryWebhookStore`) or one Redis shared by every replica
 * (`createRedisWebhookStore`). Both behave alike; `webhooks.ts` builds the service on either.
 *
 * Redis key layout (`<p>` is the key prefix, `gw:v1:wh` by default; tags are `accountTag`s):
 * - `<p>:hooks` hash: webhook id -> JSON `{ webhook, secret }` (the secret signs deliveries)
 * - `<p>:owner:<tag of owner>` set of webhook ids (list, the per-owner limit)
 * - `<p>:account:<tag of account>` set of webhook ids (enqueue)
 * - `<p>:dlv:<webhook id>` hash: delivery id -> JSON delivery (with its body)
 * - `<p>:dlvlist:<webhook id>` list of delivery ids, newest first (history, bounded)
 * - `<p>:due` sorted set: `<webhook id> <delivery id>` scored by when it is due (epoch ms)
 *
 * Every change touching several keys is one Lua script, so replicas never see half of it. A
 * claimed queue entry is pushed forward to the end of its visibility window, and that score is
 * the claim's token: settling checks it, so an attempt whose claim lapsed (and was taken by
 * another replica) does not overwrite the newer attempt's outcome. The keys share no hash tag:
 * one Redis (or a primary with replicas), not Redis Cluster.
 */
import { accountTag, type RedisConnection } from "../cache";
import { type Webhook, type WebhookDelivery } from "./types";

/** A webhook with its signing secret, as stored. */
export interface StoredWebhook {
  readonly webhook: Webhook;
  readonly secret: string;
}

/** A delivery as stored: its public state and the JSON body every attempt sends. */
export interface StoredDelivery extends WebhookDelivery {
  readonly body: string;
}

/** A due delivery claimed by one worker; `token` fences the claim (see the file comment). */
export interface DeliveryClaim {
  readonly webhookId: string;
  readonly deliveryId: string;
  readonly token: number;
}

/** Storage of the webhook service. Every method may reject with `WebhookStoreError`. */
export interface WebhookStore {
  /** Adds `hook` unless its owner already has `maxPerOwner` webhooks (then false). */
  insert(hook: StoredWebhook, maxPerOwner: number): Promise<boolean>;
  get(id: string): Promise<StoredWebhook | undefined>;
  /** The owner's webhooks, oldest first. */
  listByOwner(owner: string): Promise<StoredWebhook[]>;
  /** The webhooks receiving the account's events. */
  listByAccount(account: string): Promise<StoredWebhook[]>;
  /** Removes `owner`'s webhook `id`, its history and its queued deliveries; false when none. */
  remove(owner: string, id: string): Promise<boolean>;
  /**
   * Records `delivery` and queues it at `dueAt` (epoch ms). Idempotent: false (and nothing
   * changes) when a delivery with its id exists or its webhook is gone.
   */
  addDelivery(delivery: StoredDelivery, dueAt: number): Promise<boolean>;
  /** The webhook's deliveries, newest first, and how many it has. */
  deliveries(
    webhookId: string,
    offset: number,
    limit: number,
  ): Promise<{ items: StoredDelivery[]; total: number }>;
  /**
   * Atomically takes at most `limit` queue entries due at `now` and pushes them to
   * `visibleUntil`: if the claimer does not settle them by then, they are due again.
   */
  claimDue(now: number, visibleUntil: number, limit: number): Promise<DeliveryClaim[]>;
  delivery(webhookId: string, deliveryId: string): Promise<StoredDelivery | undefined>;
  /**
   * Stores the attempt's outcome, then queues the delivery again at `nextDueAt` or dequeues it
   * (`null`), provided the claim still holds and the delivery still exists; false otherwise.
   */
  settle(
    claim: DeliveryClaim,
    delivery: StoredDelivery,
    nextDueAt: number | null,
  ): Promise<boolean>;
  /** Dequeues a claimed entry whose delivery is gone or no longer pending (if still claimed). */
  drop(claim: DeliveryClaim): Promise<void>;
}

/** A Redis call of the webhook store failed or timed out. */
export class WebhookStoreError extends Error {
  readonly code = "WEBHOOK_STORE_UNAVAILABLE";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WebhookStoreError";
  }
}

/** Default key prefix of the Redis store. */
export const DEFAULT_WEBHOOK_KEY_PREFIX = "gw:v1:wh";
/** Default longest wait for one Redis call of the store, in ms. */
export const DEFAULT_WEBHOOK_STORE_TIMEOUT_MS = 1000;

/** Options of both stores. */
export interface WebhookStoreOptions {
  /** Settled deliveries kept per webhook; pending ones are never dropped for this bound. */
  readonly history: number;
}

/** Options of the Redis store. */
export interface RedisWebhookStoreOptions extends WebhookStoreOptions {
  /** Default `DEFAULT_WEBHOOK_KEY_PREFIX`; tests use their own. */
  readonly keyPrefix?: string;
  /** Longest wait for one Redis call, in ms (default `DEFAULT_WEBHOOK_STORE_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
}

const member = (webhookId: string, deliveryId: string): string => `${webhookId} ${deliveryId}`;

/** The store of one process: same behaviour as the Redis store, nothing shared. */
export function createMemoryWebhookStore(options: WebhookStoreOptions): WebhookStore {
  const hooks = new Map<string, StoredWebhook>();
  const deliveries = new Map<string, Map<string, StoredDelivery>>();
  /** Per webhook, delivery ids newest first. */
  const order = new Map<string, string[]>();
  const due = new Map<string, number>();

  const byField = (field: "owner" | "account", value: string): StoredWebhook[] =>
    [...hooks.values()].filter(hook => hook.webhook[field] === value);

  function trim(webhookId: string): void {
    const ids = order.get(webhookId) ?? [];
    const records = deliveries.get(webhookId);
    while (ids.length > options.history) {
      const oldest = ids[ids.length - 1]!;
      if (records?.get(oldest)?.state === "pending") {
        break;
      }
      ids.pop();
      records?.delete(oldest);
    }
  }

  return {
    insert: (hook, maxPerOwner) => {
      if (byField("owner", hook.webhook.owner).length >= maxPerOwner) {
        return Promise.resolve(false);
      }
      hooks.set(hook.webhook.id, hook);
      return Promise.resolve(true);
    },
    get: id => Promise.resolve(hooks.get(id)),
    listByOwner: owner => Promise.resolve(byField("owner", owner)),
    listByAccount: account => Promise.resolve(byField("account", account)),
    remove: (owner, id) => {
      const hook = hooks.get(id);
      if (hook?.webhook.owner !== owner) {
        return Promise.resolve(false);
      }
      for (const deliveryId of deliveries.get(id)?.keys() ?? []) {
        due.delete(member(id, deliveryId));
      }
      hooks.delete(id);
      deliveries.delete(id);
      order.delete(id);
      return Promise.resolve(true);
    },
    addDelivery: (delivery, dueAt) => {
      const records = deliveries.get(delivery.webhookId) ?? new Map<string, StoredDelivery>();
      if (!hooks.has(delivery.webhookId) || records.has(delivery.id)) {
        return Promise.resolve(false);
      }
      records.set(delivery.id, delivery);
      deliveries.set(delivery.webhookId, records);
      order.set(delivery.webhookId, [delivery.id, ...(order.get(delivery.webhookId) ?? [])]);
      due.set(member(delivery.webhookId, delivery.id), dueAt);
      trim(delivery.webhookId);
      return Promise.resolve(true);
    },
    deliveries: (webhookId, offset, limit) => {
      const ids = order.get(webhookId) ?? [];
      const records = deliveries.get(webhookId);
      const items = ids
        .slice(offset, offset + limit)
        .map(id => records?.get(id))
        .filter((record): record is StoredDelivery => record !== undefined);
      return Promise.resolve({ items, total: ids.length });
    },
    claimDue: (now, visibleUntil, limit) => {
      const claimed = [...due.entries()]
        .filter(([, dueAt]) => dueAt <= now)
        .sort((a, b) => a[1] - b[1])
        .slice(0, limit);
      return Promise.resolve(
        claimed.map(([entry]) => {
          due.set(entry, visibleUntil);
          const [webhookId = "", deliveryId = ""] = entry.split(" ");
          return { webhookId, deliveryId, token: visibleUntil };
        }),
      );
    },
    delivery: (webhookId, deliveryId) =>
      Promise.resolve(deliveries.get(webhookId)?.get(deliveryId)),
    settle: (claim, delivery, nextDueAt) => {
      const entry = member(claim.webhookId, claim.deliveryId);
      if (due.get(entry) !== claim.token) {
        return Promise.resolve(false);
      }
      const records = deliveries.get(claim.webhookId);
      if (!hooks.has(claim.webhookId) || !records?.has(claim.deliveryId)) {
        due.delete(entry);
        return Promise.resolve(false);
      }
      records.set(claim.deliveryId, delivery);
      if (nextDueAt === null) {
        due.delete(entry);
      } else {
        due.set(entry, nextDueAt);
      }
      trim(claim.webhookId);
      return Promise.resolve(true);
    },
    drop: claim => {
      const entry = member(claim.webhookId, claim.deliveryId);
      if (due.get(entry) === claim.token) {
        due.delete(entry);
      }
      return Promise.resolve();
    },
  };
}

/**
 * Drops the oldest settled deliveries beyond ARGV[n] (KEYS[2] records, KEYS[3] the id list);
 * stops at the oldest pending one, which must stay until it settles.
 */
const TRIM = (limitArg: string): string => `
local limit = tonumber(${limitArg})
while redis.call('LLEN', KEYS[3]) > limit do
  local oldest = redis.call('LINDEX', KEYS[3], -1)
  local text = redis.call('HGET', KEYS[2], oldest)
  if text and cjson.decode(text).state == 'pending' then break end
  redis.call('RPOP', KEYS[3])
  redis.call('HDEL', KEYS[2], oldest)
end
`;

/** KEYS: hooks, owner set, account set. ARGV: id, record, max per owner. */
const INSERT = `
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/** KEYS: hooks, owner set, account set, records, id list, due. ARGV: id. */
const REMOVE = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 0 end
for _, delivery in ipairs(redis.call('HKEYS', KEYS[4])) do
  redis.call('ZREM', KEYS[6], ARGV[1] .. ' ' .. delivery)
end
redis.call('DEL', KEYS[4], KEYS[5])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
`;

/** KEYS: hooks, records, id list, due. ARGV: webhook id, delivery id, record, due at, history. */
const ADD_DELIVERY = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1] .. ' ' .. ARGV[2])
${TRIM("ARGV[5]")}
return 1
`;

/** KEYS: due. ARGV: now, visible until, limit. Returns the claimed members. */
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, entry in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], entry)
end
return due
`;

/**
 * KEYS: hooks, records, id list, due. ARGV: webhook id, delivery id, token, record, next due at
 * ('' to dequeue), history.
 */
const SETTLE = `
local entry = ARGV[1] .. ' ' .. ARGV[2]
local score = redis.call('ZSCORE', KEYS[4], entry)
if not score or tonumber(score) ~= tonumber(ARGV[3]) then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then
  redis.call('ZREM', KEYS[4], entry)
  return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[4], entry)
else
  redis.call('ZADD', KEYS[4], ARGV[5], entry)
end
${TRIM("ARGV[6]")}
return 1
`;

/** KEYS: due. ARGV: entry, token. */
const DROP = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/**
 * The store of every replica, on the gateway's Redis connection (`cache.redisConnection()`).
 * Every call runs under `timeoutMs` and rejects with `WebhookStoreError` on failure or timeout.
 * Unreadable stored values are skipped as if absent.
 */
export function createRedisWebhookStore(
  client: RedisConnection,
  options: RedisWebhookStoreOptions,
): WebhookStore {
  const prefix = options.keyPrefix ?? DEFAULT_WEBHOOK_KEY_PREFIX;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_STORE_TIMEOUT_MS;
  const history = String(options.history);
  const hooksKey = `${prefix}:hooks`;
  const dueKey = `${prefix}:due`;
  const ownerKey = (owner: string): string => `${prefix}:owner:${accountTag(owner)}`;
  const accountKey = (account: string): string => `${prefix}:account:${accountTag(account)}`;
  const recordsKey = (webhookId: string): string => `${prefix}:dlv:${webhookId}`;
  const listKey = (webhookId: string): string => `${prefix}:dlvlist:${webhookId}`;
  const deliveryKeys = (webhookId: string): string[] => [
    hooksKey,
    recordsKey(webhookId),
    listKey(webhookId),
    dueKey,
  ];

  async function call<T>(what: string, task: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        task(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new WebhookStoreError(`Redis ${what} timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
          timer.unref();
        }),
      ]);
    } catch (error) {
      throw error instanceof WebhookStoreError
        ? error
        : new WebhookStoreError(`Redis ${what} failed`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  const evalScript = (what: string, script: string, keys: string[], args: string[]) =>
    call(what, () => client.eval(script, { keys, arguments: args }));

  async function hooksByIds(ids: readonly string[]): Promise<StoredWebhook[]> {
    if (ids.length === 0) {
      return [];
    }
    const texts = await call("read webhooks", () => client.hmGet(hooksKey, [...ids]));
    return texts
      .map(text => parseJson<StoredWebhook>(text))
      .filter((hook): hook is StoredWebhook => hook !== undefined)
      .sort(
        (a, b) =>
          a.webhook.createdAt.localeCompare(b.webhook.createdAt) ||
          a.webhook.id.localeCompare(b.webhook.id),
      );
  }

  return {
    insert: async (hook, maxPerOwner) =>
      Number(
        await evalScript(
          "insert webhook",
          INSERT,
          [hooksKey, ownerKey(hook.webhook.owner), accountKey(hook.webhook.account)],
          [hook.webhook.id, JSON.stringify(hook), String(maxPerOwner)],
        ),
      ) === 1,
    get: async id =>
      parseJson<StoredWebhook>(await call("read webhook", () => client.hGet(hooksKey, id))),
    listByOwner: async owner =>
      hooksByIds(await call("list webhooks", () => client.sMembers(ownerKey(owner)))),
    listByAccount: async account =>
      hooksByIds(await call("list webhooks", () => client.sMembers(accountKey(account)))),
    remove: async (owner, id) => {
      const hook = parseJson<StoredWebhook>(
        await call("read webhook", () => client.hGet(hooksKey, id)),
      );
      if (hook?.webhook.owner !== owner) {
        return false;
      }
      const removed = await evalScript(
        "remove webhook",
        REMOVE,
        [
          hooksKey,
          ownerKey(owner),
          accountKey(hook.webhook.account),
          recordsKey(id),
          listKey(id),
          dueKey,
        ],
        [id],
      );
      return Number(removed) === 1;
    },
    addDelivery: async (delivery, dueAt) =>
      Number(
        await evalScript("queue delivery", ADD_DELIVERY, deliveryKeys(delivery.webhookId), [
          delivery.webhookId,
          delivery.id,
          JSON.stringify(delivery),
          String(dueAt),
          history,
        ]),
      ) === 1,
    deliveries: async (webhookId, offset, limit) => {
      const [total, ids] = await call("list deliveries", () =>
        Promise.all([
          client.lLen(listKey(webhookId)),
          limit > 0
            ? client.lRange(listKey(webhookId), offset, offset + limit - 1)
            : Promise.resolve([]),
        ]),
      );
      if (ids.length === 0) {
        return { items: [], total };
      }
      const texts = await call("read deliveries", () => client.hmGet(recordsKey(webhookId), ids));
      const items = texts
        .map(text => parseJson<StoredDelivery>(text))
        .filter((record): record is StoredDelivery => record !== undefined);
      return { items, total };
    },
    claimDue: async (now, visibleUntil, limit) => {
      const claimed = await evalScript(
        "claim due deliveries",
        CLAIM,
        [dueKey],
        [String(now), String(visibleUntil), String(limit)],
      );
      const entries: unknown[] = Array.isArray(claimed) ? claimed : [];
      return entries.flatMap(entry => {
        const [webhookId, deliveryId] = typeof entry === "string" ? entry.split(" ") : [];
        return webhookId && deliveryId ? [{ webhookId, deliveryId, token: visibleUntil }] : [];
      });
    },
    delivery: async (webhookId, deliveryId) =>
      parseJson<StoredDelivery>(
        await call("read delivery", () => client.hGet(recordsKey(webhookId), deliveryId)),
      ),
    settle: async (claim, delivery, nextDueAt) =>
      Number(
        await evalScript("settle delivery", SETTLE, deliveryKeys(claim.webhookId), [
          claim.webhookId,
          claim.deliveryId,
          String(claim.token),
          JSON.stringify(delivery),
          nextDueAt === null ? "" : String(nextDueAt),
          history,
        ]),
      ) === 1,
    drop: async claim => {
      await evalScript(
        "drop delivery",
        DROP,
        [dueKey],
        [member(claim.webhookId, claim.deliveryId), String(claim.token)],
      );
    },
  };
}

function parseJson<T>(text: string | null | undefined): T | undefined {
  if (typeof text !== "string") {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
