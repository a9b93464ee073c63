// make deploy / iam / status / proxy / clean against the gcloud stand-in (test/support/bin/gcloud),
// which records every argv line and keeps a small state so describe-before-create is observable.
// The last suite replays every command the scripts ran in the real gcloud on this machine (when
// installed): each must parse there (it then stops at authentication).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  existsSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const standIns = join(root, "test/support/bin");
const dockerStandIn = join(root, "test/support/docker-bin");

const P = "--project=my-project";
const W = `${P} --region=us-central1`;
const L = `--location=us-central1 ${P}`;
const SA = "mcp-agent@my-project.iam.gserviceaccount.com";
const MCP_SA = "mcp-server@my-project.iam.gserviceaccount.com";
const BUILD_SA = "mcp-agent-build@my-project.iam.gserviceaccount.com";
const IAP_SA = "service-123456789012@gcp-sa-iap.iam.gserviceaccount.com";
const MEMBER = `serviceAccount:${SA}`;
const IAP_AUDIENCE = "/projects/123456789012/locations/us-central1/services/agent";
const AR = "us-central1-docker.pkg.dev/my-project/mcp-agent";
const MCP_URL = "https://mcp-server-123456789012.us-central1.run.app";
const POLICY = "--flatten=bindings[].members --format=value(bindings.role,bindings.members)";
const DB = "--database=(default)";

const APIS =
  "run.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com aiplatform.googleapis.com iam.googleapis.com";
const ENABLE = `gcloud services enable ${APIS} firestore.googleapis.com ${P}`;
const REPO_DESCRIBE = `gcloud artifacts repositories describe mcp-agent ${L}`;
const REPO_CREATE = `gcloud artifacts repositories create mcp-agent --repository-format=docker --location=us-central1 --description=Images for mcp-server and agent ${P}`;
const CLEANUP_POLICY = `gcloud artifacts repositories set-cleanup-policies mcp-agent --policy=FILE --no-dry-run ${L}`;
const saDescribe = (email: string): string => `gcloud iam service-accounts describe ${email} ${P}`;
const MARK = "--description=Created by make deploy (cloud-run-mcp-agent)";
const SA_CREATE = `gcloud iam service-accounts create mcp-agent --display-name=MCP agent on Cloud Run ${MARK} ${P}`;
const MCP_SA_CREATE = `gcloud iam service-accounts create mcp-server --display-name=MCP server on Cloud Run (no roles) ${MARK} ${P}`;
const BUILD_SA_CREATE = `gcloud iam service-accounts create mcp-agent-build --display-name=Builds the mcp-server and agent images ${MARK} ${P}`;
const saMarkRead = (email: string): string =>
  `gcloud iam service-accounts describe ${email} --format=value(description) ${P}`;
const PROJECT_POLICY = `gcloud projects get-iam-policy my-project ${POLICY}`;
const grantProject = (role: string, member: string): string =>
  `gcloud projects add-iam-policy-binding my-project --condition=None --member=${member} --role=${role}`;
const revokeProject = (role: string, member: string): string =>
  `gcloud projects remove-iam-policy-binding my-project --condition=None --member=${member} --role=${role}`;
const REPO_POLICY = `gcloud artifacts repositories get-iam-policy mcp-agent ${L} ${POLICY}`;
const BUILD_GRANTS = [
  REPO_POLICY,
  `gcloud artifacts repositories add-iam-policy-binding mcp-agent ${L} --member=serviceAccount:${BUILD_SA} --role=roles/artifactregistry.writer`,
  PROJECT_POLICY,
  grantProject("roles/logging.logWriter", `serviceAccount:${BUILD_SA}`),
  PROJECT_POLICY,
  grantProject("roles/storage.objectViewer", `serviceAccount:${BUILD_SA}`),
];
const CLOUD_BUILD = `gcloud builds submit . --config=cloudbuild.yaml --service-account=projects/my-project/serviceAccounts/${BUILD_SA} --substitutions=_MCP_IMAGE=${AR}/mcp-server:t1,_AGENT_IMAGE=${AR}/agent:t1,_NODE_IMAGE=node:22-slim ${P}`;
const FS_DESCRIBE = `gcloud firestore databases describe ${DB} --format=value(type,locationId) ${P}`;
const fsCreate = (location = "us-central1"): string =>
  `gcloud firestore databases create ${DB} --location=${location} --type=firestore-native ${P}`;
const TTL_LIST = `gcloud firestore fields ttls list --collection-group=agent-sessions ${DB} --format=value(name) ${P}`;
const TTL_UPDATE = `gcloud firestore fields ttls update expire_at --collection-group=agent-sessions ${DB} --enable-ttl --async ${P}`;
const FIRESTORE_FIRST = [
  FS_DESCRIBE,
  fsCreate(),
  TTL_LIST,
  TTL_UPDATE,
  PROJECT_POLICY,
  grantProject("roles/datastore.user", MEMBER),
];
const RUNTIME =
  "--memory=512Mi --cpu=1 --concurrency=80 --cpu-boost --startup-probe=httpGet.path=/health,periodSeconds=1,timeoutSeconds=1,failureThreshold=15 --liveness-probe=httpGet.path=/health,periodSeconds=30,timeoutSeconds=5,failureThreshold=3";
const mcpDeploy = (
  o: { timeout?: number; instances?: number; affinity?: string; access?: string } = {},
): string =>
  `gcloud run deploy mcp-server --image=${AR}/mcp-server:t1 ${W} --service-account=${MCP_SA} ${o.access ?? "--no-allow-unauthenticated --invoker-iam-check"} --timeout=${o.timeout ?? 300} ${RUNTIME} --max-instances=${o.instances ?? 10} ${o.affinity ?? "--no-session-affinity"} --env-vars-file=FILE`;
const MCP_DEPLOY = mcpDeploy();
const MCP_URL_READ = `gcloud run services describe mcp-server ${W} --format=value(status.url)`;
const IAP_READ = `gcloud run services describe agent ${W} --format=value(metadata.annotations."run.googleapis.com/iap-enabled")`;
// The agent's environment after a plain deploy (the stand-in keeps what gcloud's file said).
const AGENT_ENV = {
  MCP_SERVER_URL: `${MCP_URL}/mcp`,
  MCP_AUTH: "id-token",
  GOOGLE_GENAI_USE_VERTEXAI: "true",
  GOOGLE_CLOUD_PROJECT: "my-project",
  MODEL_PROVIDER: "gemini",
  GOOGLE_CLOUD_LOCATION: "global",
  GOOGLE_MODEL: "gemini-3.8-flash",
  AGENT_ACCESS: "private",
  SESSION_STORE: "firestore",
  FIRESTORE_DATABASE: "(default)",
  FIRESTORE_COLLECTION: "agent-sessions",
};
const agentDeploy = (
  o: {
    cmd?: string;
    access?: string;
    affinity?: string;
    timeout?: number;
    instances?: number;
  } = {},
): string =>
  `${o.cmd ?? "gcloud run deploy"} agent --image=${AR}/agent:t1 ${W} --service-account=${SA} ${o.access ?? "--no-allow-unauthenticated --invoker-iam-check"} --timeout=${o.timeout ?? 300} ${RUNTIME} --max-instances=${o.instances ?? 10} ${o.affinity ?? "--no-session-affinity"} --env-vars-file=FILE`;
const AGENT_URL_READ = `gcloud run services describe agent ${W} --format=value(status.url)`;

const RUN_POLICY = `gcloud run services get-iam-policy mcp-server ${W} ${POLICY}`;
const GRANT_INVOKER = `gcloud run services add-iam-policy-binding mcp-server ${W} --member=${MEMBER} --role=roles/run.invoker`;
const GRANT_AIPLATFORM = grantProject("roles/aiplatform.user", MEMBER);
const svcDescribe = (s: string): string => `gcloud run services describe ${s} ${W}`;
const svcDelete = (s: string): string => `gcloud run services delete ${s} --quiet ${W}`;
const pkgDescribe = (p: string): string =>
  `gcloud artifacts packages describe ${p} --repository=mcp-agent ${L}`;
const pkgDelete = (p: string): string =>
  `gcloud artifacts packages delete ${p} --quiet --repository=mcp-agent ${L}`;

const FIRST_DEPLOY = [
  ENABLE,
  REPO_DESCRIBE,
  REPO_CREATE,
  CLEANUP_POLICY,
  saDescribe(MCP_SA),
  MCP_SA_CREATE,
  saDescribe(SA),
  SA_CREATE,
  saDescribe(BUILD_SA),
  BUILD_SA_CREATE,
  ...FIRESTORE_FIRST,
  IAP_READ,
  ...BUILD_GRANTS,
  CLOUD_BUILD,
  MCP_DEPLOY,
  MCP_URL_READ,
  agentDeploy(),
  AGENT_URL_READ,
];
const IAM_CHECKS = [svcDescribe("mcp-server"), saDescribe(SA)];
const FIRST_IAM = [...IAM_CHECKS, RUN_POLICY, GRANT_INVOKER, PROJECT_POLICY, GRANT_AIPLATFORM];
const CLEAN_IAM_READS = [
  PROJECT_POLICY,
  PROJECT_POLICY,
  PROJECT_POLICY,
  PROJECT_POLICY,
  PROJECT_POLICY,
  PROJECT_POLICY,
  REPO_POLICY,
  RUN_POLICY,
];
const CLEAN_SERVICES = [
  svcDescribe("agent"),
  svcDelete("agent"),
  svcDescribe("mcp-server"),
  svcDelete("mcp-server"),
];
const CLEAN_ACCOUNTS = [SA, MCP_SA, BUILD_SA].flatMap((e) => [
  saMarkRead(e),
  `gcloud iam service-accounts delete ${e} --quiet ${P}`,
]);
const CLEAN_IMAGES = [
  pkgDescribe("mcp-server"),
  pkgDelete("mcp-server"),
  pkgDescribe("agent"),
  pkgDelete("agent"),
  REPO_DESCRIBE,
  `gcloud artifacts repositories delete-cleanup-policies mcp-agent --policynames=mcp-agent-keep-newest,mcp-agent-delete-older ${L}`,
];

// `calls` leaves out `gcloud version` (a local read of the CLI, no API call); `versionReads` counts it.
interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
  versionReads: number;
  firstCall: string;
  docker: string[];
  state: string[];
}

// One fake cloud per test: its own argv logs and state, removed afterwards.
function cloud(
  t: { after: (fn: () => void) => void },
  opts: { argvLog?: string } = {},
): {
  run: (
    cmd: string[],
    env?: Record<string, string>,
    opts?: { input?: string; docker?: boolean },
  ) => Result;
  state: () => string[];
  seed: (line: string) => void;
  env: (service: string) => Record<string, string>;
  policyFile: string;
  stateFile: string;
} {
  const dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "gcloud.log");
  const dockerLog = join(dir, "docker.log");
  const stateFile = join(dir, "state");
  const lines = (f: string): string[] =>
    existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean) : [];
  return {
    state: () => lines(stateFile),
    seed: (line) => appendFileSync(stateFile, `${line}\n`),
    // The environment Cloud Run has for a service now: what the stand-in read from gcloud's flags.
    env(service) {
      const line = lines(stateFile).find((l) => l.startsWith(`service-env ${service} `));
      assert.ok(line, `${service} is deployed`);
      return JSON.parse(line.slice(`service-env ${service} `.length)) as Record<string, string>;
    },
    policyFile: `${stateFile}.policy.json`,
    stateFile,
    run(cmd, env = {}, o = {}) {
      writeFileSync(log, "");
      writeFileSync(dockerLog, "");
      const path = [...(o.docker ? [dockerStandIn] : []), standIns, process.env.PATH].join(":");
      // A clean environment: no DRY_RUN/YES/KEEP_* leaking in from the caller's shell.
      const r = spawnSync(cmd[0]!, cmd.slice(1), {
        cwd: root,
        input: o.input ?? "",
        encoding: "utf8",
        env: {
          PATH: path,
          HOME: dir,
          GCLOUD_LOG: log,
          DOCKER_LOG: dockerLog,
          GCLOUD_STATE: stateFile,
          ...(opts.argvLog ? { GCLOUD_ARGV_LOG: opts.argvLog } : {}),
          PROJECT_ID: "my-project",
          REGION: "us-central1",
          IMAGE_TAG: "t1",
          ...env,
        },
      });
      const all = lines(log).map((l) =>
        l
          .replace(/--policy=\S+/, "--policy=FILE")
          .replace(/--env-vars-file=\S+/, "--env-vars-file=FILE"),
      );
      const isVersion = (l: string): boolean => /^gcloud version\b/.test(l);
      return {
        code: r.status,
        stdout: r.stdout,
        stderr: r.stderr,
        calls: all.filter((l) => !isVersion(l)),
        versionReads: all.filter(isVersion).length,
        firstCall: all[0] ?? "",
        docker: lines(dockerLog),
        state: lines(stateFile),
      };
    },
  };
}

