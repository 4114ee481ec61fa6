import { randomUUID } from "node:crypto";
import { type SandboxHandle, startSandbox } from "../../src/sandbox/server";
import { CertificateUpdatedDocument, OrderCertificateDocument } from "../__generated__/graphql";
import { type CertificateUpdatedSubscription } from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { makeCsr } from "../helpers/pki";
import { describeWithRedis } from "../helpers/redis";
import {
  openWsClient,
  subscribeWith,
  type TestSubscription,
  type TestWsClient,
  waitUntil,
} from "../helpers/subscriptions";

const POLL_MS = 200;

function orderInput(domain: string) {
  return {
    class: "ssl123dv",
    domains: [domain],
    csr: makeCsr({ commonName: domain }).csrPem,
    dcvMethod: "DNS_TXT" as const,
    techContact: {
      firstName: "Max",
      lastName: "Mustermann",
      email: "max@example.org",
      phone: "+1.5552345678",
    },
  };
}

/** The certificate ids a subscription heard, in order, one per event. */
const heard = (subscription: TestSubscription<CertificateUpdatedSubscription>): string[] =>
  subscription.results.map(result => result.data?.certificateUpdated.certificate?.id ?? "?");

describeWithRedis("live status across gateway replicas sharing one Redis", redisUrl => {
  // A login unique to this run: a long-lived Redis may hold events of earlier runs.
  const login = `live-${randomUUID()}`;
  let sandbox: SandboxHandle;
  let one: TestGateway;
  let two: TestGateway;
  const clients: TestWsClient[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      issuanceDelayMs: 200,
      accounts: [{ login, password: "secret" }],
    });
    const env = {
      CACHE_URL: redisUrl,
      GATEWAY_EVENTS_POLL_MS: String(POLL_MS),
      GATEWAY_EVENTS_LEASE_MS: "3000",
    };
    one = await startTestGateway(env, { attachTo: sandbox, login });
    two = await startTestGateway(env, { attachTo: sandbox, login });
    for (const gateway of [one, two]) {
      await waitUntil(async () => (await gateway.gateway.cache.ping()) === true);
    }
  });

  afterAll(async () => {
    await Promise.all(clients.map(client => client.dispose()));
    await Promise.all([one, two].map(gateway => gateway?.stop()));
    await sandbox?.stop();
  });

  async function subscribe(gateway: TestGateway, expected: number) {
    const client = openWsClient(gateway.url);
    clients.push(client);
    const subscription = subscribeWith(client.client, CertificateUpdatedDocument, {});
    await waitUntil(() => gateway.gateway.subscriptions?.subscriptions() === expected);
    await gateway.gateway.events.ready();
    return subscription;
  }

  async function order(gateway: TestGateway, domain: string): Promise<string> {
    const ordered = await gateway.query(OrderCertificateDocument, { input: orderInput(domain) });
    expect(ordered.errors).toBeUndefined();
    return ordered.data!.orderCertificate.id;
  }

  it("polls from one replica, processes each event once, and tells subscribers of both", async () => {
    const onOne = await subscribe(one, 1);
    const onTwo = await subscribe(two, 1);
    sandbox.resetCalls();

    const ids = [
      await order(one, "a.replicas.example.com"),
      await order(two, "b.replicas.example.com"),
      await order(one, "c.replicas.example.com"),
    ];
    await waitUntil(
      () => ids.every(id => heard(onOne).includes(id) && heard(onTwo).includes(id)),
      10_000,
      "both subscribers heard every issuance",
    );
    // A few more polls: nothing may come twice.
    await new Promise(resolve => setTimeout(resolve, 4 * POLL_MS));

    const leaders = [one, two].filter(gateway => gateway.gateway.events.poller?.isLeader());
    expect(leaders).toHaveLength(1);
    expect(
      heard(onOne)
        .filter(id => ids.includes(id))
        .sort(),
    ).toEqual([...ids].sort());
    expect(
      heard(onTwo)
        .filter(id => ids.includes(id))
        .sort(),
    ).toEqual([...ids].sort());
    expect(onTwo.results.every(result => result.errors === undefined)).toBe(true);
    expect(onTwo.results.map(r => r.data?.certificateUpdated.certificate?.status)).toEqual(
      onTwo.results.map(() => "ACTIVE"),
    );
    // Each upstream event looked at once and deleted once, across both replicas.
    const statusEvents = sandbox.callsTo("StatusEvent").map(call => call.params.event);
    const deleted = sandbox.callsTo("DeleteEvent").map(call => call.params.event);
    expect(new Set(statusEvents).size).toBe(statusEvents.length);
    expect([...deleted].sort()).toEqual([...statusEvents].sort());
    expect(deleted.length).toBeGreaterThanOrEqual(ids.length);
  });

  it("lets the other replica take over polling when the leader stops", async () => {
    const leader = one.gateway.events.poller?.isLeader() ? one : two;
    const survivor = leader === one ? two : one;
    const listening = await subscribe(survivor, 2);

    await leader.stop();
    const id = await order(survivor, "after.replicas.example.com");

    await listening.next(r => r.data?.certificateUpdated.certificate?.id === id, 10_000);
    expect(survivor.gateway.events.poller?.isLeader()).toBe(true);
  });
});
