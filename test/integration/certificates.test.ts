import { type ExecutionResult } from "graphql";
import {
  CertificateDocument,
  CertificatesDocument,
  type CertificatesQuery,
  CertificateSummaryDocument,
  type PageInfoFieldsFragment,
} from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

describe("Query.certificate and Query.certificates", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ GATEWAY_MAX_PAGE_SIZE: "10" }, { sandbox: { seed: 12 } });
  });

  afterAll(async () => {
    await gateway.stop();
  });

  beforeEach(() => {
    gateway.sandbox.resetCalls();
  });

  /** Every certificate, page by page of 10, and the pageInfo of each page. */
  async function pages() {
    const nodes: CertificatesQuery["certificates"]["edges"][number]["node"][] = [];
    const infos: (PageInfoFieldsFragment & { totalCount: number })[] = [];
    let after: string | null = null;
    do {
      const result: ExecutionResult<CertificatesQuery> = await gateway.query(CertificatesDocument, {
        first: 10,
        after,
      });
      const connection = result.data!.certificates;
      nodes.push(...connection.edges.map(e => e.node));
      infos.push({ ...connection.pageInfo, totalCount: connection.totalCount });
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
    } while (after !== null && infos.length < 10);
    return { nodes, infos };
  }

  async function allCertificates() {
    return (await pages()).nodes;
  }

  it("looks up an issued certificate with its PEM material, chain and parsed details", async () => {
    const active = (await allCertificates()).find(c => c.status === "ACTIVE")!;

    const result = await gateway.query(CertificateDocument, { id: active.id });

    expect(result.errors).toBeUndefined();
    const cert = result.data!.certificate!;
    expect(cert).toMatchObject({ id: active.id, status: "ACTIVE", order: { id: active.order.id } });
    expect(cert.commonName).toBe(cert.domains[0]);
    expect(cert.chain).toBe(`${cert.crt!}${cert.intermediate!}`);
    expect(cert.csrDetails?.subjectAltNames).toEqual(expect.arrayContaining([cert.domains[0]]));
    expect(cert.x509?.subject).toContain(cert.commonName.replace(/^\*\./, ""));
    expect(cert.x509?.notAfter).toBe(cert.expiresAt);
    expect(cert.validations.map(v => v.domain)).toEqual(cert.domains);
  });

  it("reads an unknown id as null, without an error", async () => {
    const result = await gateway.query(CertificateDocument, { id: "DK00000000" });

    expect(result.errors).toBeUndefined();
    expect(result.data?.certificate).toBeNull();
  });

  it("answers the fields a list row holds from StatusCertificate alone when asked by id", async () => {
    const [first] = await allCertificates();
    gateway.sandbox.resetCalls();

    const result = await gateway.query(CertificateSummaryDocument, { id: first!.id });

    expect(result.data?.certificate).toMatchObject({ id: first!.id, status: first!.status });
    expect(gateway.sandbox.calls.map(c => c.command)).toEqual(["StatusCertificate"]);
  });

  it("pages with opaque cursors, totalCount and pageInfo", async () => {
    const page1 = await gateway.query(CertificatesDocument, { first: 5 });
    const connection1 = page1.data!.certificates;
    const page2 = await gateway.query(CertificatesDocument, {
      first: 5,
      after: connection1.pageInfo.endCursor,
    });
    const connection2 = page2.data!.certificates;

    expect(connection1.totalCount).toBeGreaterThan(10);
    expect(connection1.edges).toHaveLength(5);
    expect(connection1.pageInfo).toMatchObject({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: connection1.edges[0]?.cursor,
      endCursor: connection1.edges[4]?.cursor,
    });
    expect(connection2.pageInfo.hasPreviousPage).toBe(true);
    const ids = [...connection1.edges, ...connection2.edges].map(e => e.node.id);
    expect(new Set(ids).size).toBe(10);
    expect(
      gateway.sandbox.callsTo("QueryCertificateList").map(c => [c.params.first, c.params.limit]),
    ).toEqual([
      ["0", "5"],
      ["5", "5"],
    ]);
  });

  it("ends with hasNextPage false on the last page, every certificate seen once", async () => {
    const { nodes, infos } = await pages();

    expect(infos.length).toBeGreaterThan(1);
    expect(infos.at(-1)?.hasNextPage).toBe(false);
    expect(nodes).toHaveLength(infos[0]!.totalCount);
    expect(new Set(nodes.map(n => n.id)).size).toBe(nodes.length);
  });

  it("answers first: 0 with no edges but the total", async () => {
    const result = await gateway.query(CertificatesDocument, { first: 0 });

    expect(result.data?.certificates.edges).toEqual([]);
    expect(result.data?.certificates.totalCount).toBeGreaterThan(0);
    expect(result.data?.certificates.pageInfo).toMatchObject({
      startCursor: null,
      endCursor: null,
    });
  });

  it("filters by status, class and order through the list's pattern parameters", async () => {
    const all = await allCertificates();
    const sample = all.find(c => c.status === "ACTIVE")!;

    const active = await gateway.query(CertificatesDocument, {
      first: 10,
      filter: { status: "ACTIVE" },
    });
    const ofClass = await gateway.query(CertificatesDocument, {
      first: 10,
      filter: { class: sample.class.name.toUpperCase() },
    });
    const ofOrder = await gateway.query(CertificatesDocument, {
      first: 10,
      filter: { orderId: sample.order.id },
    });

    expect(active.data!.certificates.edges.every(e => e.node.status === "ACTIVE")).toBe(true);
    expect(active.data!.certificates.totalCount).toBe(
      all.filter(c => c.status === "ACTIVE").length,
    );
    expect(
      ofClass.data!.certificates.edges.every(e => e.node.class.name === sample.class.name),
    ).toBe(true);
    expect(ofOrder.data!.certificates.edges.map(e => e.node.order.id)).toEqual(
      all.filter(c => c.order.id === sample.order.id).map(() => sample.order.id),
    );
    expect(
      gateway.sandbox
        .callsTo("QueryCertificateList")
        .slice(-3)
        .map(c => c.params),
    ).toEqual([
      expect.objectContaining({ status: "active" }),
      expect.objectContaining({ class: sample.class.name }),
      expect.objectContaining({ certificateorder: sample.order.id }),
    ]);
  });

  it.each([
    [{ first: 11 }, "first", "PAGE_SIZE_OUT_OF_RANGE"],
    [{ first: -1 }, "first", "PAGE_SIZE_OUT_OF_RANGE"],
    [{ after: "not-a-cursor" }, "after", "CURSOR_INVALID"],
  ])("refuses %j as BAD_USER_INPUT without asking the upstream", async (variables, field, rule) => {
    const result = await gateway.query(CertificatesDocument, variables);

    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field, rule });
    expect(gateway.sandbox.calls).toEqual([]);
  });

  describe("filter.expiringWithinDays", () => {
    const EXPIRING = `query Expiring($days: Int!, $first: Int, $after: String) {
      certificates(first: $first, after: $after, filter: { expiringWithinDays: $days }) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id status expiresAt }
      }
    }`;
    type Node = { id: string; status: string; expiresAt: string | null };

    it("lists the active certificates expiring within the window, soonest first", async () => {
      const all = await pages();
      const now = Date.now();
      const days = 200;
      const expected = all.nodes
        .filter(n => n.status === "ACTIVE" && n.expiresAt !== null)
        .filter(n => {
          const at = Date.parse(n.expiresAt!);
          return at >= now && at <= now + days * 86_400_000;
        })
        .sort((a, b) => Date.parse(a.expiresAt!) - Date.parse(b.expiresAt!))
        .map(n => n.id);
      expect(expected.length).toBeGreaterThan(1);
      gateway.sandbox.resetCalls();

      const seen: Node[] = [];
      let after: string | null = null;
      let total = -1;
      do {
        const result = await gateway.queryRaw({
          query: EXPIRING,
          variables: { days, first: 3, after },
        });
        expect(result.body.errors).toBeUndefined();
        const connection = result.body.data.certificates;
        total = connection.totalCount as number;
        seen.push(...(connection.nodes as Node[]));
        after = connection.pageInfo.hasNextPage ? (connection.pageInfo.endCursor as string) : null;
      } while (after !== null);

      expect(seen.map(n => n.id)).toEqual(expected);
      expect(total).toBe(expected.length);
      expect(seen.every(n => n.status === "ACTIVE")).toBe(true);
      // One list of active certificates, read once and shared by the pages (a list page is cached
      // only with a store; the helper's cache is off, so one read per page here).
      expect(
        gateway.sandbox
          .callsTo("QueryCertificateList")
          .every(c => c.params.status?.toUpperCase() === "ACTIVE"),
      ).toBe(true);
      expect(gateway.sandbox.callsTo("StatusCertificate")).toEqual([]);
    });

    it("is empty for a window no certificate expires in", async () => {
      const result = await gateway.queryRaw({ query: EXPIRING, variables: { days: 1 } });
      expect(result.body.errors).toBeUndefined();
      const soon = (result.body.data.certificates.nodes as Node[]).filter(
        n => Date.parse(n.expiresAt!) > Date.now() + 86_400_000,
      );
      expect(soon).toEqual([]);
    });

    it.each([0, -3, 3651])(
      "refuses %p days with a clear error and no upstream call",
      async days => {
        const result = await gateway.queryRaw({ query: EXPIRING, variables: { days } });
        expect(result.body.errors?.[0]?.extensions).toMatchObject({
          code: "BAD_USER_INPUT",
          field: "filter.expiringWithinDays",
          rule: "OUT_OF_RANGE",
        });
        expect(gateway.sandbox.calls).toEqual([]);
      },
    );
  });
});
