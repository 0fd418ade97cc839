// Validates rendered Kubernetes manifests (multi-document YAML, e.g. `kubectl kustomize
// deploy/k8s`) offline: every object against the OpenAPI schema of its apiVersion/kind
// (kubernetes-models, generated from the Kubernetes API's own schemas), then the rules this
// deployment depends on (names that must resolve, probes, graceful leave, DNS discovery).
// Usage: node validate.mjs FILE   (exit 0: valid; 1: errors, each printed)
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const file = process.argv[2];
if (!file) { console.error("usage: node validate.mjs RENDERED.yaml"); process.exit(2); }
const errors = [];
const objects = [];
for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
  if (doc.errors.length) { errors.push(`YAML: ${doc.errors.map(e => e.message).join("; ")}`); continue; }
  const o = doc.toJS();
  if (o) objects.push(o);
}

// 1. Schema: the typed model of each kind (unknown kinds are an error: nothing unchecked).
for (const o of objects) {
  const id = `${o.kind ?? "?"}/${o.metadata?.name ?? "?"}`;
  if (!o.apiVersion || !o.kind) { errors.push(`${id}: apiVersion and kind are required`); continue; }
  let Model;
  try {
    // kubernetes-models/<group>/<version>/<Kind> ("v1" for the core group)
    Model = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`))[o.kind];
  } catch (e) {
    errors.push(`${id}: no schema for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    errors.push(`${id}: ${e.message}`);
  }
}

// 2. The deployment's own rules.
const find = (kind, name) => objects.find(o => o.kind === kind && (name === undefined || o.metadata?.name === name));
const need = (cond, msg) => { if (!cond) errors.push(msg); };
const sts = find("StatefulSet", "mta");
need(sts, "StatefulSet/mta is missing");
if (sts) {
  const spec = sts.spec ?? {}, pod = spec.template?.spec ?? {};
  need(spec.podManagementPolicy === "Parallel", "StatefulSet/mta: podManagementPolicy must be Parallel");
  need(spec.replicas === 3, "StatefulSet/mta: replicas must be 3");
  const headless = find("Service", spec.serviceName);
  need(headless, `StatefulSet/mta: serviceName ${spec.serviceName} is not a Service here`);
  if (headless) {
    need(headless.spec?.clusterIP === "None", `Service/${spec.serviceName}: must be headless (clusterIP: None)`);
    need(headless.spec?.publishNotReadyAddresses === true, `Service/${spec.serviceName}: publishNotReadyAddresses must be true`);
    need(headless.spec?.ports?.some(p => p.name === "management"), `Service/${spec.serviceName}: needs the port "management" (SRV _management._tcp)`);
  }
  need((pod.terminationGracePeriodSeconds ?? 30) >= 90, "StatefulSet/mta: terminationGracePeriodSeconds must be >= 90 (graceful leave)");
  const main = (pod.containers ?? []).find(c => c.name === "mta");
  need(main, "StatefulSet/mta: container mta is missing");
  if (main) {
    const ports = new Set((main.ports ?? []).map(p => p.name));
    need(main.readinessProbe?.httpGet?.path === "/ready" && main.readinessProbe.httpGet.port === "management", "container mta: readinessProbe must GET /ready on management");
    need(main.livenessProbe?.httpGet?.path === "/alive" && main.livenessProbe.httpGet.port === "management", "container mta: livenessProbe must GET /alive on management");
    need(main.resources?.limits?.memory, "container mta: needs a memory limit");
    const opts = (main.env ?? []).find(e => e.name === "MTA_JAVA_OPTS")?.value ?? "";
    const xmx = /-Xmx(\d+)([mg])/i.exec(opts);
    const limit = /^(\d+)(Mi|Gi)$/.exec(main.resources?.limits?.memory ?? "");
    if (xmx && limit) {
      const heapMi = +xmx[1] * (xmx[2].toLowerCase() === "g" ? 1024 : 1);
      const limitMi = +limit[1] * (limit[2] === "Gi" ? 1024 : 1);
      need(limitMi >= heapMi + 384, `container mta: memory limit ${limitMi}Mi leaves < 384Mi above the heap (-Xmx ${heapMi}Mi)`);
    } else need(false, "container mta: MTA_JAVA_OPTS -Xmx and a memory limit in Mi/Gi are both needed");
    for (const svc of objects.filter(o => o.kind === "Service")) {
      for (const p of svc.spec?.ports ?? []) {
        if (typeof p.targetPort === "string") need(ports.has(p.targetPort), `Service/${svc.metadata.name}: targetPort ${p.targetPort} is not a port of container mta`);
      }
    }
  }
  const init = (pod.initContainers ?? []).find(c => c.name === "schema");
  need(init && (init.args ?? []).join(" ").startsWith("schema"), "StatefulSet/mta: initContainer schema running `bin/mta schema` is missing");
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  for (const c of containers) for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const s = find("Secret", ref.name);
      need(s && ((s.stringData ?? {})[ref.key] !== undefined || (s.data ?? {})[ref.key] !== undefined), `container ${c.name}: env ${e.name}: Secret ${ref.name} key ${ref.key} is not defined`);
    }
  }
  for (const v of pod.volumes ?? []) {
    if (v.configMap) need(find("ConfigMap", v.configMap.name), `volume ${v.name}: ConfigMap ${v.configMap.name} is not defined`);
    if (v.secret) need(find("Secret", v.secret.secretName), `volume ${v.name}: Secret ${v.secret.secretName} is not defined`);
  }
  const cm = find("ConfigMap");
  const conf = cm?.data?.["mta.conf"] ?? "";
  need(/discovery-method\s*=\s*pekko-dns/.test(conf) && /service-name\s*=\s*"mta-internal\."/.test(conf), "ConfigMap: mta.conf must use pekko-dns discovery of mta-internal");
  need(/bootstrap\s*=\s*on/.test(conf), "ConfigMap: mta.conf must set mta.cluster.bootstrap = on");
}
const pdb = find("PodDisruptionBudget");
need(pdb && pdb.spec?.maxUnavailable === 1, "PodDisruptionBudget with maxUnavailable: 1 is missing");

for (const o of objects) console.log(`checked ${o.apiVersion} ${o.kind}/${o.metadata?.name}`);
if (errors.length) {
  for (const e of errors) console.error(`error: ${e}`);
  console.error(`${errors.length} error(s) in ${objects.length} objects`);
  process.exit(1);
}
console.log(`ok: ${objects.length} objects valid`);
