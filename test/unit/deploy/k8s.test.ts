import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import ts from "typescript";
import { parseAllDocuments } from "yaml";
import { checkStartupAuth } from "../../../src/auth";
import { ConfigError, DEFAULTS, loadConfig } from "../../../src/config";
import { knownVariables, TEST_API_KEYS } from "./config-env";
import { REPO_ROOT } from "./dockerfile-model";

const K8S = join(REPO_ROOT, "deploy", "k8s");

/** The kinds the manifests may use: the model that validates each, and its TypeScript type. */
const KINDS = {
  "apps/v1/Deployment": { model: Deployment, module: "apps/v1/Deployment", type: "IDeployment" },
  "v1/Service": { model: Service, module: "v1/Service", type: "IService" },
  "v1/ConfigMap": { model: ConfigMap, module: "v1/ConfigMap", type: "IConfigMap" },
  "v1/Secret": { model: Secret, module: "v1/Secret", type: "ISecret" },
  "autoscaling/v2/HorizontalPodAutoscaler": {
    model: HorizontalPodAutoscaler,
    module: "autoscaling/v2/HorizontalPodAutoscaler",
    type: "IHorizontalPodAutoscaler",
  },
  "policy/v1/PodDisruptionBudget": {
    model: PodDisruptionBudget,
    module: "policy/v1/PodDisruptionBudget",
    type: "IPodDisruptionBudget",
  },
  "networking.k8s.io/v1/NetworkPolicy": {
    model: NetworkPolicy,
    module: "networking.k8s.io/v1/NetworkPolicy",
    type: "INetworkPolicy",
  },
} as const;

type KindKey = keyof typeof KINDS;

interface Manifest {
  readonly file: string;
  readonly key: string;
  readonly doc: { apiVersion: string; kind: string; metadata: { name: string } } & Record<
    string,
    unknown
  >;
}

function readManifests(): Manifest[] {
  const files = readdirSync(K8S).filter(f => f.endsWith(".yaml") && f !== "kustomization.yaml");
  return files.flatMap(file =>
    parseAllDocuments(readFileSync(join(K8S, file), "utf8")).map(document => {
      if (document.errors.length > 0 || document.warnings.length > 0) {
        throw new Error(`${file}: ${[...document.errors, ...document.warnings].join("; ")}`);
      }
      const doc = document.toJS() as Manifest["doc"];
      return { file, key: `${doc.apiVersion}/${doc.kind}`, doc };
    }),
  );
}

function find<T>(kind: KindKey, name: string): T {
  const found = readManifests().find(m => m.key === kind && m.doc.metadata.name === name);
  if (!found) {
    throw new Error(`no ${kind} ${name}`);
  }
  return new KINDS[kind].model(found.doc) as T;
}

/**
 * Type-checks every manifest as an object literal of its kubernetes-models type. The schema
 * validation of the models ignores unknown fields; TypeScript's excess-property check does not,
 * so a misspelt field (`readinesProbe`) fails here as `kubectl apply` would fail on a cluster.
 */
function typeCheck(manifests: readonly Manifest[]): string[] {
  const file = join(REPO_ROOT, "test", "unit", "deploy", "__manifests__.ts");
  const source = manifests
    .map(({ key, doc }, i) => {
      const { module, type } = KINDS[key as KindKey];
      return (
        `import type { ${type} as T${i} } from "kubernetes-models/${module}";\n` +
        `export const m${i}: T${i} = ${JSON.stringify(doc)};\n`
      );
    })
    .join("");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === file
      ? ts.createSourceFile(name, source, language)
      : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = name => name === file || fileExists.call(host, name);
  const program = ts.createProgram([file], options, host);
  // Each manifest is two lines of the source: its type's import, then its literal.
  return ts.getPreEmitDiagnostics(program).map(d => {
    const line =
      d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const where = manifests[Math.floor(line / 2)];
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    return where ? `${where.file} ${where.key}: ${message}` : message;
  });
}

type Container = {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
};