const make = (...targets: string[]): string[] => ["make", "--no-print-directory", "-s", ...targets];
const ok = (r: Result): Result => {
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
  return r;
};
const deployOf = (calls: string[], svc: string): string => {
  const found = calls.filter((l) => new RegExp(`^gcloud (beta )?run deploy ${svc} `).test(l));
  assert.equal(found.length, 1, `one deploy of ${svc}:\n${calls.join("\n")}`);
  return found[0]!;
};
// The plan's commands, without the "# only if …" marks of conditional ones.
const printed = (stderr: string): string[] =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("+ "))
    .map((l) =>
      l
        .slice(2)
        .replace(/ {3}# only if .*$/, "")
        .replace(/'/g, "")
        .replace(/--policy=\S+/, "--policy=FILE")
        .replace(/--env-vars-file=\S+/, "--env-vars-file=FILE"),
    );

// The lists of scripts/deploy-env.sh, as bash reads them.
const LISTS = [
  "COMMON_SETTINGS",
  "AGENT_SETTINGS",
  "MCP_SETTINGS",
  "MCP_OAUTH_SETTINGS",
  "AGENT_DECIDED",
  "MCP_DECIDED",
  "TRACING_DECIDED",
  "DEPLOY_READS",
  "MCP_REFUSED_NAMES",
  "LOCAL_ONLY",
  "URL_SETTINGS",
] as const;
const deployLists = (): Record<(typeof LISTS)[number], string[]> => {
  const script = `source scripts/deploy-env.sh; ${LISTS.map((n) => `echo "\${${n}[*]}";`).join(" ")}`;
  const out = execFileSync("bash", ["-c", script], { cwd: root, encoding: "utf8" }).split("\n");
  return Object.fromEntries(
    LISTS.map((n, i) => [n, out[i]!.split(/\s+/).filter(Boolean)]),
  ) as Record<(typeof LISTS)[number], string[]>;
};

// Each test has its own fake cloud, so they can run side by side.
describe("Cloud Run scripts against the gcloud stand-in", { concurrency: 4 }, () => {
  test("make deploy: private agent and mcp-server, Firestore sessions, build account, cleanup policy, in order", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("deploy")));
    assert.deepEqual(r.calls, FIRST_DEPLOY);
    const state = c.state();
    assert.ok(!state.some((l) => l.includes("allUsers")), "no allUsers binding anywhere");
    assert.ok(!state.some((l) => l.includes("invoker-iam-disabled")), "the invoker check stays on");
    assert.ok(state.includes("firestore (default) FIRESTORE_NATIVE us-central1"));
    assert.ok(state.includes("ttl (default) agent-sessions expire_at"));
    assert.ok(state.includes(`binding project roles/datastore.user ${MEMBER}`));
    assert.ok(state.includes("cleanup-policy mcp-agent mcp-agent-keep-newest 10"));
    const policy = JSON.parse(readFileSync(c.policyFile, "utf8")) as Array<Record<string, any>>;
    assert.deepEqual(
      policy.map((p) => [p.name, p.action.type]),
      [
        ["mcp-agent-keep-newest", "Keep"],
        ["mcp-agent-delete-older", "Delete"],
      ],
    );
    for (const p of policy)
      assert.deepEqual(
        p.mostRecentVersions?.packageNamePrefixes ?? p.condition.packageNamePrefixes,
        ["mcp-server", "agent"],
      );
    for (const svc of ["mcp-server", "agent"]) {
      const line = deployOf(r.calls, svc);
      assert.match(line, / --cpu-boost /);
      assert.match(line, /--startup-probe=httpGet\.path=\/health,/);
      assert.match(line, /--liveness-probe=httpGet\.path=\/health,/);
      assert.doesNotMatch(line, /\/ready/);
      assert.match(line, / --timeout=300 /);
      assert.equal(c.env(svc).GOOGLE_CLOUD_PROJECT, "my-project");
    }
    // GOOGLE_CLOUD_LOCATION is Vertex AI's location, not the Cloud Run region.
    assert.deepEqual(c.env("agent"), AGENT_ENV);
    assert.deepEqual(c.env("mcp-server"), { GOOGLE_CLOUD_PROJECT: "my-project" });
    assert.match(r.stderr, /Next: make iam PROJECT_ID=my-project REGION=us-central1/);
    assert.match(
      r.stderr,
      /Then: make smoke AGENT_URL=https:\/\/agent-123456789012\.us-central1\.run\.app ID_TOKEN="\$\(gcloud auth print-identity-token\)"/,
    );
  });

  test("cloudbuild.yaml builds both images from the root's Dockerfile, logs to Cloud Logging, uses exactly deploy's substitutions", (t) => {
    const yaml = readFileSync(join(root, "cloudbuild.yaml"), "utf8");
    const r = ok(cloud(t).run(["scripts/deploy.sh"], { DRY_RUN: "1" }));
    const passed = /--substitutions=(\S+)/
      .exec(r.stderr)![1]!
      .split(",")
      .map((kv) => kv.split("=")[0])
      .sort();
    const used = [...new Set([...yaml.matchAll(/\$\{(_[A-Z_]+)\}/g)].map((m) => m[1]))].sort();
    assert.deepEqual(passed, used);
    for (const svc of ["mcp-server", "agent"])
      assert.match(yaml, new RegExp(`- --build-arg\\n {6}- SERVICE=${svc}\\n`));
    // ${...} inside a YAML flow sequence ([a, ${_X}]) is a parse error for gcloud: keep block lists.
    assert.doesNotMatch(yaml, /\[[^\]\n]*\$\{/);
    // A build run as a user-chosen account is refused unless its logs avoid the default bucket.
    assert.match(yaml, /\noptions:\n {2}logging: CLOUD_LOGGING_ONLY\n/);
  });

  test("the build account gets its three roles before the build, which the stand-in refuses without them", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const calls = c.run(["scripts/deploy.sh"]).calls;
    assert.ok(calls.indexOf(CLOUD_BUILD) > calls.lastIndexOf(REPO_POLICY));
    // Without the log writer role the stand-in fails the build, as Cloud Build would.
    const bare = cloud(t);
    bare.seed("api cloudbuild.googleapis.com");
    bare.seed("repo mcp-agent");
    bare.seed(`sa ${BUILD_SA}`);
    const r = bare.run(["test/support/bin/gcloud", ...CLOUD_BUILD.split(" ").slice(1)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not have storage\.objects\.get access/);
  });

  test("a second deploy creates nothing, grants nothing and fails on nothing", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const r = ok(c.run(["scripts/deploy.sh"]));
    assert.deepEqual(r.calls, [
      ENABLE,
      REPO_DESCRIBE,
      CLEANUP_POLICY,
      saDescribe(MCP_SA),
      saDescribe(SA),
      saDescribe(BUILD_SA),
      FS_DESCRIBE,
      TTL_LIST,
      PROJECT_POLICY,
      IAP_READ,
      REPO_POLICY,
      PROJECT_POLICY,
      PROJECT_POLICY,
      CLOUD_BUILD,
      MCP_DEPLOY,
      MCP_URL_READ,
      agentDeploy(),
      AGENT_URL_READ,
    ]);
    assert.ok(!r.calls.some((l) => / create |add-iam-policy-binding|ttls update/.test(l)));
    assert.match(r.stderr, /exists: Native mode in us-central1 \(its location cannot change\)/);
  });

  test("BUILD=docker builds locally for linux/amd64, with no build account", (t) => {
    const c = cloud(t);
    const r = ok(
      c.run(make("deploy"), { BUILD: "docker", NODE_IMAGE: "local/node:22" }, { docker: true }),
    );
    assert.deepEqual(r.calls, [
      ENABLE,
      REPO_DESCRIBE,
      REPO_CREATE,
      CLEANUP_POLICY,
      saDescribe(MCP_SA),
      MCP_SA_CREATE,
      saDescribe(SA),
      SA_CREATE,
      ...FIRESTORE_FIRST,
      IAP_READ,
      "gcloud auth configure-docker us-central1-docker.pkg.dev --quiet",
      MCP_DEPLOY,
      MCP_URL_READ,
      agentDeploy(),
      AGENT_URL_READ,
    ]);
    assert.ok(!r.calls.some((l) => l.includes(BUILD_SA)), "no build account for local builds");
    assert.deepEqual(r.docker, [
      `docker build --platform=linux/amd64 --build-arg SERVICE=mcp-server --build-arg NODE_IMAGE=local/node:22 -t ${AR}/mcp-server:t1 .`,
      `docker push ${AR}/mcp-server:t1`,
      `docker build --platform=linux/amd64 --build-arg SERVICE=agent --build-arg NODE_IMAGE=local/node:22 -t ${AR}/agent:t1 .`,
      `docker push ${AR}/agent:t1`,
    ]);
  });

  test("timeouts fit the transport: 3600 s only for SSE; one SSE instance, more warn; both settable", (t) => {
    const c = cloud(t);
    const r = ok(c.run(["scripts/deploy.sh"], { MCP_TRANSPORT: "sse" }));
    assert.equal(
      deployOf(r.calls, "mcp-server"),
      mcpDeploy({ timeout: 3600, instances: 1, affinity: "--session-affinity" }),
    );
    assert.equal(deployOf(r.calls, "agent"), agentDeploy());
    assert.equal(c.env("agent").MCP_SERVER_URL, `${MCP_URL}/sse`);
    assert.doesNotMatch(r.stderr, /warning/);
    const many = ok(c.run(["scripts/deploy.sh"], { MCP_TRANSPORT: "sse", MCP_MAX_INSTANCES: "3" }));
    assert.equal(
      deployOf(many.calls, "mcp-server"),
      mcpDeploy({ timeout: 3600, instances: 3, affinity: "--session-affinity" }),
    );
    assert.match(many.stderr, /warning: MCP_TRANSPORT=sse with MCP_MAX_INSTANCES=3/);
    const set = ok(c.run(["scripts/deploy.sh"], { MCP_TIMEOUT: "120", AGENT_TIMEOUT: "900" }));
    assert.equal(deployOf(set.calls, "mcp-server"), mcpDeploy({ timeout: 120 }));
    assert.equal(deployOf(set.calls, "agent"), agentDeploy({ timeout: 900 }));
  });

  test("MCP_ACCESS=oauth: mcp-server checks OAuth access tokens and the agent's ID token itself", (t) => {
    const c = cloud(t);
    const issuer = "https://tenant.example.auth0.com/";
    const bad = c.run(["scripts/deploy.sh"], { MCP_ACCESS: "oauth" });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /MCP_ACCESS=oauth needs OAUTH_ISSUER/);
    assert.deepEqual(bad.calls, [], "refused before any call");
    const http = c.run(["scripts/deploy.sh"], { MCP_ACCESS: "oauth", OAUTH_ISSUER: "http://x/" });
    assert.match(http.stderr, /OAUTH_ISSUER must be an https URL/);
    assert.match(
      c.run(["scripts/deploy.sh"], { MCP_ACCESS: "open" }).stderr,
      /MCP_ACCESS must be one of: iam oauth/,
    );

    const r = ok(c.run(["scripts/deploy.sh"], { MCP_ACCESS: "oauth", OAUTH_ISSUER: issuer }));
    const line = deployOf(r.calls, "mcp-server");
    assert.match(line, / --no-allow-unauthenticated --no-invoker-iam-check /);
    const base = "https://mcp-server-123456789012.us-central1.run.app";
    assert.deepEqual(c.env("mcp-server"), {
      GOOGLE_CLOUD_PROJECT: "my-project",
      MCP_SERVER_AUTH: "google-id-token,oauth",
      OAUTH_ISSUER: issuer,
      OAUTH_SCOPES: "mcp:tools",
      MCP_RESOURCE_URL: `${base}/mcp`,
      MCP_AUTH_AUDIENCE: base,
      MCP_ALLOWED_INVOKERS: SA,
    });
    assert.equal(c.env("agent").MCP_AUDIENCE, base);
    assert.ok(!c.state().some((l) => l.includes("allUsers")), "no allUsers binding");
    assert.ok(
      c.state().includes("service-ann mcp-server run.googleapis.com/invoker-iam-disabled=true"),
    );
    assert.match(
      r.stderr,
      /Assistants connect to https:\/\/mcp-server-123456789012\.us-central1\.run\.app\/mcp/,
    );
    assert.match(
      ok(c.run(make("status"))).stdout,
      /mcp-access +oauth \(access tokens from https:\/\/tenant\.example\.auth0\.com\/ for https:\/\/mcp-server-123456789012\.us-central1\.run\.app\/mcp/,
    );
    const dry = ok(
      c.run(["scripts/deploy.sh"], { MCP_ACCESS: "oauth", OAUTH_ISSUER: issuer, DRY_RUN: "1" }),
    );
    assert.match(dry.stderr, /== mcp-server \(oauth \(OAuth access tokens from https:\/\/tenant/);
    assert.match(
      dry.stderr,
      /MCP_RESOURCE_URL: "https:\/\/mcp-server-<project-number>\.us-central1\.run\.app\/mcp"/,
    );
    // A custom domain and an audience the authorization server uses instead (Entra's app id).
    const domain = ok(
      c.run(["scripts/deploy.sh"], {
        MCP_ACCESS: "oauth",
        OAUTH_ISSUER: issuer,
        MCP_RESOURCE_URL: "https://mcp.example.com/mcp",
        OAUTH_AUDIENCE: "6f0c9a47-2b1e-4c55-9d0e-3f8a1b2c4d5e",
      }),
    );
    const custom = c.env("mcp-server");
    assert.equal(custom.MCP_RESOURCE_URL, "https://mcp.example.com/mcp");
    assert.equal(custom.OAUTH_AUDIENCE, "6f0c9a47-2b1e-4c55-9d0e-3f8a1b2c4d5e");
    assert.equal(custom.MCP_AUTH_AUDIENCE, base, "the agent's ID token keeps the run.app audience");
    assert.match(domain.stderr, /Assistants connect to https:\/\/mcp\.example\.com\/mcp: /);
    assert.match(
      domain.stderr,
      /note: MCP_RESOURCE_URL=https:\/\/mcp\.example\.com\/mcp \(from the shell or make's command line\)/,
    );
    assert.match(
      ok(c.run(make("status"))).stdout,
      /mcp-access +oauth \(access tokens from \S+ for https:\/\/mcp\.example\.com\/mcp \(aud 6f0c9a47-2b1e-4c55-9d0e-3f8a1b2c4d5e\);/,
    );
    for (const [name, value] of [
      ["MCP_RESOURCE_URL", "http://mcp.example.com/mcp"],
      ["MCP_RESOURCE_URL", "https://mcp.example.com"],
      ["MCP_RESOURCE_URL", "https://mcp.example.com/mcp;X=1"],
      ["MCP_RESOURCE_URL", "https://mcp.example.com/"],
      ["MCP_RESOURCE_URL", 'https://mcp.example.com/"x"/mcp'],
      ["OAUTH_ISSUER", "https://id.example.com/;X=1"],
      ["OAUTH_AUDIENCE", "a b"],
    ] as const) {
      const refused = c.run(["scripts/deploy.sh"], {
        MCP_ACCESS: "oauth",
        OAUTH_ISSUER: issuer,
        [name]: value,
      });
      assert.match(refused.stderr, new RegExp(`${name} must be`), value);
      assert.deepEqual(refused.calls, [], "refused before any call");
    }
    // Back to iam: Cloud Run checks the invoker again, and mcp-server's own auth is off.
    const back = ok(c.run(["scripts/deploy.sh"]));
    assert.equal(deployOf(back.calls, "mcp-server"), MCP_DEPLOY);
    assert.ok(
      !c.state().some((l) => l.includes("mcp-server run.googleapis.com/invoker-iam-disabled")),
    );
    assert.match(
      ok(c.run(make("status"))).stdout,
      /mcp-access +iam \(only callers with roles\/run\.invoker/,
    );
  });

  test("AGENT_ACCESS=public: the invoker check is off and no allUsers binding exists, even one an older deploy made", (t) => {
    const c = cloud(t);
    ok(c.run(["scripts/deploy.sh"]));
    ok(
      c.run([
        "test/support/bin/gcloud",
        "run",
        "services",
        "add-iam-policy-binding",
        "agent",
        P,
        "--region=us-central1",
        "--member=allUsers",
        "--role=roles/run.invoker",
      ]),
    );
    const r = ok(c.run(["scripts/deploy.sh"], { AGENT_ACCESS: "public" }));
    assert.equal(
      deployOf(r.calls, "agent"),
      agentDeploy({ access: "--no-allow-unauthenticated --no-invoker-iam-check" }),
    );
    assert.equal(c.env("agent").AGENT_ACCESS, "public");
    assert.ok(!c.state().some((l) => l.includes("allUsers")), c.state().join("\n"));
    assert.ok(c.state().includes("service-ann agent run.googleapis.com/invoker-iam-disabled=true"));
    assert.match(ok(c.run(make("status"))).stdout, /access +public \(invoker IAM check off/);
    assert.match(
      r.stderr,
      /Then: make smoke AGENT_URL=https:\/\/agent-123456789012\.us-central1\.run\.app\n/,
    );
    assert.match(
      r.stderr,
      /warning: AGENT_ACCESS=public: anyone on the internet can call the agent and spend your Gemini quota/,
    );
    // Back to private: the check is on again.
    ok(c.run(["scripts/deploy.sh"]));
    assert.ok(!c.state().some((l) => l.includes("invoker-iam-disabled")));
    assert.match(
      ok(c.run(make("status"))).stdout,
      /access +private \(only callers with roles\/run\.invoker on agent\)/,
    );
  });

  test("AGENT_ACCESS=iap: IAP on the service, its service agent may invoke, IAP_MEMBERS may pass, the agent knows its audience", (t) => {
    const c = cloud(t);
    const members = "user:alice@example.com,group:team@example.com";
    const r = ok(c.run(make("deploy"), { AGENT_ACCESS: "iap", IAP_MEMBERS: members }));
    const i = r.calls.indexOf(`gcloud projects describe my-project --format=value(projectNumber)`);
    assert.ok(i > 0, "project number read");
    const iapResource = `--resource-type=cloud-run --service=agent --region=us-central1 ${P}`;
    assert.deepEqual(r.calls.slice(i), [
      `gcloud projects describe my-project --format=value(projectNumber)`,
      `gcloud beta services identity create --service=iap.googleapis.com ${P}`,
      agentDeploy({
        cmd: "gcloud beta run deploy",
        access: "--no-allow-unauthenticated --invoker-iam-check --iap",
      }),
      `gcloud run services get-iam-policy agent ${W} ${POLICY}`,
      `gcloud run services add-iam-policy-binding agent ${W} --member=serviceAccount:${IAP_SA} --role=roles/run.invoker`,
      `gcloud beta iap web get-iam-policy ${iapResource} ${POLICY}`,
      `gcloud beta iap web add-iam-policy-binding ${iapResource} --member=user:alice@example.com --role=roles/iap.httpsResourceAccessor`,
      `gcloud beta iap web get-iam-policy ${iapResource} ${POLICY}`,
      `gcloud beta iap web add-iam-policy-binding ${iapResource} --member=group:team@example.com --role=roles/iap.httpsResourceAccessor`,
      `gcloud beta iap web get-iam-policy ${iapResource} ${POLICY}`,
      AGENT_URL_READ,
    ]);
    assert.deepEqual(c.env("agent"), { ...AGENT_ENV, AGENT_ACCESS: "iap", IAP_AUDIENCE });
    assert.ok(
      r.calls[0]!.includes(" iap.googleapis.com cloudresourcemanager.googleapis.com "),
      r.calls[0],
    );
    assert.match(
      r.stderr,
      /Then: open https:\/\/agent-123456789012\.us-central1\.run\.app in a browser and sign in as one of: user:alice@example\.com,group:team@example\.com/,
    );
    const status = ok(c.run(make("status"))).stdout;
    assert.match(
      status,
      /access +iap \(Identity-Aware Proxy signs users in; IAP_AUDIENCE=\/projects\/123456789012\/locations\/us-central1\/services\/agent\)/,
    );
    const again = ok(c.run(["scripts/deploy.sh"], { AGENT_ACCESS: "iap", IAP_MEMBERS: members }));
    assert.ok(
      !again.calls.some((l) => /(add|remove)-iam-policy-binding/.test(l)),
      "a rerun grants and removes nothing",
    );
    // Someone taken off IAP_MEMBERS loses access on the next deploy.
    const fewer = ok(
      c.run(["scripts/deploy.sh"], { AGENT_ACCESS: "iap", IAP_MEMBERS: "user:alice@example.com" }),
    );
    assert.ok(
      fewer.calls.includes(
        `gcloud beta iap web remove-iam-policy-binding ${iapResource} --member=group:team@example.com --role=roles/iap.httpsResourceAccessor`,
      ),
    );
    assert.ok(
      !c
        .state()
        .includes("binding iap/agent roles/iap.httpsResourceAccessor group:team@example.com"),
    );
    assert.ok(
      c
        .state()
        .includes("binding iap/agent roles/iap.httpsResourceAccessor user:alice@example.com"),
    );
    // Leaving iap mode takes back what it added: the access list, IAP itself, the service agent's invoker role.
    const back = ok(c.run(["scripts/deploy.sh"]));
    assert.ok(
      back.calls.includes(
        `gcloud beta iap web remove-iam-policy-binding ${iapResource} --member=user:alice@example.com --role=roles/iap.httpsResourceAccessor`,
      ),
    );
    assert.equal(
      deployOf(back.calls, "agent"),
      agentDeploy({
        cmd: "gcloud beta run deploy",
        access: "--no-allow-unauthenticated --invoker-iam-check --no-iap",
      }),
    );
    assert.ok(
      back.calls.includes(
        `gcloud run services remove-iam-policy-binding agent ${W} --member=serviceAccount:${IAP_SA} --role=roles/run.invoker`,
      ),
    );
    assert.ok(
      !c.state().some((l) => /iap\/agent|service\/agent|iap-enabled/.test(l)),
      c.state().join("\n"),
    );
  });

  test("AGENT_ACCESS=iap without IAP_MEMBERS, or with a malformed member, stops before any gcloud call", (t) => {
    const c = cloud(t);
    const none = c.run(["scripts/deploy.sh"], { AGENT_ACCESS: "iap" });
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /error: AGENT_ACCESS=iap needs IAP_MEMBERS, e\.g\. IAP_MEMBERS=user:alice@example\.com/,
    );
    const bad = c.run(["scripts/deploy.sh"], {
      AGENT_ACCESS: "iap",
      IAP_MEMBERS: "alice@example.com",
    });
    assert.match(bad.stderr, /error: IAP_MEMBERS entries look like user:EMAIL/);
    assert.deepEqual([...none.calls, ...bad.calls], []);
  });

  test("Firestore: an existing Native database is reused, a Datastore-mode one stops the deploy with what to do", (t) => {
    const native = cloud(t);
    native.seed("api firestore.googleapis.com");
    native.seed("firestore (default) FIRESTORE_NATIVE nam5");
    const r = ok(native.run(["scripts/deploy.sh"]));
    assert.ok(!r.calls.some((l) => l.includes("firestore databases create")));
    assert.match(r.stderr, /exists: Native mode in nam5/);
    const datastore = cloud(t);
    datastore.seed("api firestore.googleapis.com");
    datastore.seed("firestore (default) DATASTORE_MODE us-central1");
    const d = datastore.run(["scripts/deploy.sh"]);
    assert.equal(d.code, 1);
    assert.match(
      d.stderr,
      /error: database \(default\) in my-project is in Datastore mode \(DATASTORE_MODE\); the agent needs Firestore in Native mode\..*FIRESTORE_DATABASE=agent-sessions/,
    );
    assert.ok(!d.calls.some((l) => / run deploy /.test(l)), "nothing deployed");
    // Another database by name: created beside it, and the agent told its name.
    const other = ok(
      datastore.run(["scripts/deploy.sh"], { FIRESTORE_DATABASE: "agent-sessions" }),
    );
    assert.ok(
      other.calls.includes(
        `gcloud firestore databases create --database=agent-sessions --location=us-central1 --type=firestore-native ${P}`,
      ),
    );
    assert.equal(datastore.env("agent").FIRESTORE_DATABASE, "agent-sessions");
  });

  test("Firestore location: REGION when it is one, a clear stop when it is not, FIRESTORE_LOCATION overrides", (t) => {
    const c = cloud(t);
    const r = c.run(["scripts/deploy.sh"], { REGION: "us-north9" });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error: REGION us-north9 is not a Firestore location, and the database location is permanent: set FIRESTORE_LOCATION/,
    );
    assert.deepEqual(r.calls, [], "stopped before anything, the build included");
    const bad = c.run(["scripts/deploy.sh"], { FIRESTORE_LOCATION: "europe" });
    assert.match(bad.stderr, /error: FIRESTORE_LOCATION europe is not a Firestore location/);
    assert.deepEqual(bad.calls, []);
    // SESSION_STORE=memory needs no Firestore location.
    ok(
      c.run(["scripts/deploy.sh"], { REGION: "us-north9", SESSION_STORE: "memory", DRY_RUN: "1" }),
    );
    const nam5 = ok(c.run(["scripts/deploy.sh"], { FIRESTORE_LOCATION: "nam5" }));
    assert.ok(nam5.calls.includes(fsCreate("nam5")));
    assert.ok(c.state().includes("firestore (default) FIRESTORE_NATIVE nam5"));
  });

  test("SESSION_STORE=memory: no Firestore at all, and session affinity for the agent", (t) => {
    const c = cloud(t);
    const r = ok(c.run(["scripts/deploy.sh"], { SESSION_STORE: "memory" }));
    assert.ok(!r.calls.some((l) => /firestore|datastore/.test(l)), r.calls.join("\n"));
    assert.equal(
      deployOf(r.calls, "agent"),
      agentDeploy({ affinity: "--session-affinity", instances: 1 }),
    );
    assert.equal(c.env("agent").SESSION_STORE, "memory");
    assert.doesNotMatch(r.stderr, /warning/);
    // More instances than one: a warning, as for SSE.
    const many = ok(
      c.run(["scripts/deploy.sh"], { SESSION_STORE: "memory", AGENT_MAX_INSTANCES: "4" }),
    );
    assert.equal(
      deployOf(many.calls, "agent"),
      agentDeploy({ affinity: "--session-affinity", instances: 4 }),
    );
    assert.match(
      many.stderr,
      /warning: SESSION_STORE=memory with AGENT_MAX_INSTANCES=4: session affinity is best effort;/,
    );
    assert.match(ok(c.run(make("status"))).stdout, /sessions +memory \(in each instance's memory/);
  });

  test("TRACING=1: Telemetry API on, tracesWriter for both accounts, OTLP settings on both services; clean takes the grants back", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("deploy"), { TRACING: "1" }));
    assert.match(r.calls[0]!, / telemetry\.googleapis\.com /);
    for (const email of [SA, MCP_SA]) {
      assert.ok(
        r.calls.includes(grantProject("roles/telemetry.tracesWriter", `serviceAccount:${email}`)),
        email,
      );
    }
    for (const svc of ["mcp-server", "agent"]) {
      const env = c.env(svc);
      assert.equal(env.OTEL_TRACES_EXPORTER, "otlp");
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, "https://telemetry.googleapis.com");
      assert.equal(env.OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf");
      assert.equal(env.OTEL_SERVICE_NAME, svc);
      assert.equal(env.OTEL_RESOURCE_ATTRIBUTES, "gcp.project_id=my-project");
      assert.equal(env.GOOGLE_CLOUD_PROJECT, "my-project");
    }
    ok(c.run(["scripts/deploy.sh"]));
    assert.ok(
      !Object.keys(c.env("agent")).some((k) => k.startsWith("OTEL_")),
      "turning tracing off removes the settings",
    );
    const clean = ok(c.run(make("clean"), { YES: "1" }));
    for (const email of [SA, MCP_SA]) {
      assert.ok(
        clean.calls.includes(
          revokeProject("roles/telemetry.tracesWriter", `serviceAccount:${email}`),
        ),
        email,
      );
    }
    assert.ok(!c.state().some((l) => l.includes("tracesWriter")));
  });

  test("bad option values are refused before any gcloud call", (t) => {
    const c = cloud(t);
    for (const [k, v] of [
      ["BUILD", "kaniko"],
      ["MCP_TRANSPORT", "ws"],
      ["AGENT_ACCESS", "open"],
      ["SESSION_STORE", "redis"],
      ["TRACING", "yes"],
      ["MCP_TIMEOUT", "5m"],
      ["IMAGE_KEEP_COUNT", "0"],
    ] as const) {
      const r = c.run(["scripts/deploy.sh"], { [k]: v });
      assert.equal(r.code, 1, `${k}=${v}`);
      assert.match(r.stderr, new RegExp(`error: ${k} must be`));
      assert.deepEqual(r.calls, []);
    }
    // The AGENT_PUBLIC shim is gone: the variable means nothing now.
    assert.doesNotMatch(readFileSync(join(root, "scripts/deploy.sh"), "utf8"), /AGENT_PUBLIC/);
    assert.equal(c.run(["scripts/deploy.sh"], { AGENT_PUBLIC: "1", DRY_RUN: "1" }).code, 0);
    for (const [k, v] of [
      ["AGENT_TIMEOUT", "7200"],
      ["MCP_TIMEOUT", "3601"],
    ] as const) {
      const r = c.run(["scripts/deploy.sh"], { [k]: v });
      assert.equal(r.code, 1, `${k}=${v}`);
      assert.match(r.stderr, new RegExp(`error: ${k} is at most 3600 seconds on Cloud Run`));
      assert.deepEqual(
        [r.calls, r.versionReads],
        [[], 0],
        "stopped before gcloud was asked anything",
      );
    }
  });

  test("IMAGE_KEEP_COUNT sets how many images of each service the cleanup policy keeps", (t) => {
    const c = cloud(t);
    ok(c.run(["scripts/deploy.sh"], { IMAGE_KEEP_COUNT: "3" }));
    assert.ok(c.state().includes("cleanup-policy mcp-agent mcp-agent-keep-newest 3"));
  });

  test("make iam grants run.invoker on mcp-server and aiplatform.user on the project, once", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const r = ok(c.run(make("iam")));
    assert.deepEqual(r.calls, FIRST_IAM);
    assert.match(
      r.stderr,
      /granted: roles\/run\.invoker to serviceAccount:mcp-agent@my-project\.iam\.gserviceaccount\.com on service mcp-server/,
    );
    assert.match(r.stderr, /granted: roles\/aiplatform\.user to .* on project my-project/);
    const again = ok(c.run(make("iam")));
    assert.deepEqual(
      again.calls,
      [...IAM_CHECKS, RUN_POLICY, PROJECT_POLICY],
      "second run only reads",
    );
    assert.match(again.stderr, /already granted: roles\/run\.invoker/);
  });

  test("make iam GEMINI_ENTERPRISE=1 grants run.invoker on the agent to the Discovery Engine service agent, once", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const geminiEnterprise = "service-123456789012@gcp-sa-discoveryengine.iam.gserviceaccount.com";
    const agentPolicy = `gcloud run services get-iam-policy agent ${W} ${POLICY}`;
    const reads = [
      `gcloud run services describe agent ${W} --format=value(status.url)`,
      "gcloud projects describe my-project --format=value(projectNumber)",
      agentPolicy,
    ];
    // Google makes the service agent when Gemini Enterprise is first used: gcloud refuses before.
    const early = c.run(make("iam"), { GEMINI_ENTERPRISE: "1" });
    assert.notEqual(early.code, 0);
    assert.match(
      early.stderr,
      /Service account service-123456789012@gcp-sa-discoveryengine\.iam\.gserviceaccount\.com does not exist/,
    );
    c.seed(`sa ${geminiEnterprise}`);
    const r = ok(c.run(make("iam"), { GEMINI_ENTERPRISE: "1" }));
    assert.deepEqual(r.calls.slice(-4), [
      ...reads,
      `gcloud run services add-iam-policy-binding agent ${W} --member=serviceAccount:${geminiEnterprise} --role=roles/run.invoker`,
    ]);
    assert.match(
      r.stderr,
      /granted: roles\/run\.invoker to serviceAccount:service-123456789012@gcp-sa-discoveryengine\.iam\.gserviceaccount\.com on service agent/,
    );
    assert.match(
      r.stderr,
      /register the agent \(A2A v0\.3\) by its card, https:\/\/agent-123456789012\.us-central1\.run\.app\/\.well-known\/agent-card\.json/,
    );
    const again = ok(c.run(make("iam"), { GEMINI_ENTERPRISE: "1" }));
    assert.deepEqual(again.calls.slice(-3), reads, "second run only reads");
    assert.match(again.stderr, /already granted: roles\/run\.invoker to serviceAccount:service-/);
    // Without the option nothing about the agent is read or granted.
    assert.ok(!ok(c.run(make("iam"))).calls.some((l) => / agent /.test(l)));
  });

  test("make iam before make deploy says to deploy first and grants nothing", (t) => {
    const c = cloud(t);
    const r = c.run(make("iam"));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /error: service mcp-server not found in my-project\/us-central1: run make deploy first \(nothing was granted\)/,
    );
    assert.deepEqual(r.calls, [svcDescribe("mcp-server")]);
  });

  test("make status shows URLs, accounts, access, the session store and whether the bindings exist", (t) => {
    const c = cloud(t);
    const before = ok(c.run(make("status")));
    assert.match(before.stdout, /mcp-server +not deployed/);
    assert.match(before.stdout, /roles\/run\.invoker .*: MISSING \(make iam\)/);
    ok(c.run(make("deploy")));
    const mid = ok(c.run(make("status")));
    assert.match(
      mid.stdout,
      new RegExp(
        `mcp-server +https://mcp-server-123456789012\\.us-central1\\.run\\.app  \\(runs as ${MCP_SA}, `,
      ),
    );
    assert.match(
      mid.stdout,
      new RegExp(
        `agent +https://agent-123456789012\\.us-central1\\.run\\.app  \\(runs as ${SA}, revision agent-00001-abc\\)`,
      ),
    );
    assert.match(mid.stdout, /access +private/);
    assert.match(
      mid.stdout,
      /sessions +firestore: database \(default\) \(FIRESTORE_NATIVE in us-central1\), collection agent-sessions, TTL on expire_at/,
    );
    assert.match(mid.stdout, /roles\/aiplatform\.user .*: MISSING/);
    assert.match(mid.stdout, /roles\/datastore\.user .*: granted/);
    ok(c.run(make("iam")));
    const after = ok(c.run(make("status")));
    assert.match(after.stdout, /roles\/run\.invoker for .* on mcp-server: granted/);
    assert.match(after.stdout, /roles\/aiplatform\.user for .* on project: granted/);
    assert.ok(
      !after.calls.some((l) => /(add|remove)-iam|create|delete|deploy |update/.test(l)),
      "status only reads",
    );
  });

  test("DRY_RUN=1 make status prints the commands it would run and no state at all", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const r = ok(c.run(make("status"), { DRY_RUN: "1" }));
    assert.deepEqual(r.calls, [], "gcloud never ran");
    assert.equal(r.stdout, "", "nothing that looks like state");
    assert.match(r.stderr, /Dry run: make status would run these read-only commands/);
    assert.ok(printed(r.stderr).includes(FS_DESCRIBE.replace(` ${P}`, ` ${P}`)), r.stderr);
    assert.doesNotMatch(r.stderr, /granted|MISSING|not deployed/);
  });

  test("make proxy runs gcloud run services proxy for mcp-server on 8082 (PROXY_PORT overrides)", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("proxy")));
    assert.deepEqual(r.calls, [`gcloud run services proxy mcp-server ${W} --port=8082`]);
    assert.match(r.stderr, /MCP_SERVER_URL=http:\/\/127\.0\.0\.1:8082\/mcp/);
    assert.match(
      r.stderr,
      /or your own MCP client \(Claude Code, VS Code, Gemini CLI, MCP Inspector\) at http:\/\/127\.0\.0\.1:8082\/mcp/,
    );
    assert.deepEqual(ok(c.run(["scripts/proxy.sh"], { PROXY_PORT: "9000" })).calls, [
      `gcloud run services proxy mcp-server ${W} --port=9000`,
    ]);
  });

  test("make clean YES=1 removes every binding, both services, the three accounts, the images and policies; keeps the database and APIs", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    ok(c.run(make("iam")));
    const r = ok(c.run(make("clean"), { YES: "1" }));
    const reads = r.calls.filter((l) => / get-iam-policy /.test(l));
    assert.deepEqual(reads, CLEAN_IAM_READS);
    assert.deepEqual(r.calls.slice(r.calls.indexOf(IAP_READ) + 1), [
      ...CLEAN_SERVICES,
      ...CLEAN_ACCOUNTS,
      ...CLEAN_IMAGES,
    ]);
    assert.ok(
      !r.calls.some(
        (l) => l.includes("services disable") || l.includes("firestore databases delete"),
      ),
    );
    // What remains is what deploy never owned alone: the APIs, the empty repository, the database.
    assert.deepEqual(
      c.state().filter((l) => !l.startsWith("api ")),
      [
        "repo mcp-agent",
        "firestore (default) FIRESTORE_NATIVE us-central1",
        "ttl (default) agent-sessions expire_at",
      ],
    );
    assert.match(
      r.stderr,
      /The Firestore database \(default\) and its sessions stay \(DELETE_FIRESTORE=1 deletes them\)/,
    );
    assert.match(
      r.stderr,
      /To start again: make deploy PROJECT_ID=my-project REGION=us-central1 && make iam/,
    );
  });

  test("clean after AGENT_ACCESS=iap empties the IAP access list before the service goes", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy"), { AGENT_ACCESS: "iap", IAP_MEMBERS: "user:alice@example.com" }));
    const r = ok(c.run(make("clean"), { YES: "1" }));
    const remove = r.calls.indexOf(
      `gcloud beta iap web remove-iam-policy-binding --resource-type=cloud-run --service=agent --region=us-central1 ${P} --member=user:alice@example.com --role=roles/iap.httpsResourceAccessor`,
    );
    assert.ok(remove >= 0 && remove < r.calls.indexOf(svcDelete("agent")), r.calls.join("\n"));
    assert.ok(
      !c.state().some((l) => l.startsWith("binding ") || l.startsWith("service")),
      c.state().join("\n"),
    );
  });

  test("clean removes bindings before the service accounts, so no deleted:serviceAccount member lingers", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy"), { TRACING: "1" }));
    ok(c.run(make("iam")));
    ok(c.run(["scripts/clean.sh"], { YES: "1", KEEP_IMAGES: "1" }));
    assert.ok(!c.state().some((l) => l.includes("deleted:")), c.state().join("\n"));
  });

  test("KEEP_IMAGES=1 keeps the images; KEEP_IAM=1 keeps the bindings and the service accounts", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    ok(c.run(make("iam")));
    const keep = ok(c.run(["scripts/clean.sh"], { YES: "1", KEEP_IMAGES: "1", KEEP_IAM: "1" }));
    assert.deepEqual(keep.calls, [IAP_READ, ...CLEAN_SERVICES]);
    assert.match(keep.stderr, /Images kept \(KEEP_IMAGES=1\)/);
    assert.match(keep.stderr, /IAM kept \(KEEP_IAM=1\)/);
    assert.ok(
      c.state().includes("package agent") &&
        c.state().includes(`sa ${SA}`) &&
        c.state().includes(`sa ${BUILD_SA}`),
    );
    assert.ok(c.state().includes(`binding project roles/aiplatform.user ${MEMBER}`));
    assert.match(
      keep.stderr,
      /roles\/run\.invoker is part of the mcp-server service and goes with it/,
    );
    // A quick restart reuses the kept accounts; the new mcp-server needs only its run.invoker again.
    const redeploy = ok(c.run(make("deploy")));
    assert.ok(
      !redeploy.calls.some((l) => / create |add-iam-policy-binding/.test(l)),
      redeploy.calls.join("\n"),
    );
    assert.deepEqual(ok(c.run(make("iam"))).calls, [
      ...IAM_CHECKS,
      RUN_POLICY,
      GRANT_INVOKER,
      PROJECT_POLICY,
    ]);
    const keepIam = ok(c.run(["scripts/clean.sh"], { YES: "1", KEEP_IAM: "1" }));
    assert.deepEqual(keepIam.calls, [IAP_READ, ...CLEAN_SERVICES, ...CLEAN_IMAGES]);
  });

  test("a second clean deletes nothing and fails on nothing", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    ok(c.run(make("iam")));
    ok(c.run(make("clean"), { YES: "1" }));
    const r = ok(c.run(make("clean"), { YES: "1" }));
    assert.deepEqual(r.calls, [
      ...CLEAN_IAM_READS,
      IAP_READ,
      svcDescribe("agent"),
      svcDescribe("mcp-server"),
      saMarkRead(SA),
      saMarkRead(MCP_SA),
      saMarkRead(BUILD_SA),
      pkgDescribe("mcp-server"),
      pkgDescribe("agent"),
      REPO_DESCRIBE,
      CLEAN_IMAGES.at(-1)!,
    ]);
    assert.match(r.stderr, /already gone: service agent/);
  });

  test("clean refuses without confirmation: closed stdin, or any answer but yes", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const closed = c.run(["scripts/clean.sh"]);
    assert.equal(closed.code, 1);
    assert.match(
      closed.stderr,
      /no confirmation \(stdin is closed\); nothing was changed\. Rerun with YES=1/,
    );
    assert.doesNotMatch(closed.stderr, /stopped part-way/);
    const no = c.run(["scripts/clean.sh"], {}, { input: "no\n" });
    assert.equal(no.code, 1);
    assert.match(no.stderr, /not confirmed \(got "no"\)/);
    assert.deepEqual([...closed.calls, ...no.calls], []);
    const yes = ok(c.run(["scripts/clean.sh"], {}, { input: "yes\n" }));
    assert.ok(yes.calls.includes(svcDelete("mcp-server")));
  });

  test("DELETE_FIRESTORE=1 deletes the database only after its own confirmation, which YES=1 does not give", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const yesOnly = c.run(["scripts/clean.sh"], { YES: "1", DELETE_FIRESTORE: "1" });
    assert.equal(yesOnly.code, 1);
    assert.match(
      yesOnly.stderr,
      /Delete the Firestore database \(default\) of project my-project, with every document in it\? Type its name to confirm:/,
    );
    assert.match(
      yesOnly.stderr,
      /the database name was not typed \(got ""\); nothing was changed\./,
    );
    assert.deepEqual(yesOnly.calls, []);
    const wrong = c.run(["scripts/clean.sh"], { DELETE_FIRESTORE: "1" }, { input: "yes\nyes\n" });
    assert.equal(wrong.code, 1);
    assert.deepEqual(wrong.calls, []);
    const typed = ok(
      c.run(["scripts/clean.sh"], { DELETE_FIRESTORE: "1" }, { input: "yes\n(default)\n" }),
    );
    assert.ok(typed.calls.includes(`gcloud firestore databases delete ${DB} --quiet ${P}`));
    assert.ok(!c.state().some((l) => l.startsWith("firestore ") || l.startsWith("ttl ")));
    // In scripts: FIRESTORE_DELETE_CONFIRM names the database.
    const again = cloud(t);
    ok(again.run(make("deploy")));
    ok(
      again.run(["scripts/clean.sh"], {
        YES: "1",
        DELETE_FIRESTORE: "1",
        FIRESTORE_DELETE_CONFIRM: "(default)",
      }),
    );
    assert.ok(!again.state().some((l) => l.startsWith("firestore ")));
  });

  test("DRY_RUN=1 prints every command, runs none, and clean asks nothing", (t) => {
    const c = cloud(t);
    // No YES=1 and stdin closed: a dry-run clean must not ask.
    const r = ok(c.run(make("deploy", "iam", "clean"), { DRY_RUN: "1" }));
    assert.deepEqual(r.calls, [], "gcloud never ran");
    assert.deepEqual(c.state(), []);
    assert.doesNotMatch(r.stderr, /Type "yes"/);
    const firstDeploy = FIRST_DEPLOY.slice(0, -1);
    firstDeploy[firstDeploy.length - 1] = agentDeploy();
    const expected = [
      ...firstDeploy,
      ...FIRST_IAM,
      ...CLEAN_IAM_READS.flatMap((read, i) => [
        read,
        [
          revokeProject("roles/aiplatform.user", MEMBER),
          revokeProject("roles/datastore.user", MEMBER),
          revokeProject("roles/telemetry.tracesWriter", MEMBER),
          revokeProject("roles/telemetry.tracesWriter", `serviceAccount:${MCP_SA}`),
          revokeProject("roles/logging.logWriter", `serviceAccount:${BUILD_SA}`),
          revokeProject("roles/storage.objectViewer", `serviceAccount:${BUILD_SA}`),
          `gcloud artifacts repositories remove-iam-policy-binding mcp-agent ${L} --member=serviceAccount:${BUILD_SA} --role=roles/artifactregistry.writer`,
          `gcloud run services remove-iam-policy-binding mcp-server ${W} --member=${MEMBER} --role=roles/run.invoker`,
        ][i]!,
      ]),
      ...CLEAN_SERVICES,
      ...CLEAN_ACCOUNTS,
      ...CLEAN_IMAGES,
    ];
    assert.deepEqual(printed(r.stderr), expected);
    assert.match(r.stderr, /would be granted: roles\/run\.invoker/);
    assert.match(r.stderr, /would be removed: roles\/aiplatform\.user/);
    assert.match(r.stderr, /Dry run: nothing was changed\.[\s\S]*Dry run: nothing was deleted\./);
  });

  test("DRY_RUN=1 BUILD=docker prints the docker commands without running docker", (t) => {
    const c = cloud(t);
    const r = ok(c.run(["scripts/deploy.sh"], { DRY_RUN: "1", BUILD: "docker" }, { docker: true }));
    assert.deepEqual([...r.calls, ...r.docker], []);
    assert.match(
      r.stderr,
      /\+ docker push us-central1-docker\.pkg\.dev\/my-project\/mcp-agent\/agent:t1/,
    );
  });

  for (const script of ["deploy", "iam", "status", "proxy", "clean"]) {
    test(`${script}: names each missing required variable before any gcloud call`, (t) => {
      const c = cloud(t);
      for (const missing of ["PROJECT_ID", "REGION"]) {
        const r = c.run(make(script), { [missing]: "", YES: "1" });
        assert.notEqual(r.code, 0);
        assert.match(
          r.stderr,
          new RegExp(
            `error: ${missing} is required, e\\.g\\. make ${script} PROJECT_ID=my-project REGION=us-central1`,
          ),
        );
        assert.deepEqual(r.calls, []);
      }
    });
  }

  test("a gcloud failure other than not-found stops clean, status and iam with gcloud's message", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    for (const script of ["clean", "status", "iam"]) {
      const r = c.run(make(script), { YES: "1", GCLOUD_LOGGED_OUT: "1" });
      assert.notEqual(r.code, 0, script);
      assert.match(r.stderr, /You do not currently have an active account selected/, script);
      assert.match(r.stderr, /error: could not read: gcloud /, script);
      assert.doesNotMatch(
        r.stdout + r.stderr,
        /already gone|not deployed|not bound|Clean\./,
        script,
      );
      assert.equal(
        r.calls.length,
        1,
        `${script} stops at the first failure: ${r.calls.join("\n")}`,
      );
    }
    assert.ok(c.state().includes("service agent"), "nothing was deleted");
  });

  test("the stand-in refuses what gcloud refuses: --iap off the beta track, unknown probe keys, bad env syntax", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const gcloud = (...args: string[]): Result => c.run(["test/support/bin/gcloud", ...args]);
    const base = ["run", "deploy", "agent", `--image=${AR}/agent:t1`, P, "--region=us-central1"];
    const ga = gcloud(...base, "--iap");
    assert.equal(ga.code, 2);
    assert.match(ga.stderr, /ERROR: \(gcloud\.run\.deploy\) unrecognized arguments: --iap/);
    assert.equal(gcloud("beta", ...base, "--iap").code, 0);
    assert.match(
      gcloud(...base, "--startup-probe=path=/health").stderr,
      /Key \[path\] not recognized for startup probe/,
    );
    assert.match(
      gcloud(...base, "--liveness-probe=tcpSocket.port=8080").stderr,
      /Key \[tcpSocket\.port\] not recognized for liveness probe/,
    );
    assert.match(gcloud(...base, "--set-env-vars=A=1,b").stderr, /Bad syntax for dict arg: \[b\]/);
    const yaml = (text: string): string => {
      const f = join(c.stateFile, "..", "env.yaml");
      writeFileSync(f, text);
      return `--env-vars-file=${f}`;
    };
    const number = gcloud(...base, yaml("A: 1\n"));
    assert.equal(number.code, 2);
    assert.match(number.stderr, /Environment variable values must be strings\. Found 1/);
    assert.match(gcloud(...base, yaml('A: ["1"\n')).stderr, /Failed to parse YAML/);
    assert.match(
      gcloud(...base, yaml('PORT: "9000"\n')).stderr,
      /The following reserved env names were provided: PORT/,
    );
    assert.match(
      gcloud(...base, yaml('A: "1"\n'), "--set-env-vars=B=2").stderr,
      /At most one of .*--env-vars-file \| --set-env-vars/,
    );
    assert.match(
      gcloud(
        "projects",
        "add-iam-policy-binding",
        "my-project",
        "--member=serviceAccount:nobody@my-project.iam.gserviceaccount.com",
        "--role=roles/viewer",
      ).stderr,
      /Service account nobody@my-project\.iam\.gserviceaccount\.com does not exist/,
    );
  });

  test("deploy and clean read `gcloud version` once, first; gcloud 528 uses the beta track for IAP", (t) => {
    const c = cloud(t);
    const iap = { AGENT_ACCESS: "iap", IAP_MEMBERS: "user:alice@example.com" };
    const r = ok(c.run(["scripts/deploy.sh"], iap));
    assert.equal(r.firstCall, "gcloud version --format=json");
    assert.equal(r.versionReads, 1);
    assert.match(
      r.stderr,
      /gcloud 528\.0\.0: IAP commands on the beta track \(GA from gcloud 558\)/,
    );
    assert.match(deployOf(r.calls, "agent"), /^gcloud beta run deploy agent .* --iap /);
    assert.ok(
      r.calls.some((l) =>
        l.startsWith("gcloud beta iap web add-iam-policy-binding --resource-type=cloud-run "),
      ),
    );
    assert.ok(!r.calls.some((l) => l.startsWith("gcloud iap web")), "no GA iap web on 528");
    const clean = ok(c.run(["scripts/clean.sh"], { YES: "1" }));
    assert.equal(clean.firstCall, "gcloud version --format=json");
    assert.ok(
      clean.calls.some((l) => l.startsWith("gcloud beta iap web remove-iam-policy-binding ")),
      clean.calls.join("\n"),
    );
  });

  test("gcloud 558 and later: IAP with the GA commands (only the IAP service agent stays on beta)", (t) => {
    const c = cloud(t);
    const ga = { GCLOUD_STANDIN_VERSION: "558.0.0" };
    const iap = { ...ga, AGENT_ACCESS: "iap", IAP_MEMBERS: "user:alice@example.com" };
    const r = ok(c.run(["scripts/deploy.sh"], iap));
    assert.match(r.stderr, /gcloud 558\.0\.0: IAP commands on the GA track/);
    assert.equal(
      deployOf(r.calls, "agent"),
      agentDeploy({ access: "--no-allow-unauthenticated --invoker-iam-check --iap" }),
    );
    assert.equal(c.env("agent").IAP_AUDIENCE, IAP_AUDIENCE);
    const iapResource = `--resource-type=cloud-run --service=agent --region=us-central1 ${P}`;
    assert.ok(
      r.calls.includes(
        `gcloud iap web add-iam-policy-binding ${iapResource} --member=user:alice@example.com --role=roles/iap.httpsResourceAccessor`,
      ),
      r.calls.join("\n"),
    );
    assert.deepEqual(
      r.calls.filter((l) => l.startsWith("gcloud beta ")),
      [`gcloud beta services identity create --service=iap.googleapis.com ${P}`],
    );
    // Leaving iap mode on the GA track too.
    const back = ok(c.run(["scripts/deploy.sh"], ga));
    assert.equal(
      deployOf(back.calls, "agent"),
      agentDeploy({ access: "--no-allow-unauthenticated --invoker-iam-check --no-iap" }),
    );
    assert.ok(
      back.calls.includes(
        `gcloud iap web remove-iam-policy-binding ${iapResource} --member=user:alice@example.com --role=roles/iap.httpsResourceAccessor`,
      ),
    );
    assert.ok(!c.state().some((l) => /iap-enabled|iap\/agent/.test(l)), c.state().join("\n"));
    // A deploy without IAP uses no beta command at all.
    const plain = ok(c.run(["scripts/deploy.sh"], ga));
    assert.ok(!plain.calls.some((l) => l.startsWith("gcloud beta ")));
  });

  test("AGENT_ACCESS=iap without gcloud's beta component stops before anything is built, saying how to install it", (t) => {
    for (const version of ["528.0.0", "560.0.0"]) {
      const c = cloud(t);
      const r = c.run(["scripts/deploy.sh"], {
        GCLOUD_STANDIN_VERSION: version,
        GCLOUD_STANDIN_NO_BETA: "1",
        AGENT_ACCESS: "iap",
        IAP_MEMBERS: "user:alice@example.com",
      });
      assert.equal(r.code, 1, version);
      assert.match(
        r.stderr,
        new RegExp(
          `error: AGENT_ACCESS=iap .*needs gcloud's beta component, which gcloud ${version.replace(/\./g, "\\.")} here lacks: gcloud components install beta`,
        ),
      );
      assert.deepEqual(r.calls, [], `${version}: nothing ran, no build`);
    }
    // Without IAP the beta component is not needed, except to switch IAP off again before gcloud 558.
    ok(
      cloud(t).run(["scripts/deploy.sh"], {
        GCLOUD_STANDIN_VERSION: "560.0.0",
        GCLOUD_STANDIN_NO_BETA: "1",
      }),
    );
    ok(cloud(t).run(["scripts/deploy.sh"], { GCLOUD_STANDIN_NO_BETA: "1" }));
    const c = cloud(t);
    ok(
      c.run(["scripts/deploy.sh"], { AGENT_ACCESS: "iap", IAP_MEMBERS: "user:alice@example.com" }),
    );
    const leave = c.run(["scripts/deploy.sh"], { GCLOUD_STANDIN_NO_BETA: "1" });
    assert.equal(leave.code, 1);
    assert.match(
      leave.stderr,
      /error: Turning IAP off on agent with gcloud beta run deploy --no-iap needs gcloud's beta component/,
    );
    assert.ok(!leave.calls.some((l) => / builds submit /.test(l)), "stopped before the build");
  });

  test("the stand-in answers `gcloud version` both ways, and refuses the GA IAP commands below 558", (t) => {
    const c = cloud(t);
    const v = (env: Record<string, string>): Record<string, string> =>
      JSON.parse(
        c.run(["test/support/bin/gcloud", "version", "--format=json"], env).stdout,
      ) as Record<string, string>;
    assert.equal(v({})["Google Cloud SDK"], "528.0.0");
    assert.ok("beta" in v({}));
    assert.equal(v({ GCLOUD_STANDIN_VERSION: "558.0.0" })["Google Cloud SDK"], "558.0.0");
    assert.ok(!("beta" in v({ GCLOUD_STANDIN_NO_BETA: "1" })));
    const iapWeb = [
      "iap",
      "web",
      "get-iam-policy",
      "--resource-type=cloud-run",
      "--service=agent",
      "--region=us-central1",
      P,
    ];
    assert.match(
      c.run(["test/support/bin/gcloud", ...iapWeb]).stderr,
      /Invalid choice: 'cloud-run'/,
    );
    assert.match(
      c.run(["test/support/bin/gcloud", "beta", "run", "deploy", "agent"], {
        GCLOUD_STANDIN_NO_BETA: "1",
      }).stderr,
      /requires the installation of components: \[beta\]/,
    );
  });

  test("a dry run reads as a plan: conditional commands marked, no temporary files, no $(…) to open, no IAP step without IAP", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("deploy", "iam", "clean"), { DRY_RUN: "1" }));
    const plan = r.stderr.split("\n").filter((l) => l.startsWith("+ "));
    for (const l of plan) {
      if (
        / (create|delete|add-iam-policy-binding|remove-iam-policy-binding|delete-cleanup-policies) | ttls update /.test(
          l,
        )
      ) {
        assert.match(
          l,
          / {3}# only if the (describe above finds (nothing|it|it, with the mark in its description)|policy above (lacks|has) it|list above has no expire_at)$/,
          l,
        );
      }
    }
    assert.ok(
      plan.some((l) =>
        / artifacts repositories create .*# only if the describe above finds nothing$/.test(l),
      ),
    );
    assert.doesNotMatch(r.stderr, /\/tmp\//, "no temporary file in the plan");
    assert.match(
      r.stderr,
      /\+ gcloud artifacts repositories set-cleanup-policies mcp-agent --policy=\.cache\/cleanup-policy\.json /,
    );
    assert.match(r.stderr, /"keepCount": 10/, "the policy is printed");
    assert.doesNotMatch(r.stderr, /(open|AGENT_URL=)\$\(/);
    assert.match(r.stderr, /Then: make smoke AGENT_URL=<agent-url> /);
    assert.doesNotMatch(
      r.stderr,
      /iap web/,
      "clean's plan for a deploy without IAP has no IAP step",
    );
    assert.match(r.stderr, /\(no IAP step: AGENT_ACCESS=private\./);
    const withIap = ok(
      c.run(make("deploy", "clean"), {
        DRY_RUN: "1",
        AGENT_ACCESS: "iap",
        IAP_MEMBERS: "user:alice@example.com",
      }),
    );
    assert.match(withIap.stderr, /Then: open <agent-url> in a browser/);
    assert.match(
      withIap.stderr,
      /== IAP access list of agent\n\+ gcloud beta iap web get-iam-policy /,
    );
  });

  test("every setting in .env reaches each service's env-vars file exactly: commas, quotes, ; # : and a newline", (t) => {
    const c = cloud(t);
    const lists = deployLists();
    const tricky = (name: string): string =>
      `${name},X=1;NODE_OPTIONS=--inspect "q" 'a' #no: comment\\`;
    // Values the scripts check (choices, names, URLs) get valid ones that still hold a comma or ;.
    const valid: Record<string, string> = {
      AGENT_ACCESS: "public",
      SESSION_STORE: "memory",
      FIRESTORE_DATABASE: "sessions-db",
      OAUTH_ISSUER: "https://id.example.com/",
      MCP_RESOURCE_URL: "https://mcp.example.com/mcp",
      OAUTH_SCOPES: "mcp:tools read:rates",
      OAUTH_AUDIENCE: "api://rates,v2;x",
    };
    const urls = new Set(lists.URL_SETTINGS);
    const value = (n: string): string =>
      valid[n] ??
      (urls.has(n)
        ? `https://${n.toLowerCase().replaceAll("_", "-")}.example.com/a,b;c`
        : tricky(n));
    const carried = {
      agent: [...lists.COMMON_SETTINGS, ...lists.AGENT_SETTINGS],
      "mcp-server": [...lists.COMMON_SETTINGS, ...lists.MCP_SETTINGS, ...lists.MCP_OAUTH_SETTINGS],
    };
    const names = [...new Set(Object.values(carried).flat())];
    const dotenv = join(c.stateFile, "..", ".env");
    // .env holds one line per value: the newline comes from the shell.
    writeFileSync(
      dotenv,
      names
        .filter((n) => n !== "AGENT_INSTRUCTION")
        .map((n) => `${n}="${value(n)}"\n`)
        .join(""),
    );
    const instruction = `Say "hi"; then, #1: ask.\n\tAnd a second line\\n, with ünïcode`;
    const env = { ENV_FILE: dotenv, MCP_ACCESS: "oauth", AGENT_INSTRUCTION: instruction };
    const r = ok(c.run(make("deploy"), env));
    for (const [svc, list] of Object.entries(carried)) {
      const deployed = c.env(svc);
      for (const n of list) {
        assert.equal(
          deployed[n],
          n === "AGENT_INSTRUCTION" ? instruction : value(n),
          `${svc} ${n}`,
        );
      }
    }
    assert.equal(
      c.env("agent").MCP_SERVER_URL,
      `${MCP_URL}/mcp`,
      "deploy's own values beside them",
    );
    assert.equal(c.env("mcp-server").MCP_SERVER_AUTH, "google-id-token,oauth");
    assert.equal(c.env("mcp-server").NODE_OPTIONS, undefined, "no variable smuggled in");
    assert.match(
      r.stderr,
      /note: MCP_ACCESS=oauth: mcp-server is reachable from the internet, guarded only by the OAuth access tokens/,
    );
  });

  test("every variable the services read is carried by deploy or listed as local-only, with its reason", async () => {
    const lists = deployLists();
    const { SETTING_NAMES: agentNames } = await import("../agent/src/config.js");
    const { SETTING_NAMES: mcpNames } = await import("../mcp-server/src/config.js");
    const agent = new Set([
      ...lists.COMMON_SETTINGS,
      ...lists.AGENT_SETTINGS,
      ...lists.AGENT_DECIDED,
      ...lists.DEPLOY_READS,
      ...lists.LOCAL_ONLY,
    ]);
    const mcp = new Set([
      ...lists.COMMON_SETTINGS,
      ...lists.MCP_SETTINGS,
      ...lists.MCP_OAUTH_SETTINGS,
      ...lists.MCP_DECIDED,
      ...lists.MCP_REFUSED_NAMES,
      ...lists.LOCAL_ONLY,
    ]);
    assert.deepEqual(
      agentNames.filter((n) => !agent.has(n)),
      [],
      "agent settings deploy forgot",
    );
    assert.deepEqual(
      mcpNames.filter((n) => !mcp.has(n)),
      [],
      "mcp-server settings deploy forgot",
    );
    // What the code reads outside the schemas (common/, K_SERVICE, the OTel and Firestore knobs).
    const read = new Set<string>();
    for (const dir of ["common", "agent/src", "mcp-server/src"]) {
      const files = execFileSync("find", [join(root, dir), "-name", "*.ts"], { encoding: "utf8" });
      for (const f of files.split("\n").filter(Boolean)) {
        for (const m of readFileSync(f, "utf8").matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b/g))
          read.add(m[1]!);
      }
    }
    assert.ok(read.has("LOG_LEVEL") && read.has("OTEL_TRACES_SAMPLER"), [...read].join(" "));
    assert.deepEqual(
      [...read].filter((n) => !agent.has(n) && !mcp.has(n)),
      [],
    );
    for (const n of lists.LOCAL_ONLY) {
      const reason = spawnSync(
        "bash",
        ["-c", 'source scripts/deploy-env.sh && local_only_reason "$1"', "-", n],
        { cwd: root, encoding: "utf8" },
      );
      assert.equal(reason.status, 0, n);
      assert.ok(reason.stdout.trim().length > 10, n);
    }
  });

  test("AGENT_INSTRUCTION_FILE is read at deploy time and deployed as AGENT_INSTRUCTION", (t) => {
    const c = cloud(t);
    const dir = join(c.stateFile, "..");
    const file = join(dir, "instruction.md");
    const text = `You are "Penny"; answer in one line, #terse: no more.\n\nNever guess a rate.\n\n`;
    writeFileSync(file, text);
    const r = ok(c.run(["scripts/deploy.sh"], { AGENT_INSTRUCTION_FILE: file }));
    assert.equal(c.env("agent").AGENT_INSTRUCTION, text, "exactly, trailing newlines too");
    assert.equal(c.env("agent").AGENT_INSTRUCTION_FILE, undefined, "the file is not in the image");
    assert.match(r.stderr, /== agent /);
    // The plan shows the start of it, and its size.
    const dry = ok(c.run(["scripts/deploy.sh"], { AGENT_INSTRUCTION_FILE: file, DRY_RUN: "1" }));
    assert.match(
      dry.stderr,
      /\n {2}AGENT_INSTRUCTION: "You are \\"Penny\\"; answer in one line, #terse: no more\.\\n\\nNever"… \(\d+ bytes\)\n/,
    );
    const refusals: Array<[Record<string, string>, RegExp]> = [
      [
        { AGENT_INSTRUCTION_FILE: join(dir, "missing.md") },
        /^error: AGENT_INSTRUCTION_FILE: cannot read \S+missing\.md \(from the shell or make's command line\)$/m,
      ],
      [{ AGENT_INSTRUCTION_FILE: dir }, /^error: AGENT_INSTRUCTION_FILE: cannot read /m],
      [
        { AGENT_INSTRUCTION_FILE: file, AGENT_INSTRUCTION: "Be brief." },
        /^error: AGENT_INSTRUCTION \(from the shell or make's command line\) and AGENT_INSTRUCTION_FILE \(from the shell or make's command line\) are both set: keep one$/m,
      ],
    ];
    const big = join(dir, "big.md");
    writeFileSync(big, "x".repeat(32_769));
    refusals.push([
      { AGENT_INSTRUCTION_FILE: big },
      /^error: AGENT_INSTRUCTION_FILE: \S+big\.md is 32769 bytes; Cloud Run takes at most 32768 bytes in one environment variable$/m,
    ]);
    refusals.push([
      { AGENT_INSTRUCTION: "é".repeat(16_385) },
      /^error: AGENT_INSTRUCTION is 32770 bytes \(from the shell or make's command line\); Cloud Run takes at most 32768/m,
    ]);
    for (const [env, message] of refusals) {
      const refused = c.run(["scripts/deploy.sh"], env);
      assert.equal(refused.code, 1, JSON.stringify(env).slice(0, 200));
      assert.match(refused.stderr, message);
      assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
      assert.deepEqual([refused.calls, refused.versionReads], [[], 0]);
    }
    writeFileSync(big, "x".repeat(32_768));
    ok(c.run(["scripts/deploy.sh"], { AGENT_INSTRUCTION_FILE: big }));
    assert.equal(c.env("agent").AGENT_INSTRUCTION!.length, 32_768, "the limit itself passes");
  });

  test("a URL that points at this machine stops deploy before any gcloud call, naming the setting and .env or the shell", (t) => {
    const c = cloud(t);
    const dotenv = join(c.stateFile, "..", ".env");
    writeFileSync(dotenv, "FRANKFURTER_URL=http://127.0.0.1:19400/v2\n");
    const fromFile = c.run(make("deploy"), { ENV_FILE: dotenv });
    assert.equal(fromFile.code, 2, "make reports the recipe's failure");
    assert.match(
      fromFile.stderr,
      /^error: FRANKFURTER_URL \(from \/\S+\/\.env\) points at 127\.0\.0\.1, this machine, which on Cloud Run is the container itself/m,
    );
    assert.deepEqual([fromFile.calls, fromFile.versionReads], [[], 0]);
    for (const [name, url, host] of [
      ["FRANKFURTER_URL", "http://localhost:8080/v2", "localhost"],
      ["FRANKFURTER_URL", "http://LOCALHOST./v2", "localhost."],
      ["FRANKFURTER_URL", "http://[::1]:9/v2", "[::1]"],
      ["FRANKFURTER_URL", "http://0.0.0.0/v2", "0.0.0.0"],
      ["FRANKFURTER_URL", "http://127.1/v2", "127.1"],
      ["FRANKFURTER_URL", "http://2130706433/v2", "2130706433"],
      ["FRANKFURTER_URL", "https://user:pw-secret@127.0.0.2/v2?key=k-secret", "127.0.0.2"],
      ["MCP_SERVER_URL", "http://127.0.0.1:8081/mcp", "127.0.0.1"],
      ["OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "127.0.0.1"],
      ["GOOGLE_VERTEX_BASE_URL", "http://app.localhost:1", "app.localhost"],
    ] as const) {
      const r = c.run(["scripts/deploy.sh"], { [name]: url });
      assert.equal(r.code, 1, `${name}=${url}`);
      assert.equal(
        r.stderr.trim(),
        `error: ${name} (from the shell or make's command line) points at ${host}, this machine, which on Cloud Run is the container itself: unset it for deploy, or use an address Cloud Run can reach`,
      );
      assert.deepEqual([r.calls, r.versionReads], [[], 0]);
    }
    // Not loopback: a public address, and a private one (reachable through a VPC connector).
    ok(c.run(["scripts/deploy.sh"], { FRANKFURTER_URL: "http://10.0.0.7:8080/v2", DRY_RUN: "1" }));
    ok(
      c.run(["scripts/deploy.sh"], {
        FRANKFURTER_URL: "https://rates.example.com/v2",
        DRY_RUN: "1",
      }),
    );
    const notUrl = c.run(["scripts/deploy.sh"], { FRANKFURTER_URL: "ftp://x/" });
    assert.match(notUrl.stderr, /^error: FRANKFURTER_URL must be an http\(s\) URL/m);
  });

  test("settings deploy decides, local-only ones and secrets: refused, noted or masked, never printed", (t) => {
    const c = cloud(t);
    const dotenv = join(c.stateFile, "..", ".env");
    writeFileSync(dotenv, "MCP_AUTH=none\n");
    const decided = c.run(make("deploy"), { ENV_FILE: dotenv });
    assert.match(
      decided.stderr,
      /^error: MCP_AUTH \(from \/\S+\/\.env\) cannot be deployed: the agent sends its ID token to the private mcp-server \(MCP_AUTH=id-token\)\. Unset it for deploy$/m,
    );
    assert.deepEqual(decided.calls, []);
    const tracing = c.run(["scripts/deploy.sh"], { TRACING: "1", OTEL_SERVICE_NAME: "mine" });
    assert.match(
      tracing.stderr,
      /^error: OTEL_SERVICE_NAME \(from the shell or make's command line\) cannot be deployed: TRACING=1 sets/m,
    );
    // The same value deploy sets passes.
    ok(
      c.run(["scripts/deploy.sh"], {
        MCP_AUTH: "id-token",
        GOOGLE_CLOUD_PROJECT: "my-project",
        DRY_RUN: "1",
      }),
    );
    const key = "AIzaSy-not-a-real-key-0123456789";
    const headers = "x-honeycomb-team=hc-secret-value";
    const r = ok(
      c.run(["scripts/deploy.sh"], {
        GOOGLE_API_KEY: key,
        PORT: "9999",
        FIRESTORE_EMULATOR_HOST: "127.0.0.1:8686",
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example.com",
        OTEL_EXPORTER_OTLP_HEADERS: headers,
      }),
    );
    for (const n of ["GOOGLE_API_KEY", "PORT", "FIRESTORE_EMULATOR_HOST"]) {
      assert.equal(c.env("agent")[n], undefined, n);
      assert.match(
        r.stderr,
        new RegExp(`note: ${n} \\(from the shell or make's command line\\) is not deployed: `),
      );
    }
    assert.equal(c.env("agent").OTEL_EXPORTER_OTLP_HEADERS, headers, "carried, as asked");
    assert.match(
      r.stderr,
      /note: OTEL_EXPORTER_OTLP_HEADERS .* is deployed as a plain environment variable/,
    );
    const dry = ok(
      c.run(["scripts/deploy.sh"], {
        GOOGLE_API_KEY: key,
        OTEL_EXPORTER_OTLP_HEADERS: headers,
        DRY_RUN: "1",
      }),
    );
    assert.match(dry.stderr, /\n {2}OTEL_EXPORTER_OTLP_HEADERS: <secret, 32 bytes, not shown>\n/);
    for (const out of [r, dry]) {
      assert.doesNotMatch(out.stdout + out.stderr, /AIzaSy|hc-secret/, "no secret in the output");
    }
  });

  test("names that go into gcloud flags, lists, image paths and the policy JSON are checked: nothing can be injected", (t) => {
    const c = cloud(t);
    for (const [name, value] of [
      ["AR_REPO", 'repo", "action": {"type": "Delete"}, "x": "'],
      ["AR_REPO", "Repo"],
      ["REGION", "us-central1 --impersonate-service-account=x"],
      ["NODE_IMAGE", "node:22,_AGENT_IMAGE=evil"],
      ["IMAGE_TAG", "t1,_MCP_IMAGE=evil"],
      ["MCP_SERVICE", "mcp-server,agent"],
      ["AGENT_SA_NAME", "a@b"],
      ["PROJECT_ID", "my-project --quiet"],
      ["FIRESTORE_DATABASE", "db,x"],
    ] as const) {
      const r = c.run(["scripts/deploy.sh"], { [name]: value });
      assert.equal(r.code, 1, `${name}=${value}`);
      assert.match(r.stderr, new RegExp(`^error: ${name} must be `, "m"));
      assert.deepEqual([r.calls, r.versionReads], [[], 0]);
    }
    const control = c.run(["scripts/deploy.sh"], { APP_NAME: "a\rb" });
    assert.match(control.stderr, /^error: APP_NAME holds a control character/m);
  });

  test("make clean deletes only the service accounts deploy made (marked in their description); others are named and left", (t) => {
    const c = cloud(t);
    // Someone's own account by the agent's name, made before the first deploy: deploy reuses it.
    c.seed(`sa ${SA}`);
    c.seed(`sa-desc ${SA} Runs our other agents`);
    ok(c.run(make("deploy")));
    assert.ok(c.state().includes(`sa-desc ${MCP_SA} Created by make deploy (cloud-run-mcp-agent)`));
    const r = ok(c.run(make("clean"), { YES: "1" }));
    assert.ok(!r.calls.includes(`gcloud iam service-accounts delete ${SA} --quiet ${P}`));
    assert.ok(r.calls.includes(`gcloud iam service-accounts delete ${MCP_SA} --quiet ${P}`));
    assert.match(
      r.stderr,
      /left alone: service account mcp-agent@my-project\.iam\.gserviceaccount\.com \(make deploy did not create it: its description lacks "Created by make deploy \(cloud-run-mcp-agent\)"\)/,
    );
    assert.ok(c.state().includes(`sa ${SA}`) && !c.state().includes(`sa ${MCP_SA}`));
  });

  test("without gcloud on PATH the scripts say how to install it", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // A PATH holding only what the scripts need besides gcloud (the machine may have a real gcloud).
    symlinkSync(
      execFileSync("/bin/bash", ["-c", "command -v dirname"], { encoding: "utf8" }).trim(),
      join(dir, "dirname"),
    );
    const r = spawnSync("/bin/bash", ["scripts/iam.sh"], {
      cwd: root,
      encoding: "utf8",
      env: { PATH: dir, PROJECT_ID: "my-project", REGION: "us-central1" },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: gcloud not found on PATH\. Install the Google Cloud CLI/);
  });
});

// Every distinct command the scripts ran against the stand-in, replayed in the real gcloud with a
// throwaway configuration: it must get past gcloud's argument parsing (it then stops because no
// account is logged in). Catches flags the stand-in accepts but gcloud does not know.
const realGcloud = "/usr/bin/gcloud";
describe("every command the scripts run parses in the real gcloud", {
  skip: existsSync(realGcloud) ? false : `${realGcloud} is not installed`,
}, () => {
  test("deploy (all modes), iam, status, proxy, clean", { timeout: 600_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-real-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const argvLog = join(dir, "argv.jsonl");
    const c = cloud(t, { argvLog });
    // deploy removes its env-vars files when it ends; the stand-in kept a copy of each.
    const envFile = (path: string): string => `${c.stateFile}.files/${path.replaceAll("/", "_")}`;
    const iap = {
      AGENT_ACCESS: "iap",
      IAP_MEMBERS: "user:alice@example.com,group:team@example.com",
    };
    ok(c.run(make("deploy"), { ...iap, TRACING: "1", MCP_TRANSPORT: "sse" }));
    ok(
      c.run(
        make("deploy"),
        { AGENT_ACCESS: "public", SESSION_STORE: "memory", BUILD: "docker" },
        { docker: true },
      ),
    );
    ok(c.run(make("deploy"), iap));
    // Values gcloud's own YAML reader must take exactly as strings.
    ok(
      c.run(make("deploy"), {
        AGENT_INSTRUCTION: `Say "hi"; then, #1: ask.\n\tA 'second' line \\n ünïcode: 1`,
        FRANKFURTER_PROVIDERS: "ECB,BOC",
        SESSION_TTL_SECONDS: "7200",
        LOG_LEVEL: "yes",
      }),
    );
    ok(c.run(make("deploy"), iap));
    ok(
      c.run(make("deploy"), {
        MCP_ACCESS: "oauth",
        OAUTH_ISSUER: "https://id.example.com/",
        OAUTH_AUDIENCE: "6f0c9a47-2b1e-4c55-9d0e-3f8a1b2c4d5e",
      }),
    );
    ok(c.run(make("iam", "status", "proxy")));
    ok(
      c.run(make("clean"), {
        YES: "1",
        DELETE_FIRESTORE: "1",
        FIRESTORE_DELETE_CONFIRM: "(default)",
      }),
    );
    const policy = join(dir, "policy.json");
    writeFileSync(policy, readFileSync(c.policyFile));
    // One command per shape: values gcloud does not parse (principals, roles, names) don't change the outcome.
    const shapes = new Map<string, string[]>();
    for (const l of readFileSync(argvLog, "utf8").split("\n").filter(Boolean)) {
      const argv = (JSON.parse(l) as string[]).map((a) =>
        a.startsWith("--policy=")
          ? `--policy=${policy}`
          : a.replace(/^--env-vars-file=(.*)$/, (_, f: string) => `--env-vars-file=${envFile(f)}`),
      );
      shapes.set(
        argv.map((a) => a.replace(/^(--(member|role|display-name)=).*/, "$1*")).join(" "),
        argv,
      );
    }
    const commands = [...shapes.values()];
    assert.ok(commands.length > 30, `${commands.length} commands`);
    const failures: string[] = [];
    const queue = [...commands];
    const worker = async (): Promise<void> => {
      for (let argv = queue.shift(); argv; argv = queue.shift()) {
        const config = mkdtempSync(join(dir, "cfg-"));
        const out = await new Promise<string>((done) => {
          execFile(
            realGcloud,
            argv,
            {
              cwd: root,
              timeout: 120_000,
              env: {
                PATH: process.env.PATH,
                HOME: config,
                CLOUDSDK_CONFIG: config,
                CLOUDSDK_CORE_DISABLE_PROMPTS: "1",
              },
            },
            (err, _stdout, stderr) =>
              done(err ? `${(err as { code?: unknown }).code}: ${stderr}` : "0"),
          );
        });
        if (out !== "0" && !/You do not currently have an active account selected/.test(out))
          failures.push(`gcloud ${argv.join(" ")}\n  ${out.split("\n")[0]}`);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    assert.deepEqual(failures, []);
  });
});

// docs/mcp-clients.md's "Use your own MCP client" configurations: each JSON block parses, names the
// server at /mcp (not /sse), and works: pointed at a local mcp-server, an MCP client lists its tools
// through it.
describe("docs: the MCP client configurations work", () => {
  test("each JSON configuration parses and lists the tools of a local mcp-server", {
    timeout: 180_000,
  }, async (t) => {
    const doc = readFileSync(join(root, "docs/mcp-clients.md"), "utf8");
    const start = doc.indexOf("\n## Use your own MCP client");
    assert.ok(start > 0, "docs/mcp-clients.md has the section");
    const section = doc.slice(start, doc.indexOf("\n## ", start + 10));
    const configs = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map(
      (m) => JSON.parse(m[1]!) as Record<string, any>,
    );
    assert.ok(configs.length >= 6, `${configs.length} JSON configurations`);
    assert.doesNotMatch(section, /https?:\/\/[^\s"`]*\/sse\b/, "clients are pointed at /mcp");

    if (!existsSync(join(root, "mcp-server/dist/mcp-server.mjs"))) {
      execFileSync("npm", ["run", "build", "-w", "mcp-server"], { cwd: root, stdio: "ignore" });
    }
    const { startService } = await import("./support/service.js");
    const server = await startService("mcp-server", { FRANKFURTER_URL: "http://127.0.0.1:9/v1" });
    t.after(() => server.stop());
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import(
      "@modelcontextprotocol/sdk/client/streamableHttp.js"
    );

    let checked = 0;
    for (const config of configs) {
      const servers = (config.mcpServers ?? config.servers) as
        | Record<string, Record<string, any>>
        | undefined;
      assert.ok(servers, `a server list in ${JSON.stringify(config)}`);
      for (const [name, entry] of Object.entries(servers)) {
        const url = new URL(String(entry.url ?? entry.httpUrl));
        assert.equal(url.pathname, "/mcp", `${name}: ${url}`);
        if (entry.type !== undefined) assert.equal(entry.type, "http", `${name}: Streamable HTTP`);
        if (entry.authProviderType === "service_account_impersonation") {
          assert.equal(
            entry.targetAudience,
            url.origin,
            "the ID token's audience is the service URL",
          );
          assert.match(
            String(entry.targetServiceAccount),
            /^[a-z][a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com$/,
          );
        }
        // Placeholders the clients fill in (environment, prompted input) get a dummy token here.
        const headers = Object.fromEntries(
          Object.entries((entry.headers ?? {}) as Record<string, string>).map(([k, v]) => [
            k,
            v.replace(/\$\{(input:)?[A-Za-z0-9_-]+\}/g, "test-token"),
          ]),
        );
        for (const v of Object.values(headers)) assert.doesNotMatch(v, /\$\{/);
        const client = new Client({ name: "readme-config-check", version: "1.0.0" });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(url.pathname, server.url), {
            requestInit: { headers },
          }),
        );
        const { tools } = await client.listTools();
        await client.close();
        assert.ok(
          tools.some((tool) => tool.name === "get_exchange_rate"),
          `${name}: ${tools.map((x) => x.name).join(", ")}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 6);
  });
});