describe("deploy/k8s", () => {
  it("holds only kinds the validator knows, each valid against its schema", () => {
    const manifests = readManifests();

    expect(manifests.length).toBeGreaterThanOrEqual(8);
    for (const { file, key, doc } of manifests) {
      expect({ file, key, known: key in KINDS }).toEqual({ file, key, known: true });
      expect(() => new KINDS[key as KindKey].model(doc as never).validate()).not.toThrow();
    }
  });

  it("would fail a manifest with a wrong type (the validator is real)", () => {
    const broken = readManifests().find(m => m.key === "apps/v1/Deployment")!.doc;

    expect(() =>
      new Deployment({ ...broken, spec: { replicas: "two" } } as never).validate(),
    ).toThrow(/replicas/);
  });

  it("has no unknown or misspelt field (type-checked against the Kubernetes API types)", () => {
    const manifests = readManifests();

    expect(typeCheck(manifests)).toEqual([]);
    const typo = manifests.map(m =>
      m.key === "apps/v1/Deployment"
        ? {
            ...m,
            doc: JSON.parse(JSON.stringify(m.doc).replace("readinessProbe", "readinesProbe")),
          }
        : m,
    );
    expect(typeCheck(typo).join("\n")).toMatch(/readinesProbe/);
  }, 60_000);

  it("lists every manifest but the Secret template in kustomization.yaml", () => {
    const kustomization = parseAllDocuments(
      readFileSync(join(K8S, "kustomization.yaml"), "utf8"),
    )[0]!.toJS() as { resources: string[] };
    const files = readdirSync(K8S).filter(
      f => f.endsWith(".yaml") && f !== "kustomization.yaml" && f !== "secret.template.yaml",
    );

    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });
});

describe("deploy/k8s gateway Deployment", () => {
  const deployment = () => find<Deployment>("apps/v1/Deployment", "rrpproxy-ssl-gateway");
  const container = () => deployment().spec!.template.spec!.containers[0] as Container;

  it("runs two replicas, rolling without losing capacity", () => {
    const spec = deployment().spec!;

    expect(spec.replicas).toBe(2);
    expect(spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(spec.template.metadata?.labels).toMatchObject(spec.selector.matchLabels!);
  });

  it("routes traffic on /readyz, restarts on /healthz, on the port the image exposes", () => {
    const { ports, readinessProbe, livenessProbe, startupProbe } = container();

    expect(ports).toEqual([
      { name: "http", containerPort: Number(DEFAULTS.PORT), protocol: "TCP" },
    ]);
    expect(readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
  });

  it("keeps serving through de-registration, then has time to drain", () => {
    const preStop = container().lifecycle?.preStop?.sleep?.seconds ?? 0;
    const grace = deployment().spec!.template.spec!.terminationGracePeriodSeconds ?? 30;

    // Load balancers and kube-proxy take seconds to drop an endpoint; the gateway then drains
    // in-flight requests for up to 10 s (Apollo's drain plugin) and closes its pools.
    expect(preStop).toBeGreaterThanOrEqual(15);
    expect(grace).toBeGreaterThan(preStop + 10);
  });

  it("requests and limits CPU and memory", () => {
    const { resources } = container();

    expect(Object.keys(resources?.requests ?? {}).sort()).toEqual(["cpu", "memory"]);
    expect(Object.keys(resources?.limits ?? {}).sort()).toEqual(["cpu", "memory"]);
  });

  it("runs as a non-root numeric user with a read-only root filesystem", () => {
    const pod = deployment().spec!.template.spec!;
    const { securityContext } = container();

    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    // The image's USER is the name `node`, which the kubelet cannot check: give its uid.
    expect(pod.securityContext?.runAsUser).toBe(1000);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("takes its settings from the ConfigMap and the Secret", () => {
    expect(container().envFrom).toEqual([
      { configMapRef: { name: "rrpproxy-ssl-gateway" } },
      { secretRef: { name: "rrpproxy-ssl-gateway" } },
    ]);
    expect(container().image).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
  });
});

describe("deploy/k8s Service, autoscaler and disruption budget", () => {
  const podLabels = () =>
    find<Deployment>("apps/v1/Deployment", "rrpproxy-ssl-gateway").spec!.template.metadata!.labels!;

  it("selects the gateway's pods on their named port", () => {
    const service = find<Service>("v1/Service", "rrpproxy-ssl-gateway");

    expect(podLabels()).toMatchObject(service.spec!.selector!);
    expect(service.spec!.ports).toEqual([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
    ]);
  });

  it("scales the Deployment with autoscaling/v2 from its replica count up", () => {
    const hpa = find<HorizontalPodAutoscaler>(
      "autoscaling/v2/HorizontalPodAutoscaler",
      "rrpproxy-ssl-gateway",
    );

    expect(hpa.spec!.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "rrpproxy-ssl-gateway",
    });
    expect(hpa.spec!.minReplicas).toBe(2);
    expect(hpa.spec!.maxReplicas).toBeGreaterThan(2);
  });

  it("keeps one gateway pod through voluntary disruptions", () => {
    const pdb = find<PodDisruptionBudget>("policy/v1/PodDisruptionBudget", "rrpproxy-ssl-gateway");

    expect(pdb.spec!.minAvailable).toBe(1);
    expect(podLabels()).toMatchObject(pdb.spec!.selector!.matchLabels!);
  });
});

describe("deploy/k8s ConfigMap and Secret", () => {
  const data = () => find<ConfigMap>("v1/ConfigMap", "rrpproxy-ssl-gateway").data!;
  const secret = () => find<Secret>("v1/Secret", "rrpproxy-ssl-gateway").stringData!;

  it("set only variables the gateway knows", () => {
    const known = knownVariables();

    expect([...Object.keys(data()), ...Object.keys(secret())].filter(k => !known.has(k))).toEqual(
      [],
    );
    expect(data().PORT).toBe(DEFAULTS.PORT);
  });

  it("keep the credentials in the Secret, as placeholders only", () => {
    expect(Object.keys(secret()).sort()).toEqual([
      "GATEWAY_API_KEYS",
      "RRPPROXY_LOGIN",
      "RRPPROXY_PASSWORD",
    ]);
    for (const value of Object.values(secret())) {
      expect(value).toMatch(/<[^>]+>/);
    }
    expect(Object.keys(data()).filter(k => /PASSWORD|LOGIN|KEYS?$/.test(k))).toEqual([]);
  });

  it("cannot start with the placeholders left in, and loads once they are filled in", () => {
    expect(() => loadConfig({ ...data(), ...secret() })).toThrow(ConfigError);
    expect(() => loadConfig({ ...data(), ...secret() })).toThrow(/GATEWAY_API_KEYS/);

    const config = loadConfig({
      ...data(),
      RRPPROXY_LOGIN: "reseller",
      RRPPROXY_PASSWORD: "s3cret",
      GATEWAY_API_KEYS: TEST_API_KEYS,
    });

    expect(config.upstream.mode).toBe("remote");
    expect(config.server.production).toBe(true);
    expect(config.cache.kind).toBe("redis");
    expect(
      checkStartupAuth(config.auth, { host: config.server.host, embeddedSandbox: false }).open,
    ).toBe(false);
  });
});

describe("deploy/k8s Redis", () => {
  it("is the store CACHE_URL names, reachable only from the gateway's pods", () => {
    const service = find<Service>("v1/Service", "rrpproxy-ssl-gateway-redis");
    const redis = find<Deployment>("apps/v1/Deployment", "rrpproxy-ssl-gateway-redis");
    const policy = find<NetworkPolicy>(
      "networking.k8s.io/v1/NetworkPolicy",
      "rrpproxy-ssl-gateway-redis",
    );
    const gatewayPods = find<Deployment>("apps/v1/Deployment", "rrpproxy-ssl-gateway").spec!
      .template.metadata!.labels!;
    const url = new URL(find<ConfigMap>("v1/ConfigMap", "rrpproxy-ssl-gateway").data!.CACHE_URL!);

    expect(url.hostname).toBe(service.metadata!.name);
    expect(Number(url.port)).toBe(service.spec!.ports![0]!.port);
    const redisPods = redis.spec!.template.metadata!.labels!;
    expect(redisPods).toMatchObject(service.spec!.selector!);
    expect(redisPods).toMatchObject(policy.spec!.podSelector.matchLabels!);
    expect(gatewayPods).toMatchObject(
      policy.spec!.ingress![0]!.from![0]!.podSelector!.matchLabels!,
    );
  });

  it("never evicts idempotency keys", () => {
    const redis = find<Deployment>("apps/v1/Deployment", "rrpproxy-ssl-gateway-redis");
    const args = redis.spec!.template.spec!.containers[0]!.args!.join(" ");

    expect(args).toContain("--maxmemory-policy noeviction");
    expect(args).toContain("--appendonly yes");
    expect(redis.spec!.template.spec!.securityContext?.runAsNonRoot).toBe(true);
  });
});
